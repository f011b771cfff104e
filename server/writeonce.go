package server

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Write-once. The browser's STS credentials carry oss:PutObject on their
// key (or the user's prefix), and oss:PutObject is every write: PutObject,
// InitiateMultipartUpload, UploadPart, CompleteMultipartUpload,
// AppendObject. What keeps them from replacing an object once it exists?
//
//   - x-oss-forbid-overwrite: true, which the session's headers list on
//     PutObject, InitiateMultipartUpload and CompleteMultipartUpload, binds
//     only a client that sends it.
//   - A session policy cannot require it: the OSS authorization reference
//     (https://www.alibabacloud.com/help/en/oss/user-guide/authorization-syntax-and-elements,
//     "Condition keys") documents acs:SourceIp, acs:UserAgent,
//     acs:CurrentTime, acs:SecureTransport, acs:SourceVpc, acs:AccessId,
//     acs:MFAPresent, oss:x-oss-acl, oss:x-oss-object-acl, oss:Prefix,
//     oss:Delimiter, oss:BucketTag, oss:ExistingObjectTag and
//     oss:RequestObjectTag, and no key for x-oss-forbid-overwrite. A policy
//     naming an undocumented key would, at best, never match (and the Allow
//     would then allow nothing), at worst be ignored; neither is write-once.
//   - Scoping cannot express "create only": there is no separate action for
//     creating an object.
//   - The bucket's overwrite configuration can
//     (https://www.alibabacloud.com/help/en/oss/developer-reference/putbucketoverwriteconfig):
//     a rule with a Prefix and Principals refuses, with 409 FileAlreadyExists,
//     any write by a matching principal that would replace an existing object
//     under the prefix, whatever headers the request carries. Naming the
//     upload role's sessions (arn:sts::<account>:assumed-role/<role>/*, the
//     principal form of bucket policies) binds exactly the browsers' credentials
//     — the session's, refreshed ones, and in prefix scope a later session's —
//     and leaves the application's own writes alone (a rule without
//     Principals would forbid every overwrite under the prefix, which the OSS
//     documentation calls high-risk; it is accepted too).
//
// So the backend refuses to mint credentials until the bucket has such a
// rule (dev mode sets it on the local bucket): it reads the configuration
// once per process, on the first create or refresh, and again after a
// failure. OSS notes that the rule does not take effect in a bucket with
// versioning enabled or suspended, which the backend cannot see with the
// rights it has: the README says to keep versioning off.

// overwriteRuleID names the rule the backend puts in dev mode and the README
// documents.
const overwriteRuleID = "ossup-write-once"

// OverwriteRule is one rule of a bucket's overwrite configuration.
type OverwriteRule struct {
	ID         string   `xml:"ID,omitempty"`
	Action     string   `xml:"Action"`
	Prefix     string   `xml:"Prefix,omitempty"`
	Suffix     string   `xml:"Suffix,omitempty"`
	Principals []string `xml:"Principals>Principal,omitempty"`
}

type overwriteConfig struct {
	XMLName xml.Name        `xml:"OverwriteConfiguration"`
	Rules   []OverwriteRule `xml:"Rule"`
}

// rolePrincipals is the overwrite-rule principal covering every session of
// the role roleARN (acs:ram::<account>:role/<name>).
func rolePrincipals(roleARN string) string {
	rest, _ := strings.CutPrefix(roleARN, "acs:ram::")
	account, role, _ := strings.Cut(rest, ":role/")
	return "arn:sts::" + account + ":assumed-role/" + role + "/*"
}

// WriteOnceRule is the overwrite rule the backend needs for uploads under
// prefix by sessions of roleARN.
func WriteOnceRule(prefix, roleARN string) OverwriteRule {
	return OverwriteRule{ID: overwriteRuleID, Action: "forbid", Prefix: prefix, Principals: []string{rolePrincipals(roleARN)}}
}

// WriteOnceConfigXML is an OverwriteConfiguration document holding only
// WriteOnceRule(prefix, roleARN), as PutBucketOverwriteConfig takes it.
// (PutBucketOverwriteConfig replaces the whole configuration: merge it with
// the bucket's other rules.)
func WriteOnceConfigXML(prefix, roleARN string) []byte {
	b, err := xml.MarshalIndent(overwriteConfig{Rules: []OverwriteRule{WriteOnceRule(prefix, roleARN)}}, "", "  ")
	if err != nil {
		panic("server: encode overwrite configuration: " + err.Error()) // only strings
	}
	return b
}

// coversUploads reports whether one of rules refuses every session of
// roleARN to replace any object under prefix.
func coversUploads(rules []OverwriteRule, prefix, roleARN string) bool {
	sessions := strings.TrimSuffix(rolePrincipals(roleARN), "*")
	for _, r := range rules {
		if r.Action != "forbid" || r.Suffix != "" || !strings.HasPrefix(prefix, r.Prefix) {
			continue
		}
		if len(r.Principals) == 0 {
			return true
		}
		for _, p := range r.Principals {
			// Only a pattern that matches every session name counts: "*", or
			// a prefix of the role's session ARNs followed by one '*'.
			head, ok := strings.CutSuffix(strings.TrimSpace(p), "*")
			if ok && !strings.ContainsAny(head, "*?") && strings.HasPrefix(sessions, head) {
				return true
			}
		}
	}
	return false
}

func (o *signedObjects) OverwriteRules(ctx context.Context) ([]OverwriteRule, error) {
	var doc overwriteConfig
	err := o.getXML(ctx, "", "overwriteConfig", &doc)
	if err == ErrObjectNotFound { // 404: no configuration
		return nil, nil
	}
	return doc.Rules, err
}

func (o *signedObjects) SetOverwriteRules(ctx context.Context, rules []OverwriteRule) error {
	body, err := xml.Marshal(overwriteConfig{Rules: rules})
	if err != nil {
		return fmt.Errorf("oss: overwrite configuration: %w", err)
	}
	resp, err := o.do(ctx, http.MethodPut, "", "overwriteConfig", body, http.Header{"Content-Type": {"application/xml"}})
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Body.Close()
}

// writeOnceGuard remembers that the bucket refuses the upload role's
// overwrites; it asks OSS until the answer is yes.
type writeOnceGuard struct {
	objects interface {
		OverwriteRules(ctx context.Context) ([]OverwriteRule, error)
	}
	prefix, roleARN string

	mu sync.Mutex
	ok bool
}

// errNotWriteOnce is the bucket lacking the rule.
type errNotWriteOnce struct{ prefix, principal string }

func (e errNotWriteOnce) Error() string {
	return fmt.Sprintf("the bucket has no overwrite rule forbidding %s to replace objects under %q", e.principal, e.prefix)
}

// check returns nil once the bucket is known to have the rule.
func (g *writeOnceGuard) check(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ok {
		return nil
	}
	rules, err := g.objects.OverwriteRules(ctx)
	if err != nil {
		return fmt.Errorf("read the bucket's overwrite configuration: %w", err)
	}
	if !coversUploads(rules, g.prefix, g.roleARN) {
		return errNotWriteOnce{g.prefix, rolePrincipals(g.roleARN)}
	}
	g.ok = true
	return nil
}
