package ossserver

import (
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// maxKeyBytes is the longest object key OSS accepts.
const maxKeyBytes = 1023

// EC diagnostic codes OSS gives for refused object names.
const (
	ecObjectNameTooLong = "0016-00000002" // also: not UTF-8
	ecObjectNameLeading = "0016-00000005" // starts with '/' or '\'
)

// address is where a request points.
type address struct {
	bucket, key string
	level       level
	// virtual marks virtual-hosted style: the bucket came from the Host.
	virtual bool
}

// virtualBucket returns the bucket named by a host of the form
// <bucket>.<domain> for one of the configured domains. IP addresses and
// other hosts are not virtual hosts.
func (h *Handler) virtualBucket(hostport string) (string, bool) {
	host := strings.ToLower(hostOnly(hostport))
	if net.ParseIP(host) != nil {
		return "", false
	}
	for _, d := range h.cfg.Domains {
		if d = strings.ToLower(d); strings.HasSuffix(host, "."+d) {
			return strings.TrimSuffix(host, "."+d), true
		}
	}
	return "", false
}

// resolve finds the bucket and key a request addresses. A virtual host
// (see virtualBucket) names the bucket and the whole path is the key;
// anything else is path style, /<bucket>/<key>. Keys are checked against
// OSS's naming rules here, before any other processing, as OSS does.
func (h *Handler) resolve(r *http.Request) (address, error) {
	var a address
	a.bucket, a.virtual = h.virtualBucket(r.Host)
	if a.virtual {
		a.key = strings.TrimPrefix(r.URL.Path, "/")
	} else {
		a.bucket, a.key, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	}
	switch {
	case a.bucket == "":
		a.level = levelService
		return a, nil
	case !validBucketName(a.bucket):
		a.level = levelBucket
		return a, osserr.New(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.").With("BucketName", a.bucket)
	case a.key == "":
		a.level = levelBucket
		return a, nil
	}
	a.level = levelObject
	return a, checkKey(a.key)
}

// checkKey applies OSS's object naming rules: 1-1023 bytes of UTF-8, not
// starting with '/' or '\' (a leading slash would make "//key" URLs).
func checkKey(key string) error {
	switch {
	case len(key) > maxKeyBytes:
		return osserr.New(http.StatusBadRequest, "InvalidObjectName", "The Length of Object name must be less than 1024.").WithEC(ecObjectNameTooLong)
	case !utf8.ValidString(key):
		return osserr.New(http.StatusBadRequest, "InvalidObjectName", "The specified object is not valid.").WithEC(ecObjectNameTooLong)
	case key[0] == '/' || key[0] == '\\':
		return osserr.New(http.StatusBadRequest, "InvalidObjectName", "The specified object is not valid.").WithEC(ecObjectNameLeading)
	}
	return nil
}

// validBucketName applies OSS's rule: 3-63 characters of [a-z0-9-], not
// starting or ending with a hyphen.
func validBucketName(b string) bool {
	if len(b) < 3 || len(b) > 63 || b[0] == '-' || b[len(b)-1] == '-' {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// objectURL is the URL of an object as the client addressed it, the
// Location OSS reports after Complete: virtual-hosted style keeps the bucket
// in the host, path style puts it first in the path.
func objectURL(r *http.Request, a address) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// Escaped as the SDKs escape object paths, so the URL is usable as is.
	path := "/" + escapeUnreserved(a.key, true)
	if !a.virtual {
		path = "/" + a.bucket + path
	}
	return scheme + "://" + r.Host + path
}

// escapeUnreserved percent-encodes every byte of s that is not an RFC 3986
// unreserved character (and not '/', if keepSlash), with upper-case hex.
func escapeUnreserved(s string, keepSlash bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
