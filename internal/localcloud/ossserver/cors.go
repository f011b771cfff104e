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

// applyCORS sets the CORS headers of an actual (non-preflight) request,
// including error responses, so the page can read OSS's error.
func applyCORS(h http.Header, rules []ossstore.CORSRule, origin, method string) {
	h.Add("Vary", "Origin")
	r := matchRule(rules, origin, method, nil)
	if r == nil {
		return
	}
	setCORS(h, r, origin)
}

func setCORS(h http.Header, r *ossstore.CORSRule, origin string) {
	// The origin is echoed rather than "*": a wildcard never covers
	// Authorization in a browser.
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", strings.Join(r.AllowedMethods, ", "))
	if len(r.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(r.ExposeHeaders, ", "))
	}
	if r.MaxAgeSeconds > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(r.MaxAgeSeconds))
	}
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
	c.w.Header().Add("Vary", "Origin")
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
