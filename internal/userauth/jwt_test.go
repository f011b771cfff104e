package userauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	hsSecret = bytes.Repeat([]byte("k"), 32)
	testNow  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func fixedNow() time.Time { return testNow }

// claims returns valid registered claims for sub at testNow; mutate to break them.
func claims(sub string) jwt.MapClaims {
	return jwt.MapClaims{
		"sub": sub,
		"iss": "https://idp.example",
		"aud": []string{"ossup", "other"},
		"iat": testNow.Add(-time.Minute).Unix(),
		"nbf": testNow.Add(-time.Minute).Unix(),
		"exp": testNow.Add(time.Hour).Unix(),
	}
}

func sign(t *testing.T, method jwt.SigningMethod, key any, c jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signature returns the last segment, which must never be echoed back.
func signature(tok string) string { return tok[strings.LastIndexByte(tok, '.')+1:] }

func newHS256(t *testing.T, issuer, audience string) Authenticator {
	t.Helper()
	a, err := NewJWT(context.Background(), JWTConfig{HS256Secret: hsSecret, Issuer: issuer, Audience: audience, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestJWTHS256(t *testing.T) {
	a := newHS256(t, "https://idp.example", "ossup")
	if a.Scheme() != "jwt" {
		t.Errorf("Scheme() = %q", a.Scheme())
	}
	srv := serveAuth(t, a)
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, hsSecret, c, nil) }
	with := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := claims("alice")
		mut(c)
		return c
	}

	good := hs(claims("alice"))
	wantUser(t, call(t, nil, srv.URL, "Bearer "+good), "alice")
	wantUser(t, call(t, nil, srv.URL, "Bearer "+hs(with(func(c jwt.MapClaims) { c["aud"] = "ossup" }))), "alice")
	// Within the 30 s default leeway on every time claim.
	wantUser(t, call(t, nil, srv.URL, "Bearer "+hs(with(func(c jwt.MapClaims) {
		c["exp"] = testNow.Add(-20 * time.Second).Unix()
		c["nbf"] = testNow.Add(20 * time.Second).Unix()
		c["iat"] = testNow.Add(20 * time.Second).Unix()
	}))), "alice")

	refused := map[string]struct {
		token  string
		reason string
	}{
		"expired":            {hs(with(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Minute).Unix() })), "token expired"},
		"not yet valid":      {hs(with(func(c jwt.MapClaims) { c["nbf"] = testNow.Add(time.Minute).Unix() })), "token not valid yet"},
		"issued in future":   {hs(with(func(c jwt.MapClaims) { c["iat"] = testNow.Add(time.Minute).Unix() })), "token issued in the future"},
		"no exp":             {hs(with(func(c jwt.MapClaims) { delete(c, "exp") })), "token has no exp claim"},
		"exp wrong type":     {hs(with(func(c jwt.MapClaims) { c["exp"] = "tomorrow" })), "malformed token"},
		"no sub":             {hs(with(func(c jwt.MapClaims) { delete(c, "sub") })), "token has no sub claim"},
		"empty sub":          {hs(with(func(c jwt.MapClaims) { c["sub"] = "" })), "token has no sub claim"},
		"hostile sub":        {hs(with(func(c jwt.MapClaims) { c["sub"] = "../admin" })), "sub claim is not a valid user id"},
		"NUL sub":            {hs(with(func(c jwt.MapClaims) { c["sub"] = "a\x00b" })), "sub claim is not a valid user id"},
		"issuer mismatch":    {hs(with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })), "issuer mismatch"},
		"no issuer":          {hs(with(func(c jwt.MapClaims) { delete(c, "iss") })), "token has no iss claim"},
		"audience mismatch":  {hs(with(func(c jwt.MapClaims) { c["aud"] = []string{"other", "ossup2"} })), "audience mismatch"},
		"no audience":        {hs(with(func(c jwt.MapClaims) { delete(c, "aud") })), "token has no aud claim"},
		"wrong secret":       {sign(t, jwt.SigningMethodHS256, bytes.Repeat([]byte("x"), 32), claims("alice"), nil), "invalid signature"},
		"HS384 same secret":  {sign(t, jwt.SigningMethodHS384, hsSecret, claims("alice"), nil), "signing algorithm not allowed"},
		"HS512 same secret":  {sign(t, jwt.SigningMethodHS512, hsSecret, claims("alice"), nil), "signing algorithm not allowed"},
		"alg none":           {sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims("alice"), nil), "signing algorithm not allowed"},
		"unknown alg":        {replaceHeader(t, good, `{"alg":"XS999","typ":"JWT"}`), "signing algorithm not allowed"},
		"alg none keeps sig": {replaceHeader(t, good, `{"alg":"none","typ":"JWT"}`), "signing algorithm not allowed"},
		"tampered payload":   {replacePayload(t, good, claims("mallory")), "invalid signature"},
		"two segments":       {good[:strings.LastIndexByte(good, '.')], "malformed token"},
		"garbage":            {"not-a-jwt-at-all", "malformed token"},
		"stripped signature": {good[:strings.LastIndexByte(good, '.')+1], "invalid signature"},
	}
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			wantRefused(t, call(t, nil, srv.URL, "Bearer "+tc.token), tc.reason, tc.token, signature(tc.token))
		})
	}
}

// replaceHeader swaps the JOSE header of tok, keeping payload and signature.
func replaceHeader(t *testing.T, tok, header string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	parts[0] = base64.RawURLEncoding.EncodeToString([]byte(header))
	return strings.Join(parts, ".")
}

// replacePayload swaps the claims of tok, keeping header and signature.
func replacePayload(t *testing.T, tok string, c jwt.MapClaims) string {
	t.Helper()
	other := sign(t, jwt.SigningMethodHS256, []byte("irrelevant-irrelevant-irrelevant"), c, nil)
	parts := strings.Split(tok, ".")
	parts[1] = strings.Split(other, ".")[1]
	return strings.Join(parts, ".")
}

func TestJWTWithoutIssuerOrAudienceConfigured(t *testing.T) {
	srv := serveAuth(t, newHS256(t, "", ""))
	c := claims("bob")
	delete(c, "iss")
	delete(c, "aud")
	wantUser(t, call(t, nil, srv.URL, "Bearer "+sign(t, jwt.SigningMethodHS256, hsSecret, c, nil)), "bob")
}

func TestJWTLeewayAndClock(t *testing.T) {
	now := testNow
	a, err := NewJWT(context.Background(), JWTConfig{HS256Secret: hsSecret, Leeway: time.Second, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	srv := serveAuth(t, a)
	c := claims("alice")
	c["exp"] = testNow.Add(10 * time.Second).Unix()
	tok := sign(t, jwt.SigningMethodHS256, hsSecret, c, nil)
	wantUser(t, call(t, nil, srv.URL, "Bearer "+tok), "alice")
	now = testNow.Add(12 * time.Second) // past exp + 1 s leeway
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+tok), "token expired", tok)
}

func TestNewJWTConfigErrors(t *testing.T) {
	ctx := context.Background()
	cases := map[string]JWTConfig{
		"nothing":          {},
		"both":             {HS256Secret: hsSecret, JWKSURL: "https://idp.example/jwks"},
		"short secret":     {HS256Secret: []byte("short")},
		"negative leeway":  {HS256Secret: hsSecret, Leeway: -time.Second},
		"http non-local":   {JWKSURL: "http://idp.example/jwks"},
		"relative":         {JWKSURL: "/jwks"},
		"other scheme":     {JWKSURL: "ftp://127.0.0.1/jwks"},
		"unparseable":      {JWKSURL: "https://[::1"},
		"unreachable http": {JWKSURL: "http://127.0.0.1:1/jwks"},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			if a, err := NewJWT(ctx, cfg); err == nil {
				t.Fatalf("accepted: %T", a)
			}
		})
	}
}
