package ossserver

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// MaxParts is the highest part number OSS accepts.
const MaxParts = 10000

func (h *Handler) initiate(c *call) error {
	attrs, err := attrsFrom(c.r.Header, false)
	if err != nil {
		return err
	}
	forbid, err := h.noOverwrite(c, c.bucketCfg, c.key)
	if err != nil {
		return err
	}
	if forbid {
		// Checked again at Complete, where it decides; refusing here spares a
		// long upload bound to fail.
		if _, err := h.cfg.Store.HeadObject(c.bucket, c.key); err == nil {
			return fileExists()
		}
	}
	up, err := h.cfg.Store.InitiateUpload(c.bucket, c.key, metaFrom(c.r.Header), attrs)
	if err != nil {
		return err
	}
	attrHeaders(c.w.Header(), up.Attrs, false)
	enc := encodingOf(c.query)
	return writeXML(c.w, initiateResult{Bucket: c.bucket, Key: enc.s(c.key), UploadID: up.UploadID, EncodingType: enc.typ()})
}

func fileExists() *osserr.Error {
	return osserr.New(http.StatusConflict, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
}

// partNumber parses the partNumber query parameter.
func partNumber(c *call) (int, error) {
	v := c.query.Get("partNumber")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxParts {
		return 0, osserr.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive.", "partNumber", v)
	}
	return n, nil
}

func uploadID(c *call) (string, error) {
	id := c.query.Get("uploadId")
	if id == "" {
		return "", osserr.InvalidArgument("uploadId must not be empty.", "uploadId", id)
	}
	return id, nil
}

func (h *Handler) uploadPart(c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	n, err := partNumber(c)
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
	part, err := h.cfg.Store.UploadPart(c.bucket, c.key, id, n, body, size, md5sum)
	if err != nil {
		return storeErr(err, body)
	}
	writeStored(c.w, part.ETag, part.CRC64)
	return nil
}

// intParam parses an optional non-negative integer query parameter bounded by max.
func intParam(c *call, name string, def, max int) (int, error) {
	v := c.query.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		return 0, osserr.InvalidArgument("Argument "+name+" must be an integer between 0 and "+strconv.Itoa(max)+".", name, v)
	}
	return n, nil
}

func (h *Handler) listParts(c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	max, err := intParam(c, "max-parts", 1000, 1000)
	if err != nil {
		return err
	}
	if max == 0 {
		max = 1000
	}
	marker, err := intParam(c, "part-number-marker", 0, MaxParts)
	if err != nil {
		return err
	}
	parts, truncated, err := h.cfg.Store.ListParts(c.bucket, c.key, id, marker, max)
	if err != nil {
		return err
	}
	enc := encodingOf(c.query)
	res := listPartsResult{
		EncodingType: enc.typ(), Bucket: c.bucket, Key: enc.s(c.key), UploadID: id,
		StorageClass: "Standard", PartNumberMarker: marker, MaxParts: max, IsTruncated: truncated,
	}
	for _, p := range parts {
		res.Parts = append(res.Parts, partXML{
			PartNumber: p.Number, LastModified: isoFormat(p.LastModified), ETag: etag(p.ETag),
			HashCrc64ecma: crcString(p.CRC64), Size: p.Size,
		})
		res.NextPartNumberMarker = p.Number
	}
	return writeXML(c.w, res)
}

func (h *Handler) complete(c *call) error {
	id, err := uploadID(c)
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
	opts := ossstore.CompleteOptions{ForbidOverwrite: forbid}
	var parts []ossstore.CompletePart
	if strings.EqualFold(c.r.Header.Get("x-oss-complete-all"), "yes") {
		if len(bytes.TrimSpace(c.body)) > 0 {
			return osserr.New(http.StatusBadRequest, "InvalidArgument", "Should not specify both complete all header and http body.").WithEC("0042-00000216")
		}
		opts.All = true
	} else {
		var req completeRequest
		if err := xml.Unmarshal(c.body, &req); err != nil || len(req.Parts) == 0 {
			return osserr.New(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
		}
		for _, p := range req.Parts {
			n, err := strconv.Atoi(strings.TrimSpace(p.PartNumber))
			if err != nil || n < 1 || n > MaxParts {
				return osserr.New(http.StatusBadRequest, "InvalidPartNumber", "The part number in the part list must be an integer between 1 and 10000.")
			}
			parts = append(parts, ossstore.CompletePart{Number: n, ETag: strings.TrimSpace(p.ETag)})
		}
	}
	info, err := h.cfg.Store.CompleteUpload(c.bucket, c.key, id, parts, opts)
	if err != nil {
		return err
	}
	headers := func(hdr http.Header) {
		// ali-oss reads the object's ETag from the header, not the XML body.
		hdr.Set("ETag", etag(info.ETag))
		hdr.Set("x-oss-hash-crc64ecma", crcString(info.CRC64))
		attrHeaders(hdr, info.Attrs, false)
	}
	if cb != nil {
		// The callback's answer replaces the XML document.
		h.answerCallback(c, h.runCallback(c, cb, info, "CompleteMultipartUpload"), headers)
		return nil
	}
	enc := encodingOf(c.query)
	headers(c.w.Header())
	return writeXML(c.w, completeResult{
		EncodingType: enc.typ(),
		Location:     objectURL(c.r, c.address),
		Bucket:       c.bucket, Key: enc.s(c.key), ETag: etag(info.ETag),
	})
}

func (h *Handler) abort(c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	if err := h.cfg.Store.AbortUpload(c.bucket, c.key, id); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listUploads(c *call) error {
	max, err := intParam(c, "max-uploads", 1000, 1000)
	if err != nil {
		return err
	}
	if max == 0 {
		max = 1000
	}
	q := ossstore.ListUploadsQuery{
		Prefix: c.query.Get("prefix"), Delimiter: c.query.Get("delimiter"),
		KeyMarker: c.query.Get("key-marker"), UploadIDMarker: c.query.Get("upload-id-marker"), MaxUploads: max,
	}
	res, err := h.cfg.Store.ListUploads(c.bucket, q)
	if err != nil {
		return err
	}
	enc := encodingOf(c.query)
	out := listUploadsResult{
		EncodingType: enc.typ(), Bucket: c.bucket, KeyMarker: enc.s(q.KeyMarker), UploadIDMarker: q.UploadIDMarker,
		NextKeyMarker: enc.s(res.NextKeyMarker), NextUploadIDMarker: res.NextUploadIDMarker,
		Delimiter: enc.s(q.Delimiter), Prefix: enc.s(q.Prefix), MaxUploads: max, IsTruncated: res.IsTruncated,
	}
	for _, u := range res.Uploads {
		out.Uploads = append(out.Uploads, uploadXML{Key: enc.s(u.Key), UploadID: u.UploadID, StorageClass: classOf(u.Attrs), Initiated: isoFormat(u.Initiated)})
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: enc.s(p)})
	}
	return writeXML(c.w, out)
}
