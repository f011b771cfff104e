package userauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

const (
	// DevCookieName holds the signed anonymous identity in dev mode.
	DevCookieName = "ossup_dev_user"
	// DevHeader is set to "dev" on every dev-mode response so nobody mistakes it for real authentication.
	DevHeader = "X-Ossup-Auth"
	// devCookieMaxAge is 400 days, the longest lifetime current browsers honour.
	devCookieMaxAge = 400 * 24 * 60 * 60
	devIDPrefix     = "dev-"
	devIDRandLen    = 16 // base32 characters (80 random bits)
	// devMACContext separates these MACs from anything else that might one day be signed with the same secret.
	devMACContext = "ossup-dev-user\x00"
	// MinSecretLen is the minimum length of the dev cookie secret and of an HS256 JWT secret (RFC 7518 §3.2).
	MinSecretLen = 32
)

var devIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

type devAuth struct {
	secret []byte
}

// NewDev returns the dev-mode Authenticator: every browser gets an anonymous identity "dev-" + 16 base32
// characters, kept in an HMAC-SHA256-signed cookie (HttpOnly, Path=/, 400-day Max-Age; SameSite=None and Secure
// when the request came over TLS, SameSite=Lax otherwise). A missing, malformed or tampered cookie mints a fresh identity; a forged id is never
// accepted. It never fails, and marks every response with "X-Ossup-Auth: dev". secret must be ≥ 32 bytes.
func NewDev(secret []byte) (Authenticator, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("userauth: dev cookie secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	return &devAuth{secret: append([]byte(nil), secret...)}, nil
}

func (d *devAuth) Scheme() string { return "dev" }

func (d *devAuth) Authenticate(w http.ResponseWriter, r *http.Request) (User, error) {
	w.Header().Set(DevHeader, "dev")
	// Any valid copy wins: a stray duplicate (another Path, a sibling subdomain) must not reset the identity.
	for _, c := range r.CookiesNamed(DevCookieName) {
		if id, ok := d.verify(c.Value); ok {
			return User{ID: id, Dev: true}, nil
		}
	}
	id, err := newDevID()
	if err != nil {
		return User{}, fmt.Errorf("userauth: minting dev identity: %w", err)
	}
	// Over https the cookie is SameSite=None, so a page on another site
	// (where the browser still allows third-party cookies) keeps its
	// identity. Over plain http it stays Lax: None needs Secure, and a
	// Secure cookie over http is refused by WebKit even on loopback
	// (measured: WebKitGTK 2.50 drops it; Chromium 156 and Firefox 153 keep
	// it), which would cost same-site pages their identity.
	secure := r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
	sameSite := http.SameSiteLaxMode
	if secure {
		sameSite = http.SameSiteNoneMode
	}
	http.SetCookie(w, &http.Cookie{
		Name:     DevCookieName,
		Value:    id + "." + d.mac(id),
		Path:     "/",
		MaxAge:   devCookieMaxAge,
		HttpOnly: true,
		SameSite: sameSite,
		Secure:   secure,
	})
	return User{ID: id, Dev: true}, nil
}

func newDevID() (string, error) {
	b := make([]byte, devIDRandLen*5/8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return devIDPrefix + strings.ToLower(devIDEncoding.EncodeToString(b)), nil
}

func (d *devAuth) mac(id string) string {
	m := hmac.New(sha256.New, d.secret)
	m.Write([]byte(devMACContext + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// verify returns the id in a cookie value "<id>.<mac>" if the id is well-formed and the MAC is ours.
func (d *devAuth) verify(value string) (string, bool) {
	id, mac, ok := strings.Cut(value, ".")
	if !ok || !validDevID(id) {
		return "", false
	}
	return id, hmac.Equal([]byte(mac), []byte(d.mac(id)))
}

func validDevID(id string) bool {
	rest, ok := strings.CutPrefix(id, devIDPrefix)
	if !ok || len(rest) != devIDRandLen {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}
