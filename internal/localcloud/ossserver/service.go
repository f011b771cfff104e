package ossserver

import (
	"encoding/xml"
)

// listBuckets is ListBuckets (GetService, GET / on the endpoint,
// https://www.alibabacloud.com/help/en/oss/developer-reference/listbuckets):
// prefix, marker and max-keys (1 to 1000, default 100).
type listBucketsResult struct {
	XMLName     xml.Name    `xml:"ListAllMyBucketsResult"`
	Prefix      string      `xml:"Prefix,omitempty"`
	Marker      string      `xml:"Marker,omitempty"`
	MaxKeys     int         `xml:"MaxKeys,omitempty"`
	IsTruncated bool        `xml:"IsTruncated,omitempty"`
	NextMarker  string      `xml:"NextMarker,omitempty"`
	Owner       ownerXML    `xml:"Owner"`
	Buckets     []bucketXML `xml:"Buckets>Bucket"`
}

type bucketXML struct {
	Name             string `xml:"Name"`
	CreationDate     string `xml:"CreationDate"`
	Location         string `xml:"Location"`
	ExtranetEndpoint string `xml:"ExtranetEndpoint"`
	IntranetEndpoint string `xml:"IntranetEndpoint"`
	Region           string `xml:"Region"`
	StorageClass     string `xml:"StorageClass"`
}

func (h *Handler) listBuckets(c *call) error {
	max := 100
	if v := c.query.Get("max-keys"); v != "" {
		n, err := intParam(c, "max-keys", 100, 1000)
		if err != nil || n < 1 {
			return invalidMaxKeys(v)
		}
		max = n
	}
	prefix, marker := c.query.Get("prefix"), c.query.Get("marker")
	out := listBucketsResult{Prefix: prefix, Marker: marker, Owner: h.owner()}
	if _, ok := c.query["max-keys"]; ok {
		out.MaxKeys = max
	}
	for _, b := range h.cfg.Store.Buckets() {
		if b.Name <= marker || len(b.Name) < len(prefix) || b.Name[:len(prefix)] != prefix {
			continue
		}
		if len(out.Buckets) == max {
			out.IsTruncated = true
			out.NextMarker = out.Buckets[len(out.Buckets)-1].Name
			break
		}
		out.Buckets = append(out.Buckets, bucketXML{
			Name: b.Name, CreationDate: isoFormat(b.Created), Location: "oss-" + h.cfg.Region,
			ExtranetEndpoint: c.r.Host, IntranetEndpoint: c.r.Host, Region: h.cfg.Region, StorageClass: "Standard",
		})
	}
	return writeXML(c.w, out)
}
