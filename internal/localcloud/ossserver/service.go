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

// GetBucketInfo (GET /?bucketInfo,
// https://www.alibabacloud.com/help/en/oss/developer-reference/getbucketinfo)
// and GetBucketLocation (GET /?location).
type bucketInfoResult struct {
	XMLName xml.Name      `xml:"BucketInfo"`
	Bucket  bucketInfoXML `xml:"Bucket"`
}

type bucketInfoXML struct {
	Name               string   `xml:"Name"`
	AccessMonitor      string   `xml:"AccessMonitor"`
	Location           string   `xml:"Location"`
	CreationDate       string   `xml:"CreationDate"`
	ExtranetEndpoint   string   `xml:"ExtranetEndpoint"`
	IntranetEndpoint   string   `xml:"IntranetEndpoint"`
	ACL                string   `xml:"AccessControlList>Grant"`
	DataRedundancyType string   `xml:"DataRedundancyType"`
	Owner              ownerXML `xml:"Owner"`
	StorageClass       string   `xml:"StorageClass"`
	SSEAlgorithm       string   `xml:"ServerSideEncryptionRule>SSEAlgorithm"`
	Versioning         string   `xml:"Versioning,omitempty"`
	CrossRegion        string   `xml:"CrossRegionReplication"`
	TransferAccel      string   `xml:"TransferAcceleration"`
}

func (h *Handler) getBucketInfo(c *call) error {
	b := c.bucketCfg
	return writeXML(c.w, bucketInfoResult{Bucket: bucketInfoXML{
		Name: b.Name, AccessMonitor: "Disabled", Location: "oss-" + h.cfg.Region, CreationDate: isoFormat(b.Created),
		ExtranetEndpoint: hostOnly(c.r.Host), IntranetEndpoint: hostOnly(c.r.Host), ACL: bucketACL(b),
		DataRedundancyType: "LRS", Owner: h.owner(), StorageClass: "Standard", SSEAlgorithm: "None",
		CrossRegion: "Disabled", TransferAccel: "Disabled",
	}})
}

type locationResult struct {
	XMLName  xml.Name `xml:"LocationConstraint"`
	Location string   `xml:",chardata"`
}

func (h *Handler) getBucketLocation(c *call) error {
	return writeXML(c.w, locationResult{Location: "oss-" + h.cfg.Region})
}
