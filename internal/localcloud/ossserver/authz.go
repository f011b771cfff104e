package ossserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
	"github.com/ossup/ossup/internal/localcloud/rampolicy"
)

// permission is one RAM check a request must pass: an action on a resource,
// with the condition keys of that check.
type permission struct {
	action   string
	resource string
	context  map[string][]string
}

// Condition keys are the ones the OSS authorization reference documents
// (https://www.alibabacloud.com/help/en/oss/user-guide/authorization-syntax-and-elements,
// "Condition keys"): acs:SourceIp, acs:UserAgent, acs:CurrentTime,
// acs:SecureTransport, acs:AccessId, oss:x-oss-acl, oss:x-oss-object-acl,
// oss:Prefix, oss:Delimiter, oss:ExistingObjectTag/<key> and
// oss:RequestObjectTag/<key>. acs:SourceVpc, acs:MFAPresent and
// oss:BucketTag have no meaning here and are never set, so a condition on
// them is unknown: an Allow that needs it does not apply and a Deny does
// (rampolicy fails closed).
//
// The reference lists no key for x-oss-forbid-overwrite, Content-Type,
// storage class or encryption, so none is set: a session policy cannot
// require them on real OSS, and a policy that tries never allows anything
// here either. Write-once is the bucket's overwrite configuration
// (PutBucketOverwriteConfig), which names principals.
//
// A key whose header the request does not carry is absent, not empty: on
// real OSS the documented examples only ever compare present values, and
// absence is the stricter reading (an Allow on it does not apply, a Deny on
// it does).

func (h *Handler) arn(bucket, key string) string {
	a := "acs:oss:" + h.cfg.Region + ":" + h.cfg.AccountID + ":" + bucket
	if key != "" {
		a += "/" + key
	}
	return a
}

// baseContext is what every check of a request shares.
func (h *Handler) baseContext(c *call) map[string][]string {
	ctx := map[string][]string{
		"acs:SourceIp":        {remoteIP(c.r)},
		"acs:CurrentTime":     {c.now.UTC().Format(time.RFC3339)},
		"acs:SecureTransport": {strconv.FormatBool(c.r.TLS != nil)},
	}
	if ua := c.r.Header.Get("User-Agent"); ua != "" {
		ctx["acs:UserAgent"] = []string{ua}
	}
	if c.principal != nil {
		ctx["acs:AccessId"] = []string{c.principal.AccessKeyID}
	}
	return ctx
}

func withTags(ctx map[string][]string, prefix string, tags []ossstore.Tag) {
	for _, t := range tags {
		ctx[prefix+t.Key] = append(ctx[prefix+t.Key], t.Value)
	}
}

func clone(ctx map[string][]string) map[string][]string {
	out := make(map[string][]string, len(ctx)+4)
	for k, v := range ctx {
		out[k] = v
	}
	return out
}

// permissions lists the checks of the request (after its body, if
// buffered, is read). Most ops need their one action on their resource;
// the exceptions are the OSS API reference's permission tables.
func (h *Handler) permissions(c *call) ([]permission, error) {
	base := h.baseContext(c)
	res := h.arn(c.bucket, "")
	if c.op.Level == levelService {
		res = "acs:oss:" + h.cfg.Region + ":" + h.cfg.AccountID + ":*"
	}
	if c.op.Level == levelObject {
		res = h.arn(c.bucket, c.key)
	}
	main := permission{action: c.op.Action, resource: res, context: clone(base)}
	hdr := c.r.Header
	switch c.op {
	case opListUploads, opListObjects, opListObjectsV2:
		main.context["oss:Prefix"] = []string{c.query.Get("prefix")}
		main.context["oss:Delimiter"] = []string{c.query.Get("delimiter")}
	case opPutBucketACL:
		if v := hdr.Get("x-oss-acl"); v != "" {
			main.context["oss:x-oss-acl"] = []string{v}
		}
	case opGetObject, opHeadObject, opGetObjectMeta, opGetTagging, opPutTagging, opDeleteTagging:
		if info, err := h.cfg.Store.HeadObject(c.bucket, c.key); err == nil {
			withTags(main.context, "oss:ExistingObjectTag/", info.Tags)
		}
	}
	if v := hdr.Get("x-oss-object-acl"); v != "" {
		switch c.op {
		case opPutObject, opInitiate, opCopyObject, opPutObjectACL, opAppendObject:
			main.context["oss:x-oss-object-acl"] = []string{v}
		}
	}
	perms := []permission{main}

	// Writes that set tags need oss:PutObjectTagging as well (PutObject,
	// InitiateMultipartUpload, CopyObject permission tables).
	switch c.op {
	case opPutObject, opInitiate, opCopyObject, opAppendObject:
		if tags := hdr.Get("x-oss-tagging"); tags != "" && (c.op != opCopyObject || taggingDirective(hdr) == "Replace") {
			parsed, err := parseTagging(tags)
			if err != nil {
				return nil, err
			}
			withTags(main.context, "oss:RequestObjectTag/", parsed)
			ctx := clone(base)
			withTags(ctx, "oss:RequestObjectTag/", parsed)
			perms = append(perms, permission{action: "oss:PutObjectTagging", resource: res, context: ctx})
		}
	case opPutTagging:
		if tags, err := parseTaggingBody(c.body); err == nil {
			withTags(main.context, "oss:RequestObjectTag/", tags)
		}
	case opDeleteObjects:
		keys, _, err := parseDeleteBody(c.body)
		if err != nil {
			return nil, err
		}
		perms = perms[:0]
		for _, k := range keys {
			perms = append(perms, permission{action: "oss:DeleteObject", resource: h.arn(c.bucket, k), context: base})
		}
	}

	// CopyObject and UploadPartCopy read their source: oss:GetObject on it,
	// and oss:GetObjectTagging when its tags are copied.
	if c.op == opCopyObject || c.op == opUploadPartCopy {
		sb, sk, err := copySource(hdr)
		if err != nil {
			return nil, err
		}
		ctx := clone(base)
		info, err := h.cfg.Store.HeadObject(sb, sk)
		if err == nil {
			withTags(ctx, "oss:ExistingObjectTag/", info.Tags)
		}
		perms = append(perms, permission{action: "oss:GetObject", resource: h.arn(sb, sk), context: ctx})
		if c.op == opCopyObject && taggingDirective(hdr) == "Copy" && err == nil && len(info.Tags) > 0 {
			perms = append(perms, permission{action: "oss:GetObjectTagging", resource: h.arn(sb, sk), context: ctx})
		}
	}
	return perms, nil
}

// authorize decides the request. Root keys may do anything. An STS session
// must be allowed by every one of its policies for every permission the
// request needs. An anonymous request may only read what a public ACL
// opens.
//
// Real OSS also lets an authenticated principal that no policy allows fall
// back to the ACL (a public-read object is readable by any RAM user); the
// local OSS takes the stricter reading and does not.
func (h *Handler) authorize(c *call) error {
	p := c.principal
	if p != nil && p.Root {
		return nil
	}
	if p == nil {
		return h.authorizeAnonymous(c)
	}
	perms, err := h.permissions(c)
	if err != nil {
		return err
	}
	for _, pm := range perms {
		req := rampolicy.Request{Action: pm.action, Resource: pm.resource, Context: pm.context}
		if len(p.Policies) == 0 || !rampolicy.AllowedByAll(req, p.Policies...) {
			// The message and EC real OSS gives when an STS session's policy denies.
			return osserr.AccessDenied("Access denied by authorizer's policy.").WithEC("0003-00000301").
				With("Action", pm.action).With("Resource", pm.resource)
		}
	}
	return nil
}

// authorizeAnonymous lets an unsigned request read an object whose ACL (or,
// for default, its bucket's) is public-read or public-read-write, and list
// a public bucket. Anonymous writes are refused even where a
// public-read-write ACL would admit them on OSS: nothing here needs them.
func (h *Handler) authorizeAnonymous(c *call) error {
	deny := osserr.AccessDenied("You have no right to access this object because of bucket acl.")
	if !c.op.AnonymousRead {
		return deny
	}
	acl := c.bucketCfg.ACL
	if c.op.Level == levelObject {
		info, err := h.cfg.Store.HeadObject(c.bucket, c.key)
		if err != nil {
			return deny // whether the key exists is not an anonymous caller's business
		}
		if info.ACL != "" && info.ACL != aclDefault {
			acl = info.ACL
		}
	}
	if acl == aclPublicRead || acl == aclPublicReadWrite {
		return nil
	}
	return deny
}

var _ = http.StatusOK
