package ossserver

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// Bucket lifecycle: PutBucketLifecycle, GetBucketLifecycle and
// DeleteBucketLifecycle (PUT/GET/DELETE /?lifecycle), with the document of
// https://www.alibabacloud.com/help/en/oss/developer-reference/putbucketlifecycle
// (RAM actions oss:PutBucketLifecycle, oss:GetBucketLifecycle,
// oss:DeleteBucketLifecycle). The rules are applied by osslifecycle.
//
// Served: up to 1000 rules, each with an ID (at most 255 bytes, generated
// when absent), one Prefix, Status Enabled or Disabled, Tag filters, a
// Filter with Not entries (Prefix and an optional Tag) and
// ObjectSizeGreaterThan / ObjectSizeLessThan, an Expiration and an
// AbortMultipartUpload action, each with exactly one of Days (a positive
// integer) or CreatedBeforeDate (yyyy-MM-ddT00:00:00.000Z, a UTC midnight),
// or the deprecated Date (same format; SDK v1's BuildLifecycleRuleByDate
// sends it and real OSS accepts it, as that SDK's tests against OSS show).
// PutBucketLifecycle replaces the whole configuration.
//
// Not served, and refused with 501 naming what is missing rather than
// stored and silently ignored: Transition and NoncurrentVersionTransition
// (storage-class conversion), NoncurrentVersionExpiration and
// ExpiredObjectDeleteMarker (the local OSS has no versioning) and rules on
// the last access time (IsAccessTime, which OSS itself refuses in
// AbortMultipartUpload, EC 0014-00000071).
//
// Stricter than the documentation where it is silent:
//   - A rule with Tag (or Not, or size) filters may not carry
//     AbortMultipartUpload: an upload has no tags or size to match, so such a
//     rule could only ever mean "every upload" (S3 refuses it the same way).
//   - Overlap ("the prefixes specified by different rules cannot overlap"
//     unless x-oss-allow-same-action-overlap: true) is judged on prefixes
//     alone, for every rule whatever its status: two rules of one action
//     whose prefixes nest are refused.
//   - A Not entry needs a Prefix that starts with the rule's Prefix.
const (
	maxLifecycleRules = 1000
	maxLifecycleID    = 255
)

type lifecycleXML struct {
	XMLName xml.Name           `xml:"LifecycleConfiguration"`
	Rules   []lifecycleRuleXML `xml:"Rule"`
}

type lifecycleRuleXML struct {
	ID                           string                `xml:"ID"`
	Prefix                       []string              `xml:"Prefix"`
	Status                       string                `xml:"Status"`
	Tags                         []tagXML              `xml:"Tag"`
	Filter                       *lifecycleFilterXML   `xml:"Filter"`
	Expiration                   *lifecycleActionXML   `xml:"Expiration"`
	AbortMultipartUpload         *lifecycleActionXML   `xml:"AbortMultipartUpload"`
	Transitions                  []presenceXML         `xml:"Transition"`
	NoncurrentVersionExpiration  *presenceXML          `xml:"NoncurrentVersionExpiration"`
	NoncurrentVersionTransitions []presenceXML         `xml:"NoncurrentVersionTransition"`
	AtimeBase                    *string               `xml:"AtimeBase"`
	Unknown                      []unknownLifecycleXML `xml:",any"`
}

type lifecycleFilterXML struct {
	Nots                  []lifecycleNotXML `xml:"Not"`
	ObjectSizeGreaterThan *string           `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *string           `xml:"ObjectSizeLessThan"`
}

type lifecycleNotXML struct {
	Prefix *string `xml:"Prefix"`
	Tag    *tagXML `xml:"Tag"`
}

type lifecycleActionXML struct {
	Days                      *string `xml:"Days"`
	CreatedBeforeDate         *string `xml:"CreatedBeforeDate"`
	Date                      *string `xml:"Date"`
	ExpiredObjectDeleteMarker *string `xml:"ExpiredObjectDeleteMarker"`
	IsAccessTime              *string `xml:"IsAccessTime"`
}

// presenceXML notes that an element was sent, whatever it holds.
type presenceXML struct {
	Inner string `xml:",innerxml"`
}

type unknownLifecycleXML struct {
	XMLName xml.Name
}

// The GetBucketLifecycle document.
type lifecycleOutXML struct {
	XMLName xml.Name              `xml:"LifecycleConfiguration"`
	Rules   []lifecycleRuleOutXML `xml:"Rule"`
}

type lifecycleRuleOutXML struct {
	ID                   string                 `xml:"ID"`
	Prefix               string                 `xml:"Prefix"`
	Status               string                 `xml:"Status"`
	Tags                 []tagXML               `xml:"Tag,omitempty"`
	Filter               *lifecycleFilterOutXML `xml:"Filter,omitempty"`
	Expiration           *lifecycleActionOutXML `xml:"Expiration,omitempty"`
	AbortMultipartUpload *lifecycleActionOutXML `xml:"AbortMultipartUpload,omitempty"`
}

type lifecycleFilterOutXML struct {
	Nots                  []lifecycleNotOutXML `xml:"Not,omitempty"`
	ObjectSizeGreaterThan *int64               `xml:"ObjectSizeGreaterThan,omitempty"`
	ObjectSizeLessThan    *int64               `xml:"ObjectSizeLessThan,omitempty"`
}

type lifecycleNotOutXML struct {
	Prefix string  `xml:"Prefix"`
	Tag    *tagXML `xml:"Tag,omitempty"`
}

type lifecycleActionOutXML struct {
	Days              int    `xml:"Days,omitempty"`
	CreatedBeforeDate string `xml:"CreatedBeforeDate,omitempty"`
	Date              string `xml:"Date,omitempty"`
}

func lifecycleArg(ec, msg, name, value string) *osserr.Error {
	e := osserr.InvalidArgument(msg, name, value)
	if ec != "" {
		e = e.WithEC(ec)
	}
	return e
}

func lifecycleNotImplemented(what string) *osserr.Error {
	return osserr.New(http.StatusNotImplemented, "NotImplemented", "PutBucketLifecycle with "+what+" is not implemented by the local OSS.")
}

func (h *Handler) putBucketLifecycle(c *call) error {
	overlapOK := false
	switch v := c.r.Header.Get("x-oss-allow-same-action-overlap"); v {
	case "", "false":
	case "true":
		overlapOK = true
	default:
		return osserr.InvalidArgument("x-oss-allow-same-action-overlap must be true or false.", "x-oss-allow-same-action-overlap", v)
	}
	var doc lifecycleXML
	if err := xml.Unmarshal(c.body, &doc); err != nil || len(doc.Rules) == 0 {
		return malformedXML()
	}
	if len(doc.Rules) > maxLifecycleRules {
		return osserr.InvalidArgument("One bucket not allow exceed one thousand items of LifecycleRules.", "Rule", strconv.Itoa(len(doc.Rules)))
	}
	ids := map[string]bool{}
	rules := make([]ossstore.LifecycleRule, 0, len(doc.Rules))
	for _, x := range doc.Rules {
		r, err := parseLifecycleRule(x)
		if err != nil {
			return err
		}
		if ids[r.ID] {
			return osserr.InvalidArgument("Lifecycle rule IDs must be unique.", "ID", r.ID)
		}
		ids[r.ID] = true
		rules = append(rules, r)
	}
	if !overlapOK {
		if err := checkLifecycleOverlap(rules); err != nil {
			return err
		}
	}
	if err := h.cfg.Store.UpdateBucket(c.bucket, func(b *ossstore.Bucket) error { b.Lifecycle = rules; return nil }); err != nil {
		return err
	}
	c.w.Header().Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func parseLifecycleRule(x lifecycleRuleXML) (ossstore.LifecycleRule, error) {
	var r ossstore.LifecycleRule
	switch {
	case len(x.Transitions) > 0:
		return r, lifecycleNotImplemented("Transition (storage class conversion)")
	case x.NoncurrentVersionExpiration != nil || len(x.NoncurrentVersionTransitions) > 0:
		return r, lifecycleNotImplemented("NoncurrentVersionExpiration or NoncurrentVersionTransition (the local OSS has no versioning)")
	case len(x.Unknown) > 0:
		return r, lifecycleNotImplemented("the element " + x.Unknown[0].XMLName.Local)
	}
	r.ID = x.ID
	if r.ID == "" {
		r.ID = newUUID()
	}
	if len(r.ID) > maxLifecycleID {
		return r, osserr.InvalidArgument("The ID of a lifecycle rule is at most 255 bytes.", "ID", r.ID)
	}
	switch len(x.Prefix) {
	case 0:
	case 1:
		r.Prefix = x.Prefix[0]
	default:
		return r, lifecycleArg("0014-00000010", "A lifecycle rule has one Prefix.", "Prefix", strings.Join(x.Prefix, ","))
	}
	if len(r.Prefix) > maxAffixLen {
		return r, osserr.InvalidArgument("The Prefix of a lifecycle rule is at most 1023 characters.", "Prefix", r.Prefix)
	}
	switch x.Status {
	case "Enabled":
		r.Enabled = true
	case "Disabled":
	default:
		return r, malformedXML()
	}
	for _, t := range x.Tags {
		r.Tags = append(r.Tags, ossstore.Tag{Key: t.Key, Value: t.Value})
	}
	if err := checkLifecycleTags(r.Tags); err != nil {
		return r, err
	}
	if f := x.Filter; f != nil {
		for _, n := range f.Nots {
			if n.Prefix == nil || !strings.HasPrefix(*n.Prefix, r.Prefix) {
				return r, osserr.InvalidArgument("The Prefix of a Not filter must start with the Prefix of its rule.", "Not.Prefix", deref(n.Prefix))
			}
			not := ossstore.LifecycleNot{Prefix: *n.Prefix}
			if n.Tag != nil {
				t := ossstore.Tag{Key: n.Tag.Key, Value: n.Tag.Value}
				if err := checkLifecycleTags([]ossstore.Tag{t}); err != nil {
					return r, err
				}
				not.Tag = &t
			}
			if not.Prefix == r.Prefix && not.Tag == nil {
				return r, osserr.InvalidArgument("A Not filter with the rule's own Prefix and no Tag excludes every object.", "Not.Prefix", not.Prefix)
			}
			r.Not = append(r.Not, not)
		}
		var err error
		if r.SizeGreaterThan, err = sizeFilter("ObjectSizeGreaterThan", f.ObjectSizeGreaterThan); err != nil {
			return r, err
		}
		if r.SizeLessThan, err = sizeFilter("ObjectSizeLessThan", f.ObjectSizeLessThan); err != nil {
			return r, err
		}
		if r.SizeGreaterThan != nil && r.SizeLessThan != nil && *r.SizeLessThan <= *r.SizeGreaterThan {
			return r, osserr.InvalidArgument("ObjectSizeLessThan must be greater than ObjectSizeGreaterThan.", "ObjectSizeLessThan", *f.ObjectSizeLessThan)
		}
	}
	var err error
	if x.Expiration != nil {
		if r.Expiration, err = parseLifecycleAction("Expiration", *x.Expiration, "0014-00000060", ""); err != nil {
			return r, err
		}
	}
	if x.AbortMultipartUpload != nil {
		if r.AbortMultipartUpload, err = parseLifecycleAction("AbortMultipartUpload", *x.AbortMultipartUpload, "0014-00000073", "0014-00000074"); err != nil {
			return r, err
		}
		if len(r.Tags) > 0 || len(r.Not) > 0 || r.SizeGreaterThan != nil || r.SizeLessThan != nil {
			return r, osserr.InvalidArgument("AbortMultipartUpload cannot be combined with Tag, Not or object size filters: uploads have no tags or size.", "AbortMultipartUpload", "")
		}
	}
	if r.Expiration == nil && r.AbortMultipartUpload == nil {
		return r, lifecycleArg("0014-00000026", "A lifecycle rule needs an Expiration, Transition or AbortMultipartUpload action.", "Rule", r.ID)
	}
	return r, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// checkLifecycleTags applies the object tag rules (0014-00000031: letters,
// digits, spaces and + - = . _ : /).
func checkLifecycleTags(tags []ossstore.Tag) error {
	if err := checkTags(tags); err != nil {
		return osserr.As(err).WithEC("0014-00000031")
	}
	return nil
}

func sizeFilter(name string, v *string) (*int64, error) {
	if v == nil {
		return nil, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(*v), 10, 64)
	if err != nil || n < 0 {
		return nil, osserr.InvalidArgument(name+" must be a non-negative integer.", name, *v)
	}
	return &n, nil
}

// parseLifecycleAction reads Expiration or AbortMultipartUpload: exactly one
// of Days and CreatedBeforeDate. missingEC and bothEC are OSS's EC codes for
// the two mistakes, where it documents them.
func parseLifecycleAction(name string, x lifecycleActionXML, missingEC, bothEC string) (*ossstore.LifecycleAction, error) {
	switch {
	case x.IsAccessTime != nil && name == "AbortMultipartUpload":
		return nil, lifecycleArg("0014-00000071", "AbortMultipartUpload does not support IsAccessTime.", "IsAccessTime", *x.IsAccessTime)
	case x.IsAccessTime != nil:
		return nil, lifecycleNotImplemented("rules on the last access time (IsAccessTime)")
	case x.ExpiredObjectDeleteMarker != nil:
		return nil, lifecycleNotImplemented("ExpiredObjectDeleteMarker (the local OSS has no versioning)")
	}
	set := 0
	for _, p := range []*string{x.Days, x.CreatedBeforeDate, x.Date} {
		if p != nil {
			set++
		}
	}
	switch {
	case set == 0:
		return nil, lifecycleArg(missingEC, name+" needs Days or CreatedBeforeDate.", name, "")
	case set > 1:
		return nil, lifecycleArg(bothEC, "Days and CreatedBeforeDate can only choose one.", name, "")
	}
	a := &ossstore.LifecycleAction{}
	if x.Days != nil {
		n, err := strconv.ParseInt(strings.TrimSpace(*x.Days), 10, 32)
		if err != nil || n < 1 {
			return nil, osserr.InvalidArgument("Days must be a positive integer.", name+".Days", *x.Days)
		}
		a.Days = int(n)
		return a, nil
	}
	elem, v, dst := "CreatedBeforeDate", x.CreatedBeforeDate, &a.CreatedBefore
	if x.Date != nil {
		elem, v, dst = "Date", x.Date, &a.Date
	}
	t, err := time.Parse(isoTime, strings.TrimSpace(*v))
	if err != nil || !t.Equal(t.Truncate(24*time.Hour)) {
		return nil, osserr.InvalidArgument(elem+" must be a UTC midnight in the format yyyy-MM-ddT00:00:00.000Z.", name+"."+elem, *v)
	}
	*dst = t.UTC()
	return a, nil
}

// checkLifecycleOverlap refuses two rules of one action whose prefixes nest.
func checkLifecycleOverlap(rules []ossstore.LifecycleRule) error {
	for i, a := range rules {
		for _, b := range rules[i+1:] {
			if !strings.HasPrefix(a.Prefix, b.Prefix) && !strings.HasPrefix(b.Prefix, a.Prefix) {
				continue
			}
			for _, act := range []struct {
				name string
				a, b bool
			}{
				{"Expiration", a.Expiration != nil, b.Expiration != nil},
				{"AbortMultipartUpload", a.AbortMultipartUpload != nil, b.AbortMultipartUpload != nil},
			} {
				if act.a && act.b {
					return osserr.InvalidArgument(fmt.Sprintf("Overlap for same action type %s: rules %q and %q have nested prefixes %q and %q.", act.name, a.ID, b.ID, a.Prefix, b.Prefix), "Prefix", b.Prefix)
				}
			}
		}
	}
	return nil
}

func (h *Handler) getBucketLifecycle(c *call) error {
	if len(c.bucketCfg.Lifecycle) == 0 {
		// The document and message of the SDK v2's own test of this error.
		return osserr.New(http.StatusNotFound, "NoSuchLifecycle", "No Row found in Lifecycle Table.").With("BucketName", c.bucket)
	}
	var out lifecycleOutXML
	for _, r := range c.bucketCfg.Lifecycle {
		x := lifecycleRuleOutXML{ID: r.ID, Prefix: r.Prefix, Status: "Disabled"}
		if r.Enabled {
			x.Status = "Enabled"
		}
		for _, t := range r.Tags {
			x.Tags = append(x.Tags, tagXML{Key: t.Key, Value: t.Value})
		}
		if len(r.Not) > 0 || r.SizeGreaterThan != nil || r.SizeLessThan != nil {
			f := &lifecycleFilterOutXML{ObjectSizeGreaterThan: r.SizeGreaterThan, ObjectSizeLessThan: r.SizeLessThan}
			for _, n := range r.Not {
				o := lifecycleNotOutXML{Prefix: n.Prefix}
				if n.Tag != nil {
					o.Tag = &tagXML{Key: n.Tag.Key, Value: n.Tag.Value}
				}
				f.Nots = append(f.Nots, o)
			}
			x.Filter = f
		}
		x.Expiration = lifecycleActionOut(r.Expiration)
		x.AbortMultipartUpload = lifecycleActionOut(r.AbortMultipartUpload)
		out.Rules = append(out.Rules, x)
	}
	return writeXML(c.w, out)
}

func lifecycleActionOut(a *ossstore.LifecycleAction) *lifecycleActionOutXML {
	if a == nil {
		return nil
	}
	switch {
	case !a.CreatedBefore.IsZero():
		return &lifecycleActionOutXML{CreatedBeforeDate: isoFormat(a.CreatedBefore)}
	case !a.Date.IsZero():
		return &lifecycleActionOutXML{Date: isoFormat(a.Date)}
	}
	return &lifecycleActionOutXML{Days: a.Days}
}

func (h *Handler) deleteBucketLifecycle(c *call) error {
	if err := h.cfg.Store.UpdateBucket(c.bucket, func(b *ossstore.Bucket) error { b.Lifecycle = nil; return nil }); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
