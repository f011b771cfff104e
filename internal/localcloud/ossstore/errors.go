package ossstore

import (
	"net/http"
	"strconv"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// Limits enforced by the store, as OSS enforces them.
const (
	// MaxObjectSize is the largest PutObject body (5 GiB).
	MaxObjectSize int64 = 5 << 30
	// MaxPartSize is the largest UploadPart body (5 GiB).
	MaxPartSize int64 = 5 << 30
	// MinPartSize is the smallest size of every part but the last at Complete.
	MinPartSize int64 = 100 << 10
	// MaxPartNumber is the highest part number.
	MaxPartNumber = 10000
	// MaxKeyLen is the longest object key, in bytes.
	MaxKeyLen = 1023
	// MaxListUploads is the default and largest page of ListUploads and ListParts.
	MaxListUploads = 1000
)

func errBucketAlreadyExists(name string) *osserr.Error {
	return osserr.New(http.StatusConflict, "BucketAlreadyExists",
		"The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.").
		With("BucketName", name)
}

func errInvalidBucketName(name string) *osserr.Error {
	return osserr.New(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.").With("BucketName", name)
}

func errInvalidObjectName() *osserr.Error {
	return osserr.New(http.StatusBadRequest, "InvalidObjectName", "The specified object is not valid.").WithEC("0016-00000002")
}

func errIncompleteBody() *osserr.Error {
	return osserr.New(http.StatusBadRequest, "IncompleteBody",
		"You did not provide the number of bytes specified by the Content-Length HTTP header.")
}

func errInvalidDigest() *osserr.Error {
	return osserr.New(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.")
}

func errEntityTooLarge() *osserr.Error {
	return osserr.New(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
}

func errEntityTooSmall(n int, size int64) *osserr.Error {
	return osserr.New(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.").
		With("PartNumber", strconv.Itoa(n)).With("ProposedSize", strconv.FormatInt(size, 10)).
		With("MinSizeAllowed", strconv.FormatInt(MinPartSize, 10))
}

func errInvalidPart(n int, etag string) *osserr.Error {
	return osserr.New(http.StatusBadRequest, "InvalidPart",
		"One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.").
		With("PartNumber", strconv.Itoa(n)).With("ETag", etag)
}

// errNoParts is x-oss-complete-all on an upload without parts; what OSS
// answers then is unverified.
func errNoParts() *osserr.Error {
	return osserr.New(http.StatusBadRequest, "InvalidPart",
		"One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.")
}

func errInvalidPartOrder() *osserr.Error {
	return osserr.New(http.StatusBadRequest, "InvalidPartOrder",
		"The list of parts was not in ascending order. Parts list must be specified in order by part number.")
}

func errMalformedXML() *osserr.Error {
	return osserr.New(http.StatusBadRequest, "MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema.")
}

func errCompleteAllWithBody() *osserr.Error {
	return osserr.New(http.StatusBadRequest, "InvalidArgument",
		"Should not specify both complete-all header and http body.").WithEC("0042-00000216")
}

func errFileAlreadyExists() *osserr.Error {
	return osserr.New(http.StatusConflict, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
}

func errInvalidPartNumber(n int) *osserr.Error {
	return osserr.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive.", "partNumber", strconv.Itoa(n))
}
