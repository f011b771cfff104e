package ossserver

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// appendObject is AppendObject (POST /key?append&position=N,
// https://www.alibabacloud.com/help/en/oss/developer-reference/appendobject):
// the body goes at position, which must be the object's length; the answer
// carries x-oss-next-append-position and the whole object's CRC-64. A wrong
// position or a non-appendable object is 409 with the object's length in
// x-oss-next-append-position.
func (h *Handler) appendObject(c *call) error {
	pos, err := strconv.ParseInt(c.query.Get("position"), 10, 64)
	if err != nil || pos < 0 {
		return osserr.InvalidArgument("Argument position must be a non-negative integer.", "position", c.query.Get("position"))
	}
	attrs, err := attrsFrom(c.r.Header, false)
	if err != nil {
		return err
	}
	noOverwrite, err := h.noOverwrite(c, c.bucketCfg, c.key)
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
	info, err := h.cfg.Store.AppendObject(c.bucket, c.key, body, size, ossstore.AppendOptions{
		Position: pos, Meta: metaFrom(c.r.Header), Attrs: attrs, ContentMD5: md5sum, NoOverwrite: noOverwrite,
	})
	var ae *ossstore.AppendError
	if errors.As(err, &ae) {
		c.w.Header().Set("x-oss-next-append-position", strconv.FormatInt(ae.Next, 10))
	}
	if err != nil {
		return storeErr(err, body)
	}
	hdr := c.w.Header()
	hdr.Set("x-oss-next-append-position", strconv.FormatInt(info.Size, 10))
	hdr.Set("x-oss-hash-crc64ecma", crcString(info.CRC64))
	hdr.Set("ETag", etag(info.ETag))
	attrHeaders(hdr, info.Attrs, false)
	hdr.Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusOK)
	return nil
}
