package ossauth

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// unreserved reports the RFC 3986 unreserved characters, the only bytes the
// OSS signers leave unescaped.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// escape percent-encodes everything but the unreserved characters (and '/'
// when keepSlash), with uppercase hex, as signer/v4.go escapePath does.
func escape(s string, keepSlash bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (keepSlash && c == '/') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// resourcePath is the unescaped resource both signers start from:
// "/" for the service, "/bucket/" for a bucket, "/bucket/key" for an object.
func resourcePath(bucket, key string) string {
	if bucket == "" {
		return "/"
	}
	return "/" + bucket + "/" + key
}

// queryParam is one raw query component split at its first '='.
type queryParam struct{ key, value string }

// splitRawQuery splits a raw query string into its raw (still escaped)
// components, skipping empty ones like the SDK does.
func splitRawQuery(raw string) []queryParam {
	var params []queryParam
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		params = append(params, queryParam{k, v})
	}
	return params
}

// unescapeQuery decodes one query component ('+' is a space). A component
// that is not valid percent-encoding is returned raw with ok false.
func unescapeQuery(s string) (string, bool) {
	d, err := url.QueryUnescape(s)
	if err != nil {
		return s, false
	}
	return d, true
}

// canonicalQueryComponent RFC 3986-encodes a raw query component. Clients
// escape differently (Go's QueryEscape writes '+' for a space, JavaScript
// leaves "!'()*" alone), so the value is decoded and re-encoded. A component
// that does not decode is kept as the Go SDK would sign it: raw, with '+'
// read as "%20".
func canonicalQueryComponent(raw string) string {
	d, ok := unescapeQuery(raw)
	if !ok {
		return strings.ReplaceAll(raw, "+", "%20")
	}
	return escape(d, false)
}

// firstQueryValue returns the decoded value of the first component named
// name (after decoding), and whether there was one.
func firstQueryValue(params []queryParam, name string) (string, bool) {
	for _, p := range params {
		if k, _ := unescapeQuery(p.key); k == name {
			v, _ := unescapeQuery(p.value)
			return v, true
		}
	}
	return "", false
}

// hasQuery reports whether any component is named name.
func hasQuery(params []queryParam, name string) bool {
	_, ok := firstQueryValue(params, name)
	return ok
}

// canonicalQueryV4 builds the V4 canonical query string from every
// component except those named skip.
func canonicalQueryV4(params []queryParam, skip string) string {
	type kv struct{ k, v string }
	items := make([]kv, 0, len(params))
	for _, p := range params {
		if skip != "" {
			if k, _ := unescapeQuery(p.key); k == skip {
				continue
			}
		}
		k, v := canonicalQueryComponent(p.key), canonicalQueryComponent(p.value)
		if k == "" && v == "" {
			// A bare "=" sorts first and the SDK writes it as nothing, not
			// even a separator.
			continue
		}
		items = append(items, kv{k, v})
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].k != items[j].k {
			return items[i].k < items[j].k
		}
		return items[i].v < items[j].v
	})
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(it.k)
		if it.v != "" {
			b.WriteByte('=')
			b.WriteString(it.v)
		}
	}
	return b.String()
}

// headerLines groups r's header values by lowercase name, trimmed, in wire
// order. Names are merged case-insensitively because http.Header keys that
// could not be canonicalized keep their original case.
func headerLines(h http.Header) map[string][]string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic merge order for non-canonical duplicates
	out := make(map[string][]string, len(h))
	for _, k := range keys {
		low := strings.ToLower(k)
		for _, v := range h[k] {
			out[low] = append(out[low], strings.TrimSpace(v))
		}
	}
	return out
}

// canonicalHeaders writes "name:v1,v2\n" for each selected name, sorted.
func canonicalHeaders(lines map[string][]string, names []string) string {
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(strings.Join(lines[n], ","))
		b.WriteByte('\n')
	}
	return b.String()
}

// isOSSHeader reports whether a lowercase header name is an x-oss-* header.
func isOSSHeader(low string) bool { return strings.HasPrefix(low, "x-oss-") }
