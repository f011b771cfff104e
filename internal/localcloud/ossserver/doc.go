// Package ossserver is the HTTP front of the local OSS endpoint: it resolves
// path-style and virtual-hosted-style addressing, answers CORS from the
// bucket's rules, authenticates requests (signature V1 and V4, header and
// presigned, root keys and STS temporary keys), authorizes them against the
// session's policies, and serves the object and multipart APIs from an
// ossstore.Store with the wire formats, headers and error codes of real OSS.
package ossserver
