// Package userauth identifies the caller of the signing backend. It is built on net/http only, so the Echo server
// and the Cloudflare Workers build share it. Three schemes exist: an anonymous dev identity kept in a signed cookie,
// static bearer tokens, and JWTs (HS256 secret or RS256/ES256 keys from a JWKS document).
package userauth

import (
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// User is the authenticated caller. ID is what object keys, upload tickets and STS session names derive from.
type User struct {
	ID  string
	Dev bool // anonymous dev-mode identity
}

// ErrUnauthenticated means the request carried no or invalid credentials; the server answers 401 with a
// WWW-Authenticate challenge (see Challenge).
var ErrUnauthenticated = errors.New("unauthenticated")

// Error is an authentication failure. Reason is precise ("token expired", "audience mismatch") and safe to show to
// the caller and to log: it is always one of a fixed set of phrases and never contains the credential.
type Error struct {
	Scheme string // the refusing Authenticator's Scheme()
	Reason string
	// missing marks "no credentials at all", which RFC 6750 §3.1 answers without an error code.
	missing bool
}

// Error implements error.
func (e *Error) Error() string { return "unauthenticated (" + e.Scheme + "): " + e.Reason }

// Unwrap makes errors.Is(err, ErrUnauthenticated) true.
func (e *Error) Unwrap() error { return ErrUnauthenticated }

func unauthenticated(scheme, reason string) *Error {
	return &Error{Scheme: scheme, Reason: reason}
}

// Authenticator identifies callers. Implementations are safe for concurrent use.
type Authenticator interface {
	// Authenticate identifies the caller of r. It may set response headers or cookies on w (dev mode), so w must
	// be the response that will be sent. Failures are *Error values wrapping ErrUnauthenticated.
	Authenticate(w http.ResponseWriter, r *http.Request) (User, error)
	// Scheme names the mechanism ("dev", "token", "jwt") for logs and metrics.
	Scheme() string
}

// MaxUserIDLen is the longest accepted user id in bytes.
const MaxUserIDLen = 128

// ValidUserID reports whether id is acceptable as a user id: 1-128 bytes of valid UTF-8, printable characters only
// (no control characters, NUL or non-ASCII spaces), no '/', no leading or trailing space, and not "." or "..".
// Ids end up inside object keys and STS session names; those are sanitised again there, but ids that could only
// be hostile (path segments, control bytes) are refused here already.
func ValidUserID(id string) bool {
	if id == "" || len(id) > MaxUserIDLen || id == "." || id == ".." || !utf8.ValidString(id) {
		return false
	}
	if strings.HasPrefix(id, " ") || strings.HasSuffix(id, " ") {
		return false
	}
	for _, r := range id {
		if r == '/' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Challenge returns the WWW-Authenticate header value for a 401 answer caused by err (RFC 6750 §3): a bare
// challenge when no credentials were sent, error="invalid_token" with the safe reason otherwise.
func Challenge(realm string, err error) string {
	c := `Bearer realm=` + quote(realm)
	var ae *Error
	if errors.As(err, &ae) && !ae.missing {
		c += `, error="invalid_token", error_description=` + quote(ae.Reason)
	}
	return c
}

// quote renders s as an HTTP quoted-string; characters that cannot appear in one are dropped rather than escaped,
// since the values are fixed phrases or operator-chosen realms.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
