package ossserver

import (
	"encoding/xml"
	"net/http"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// Object and bucket ACLs: PutObjectACL / GetObjectACL (PUT/GET /key?acl,
// x-oss-object-acl) and PutBucketAcl / GetBucketAcl (PUT/GET /?acl,
// x-oss-acl), answered as
// https://www.alibabacloud.com/help/en/oss/developer-reference/getobjectacl
// shows: <AccessControlPolicy><Owner/><AccessControlList><Grant/>.

type accessControlPolicy struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   ownerXML `xml:"Owner"`
	Grant   string   `xml:"AccessControlList>Grant"`
}

func (h *Handler) owner() ownerXML {
	return ownerXML{ID: h.cfg.AccountID, DisplayName: h.cfg.AccountID}
}

func (h *Handler) putObjectACL(c *call) error {
	v := c.r.Header.Get("x-oss-object-acl")
	if v == "" {
		// EC 0017-00000105: the header is missing or empty
		// (https://www.alibabacloud.com/help/en/oss/user-guide/0017-00000105).
		return osserr.InvalidArgument("The x-oss-object-acl header is missing or empty.", "x-oss-object-acl", v).WithEC("0017-00000105")
	}
	if err := checkACL(v, "x-oss-object-acl"); err != nil {
		return err
	}
	if v == aclDefault {
		v = ""
	}
	if _, err := h.cfg.Store.UpdateObjectAttrs(c.bucket, c.key, func(_ *ossstore.ObjectInfo, a *ossstore.Attrs) error {
		a.ACL = v
		return nil
	}); err != nil {
		return err
	}
	c.w.Header().Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getObjectACL(c *call) error {
	info, err := h.cfg.Store.HeadObject(c.bucket, c.key)
	if err != nil {
		return err
	}
	acl := info.ACL
	if acl == "" {
		acl = aclDefault
	}
	return writeXML(c.w, accessControlPolicy{Owner: h.owner(), Grant: acl})
}

func (h *Handler) putBucketACL(c *call) error {
	v := c.r.Header.Get("x-oss-acl")
	if err := checkACL(v, "x-oss-acl"); err != nil {
		return err
	}
	if v == aclPrivate {
		v = ""
	}
	if err := h.cfg.Store.UpdateBucket(c.bucket, func(b *ossstore.Bucket) error { b.ACL = v; return nil }); err != nil {
		return err
	}
	c.w.Header().Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func bucketACL(b *ossstore.Bucket) string {
	if b.ACL == "" {
		return aclPrivate
	}
	return b.ACL
}

func (h *Handler) getBucketACL(c *call) error {
	return writeXML(c.w, accessControlPolicy{Owner: h.owner(), Grant: bucketACL(c.bucketCfg)})
}
