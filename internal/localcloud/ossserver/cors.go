package ossserver

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// corsDenied is OSS's answer to a preflight no rule matches.
func corsDenied() *osserr.Error {
	return osserr.AccessDenied("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
}

// matchRule returns the first rule allowing origin, method and every one of
// headers, as OSS evaluates bucket CORS: the first match wins.
func matchRule(rules []ossstore.CORSRule, origin, method string, headers []string) *ossstore.CORSRule {
	for i := range rules {
		r := &rules[i]
		if !anyMatch(r.AllowedOrigins, origin, false) || !contains(r.AllowedMethods, method) {
			continue
		}
		ok := true
		for _, h := range headers {
			if !anyMatch(r.AllowedHeaders, h, true) {
				ok = false
				break
			}
		}
		if ok {
			return r
		}
	}
	return nil
}

// How the local OSS answers CORS, and why:
//
//   - A rule whose matching AllowedOrigin is "*" is answered
//     Access-Control-Allow-Origin: *. Reports against real OSS show exactly
//     that (ali-sdk/ali-oss#140: "A wildcard '*' cannot be used in the
//     'Access-Control-Allow-Origin' header when the credentials flag is
//     true"; NG-ZORRO/ng-zorro-antd#3594, the same from an OSS preflight).
//   - A rule naming the origin (or a pattern such as http://*.example.com)
//     echoes the request's origin, as the OSS documentation's examples do.
//   - Access-Control-Allow-Credentials is never sent. No OSS document
//     mentions it for any rule (PutBucketCors, GetBucketCors, the CORS user
//     guide); whether real OSS sends it for a specific origin is unknown, so
//     the local OSS takes the stricter reading: a browser client that sends
//     cookies or withCredentials to OSS fails here, as it may in production.
//   - Vary: Origin only as the bucket's ResponseVary says: true sends it on
//     every answer of the bucket, cross-origin or not, matched or not; false
//     never (PutBucketCors, ResponseVary).
//   - CORS headers are set on error answers too, so a page can read OSS's
//     error.

// corsVary sets Vary: Origin when the bucket's ResponseVary asks for it.
func corsVary(h http.Header, b *ossstore.Bucket) {
	if b.ResponseVary {
		h.Add("Vary", "Origin")
	}
}

// applyCORS sets the CORS headers of an actual (non-preflight) request,
// including error responses.
func applyCORS(h http.Header, rules []ossstore.CORSRule, origin, method string) {
	r := matchRule(rules, origin, method, nil)
	if r == nil {
		return
	}
	setCORS(h, r, origin)
}

func setCORS(h http.Header, r *ossstore.CORSRule, origin string) {
	h.Set("Access-Control-Allow-Origin", allowOrigin(r, origin))
	h.Set("Access-Control-Allow-Methods", strings.Join(r.AllowedMethods, ", "))
	if len(r.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(r.ExposeHeaders, ", "))
	}
	if r.MaxAgeSeconds > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(r.MaxAgeSeconds))
	}
}

// allowOrigin is "*" when only the rule's "*" admits origin, else origin.
func allowOrigin(r *ossstore.CORSRule, origin string) string {
	for _, p := range r.AllowedOrigins {
		if p != "*" && wildcard(p, origin) {
			return origin
		}
	}
	return "*"
}

// preflight answers an OPTIONS request without authentication.
func (h *Handler) preflight(c *call) {
	origin := c.r.Header.Get("Origin")
	method := c.r.Header.Get("Access-Control-Request-Method")
	var reqHeaders []string
	for _, v := range c.r.Header.Values("Access-Control-Request-Headers") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
				reqHeaders = append(reqHeaders, f)
			}
		}
	}
	c.op = &op{Name: "Preflight"}
	r := matchRule(c.bucketCfg.CORS, origin, method, reqHeaders)
	if method == "" || r == nil {
		h.fail(c, corsDenied())
		return
	}
	hdr := c.w.Header()
	setCORS(hdr, r, origin)
	if len(reqHeaders) > 0 {
		hdr.Set("Access-Control-Allow-Headers", strings.Join(reqHeaders, ", "))
	}
	hdr.Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusOK)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, s string, fold bool) bool {
	if fold {
		s = strings.ToLower(s)
	}
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		if wildcard(p, s) {
			return true
		}
	}
	return false
}

// wildcard matches s against p, where '*' stands for any run of characters.
func wildcard(p, s string) bool {
	star, ss := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && p[i] == '*':
			star, ss = i, j
			i++
		case i < len(p) && p[i] == s[j]:
			i++
			j++
		case star >= 0:
			i = star + 1
			ss++
			j = ss
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}
