package ossserver

import (
	"net/http"
	"net/url"
)

// op describes one OSS API as the endpoint dispatches it.
type op struct {
	Name string
	// Action is the RAM action checked against the caller's policies.
	Action string
	// Level is where the resource ARN points: levelBucket or levelObject.
	Level level
	// Streaming ops read their body themselves; the others get it buffered and
	// checked against Content-MD5 before they run.
	Streaming bool
	handle    func(h *Handler, c *call) error
}

type level int

const (
	levelService level = iota
	levelBucket
	levelObject
)

var (
	opPutObject      = &op{Name: "PutObject", Action: "oss:PutObject", Level: levelObject, Streaming: true, handle: (*Handler).putObject}
	opGetObject      = &op{Name: "GetObject", Action: "oss:GetObject", Level: levelObject, handle: (*Handler).getObject}
	opHeadObject     = &op{Name: "HeadObject", Action: "oss:GetObject", Level: levelObject, handle: (*Handler).getObject}
	opGetObjectMeta  = &op{Name: "GetObjectMeta", Action: "oss:GetObject", Level: levelObject, handle: (*Handler).getObjectMeta}
	opDeleteObject   = &op{Name: "DeleteObject", Action: "oss:DeleteObject", Level: levelObject, handle: (*Handler).deleteObject}
	opInitiate       = &op{Name: "InitiateMultipartUpload", Action: "oss:PutObject", Level: levelObject, handle: (*Handler).initiate}
	opUploadPart     = &op{Name: "UploadPart", Action: "oss:PutObject", Level: levelObject, Streaming: true, handle: (*Handler).uploadPart}
	opListParts      = &op{Name: "ListParts", Action: "oss:ListParts", Level: levelObject, handle: (*Handler).listParts}
	opComplete       = &op{Name: "CompleteMultipartUpload", Action: "oss:PutObject", Level: levelObject, handle: (*Handler).complete}
	opAbort          = &op{Name: "AbortMultipartUpload", Action: "oss:AbortMultipartUpload", Level: levelObject, handle: (*Handler).abort}
	opListUploads    = &op{Name: "ListMultipartUploads", Action: "oss:ListMultipartUploads", Level: levelBucket, handle: (*Handler).listUploads}
	opPutBucket      = &op{Name: "PutBucket", Action: "oss:PutBucket", Level: levelBucket, handle: (*Handler).putBucket}
	opPutBucketCors  = &op{Name: "PutBucketCors", Action: "oss:PutBucketCors", Level: levelBucket, handle: (*Handler).putBucketCors}
	opGetBucketCors  = &op{Name: "GetBucketCors", Action: "oss:GetBucketCors", Level: levelBucket, handle: (*Handler).getBucketCors}
	opNotImplemented = &op{Name: "NotImplemented"}
)

// subresources this endpoint does not serve; a request naming one gets
// NotImplemented rather than being mistaken for a plain object operation.
var unsupportedSubresources = []string{
	"acl", "append", "symlink", "tagging", "restore", "x-oss-process", "comp",
	"lifecycle", "logging", "website", "referer", "policy", "versioning", "versions", "versionId",
	"worm", "replication", "inventory", "encryption", "qos", "stat", "live", "select", "cname",
}

// resolveOp maps method, level and query to an operation.
func resolveOp(method string, lvl level, q url.Values, hdr http.Header) *op {
	for _, s := range unsupportedSubresources {
		if _, ok := q[s]; ok {
			return opNotImplemented
		}
	}
	_, uploads := q["uploads"]
	_, uploadID := q["uploadId"]
	_, partNumber := q["partNumber"]
	_, cors := q["cors"]
	_, objectMeta := q["objectMeta"]
	switch lvl {
	case levelBucket:
		switch {
		case method == http.MethodGet && uploads:
			return opListUploads
		case method == http.MethodPut && cors:
			return opPutBucketCors
		case method == http.MethodGet && cors:
			return opGetBucketCors
		case method == http.MethodPut && len(q) == 0:
			return opPutBucket
		}
	case levelObject:
		switch method {
		case http.MethodPut:
			if partNumber || uploadID {
				return opUploadPart
			}
			if hdr.Get("x-oss-copy-source") != "" {
				return opNotImplemented
			}
			return opPutObject
		case http.MethodGet:
			if uploadID {
				return opListParts
			}
			return opGetObject
		case http.MethodHead:
			if objectMeta {
				return opGetObjectMeta
			}
			return opHeadObject
		case http.MethodDelete:
			if uploadID {
				return opAbort
			}
			return opDeleteObject
		case http.MethodPost:
			if uploads {
				return opInitiate
			}
			if uploadID {
				return opComplete
			}
		}
	}
	return opNotImplemented
}
