package ossserver

import (
	"net/http"
	"net/url"
)

// op describes one OSS API as the endpoint dispatches it. Names are the API
// names and Actions the RAM actions of the OSS API reference
// (https://www.alibabacloud.com/help/en/oss/developer-reference/list-of-operations-by-function
// and each operation's "Permissions" table).
type op struct {
	Name string
	// Action is the RAM action checked against the caller's policies; ops
	// that need more than one (CopyObject, DeleteMultipleObjects, a
	// PutObject with x-oss-tagging) list them in permissions.
	Action string
	// Level is where the resource ARN points: levelService, levelBucket or
	// levelObject.
	Level level
	// Streaming ops read their body themselves; the others get it buffered and
	// checked against Content-MD5 before they are authorized and run.
	Streaming bool
	// AnonymousRead marks the reads a public-read ACL opens to anonymous
	// requests.
	AnonymousRead bool
	handle        func(h *Handler, c *call) error
}

type level int

const (
	levelService level = iota
	levelBucket
	levelObject
)

var (
	opPutObject      = &op{Name: "PutObject", Action: "oss:PutObject", Level: levelObject, Streaming: true, handle: (*Handler).putObject}
	opCopyObject     = &op{Name: "CopyObject", Action: "oss:PutObject", Level: levelObject, handle: (*Handler).copyObject}
	opGetObject      = &op{Name: "GetObject", Action: "oss:GetObject", Level: levelObject, AnonymousRead: true, handle: (*Handler).getObject}
	opHeadObject     = &op{Name: "HeadObject", Action: "oss:GetObject", Level: levelObject, AnonymousRead: true, handle: (*Handler).getObject}
	opGetObjectMeta  = &op{Name: "GetObjectMeta", Action: "oss:GetObject", Level: levelObject, AnonymousRead: true, handle: (*Handler).getObjectMeta}
	opAppendObject   = &op{Name: "AppendObject", Action: "oss:PutObject", Level: levelObject, Streaming: true, handle: (*Handler).appendObject}
	opListBuckets    = &op{Name: "ListBuckets", Action: "oss:ListBuckets", Level: levelService, handle: (*Handler).listBuckets}
	opGetBucketInfo  = &op{Name: "GetBucketInfo", Action: "oss:GetBucketInfo", Level: levelBucket, handle: (*Handler).getBucketInfo}
	opGetBucketLoc   = &op{Name: "GetBucketLocation", Action: "oss:GetBucketLocation", Level: levelBucket, handle: (*Handler).getBucketLocation}
	opDeleteObject   = &op{Name: "DeleteObject", Action: "oss:DeleteObject", Level: levelObject, handle: (*Handler).deleteObject}
	opDeleteObjects  = &op{Name: "DeleteMultipleObjects", Action: "oss:DeleteObject", Level: levelBucket, handle: (*Handler).deleteObjects}
	opPutObjectACL   = &op{Name: "PutObjectACL", Action: "oss:PutObjectAcl", Level: levelObject, handle: (*Handler).putObjectACL}
	opGetObjectACL   = &op{Name: "GetObjectACL", Action: "oss:GetObjectAcl", Level: levelObject, handle: (*Handler).getObjectACL}
	opPutTagging     = &op{Name: "PutObjectTagging", Action: "oss:PutObjectTagging", Level: levelObject, handle: (*Handler).putObjectTagging}
	opGetTagging     = &op{Name: "GetObjectTagging", Action: "oss:GetObjectTagging", Level: levelObject, handle: (*Handler).getObjectTagging}
	opDeleteTagging  = &op{Name: "DeleteObjectTagging", Action: "oss:DeleteObjectTagging", Level: levelObject, handle: (*Handler).deleteObjectTagging}
	opInitiate       = &op{Name: "InitiateMultipartUpload", Action: "oss:PutObject", Level: levelObject, handle: (*Handler).initiate}
	opUploadPart     = &op{Name: "UploadPart", Action: "oss:PutObject", Level: levelObject, Streaming: true, handle: (*Handler).uploadPart}
	opUploadPartCopy = &op{Name: "UploadPartCopy", Action: "oss:PutObject", Level: levelObject, handle: (*Handler).uploadPartCopy}
	opListParts      = &op{Name: "ListParts", Action: "oss:ListParts", Level: levelObject, handle: (*Handler).listParts}
	opComplete       = &op{Name: "CompleteMultipartUpload", Action: "oss:PutObject", Level: levelObject, handle: (*Handler).complete}
	opAbort          = &op{Name: "AbortMultipartUpload", Action: "oss:AbortMultipartUpload", Level: levelObject, handle: (*Handler).abort}
	opListUploads    = &op{Name: "ListMultipartUploads", Action: "oss:ListMultipartUploads", Level: levelBucket, handle: (*Handler).listUploads}
	opListObjects    = &op{Name: "ListObjects", Action: "oss:ListObjects", Level: levelBucket, AnonymousRead: true, handle: (*Handler).listObjects}
	opListObjectsV2  = &op{Name: "ListObjectsV2", Action: "oss:ListObjects", Level: levelBucket, AnonymousRead: true, handle: (*Handler).listObjects}
	opPutBucket      = &op{Name: "PutBucket", Action: "oss:PutBucket", Level: levelBucket, handle: (*Handler).putBucket}
	opPutBucketACL   = &op{Name: "PutBucketAcl", Action: "oss:PutBucketAcl", Level: levelBucket, handle: (*Handler).putBucketACL}
	opGetBucketACL   = &op{Name: "GetBucketAcl", Action: "oss:GetBucketAcl", Level: levelBucket, handle: (*Handler).getBucketACL}
	opPutBucketCors  = &op{Name: "PutBucketCors", Action: "oss:PutBucketCors", Level: levelBucket, handle: (*Handler).putBucketCors}
	opDelBucketCors  = &op{Name: "DeleteBucketCors", Action: "oss:DeleteBucketCors", Level: levelBucket, handle: (*Handler).deleteBucketCors}
	opGetBucketCors  = &op{Name: "GetBucketCors", Action: "oss:GetBucketCors", Level: levelBucket, handle: (*Handler).getBucketCors}
	opPutOverwrite   = &op{Name: "PutBucketOverwriteConfig", Action: "oss:PutBucketOverwriteConfig", Level: levelBucket, handle: (*Handler).putOverwriteConfig}
	opGetOverwrite   = &op{Name: "GetBucketOverwriteConfig", Action: "oss:GetBucketOverwriteConfig", Level: levelBucket, handle: (*Handler).getOverwriteConfig}
	opDelOverwrite   = &op{Name: "DeleteBucketOverwriteConfig", Action: "oss:DeleteBucketOverwriteConfig", Level: levelBucket, handle: (*Handler).deleteOverwriteConfig}
	opPutLifecycle   = &op{Name: "PutBucketLifecycle", Action: "oss:PutBucketLifecycle", Level: levelBucket, handle: (*Handler).putBucketLifecycle}
	opGetLifecycle   = &op{Name: "GetBucketLifecycle", Action: "oss:GetBucketLifecycle", Level: levelBucket, handle: (*Handler).getBucketLifecycle}
	opDelLifecycle   = &op{Name: "DeleteBucketLifecycle", Action: "oss:DeleteBucketLifecycle", Level: levelBucket, handle: (*Handler).deleteBucketLifecycle}
)

// notImplemented is an API this endpoint does not serve: it answers 501
// NotImplemented naming the API, never a plain object or bucket operation
// that would silently ignore what the request asked for.
func notImplemented(name string) *op { return &op{Name: name} }

// implemented reports whether o is served.
func (o *op) implemented() bool { return o.handle != nil }

// subresourceAPIs names the APIs of the subresources this endpoint does not
// serve, by method ("" = any). A request naming one gets NotImplemented.
var subresourceAPIs = map[string]map[string]string{
	"symlink":              {"PUT": "PutSymlink", "GET": "GetSymlink"},
	"restore":              {"": "RestoreObject"},
	"x-oss-process":        {"": "ImageProcessing"},
	"comp":                 {"": "ImageProcessing"},
	"logging":              {"PUT": "PutBucketLogging", "GET": "GetBucketLogging", "DELETE": "DeleteBucketLogging"},
	"website":              {"PUT": "PutBucketWebsite", "GET": "GetBucketWebsite", "DELETE": "DeleteBucketWebsite"},
	"referer":              {"PUT": "PutBucketReferer", "GET": "GetBucketReferer"},
	"policy":               {"PUT": "PutBucketPolicy", "GET": "GetBucketPolicy", "DELETE": "DeleteBucketPolicy"},
	"versioning":           {"PUT": "PutBucketVersioning", "GET": "GetBucketVersioning"},
	"versions":             {"": "ListObjectVersions"},
	"versionId":            {"": "object versions (versionId)"},
	"worm":                 {"": "bucket retention (WORM)"},
	"wormId":               {"": "bucket retention (WORM)"},
	"wormExtend":           {"": "bucket retention (WORM)"},
	"replication":          {"": "bucket replication"},
	"inventory":            {"": "bucket inventory"},
	"encryption":           {"PUT": "PutBucketEncryption", "GET": "GetBucketEncryption", "DELETE": "DeleteBucketEncryption"},
	"qos":                  {"": "bucket QoS"},
	"stat":                 {"GET": "GetBucketStat"},
	"live":                 {"": "LiveChannel"},
	"select":               {"": "SelectObject"},
	"cname":                {"": "bucket CNAME"},
	"requestPayment":       {"": "bucket request payment"},
	"transferAcceleration": {"": "transfer acceleration"},
	"accessPoint":          {"": "access points"},
	"publicAccessBlock":    {"": "public access block"},
	"metaQuery":            {"": "MetaQuery"},
	"regionList":           {"": "DescribeRegions"},
	"resourceGroup":        {"": "bucket resource groups"},
	"httpsConfig":          {"": "bucket TLS configuration"},
	"style":                {"": "image styles"},
	"accessmonitor":        {"": "access monitor"},
	"objectWorm":           {"": "object retention"},
	"retention":            {"": "object retention"},
}

// resolveOp maps method, level, query and headers to an operation.
func resolveOp(method string, lvl level, q url.Values, hdr http.Header) *op {
	has := func(name string) bool { _, ok := q[name]; return ok }
	if lvl == levelObject && has("lifecycle") {
		// A bucket subresource on an object path: never a plain object op.
		return notImplemented(method + " object ?lifecycle")
	}
	for sub, byMethod := range subresourceAPIs {
		if !has(sub) {
			continue
		}
		if name, ok := byMethod[method]; ok {
			return notImplemented(name)
		}
		if name, ok := byMethod[""]; ok {
			return notImplemented(name)
		}
		return notImplemented(method + " ?" + sub)
	}
	copySource := hdr.Get("x-oss-copy-source") != ""
	switch lvl {
	case levelService:
		if method == http.MethodGet {
			return opListBuckets
		}
	case levelBucket:
		switch {
		case method == http.MethodGet && has("uploads"):
			return opListUploads
		case method == http.MethodGet && has("bucketInfo"):
			return opGetBucketInfo
		case method == http.MethodGet && has("location"):
			return opGetBucketLoc
		case has("cors"):
			switch method {
			case http.MethodPut:
				return opPutBucketCors
			case http.MethodGet:
				return opGetBucketCors
			case http.MethodDelete:
				return opDelBucketCors
			}
		case has("acl"):
			switch method {
			case http.MethodPut:
				return opPutBucketACL
			case http.MethodGet:
				return opGetBucketACL
			}
		case has("overwriteConfig"):
			switch method {
			case http.MethodPut:
				return opPutOverwrite
			case http.MethodGet:
				return opGetOverwrite
			case http.MethodDelete:
				return opDelOverwrite
			}
		case has("lifecycle"):
			switch method {
			case http.MethodPut:
				return opPutLifecycle
			case http.MethodGet:
				return opGetLifecycle
			case http.MethodDelete:
				return opDelLifecycle
			}
		case has("tagging"):
			return notImplemented(map[string]string{http.MethodPut: "PutBucketTags", http.MethodGet: "GetBucketTags", http.MethodDelete: "DeleteBucketTags"}[method])
		case method == http.MethodPost && has("delete"):
			return opDeleteObjects
		case method == http.MethodPost && len(q) == 0:
			return notImplemented("PostObject")
		case method == http.MethodGet && q.Get("list-type") == "2":
			return opListObjectsV2
		case method == http.MethodGet && !has("list-type"):
			return opListObjects
		case method == http.MethodPut && len(q) == 0:
			return opPutBucket
		case method == http.MethodDelete && len(q) == 0:
			return notImplemented("DeleteBucket")
		}
	case levelObject:
		switch method {
		case http.MethodPut:
			switch {
			case has("acl"):
				return opPutObjectACL
			case has("tagging"):
				return opPutTagging
			case (has("partNumber") || has("uploadId")) && copySource:
				return opUploadPartCopy
			case has("partNumber") || has("uploadId"):
				return opUploadPart
			case copySource:
				return opCopyObject
			}
			return opPutObject
		case http.MethodGet:
			switch {
			case has("acl"):
				return opGetObjectACL
			case has("tagging"):
				return opGetTagging
			case has("uploadId"):
				return opListParts
			}
			return opGetObject
		case http.MethodHead:
			if has("objectMeta") {
				return opGetObjectMeta
			}
			return opHeadObject
		case http.MethodDelete:
			switch {
			case has("tagging"):
				return opDeleteTagging
			case has("uploadId"):
				return opAbort
			}
			return opDeleteObject
		case http.MethodPost:
			if has("append") {
				return opAppendObject
			}
			if has("uploads") {
				return opInitiate
			}
			if has("uploadId") {
				return opComplete
			}
		}
	}
	return notImplemented(method + " " + map[level]string{levelService: "service", levelBucket: "bucket", levelObject: "object"}[lvl] + " request")
}
