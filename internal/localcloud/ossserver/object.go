package ossserver

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// MaxPartSize is the largest part, and the largest PutObject body, OSS takes.
const MaxPartSize = 5 << 30

// storedHeaders are the request headers kept with an object and returned on
// Get and Head, besides x-oss-meta-*.
var storedHeaders = []string{"Content-Type", "Content-Disposition", "Content-Encoding", "Content-Language", "Cache-Control", "Expires"}

// metaFrom collects the stored metadata of a Put or Initiate request.
func metaFrom(h http.Header) ossstore.Meta {
	m := ossstore.Meta{}
	for _, k := range storedHeaders {
		if v := h.Get(k); v != "" {
			m[k] = v
		}
	}
	for k, v := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-oss-meta-") && len(v) > 0 {
			m[http.CanonicalHeaderKey(k)] = v[0]
		}
	}
	if m["Content-Type"] == "" {
		m["Content-Type"] = "application/octet-stream"
	}
	return m
}

// bodySize validates the declared length of a streamed body: -1 when the
// body is chunked.
func bodySize(r *http.Request) (int64, error) {
	if r.ContentLength > MaxPartSize {
		return 0, osserr.New(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.").
			With("ProposedSize", strconv.FormatInt(r.ContentLength, 10)).With("MaxSizeAllowed", strconv.FormatInt(MaxPartSize, 10))
	}
	if r.ContentLength < 0 && !chunked(r) {
		return 0, osserr.New(http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
	}
	return r.ContentLength, nil
}

func chunked(r *http.Request) bool {
	for _, te := range r.TransferEncoding {
		if te == "chunked" {
			return true
		}
	}
	return false
}

// limitedBody stops a chunked body at MaxPartSize+1 bytes so the store sees
// it end early and the handler can answer EntityTooLarge. It also notes a
// failed read (the client went away mid-body), which is the client's
// failure, not the endpoint's.
type limitedBody struct {
	r      io.Reader
	left   int64
	over   bool
	broken bool
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		l.over = true
		return 0, errTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if err != nil && err != io.EOF {
		l.broken = true
	}
	return n, err
}

var errTooLarge = errors.New("ossserver: body exceeds the maximum size")

func streamBody(r *http.Request) *limitedBody {
	return &limitedBody{r: r.Body, left: MaxPartSize}
}

// storeErr maps a store error: an oversized streamed body is EntityTooLarge,
// a body the client stopped sending is IncompleteBody.
func storeErr(err error, body *limitedBody) error {
	if body != nil && body.over {
		return osserr.New(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
	}
	var oe *osserr.Error
	if !errors.As(err, &oe) && body != nil && body.broken {
		return osserr.New(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	}
	return err
}

func etag(hexETag string) string { return `"` + hexETag + `"` }

func crcString(v uint64) string { return strconv.FormatUint(v, 10) }

// md5Header is the base64 Content-MD5 of a normal object, whose ETag is its
// hex MD5.
func md5Header(hexETag string) string {
	b, err := hex.DecodeString(hexETag)
	if err != nil || len(b) != 16 {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

// writeStored answers a PutObject or UploadPart: the body's ETag, CRC-64
// and MD5 in headers, no body.
func writeStored(w http.ResponseWriter, hexETag string, crc uint64) {
	hdr := w.Header()
	bodyHeaders(hdr, hexETag, crc)
	hdr.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// bodyHeaders are the ETag, CRC-64 and MD5 of a stored body.
func bodyHeaders(hdr http.Header, hexETag string, crc uint64) {
	hdr.Set("ETag", etag(hexETag))
	hdr.Set("x-oss-hash-crc64ecma", crcString(crc))
	if m := md5Header(hexETag); m != "" {
		hdr.Set("Content-MD5", m)
	}
}

func (h *Handler) putObject(c *call) error {
	attrs, err := attrsFrom(c.r.Header, false)
	if err != nil {
		return err
	}
	cb, err := h.parseCallback(c)
	if err != nil {
		return err
	}
	forbid, err := h.noOverwrite(c, c.bucketCfg, c.key)
	if err != nil {
		return err
	}
	size, err := bodySize(c.r)
	if err != nil {
		return err
	}
	md5sum, err := contentMD5(c.r.Header)
	if err != nil {
		return err
	}
	body := streamBody(c.r)
	info, err := h.cfg.Store.PutObject(c.bucket, c.key, body, size, metaFrom(c.r.Header),
		ossstore.PutOptions{ContentMD5: md5sum, ForbidOverwrite: forbid, Attrs: attrs})
	if err != nil {
		return storeErr(err, body)
	}
	if cb != nil {
		h.answerCallback(c, h.runCallback(c, cb, info, "PutObject"), func(hdr http.Header) {
			attrHeaders(hdr, info.Attrs, false)
			bodyHeaders(hdr, info.ETag, info.CRC64)
		})
		return nil
	}
	attrHeaders(c.w.Header(), info.Attrs, false)
	writeStored(c.w, info.ETag, info.CRC64)
	return nil
}

func (h *Handler) deleteObject(c *call) error {
	if err := h.cfg.Store.DeleteObject(c.bucket, c.key); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// objectHeaders writes the headers Get and Head share.
func objectHeaders(hdr http.Header, info *ossstore.ObjectInfo) {
	for k, v := range info.Meta {
		hdr.Set(k, v)
	}
	hdr.Set("ETag", etag(info.ETag))
	hdr.Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
	hdr.Set("x-oss-object-type", info.Type)
	attrHeaders(hdr, info.Attrs, true)
	hdr.Set("x-oss-hash-crc64ecma", crcString(info.CRC64))
	hdr.Set("Accept-Ranges", "bytes")
	if info.Type == "Normal" {
		if m := md5Header(info.ETag); m != "" {
			hdr.Set("Content-MD5", m)
		}
	}
}

// getObjectMeta answers HEAD ?objectMeta, the light HEAD the SDKs use to
// test whether an object exists: size, ETag, date and CRC only.
func (h *Handler) getObjectMeta(c *call) error {
	info, err := h.cfg.Store.HeadObject(c.bucket, c.key)
	if err != nil {
		return err
	}
	hdr := c.w.Header()
	hdr.Set("ETag", etag(info.ETag))
	hdr.Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
	hdr.Set("x-oss-hash-crc64ecma", crcString(info.CRC64))
	hdr.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// responseOverrides are the GET query parameters that replace a response
// header (used by presigned download links).
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

func (h *Handler) getObject(c *call) error {
	obj, err := h.cfg.Store.OpenObject(c.bucket, c.key)
	if err != nil {
		return err
	}
	defer obj.Close()
	info := obj.Info()
	if c.r.Method == http.MethodGet && frozen(info.StorageClass) {
		// An archived object must be restored (RestoreObject) first.
		return osserr.New(http.StatusForbidden, "InvalidObjectState", "The operation is not valid for the object's state.").WithEC("0026-00000001")
	}
	if code, err := preconditions(c.r.Header, info); err != nil {
		return err
	} else if code == http.StatusNotModified {
		objectHeaders(c.w.Header(), info)
		c.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	hdr := c.w.Header()
	objectHeaders(hdr, info)
	if c.r.Method == http.MethodGet {
		for q, hname := range responseOverrides {
			if v := c.query.Get(q); v != "" {
				hdr.Set(hname, v)
			}
		}
	}
	start, end, partial, err := parseRange(c.r.Header.Get("Range"), info.Size,
		strings.EqualFold(c.r.Header.Get("x-oss-range-behavior"), "standard"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, info.Size))
	}
	hdr.Set("Content-Length", strconv.FormatInt(end-start, 10))
	c.w.WriteHeader(status)
	if c.r.Method == http.MethodHead {
		return nil
	}
	// Errors past this point cannot become an error document: the status line
	// is sent. The client sees a short body, as with a real connection loss.
	_, _ = io.Copy(c.w, io.NewSectionReader(obj, start, end-start))
	return nil
}

// parseRange interprets a single "bytes=" range as OSS does: an invalid or
// unsatisfiable range returns the whole object with 200, unless the client
// asked for standard behaviour, which answers 416 to an unsatisfiable one.
func parseRange(v string, size int64, standard bool) (start, end int64, partial bool, err error) {
	whole := func() (int64, int64, bool, error) { return 0, size, false, nil }
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if v == "" || !ok || strings.Contains(spec, ",") {
		return whole()
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return whole()
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	unsatisfiable := func() (int64, int64, bool, error) {
		if standard {
			return 0, 0, false, osserr.New(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range cannot be satisfied.")
		}
		return whole()
	}
	switch {
	case first == "" && last == "":
		return whole()
	case first == "":
		n, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || n < 0 {
			return whole()
		}
		// An empty object has no last bytes to give.
		if n == 0 || size == 0 {
			return unsatisfiable()
		}
		if n > size {
			n = size
		}
		return size - n, size, true, nil
	default:
		a, perr := strconv.ParseInt(first, 10, 64)
		if perr != nil || a < 0 {
			return whole()
		}
		if a >= size {
			return unsatisfiable()
		}
		b := size - 1
		if last != "" {
			b, perr = strconv.ParseInt(last, 10, 64)
			if perr != nil || b < a {
				return whole()
			}
			if b >= size {
				b = size - 1
			}
		}
		return a, b + 1, true, nil
	}
}

// preconditions evaluates If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since: 412 PreconditionFailed, or 304 as a status.
func preconditions(h http.Header, info *ossstore.ObjectInfo) (int, error) {
	tag := etag(info.ETag)
	failed := osserr.New(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
	if v := h.Get("If-Match"); v != "" && !etagListHas(v, tag) {
		return 0, failed
	}
	if v := h.Get("If-Unmodified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && info.LastModified.Truncate(time.Second).After(t) {
			return 0, failed
		}
	}
	if v := h.Get("If-None-Match"); v != "" && etagListHas(v, tag) {
		return http.StatusNotModified, nil
	}
	if v := h.Get("If-Modified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && !info.LastModified.Truncate(time.Second).After(t) {
			return http.StatusNotModified, nil
		}
	}
	return 0, nil
}

func etagListHas(list, tag string) bool {
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || strings.EqualFold(strings.Trim(v, `"`), strings.Trim(tag, `"`)) {
			return true
		}
	}
	return false
}
