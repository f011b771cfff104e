package engine

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/ossv4"
)

// target is where one object is uploaded.
type target struct {
	endpoint  *url.URL // scheme://host[:port]
	bucket    string
	key       string
	region    string
	pathStyle bool
}

func newTarget(endpoint, bucket, key, region string, pathStyle bool) (*target, error) {
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("engine: bad OSS endpoint %q", endpoint)
	}
	if bucket == "" || key == "" || region == "" {
		return nil, fmt.Errorf("engine: incomplete upload target (bucket %q, key %q, region %q)", bucket, key, region)
	}
	return &target{endpoint: &url.URL{Scheme: u.Scheme, Host: u.Host}, bucket: bucket, key: key, region: region, pathStyle: pathStyle}, nil
}

// param is one query parameter; an empty value is written as the bare name
// (?uploads), as OSS expects.
type param struct{ k, v string }

// url addresses the object with the given query, path style
// (endpoint/bucket/key) or virtual-hosted (bucket.endpoint/key).
func (t *target) url(query []param) *url.URL {
	u := *t.endpoint
	path := "/" + t.key
	if t.pathStyle {
		path = "/" + t.bucket + path
	} else {
		u.Host = t.bucket + "." + u.Host
	}
	u.Path = path
	u.RawPath = escapePath(path)
	var q []string
	for _, p := range query {
		s := escapeQuery(p.k)
		if p.v != "" {
			s += "=" + escapeQuery(p.v)
		}
		q = append(q, s)
	}
	sort.Strings(q)
	u.RawQuery = strings.Join(q, "&")
	return &u
}

// unreserved reports RFC 3986 unreserved characters, the only ones OSS's V4
// canonical form leaves unescaped.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func escape(s string, keepSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (keepSlash && c == '/') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func escapePath(p string) string  { return escape(p, true) }
func escapeQuery(s string) string { return escape(s, false) }

// browserForbidden are headers fetch refuses to send. The signer sets none
// of them (V4 signs x-oss-date, not Date); a caller's are dropped.
var browserForbidden = []string{"Date", "Content-Length", "Host"}

// sign builds a signed OSS request at now (the local clock corrected by the
// skew OSS reported), with internal/ossv4: the OSS SDK's V4 signer, checked
// against it, without the SDK's *http.Request.
func (t *target) sign(method string, query []param, hdr Header, c *Credentials, now time.Time) (*Request, error) {
	u := t.url(query)
	if hdr == nil {
		hdr = Header{}
	}
	for _, h := range browserForbidden {
		hdr.Del(h)
	}
	r := &ossv4.Request{Method: method, Bucket: t.bucket, Key: t.key, RawQuery: u.RawQuery, Header: hdr, Region: t.region}
	if err := ossv4.Sign(r, ossv4.Credentials{AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken}, now); err != nil {
		return nil, fmt.Errorf("engine: sign %s: %w", method, err)
	}
	return &Request{Method: method, URL: u.String(), Header: hdr}, nil
}
