package ossserver

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// The bucket overwrite configuration
// (https://www.alibabacloud.com/help/en/oss/developer-reference/putbucketoverwriteconfig):
// up to 100 rules, each with Action forbid, an optional Prefix and Suffix
// (literal, at most 1023 characters) and optional Principals. A write that
// would replace an existing object matching every filter of some rule, by
// a matching principal, fails with 409 FileAlreadyExists. Principals are
// named as in bucket policies: an account or RAM user id, or
// arn:sts::<account>:assumed-role/<role>/<session> for an STS session, with
// '*' wildcards.
const (
	maxOverwriteRules = 100
	maxAffixLen       = 1023
)

type overwriteConfigXML struct {
	XMLName xml.Name           `xml:"OverwriteConfiguration"`
	Rules   []overwriteRuleXML `xml:"Rule"`
}

type overwriteRuleXML struct {
	ID         string   `xml:"ID,omitempty"`
	Action     string   `xml:"Action"`
	Prefix     string   `xml:"Prefix,omitempty"`
	Suffix     string   `xml:"Suffix,omitempty"`
	Principals []string `xml:"Principals>Principal,omitempty"`
}

func (h *Handler) putOverwriteConfig(c *call) error {
	var doc overwriteConfigXML
	if err := xml.Unmarshal(c.body, &doc); err != nil {
		return malformedXML()
	}
	if len(doc.Rules) > maxOverwriteRules {
		return osserr.InvalidArgument("A bucket can have at most 100 overwrite rules.", "Rule", "")
	}
	ids := map[string]bool{}
	var rules []ossstore.OverwriteRule
	for _, r := range doc.Rules {
		if r.Action != "forbid" {
			return osserr.InvalidArgument("The Action of an overwrite rule must be forbid.", "Action", r.Action)
		}
		if len(r.Prefix) > maxAffixLen || len(r.Suffix) > maxAffixLen {
			return osserr.InvalidArgument("Prefix and Suffix are at most 1023 characters.", "Prefix", r.Prefix)
		}
		if r.ID == "" {
			r.ID = newUUID()
		}
		if ids[r.ID] {
			return osserr.InvalidArgument("Overwrite rule IDs must be unique.", "ID", r.ID)
		}
		ids[r.ID] = true
		var principals []string
		for _, p := range r.Principals {
			if p = strings.TrimSpace(p); p != "" {
				principals = append(principals, p)
			}
		}
		rules = append(rules, ossstore.OverwriteRule{ID: r.ID, Prefix: r.Prefix, Suffix: r.Suffix, Principals: principals})
	}
	if err := h.cfg.Store.UpdateBucket(c.bucket, func(b *ossstore.Bucket) error { b.Overwrite = rules; return nil }); err != nil {
		return err
	}
	c.w.Header().Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getOverwriteConfig(c *call) error {
	if len(c.bucketCfg.Overwrite) == 0 {
		// The code of this 404 is not documented; the name follows OSS's
		// NoSuchCORSConfiguration.
		return osserr.New(http.StatusNotFound, "NoSuchOverwriteConfiguration", "The bucket has no overwrite configuration.").With("BucketName", c.bucket)
	}
	var out overwriteConfigXML
	for _, r := range c.bucketCfg.Overwrite {
		out.Rules = append(out.Rules, overwriteRuleXML{ID: r.ID, Action: "forbid", Prefix: r.Prefix, Suffix: r.Suffix, Principals: r.Principals})
	}
	return writeXML(c.w, out)
}

func (h *Handler) deleteOverwriteConfig(c *call) error {
	if err := h.cfg.Store.UpdateBucket(c.bucket, func(b *ossstore.Bucket) error { b.Overwrite = nil; return nil }); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// noOverwrite reports whether the write of key must not replace an existing
// object: x-oss-forbid-overwrite: true, or a bucket overwrite rule that
// matches the key and the caller.
func (h *Handler) noOverwrite(c *call, bucket *ossstore.Bucket, key string) (bool, error) {
	forbid, err := forbidOverwrite(c.r.Header)
	if err != nil || forbid {
		return forbid, err
	}
	for _, r := range bucket.Overwrite {
		if !strings.HasPrefix(key, r.Prefix) || !strings.HasSuffix(key, r.Suffix) {
			continue
		}
		if len(r.Principals) == 0 {
			return true, nil
		}
		for _, p := range r.Principals {
			if c.principal != nil && wildcard(p, c.principal.Identity) {
				return true, nil
			}
		}
	}
	return false, nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
