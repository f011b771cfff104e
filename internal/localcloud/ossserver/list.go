package ossserver

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// ListObjects (GET /) and ListObjectsV2 (GET /?list-type=2), as in
// https://www.alibabacloud.com/help/en/oss/developer-reference/listobjects
// and .../listobjectsv2: prefix, delimiter, marker or start-after and
// continuation-token, max-keys 1 to 1000 (default 100), encoding-type=url.
// V1 always names each object's owner; V2 only with fetch-owner=true.

type ownerXML struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type objectXML struct {
	Key          string    `xml:"Key"`
	LastModified string    `xml:"LastModified"`
	ETag         string    `xml:"ETag"`
	Type         string    `xml:"Type"`
	Size         int64     `xml:"Size"`
	StorageClass string    `xml:"StorageClass"`
	Owner        *ownerXML `xml:"Owner,omitempty"`
}

type listObjectsResult struct {
	XMLName        xml.Name       `xml:"ListBucketResult"`
	Name           string         `xml:"Name"`
	Prefix         string         `xml:"Prefix"`
	Marker         string         `xml:"Marker"`
	MaxKeys        int            `xml:"MaxKeys"`
	Delimiter      string         `xml:"Delimiter"`
	EncodingType   string         `xml:"EncodingType,omitempty"`
	IsTruncated    bool           `xml:"IsTruncated"`
	NextMarker     string         `xml:"NextMarker,omitempty"`
	Contents       []objectXML    `xml:"Contents"`
	CommonPrefixes []commonPrefix `xml:"CommonPrefixes"`
}

type listObjectsV2Result struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	KeyCount              int            `xml:"KeyCount"`
	Contents              []objectXML    `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

func (h *Handler) listObjects(c *call) error {
	q := c.query
	maxKeys := 100
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return invalidMaxKeys(v)
		}
		maxKeys = n
	}
	if et := q.Get("encoding-type"); et != "" && et != "url" {
		return osserr.InvalidArgument("Argument encoding-type must be url.", "encoding-type", et)
	}
	v2 := c.op.Name == "ListObjectsV2"
	lq := ossstore.ListObjectsQuery{Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), MaxKeys: maxKeys}
	token := q.Get("continuation-token")
	if v2 {
		lq.Marker = q.Get("start-after")
		if _, ok := q["continuation-token"]; ok {
			b, err := base64.RawURLEncoding.DecodeString(token)
			if err != nil || len(b) == 0 {
				return osserr.InvalidArgument("The continuation token provided is incorrect.", "continuation-token", token)
			}
			lq.Marker = string(b)
		}
	} else {
		lq.Marker = q.Get("marker")
	}
	if len(lq.Prefix) > maxKeyBytes || len(lq.Marker) > maxKeyBytes {
		return osserr.InvalidArgument("The prefix and marker are at most 1023 bytes.", "prefix", lq.Prefix)
	}
	res, err := h.cfg.Store.ListObjects(c.bucket, lq)
	if err != nil {
		return err
	}
	enc := encodingOf(q)
	owner := &ownerXML{ID: h.cfg.AccountID, DisplayName: h.cfg.AccountID}
	if v2 && q.Get("fetch-owner") != "true" {
		owner = nil
	}
	contents := make([]objectXML, 0, len(res.Objects))
	for _, o := range res.Objects {
		contents = append(contents, objectXML{
			Key: enc.s(o.Key), LastModified: isoFormat(o.LastModified), ETag: etag(o.ETag), Type: o.Type,
			Size: o.Size, StorageClass: classOf(o.Attrs), Owner: owner,
		})
	}
	var prefixes []commonPrefix
	for _, p := range res.CommonPrefixes {
		prefixes = append(prefixes, commonPrefix{Prefix: enc.s(p)})
	}
	if !v2 {
		out := listObjectsResult{
			Name: c.bucket, Prefix: enc.s(lq.Prefix), Marker: enc.s(lq.Marker), MaxKeys: maxKeys, Delimiter: enc.s(lq.Delimiter),
			EncodingType: enc.typ(), IsTruncated: res.IsTruncated, Contents: contents, CommonPrefixes: prefixes,
		}
		if res.IsTruncated {
			out.NextMarker = enc.s(res.NextMarker)
		}
		return writeXML(c.w, out)
	}
	out := listObjectsV2Result{
		Name: c.bucket, Prefix: enc.s(lq.Prefix), StartAfter: enc.s(q.Get("start-after")), ContinuationToken: token,
		MaxKeys: maxKeys, Delimiter: enc.s(lq.Delimiter), EncodingType: enc.typ(), IsTruncated: res.IsTruncated,
		KeyCount: len(contents) + len(prefixes), Contents: contents, CommonPrefixes: prefixes,
	}
	if res.IsTruncated {
		// The token is opaque to clients; it stands for the last entry given.
		out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.NextMarker))
	}
	return writeXML(c.w, out)
}

// DeleteMultipleObjects (POST /?delete,
// https://www.alibabacloud.com/help/en/oss/developer-reference/deletemultipleobjects):
// at most 1000 keys; Quiet answers with an empty result, verbose lists every
// key. Absent keys count as deleted. The request needs oss:DeleteObject on
// every key; the local OSS refuses the whole request if one is denied, the
// stricter reading, since OSS's result has no per-key error.
const maxDeleteKeys = 1000

type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   string   `xml:"Quiet"`
	Objects []struct {
		Key string `xml:"Key"`
	} `xml:"Object"`
}

type deleteResult struct {
	XMLName      xml.Name       `xml:"DeleteResult"`
	EncodingType string         `xml:"EncodingType,omitempty"`
	Deleted      []deletedEntry `xml:"Deleted"`
}

type deletedEntry struct {
	Key string `xml:"Key"`
}

func parseDeleteBody(body []byte) (keys []string, quiet bool, err error) {
	var req deleteRequest
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Objects) == 0 {
		return nil, false, malformedXML()
	}
	if len(req.Objects) > maxDeleteKeys {
		return nil, false, osserr.New(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema: at most 1000 objects per request.")
	}
	for _, o := range req.Objects {
		if err := checkKey(o.Key); err != nil {
			return nil, false, err
		}
		keys = append(keys, o.Key)
	}
	return keys, req.Quiet == "true", nil
}

func (h *Handler) deleteObjects(c *call) error {
	if c.r.Header.Get("Content-MD5") == "" {
		// DeleteMultipleObjects requires Content-MD5 (every SDK sends it);
		// the code OSS answers without one is not documented.
		return osserr.New(http.StatusBadRequest, "InvalidDigest", "DeleteMultipleObjects requires a Content-MD5 header.")
	}
	keys, quiet, err := parseDeleteBody(c.body)
	if err != nil {
		return err
	}
	enc := encodingOf(c.query)
	out := deleteResult{EncodingType: enc.typ()}
	for _, k := range keys {
		if err := h.cfg.Store.DeleteObject(c.bucket, k); err != nil {
			return err
		}
		if !quiet {
			out.Deleted = append(out.Deleted, deletedEntry{Key: enc.s(k)})
		}
	}
	return writeXML(c.w, out)
}

func invalidMaxKeys(v string) error {
	return osserr.InvalidArgument("Argument max-keys must be an integer between 1 and 1000.", "max-keys", v)
}
