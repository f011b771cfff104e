package ossserver

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

func classOf(a ossstore.Attrs) string {
	if a.StorageClass == "" {
		return "Standard"
	}
	return a.StorageClass
}

// copySource parses x-oss-copy-source: /<bucket>/<url-encoded key>, the
// leading slash optional. The SDKs encode the key differently (SDK v2 keeps
// '/' and escapes the rest; SDK v1 uses query escaping, '+' for a space), so
// it is decoded as a query component, which reads both.
func copySource(h http.Header) (bucket, key string, err error) {
	v := strings.TrimPrefix(h.Get("x-oss-copy-source"), "/")
	if strings.Contains(v, "?") {
		if _, q, _ := strings.Cut(v, "?"); strings.HasPrefix(q, "versionId=") {
			return "", "", osserr.New(http.StatusNotImplemented, "NotImplemented", "Object versions (versionId) are not implemented by the local OSS.")
		}
	}
	b, k, ok := strings.Cut(v, "/")
	if ok {
		k, err = url.QueryUnescape(k)
	}
	if !ok || err != nil || k == "" || !validBucketName(b) {
		return "", "", osserr.InvalidArgument("Copy Source must mention the source bucket and key: /sourcebucket/sourcekey.", "x-oss-copy-source", h.Get("x-oss-copy-source"))
	}
	if err := checkKey(k); err != nil {
		return "", "", err
	}
	return b, k, nil
}

// errNotModified is a copy source precondition answered 304, which has no
// error document.
var errNotModified = errors.New("ossserver: copy source not modified")

// openSource opens a copy's source object and checks the
// x-oss-copy-source-if-* preconditions (412 PreconditionFailed, or 304 for
// if-none-match and if-modified-since, as OSS answers).
func (h *Handler) openSource(c *call) (ossstore.Object, error) {
	sb, sk, err := copySource(c.r.Header)
	if err != nil {
		return nil, err
	}
	if _, err := h.cfg.Store.Bucket(sb); err != nil {
		return nil, err
	}
	src, err := h.cfg.Store.OpenObject(sb, sk)
	if err != nil {
		return nil, err
	}
	info := src.Info()
	if frozen(info.StorageClass) {
		src.Close()
		return nil, osserr.New(http.StatusForbidden, "InvalidObjectState", "The operation is not valid for the object's state.").WithEC("0026-00000001")
	}
	hdr := http.Header{}
	for _, n := range []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if v := c.r.Header.Get("x-oss-copy-source-" + strings.ToLower(n)); v != "" {
			hdr.Set(n, v)
		}
	}
	code, err := preconditions(hdr, info)
	if err == nil && code == http.StatusNotModified {
		err = errNotModified
	}
	if err != nil {
		src.Close()
		return nil, err
	}
	return src, nil
}

// copyObject is CopyObject
// (https://www.alibabacloud.com/help/en/oss/developer-reference/copyobject):
// x-oss-metadata-directive COPY (default) keeps the source's metadata,
// REPLACE takes the request's; x-oss-tagging-directive Copy or Replace does
// the same for tags. ACL, storage class and encryption come from the
// request, never from the source.
func (h *Handler) copyObject(c *call) error {
	hdr := c.r.Header
	directive := strings.ToUpper(hdr.Get("x-oss-metadata-directive"))
	if directive != "" && directive != "COPY" && directive != "REPLACE" {
		return osserr.InvalidArgument("The metadata directive must be COPY or REPLACE.", "x-oss-metadata-directive", hdr.Get("x-oss-metadata-directive"))
	}
	attrs, err := attrsFrom(hdr, taggingDirective(hdr) == "Copy")
	if err != nil {
		return err
	}
	forbid, err := h.noOverwrite(c, c.bucketCfg, c.key)
	if err != nil {
		return err
	}
	src, err := h.openSource(c)
	if errors.Is(err, errNotModified) {
		c.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if err != nil {
		return err
	}
	defer src.Close()
	info := src.Info()
	meta := info.Meta
	if directive == "REPLACE" {
		meta = metaFrom(hdr)
	}
	if taggingDirective(hdr) == "Copy" {
		attrs.Tags = info.Tags
	}
	out, err := h.cfg.Store.CopyObject(src, c.bucket, c.key, ossstore.CopyOptions{Meta: meta, Attrs: attrs, ForbidOverwrite: forbid})
	if err != nil {
		return err
	}
	c.w.Header().Set("x-oss-hash-crc64ecma", crcString(out.CRC64))
	attrHeaders(c.w.Header(), out.Attrs, false)
	return writeXML(c.w, copyResult{ETag: etag(out.ETag), LastModified: isoFormat(out.LastModified)})
}

// uploadPartCopy is UploadPartCopy: the part is the source's bytes in
// x-oss-copy-source-range (bytes=first-last), or all of them.
func (h *Handler) uploadPartCopy(c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	n, err := partNumber(c)
	if err != nil {
		return err
	}
	src, err := h.openSource(c)
	if errors.Is(err, errNotModified) {
		c.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if err != nil {
		return err
	}
	defer src.Close()
	info := src.Info()
	start, end := int64(0), info.Size
	if v := c.r.Header.Get("x-oss-copy-source-range"); v != "" {
		start, end, err = copyRange(v, info.Size)
		if err != nil {
			return err
		}
	}
	if end-start > MaxPartSize {
		return osserr.New(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
	}
	part, err := h.cfg.Store.UploadPart(c.bucket, c.key, id, n, io.NewSectionReader(src, start, end-start), end-start, nil)
	if err != nil {
		return err
	}
	c.w.Header().Set("x-oss-hash-crc64ecma", crcString(part.CRC64))
	return writeXML(c.w, copyPartResult{ETag: etag(part.ETag), LastModified: isoFormat(part.LastModified)})
}

// copyRange parses bytes=first-last within size. Unlike Range on GetObject,
// a range that does not fit is an error, not the whole object.
func copyRange(v string, size int64) (int64, int64, error) {
	bad := osserr.InvalidArgument("The x-oss-copy-source-range is invalid.", "x-oss-copy-source-range", v)
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	first, last, ok2 := strings.Cut(spec, "-")
	if !ok || !ok2 {
		return 0, 0, bad
	}
	a, err1 := strconv.ParseInt(strings.TrimSpace(first), 10, 64)
	b, err2 := strconv.ParseInt(strings.TrimSpace(last), 10, 64)
	if err1 != nil || err2 != nil || a < 0 || b < a || b >= size {
		return 0, 0, bad
	}
	return a, b + 1, nil
}
