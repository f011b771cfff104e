package userauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Key generation is the slow part of these tests; each key is made once per test binary.
var (
	rsaKeyA  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	rsaKeyB  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	rsaOther = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	ecKey    = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	ecOther  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]any {
	b, err := k.Bytes() // uncompressed point 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	n := (len(b) - 1) / 2
	return map[string]any{"kty": "EC", "kid": kid, "crv": k.Curve.Params().Name, "x": b64(b[1 : 1+n]), "y": b64(b[1+n:])}
}

// jwksServer serves a JWKS document that tests can swap, counting fetches.
type jwksServer struct {
	*httptest.Server
	doc     atomic.Value // []byte
	fetches atomic.Int64
	status  atomic.Int64
}

func newJWKSServer(t testing.TB, keys ...map[string]any) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(t, keys...)
	s.status.Store(http.StatusOK)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(s.status.Load()))
		_, _ = w.Write(s.doc.Load().([]byte))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(t testing.TB, keys ...map[string]any) {
	t.Helper()
	if keys == nil {
		keys = []map[string]any{}
	}
	doc, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	s.doc.Store(doc)
}

func newJWKSAuth(t *testing.T, cfg JWTConfig) Authenticator {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	a, err := NewJWT(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func kidHeader(kid string) map[string]any { return map[string]any{"kid": kid} }

func TestJWKSAcceptsRS256AndES256(t *testing.T) {
	js := newJWKSServer(t, rsaJWK("rsa-1", &rsaKeyA().PublicKey), ecJWK("ec-1", &ecKey().PublicKey))
	a := newJWKSAuth(t, JWTConfig{JWKSURL: js.URL + "/jwks.json", Issuer: "https://idp.example", Audience: "ossup"})
	srv := serveAuth(t, a)

	wantUser(t, call(t, nil, srv.URL, "Bearer "+sign(t, jwt.SigningMethodRS256, rsaKeyA(), claims("rsa-user"), kidHeader("rsa-1"))), "rsa-user")
	wantUser(t, call(t, nil, srv.URL, "Bearer "+sign(t, jwt.SigningMethodES256, ecKey(), claims("ec-user"), kidHeader("ec-1"))), "ec-user")
	// No kid: every key of the right type is tried.
	wantUser(t, call(t, nil, srv.URL, "Bearer "+sign(t, jwt.SigningMethodES256, ecKey(), claims("ec-nokid"), nil)), "ec-nokid")
	wantUser(t, call(t, nil, srv.URL, "Bearer "+sign(t, jwt.SigningMethodRS256, rsaKeyA(), claims("rsa-nokid"), nil)), "rsa-nokid")

	// Claim checks apply to JWKS tokens as to HS256 ones.
	c := claims("alice")
	c["exp"] = testNow.Add(-time.Hour).Unix()
	tok := sign(t, jwt.SigningMethodRS256, rsaKeyA(), c, kidHeader("rsa-1"))
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+tok), "token expired", tok, signature(tok))
	c = claims("alice")
	c["aud"] = "someone-else"
	tok = sign(t, jwt.SigningMethodES256, ecKey(), c, kidHeader("ec-1"))
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+tok), "audience mismatch", tok, signature(tok))
}

func TestJWKSRefusesUnknownKeys(t *testing.T) {
	js := newJWKSServer(t, rsaJWK("rsa-1", &rsaKeyA().PublicKey), ecJWK("ec-1", &ecKey().PublicKey))
	srv := serveAuth(t, newJWKSAuth(t, JWTConfig{JWKSURL: js.URL}))

	cases := map[string]struct {
		token, reason string
	}{
		"other RSA key, known kid": {sign(t, jwt.SigningMethodRS256, rsaOther(), claims("mallory"), kidHeader("rsa-1")), "invalid signature"},
		"other EC key, known kid":  {sign(t, jwt.SigningMethodES256, ecOther(), claims("mallory"), kidHeader("ec-1")), "invalid signature"},
		"other RSA key, no kid":    {sign(t, jwt.SigningMethodRS256, rsaOther(), claims("mallory"), nil), "invalid signature"},
		"other EC key, no kid":     {sign(t, jwt.SigningMethodES256, ecOther(), claims("mallory"), nil), "invalid signature"},
		"unknown kid":              {sign(t, jwt.SigningMethodRS256, rsaOther(), claims("mallory"), kidHeader("nope")), "unknown signing key"},
		"RS256 with EC key kid":    {sign(t, jwt.SigningMethodRS256, rsaOther(), claims("mallory"), kidHeader("ec-1")), "signing key does not fit the token algorithm"},
		"ES256 with RSA key kid":   {sign(t, jwt.SigningMethodES256, ecOther(), claims("mallory"), kidHeader("rsa-1")), "unknown signing key"}, // the JWK's "alg":"RS256" already refuses it
		"PS256 (not allowed)":      {sign(t, jwt.SigningMethodPS256, rsaKeyA(), claims("mallory"), kidHeader("rsa-1")), "signing algorithm not allowed"},
		"ES384 (not allowed)":      {sign(t, jwt.SigningMethodES384, mustEC(elliptic.P384()), claims("mallory"), nil), "signing algorithm not allowed"},
		"alg none":                 {sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims("mallory"), kidHeader("rsa-1")), "signing algorithm not allowed"},
		"non-string kid":           {sign(t, jwt.SigningMethodRS256, rsaKeyA(), claims("mallory"), map[string]any{"kid": 7}), "unknown signing key"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			wantRefused(t, call(t, nil, srv.URL, "Bearer "+tc.token), tc.reason, tc.token, signature(tc.token))
		})
	}
}

// TestJWKSAlgorithmConfusion: an attacker who knows the public key signs HS256 with its bytes as the HMAC secret.
func TestJWKSAlgorithmConfusion(t *testing.T) {
	pub := &rsaKeyA().PublicKey
	jwk := rsaJWK("rsa-1", pub)
	delete(jwk, "alg") // no JWK-level alg to hide behind: our own checks must refuse
	// An "oct" key in the set is the other way in: it would be a []byte that HS256 verifies with.
	octSecret := []byte("shared-secret-shared-secret-32by")
	oct := map[string]any{"kty": "oct", "kid": "oct-1", "k": b64(octSecret)}
	js := newJWKSServer(t, jwk, oct)
	srv := serveAuth(t, newJWKSAuth(t, JWTConfig{JWKSURL: js.URL}))

	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	jwkJSON, _ := json.Marshal(jwk)
	for name, secret := range map[string][]byte{"PEM": pemBytes, "DER": der, "PKCS1": pkcs1, "JWK JSON": jwkJSON, "modulus": pub.N.Bytes()} {
		for _, hdr := range []map[string]any{kidHeader("rsa-1"), nil} {
			tok := sign(t, jwt.SigningMethodHS256, secret, claims("mallory"), hdr)
			t.Run(name, func(t *testing.T) {
				wantRefused(t, call(t, nil, srv.URL, "Bearer "+tok), "signing algorithm not allowed", tok, signature(tok))
			})
		}
	}
	tok := sign(t, jwt.SigningMethodHS256, octSecret, claims("mallory"), kidHeader("oct-1"))
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+tok), "signing algorithm not allowed", tok)
	// Even an allowed algorithm never gets the symmetric key.
	tok = sign(t, jwt.SigningMethodRS256, rsaOther(), claims("mallory"), kidHeader("oct-1"))
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+tok), "signing key does not fit the token algorithm", tok)
	// The genuine key still works.
	wantUser(t, call(t, nil, srv.URL, "Bearer "+sign(t, jwt.SigningMethodRS256, rsaKeyA(), claims("alice"), kidHeader("rsa-1"))), "alice")
}

func TestJWKSKidRotation(t *testing.T) {
	js := newJWKSServer(t, rsaJWK("key-a", &rsaKeyA().PublicKey))
	srv := serveAuth(t, newJWKSAuth(t, JWTConfig{JWKSURL: js.URL}))
	tokA := sign(t, jwt.SigningMethodRS256, rsaKeyA(), claims("alice"), kidHeader("key-a"))
	tokB := sign(t, jwt.SigningMethodRS256, rsaKeyB(), claims("bob"), kidHeader("key-b"))
	tokEC := sign(t, jwt.SigningMethodES256, ecKey(), claims("carol"), kidHeader("key-c"))

	wantUser(t, call(t, nil, srv.URL, "Bearer "+tokA), "alice")
	if n := js.fetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches after start, want 1", n)
	}

	// The IdP rotates: key-a retired, key-b and an EC key published.
	js.set(t, rsaJWK("key-b", &rsaKeyB().PublicKey), ecJWK("key-c", &ecKey().PublicKey))
	wantUser(t, call(t, nil, srv.URL, "Bearer "+tokB), "bob") // unknown kid → refresh → found
	if n := js.fetches.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches after rotation, want 2", n)
	}
	wantUser(t, call(t, nil, srv.URL, "Bearer "+tokEC), "carol") // arrived with the same refresh
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+tokA), "unknown signing key", tokA)

	// Made-up kids cannot make us hammer the IdP: at most one unknown-kid refresh per interval, and refused
	// requests do not queue behind the limiter.
	for i := range 20 {
		bogus := sign(t, jwt.SigningMethodRS256, rsaOther(), claims("mallory"), kidHeader("bogus-"+string(rune('a'+i))))
		wantRefused(t, call(t, nil, srv.URL, "Bearer "+bogus), "unknown signing key", bogus)
	}
	if n := js.fetches.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches after 20 unknown kids, want still 2 (rate limited)", n)
	}
	wantUser(t, call(t, nil, srv.URL, "Bearer "+tokB), "bob")
}

func TestJWKSBackgroundRefresh(t *testing.T) {
	js := newJWKSServer(t, rsaJWK("key-a", &rsaKeyA().PublicKey))
	var refreshErrs atomic.Int64
	a := newJWKSAuth(t, JWTConfig{JWKSURL: js.URL, JWKSRefreshInterval: 20 * time.Millisecond,
		OnJWKSError: func(error) { refreshErrs.Add(1) }})
	srv := serveAuth(t, a)

	// Spend the unknown-kid refresh so only the background refresh can pick up the new key.
	bogus := sign(t, jwt.SigningMethodRS256, rsaOther(), claims("mallory"), kidHeader("bogus"))
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+bogus), "unknown signing key")

	// A failing refresh keeps the last good keys and is reported.
	js.status.Store(http.StatusInternalServerError)
	waitFor(t, "a reported refresh failure", func() bool { return refreshErrs.Load() > 0 })
	wantUser(t, call(t, nil, srv.URL, "Bearer "+sign(t, jwt.SigningMethodRS256, rsaKeyA(), claims("alice"), kidHeader("key-a"))), "alice")

	js.set(t, rsaJWK("key-b", &rsaKeyB().PublicKey))
	js.status.Store(http.StatusOK)
	tokB := sign(t, jwt.SigningMethodRS256, rsaKeyB(), claims("bob"), kidHeader("key-b"))
	waitFor(t, "the rotated key", func() bool {
		return call(t, nil, srv.URL, "Bearer "+tokB).Status == http.StatusOK
	})

	// Close stops the refresh goroutine: no fetches once it has returned (allowing one in flight).
	if err := a.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	before := js.fetches.Load()
	time.Sleep(100 * time.Millisecond)
	if after := js.fetches.Load(); after != before {
		t.Fatalf("JWKS still fetched after Close: %d → %d", before, after)
	}
}

// waitFor polls cond for an event that a background goroutine causes; the bound only catches a hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestJWKSUsesConfiguredHTTPDo(t *testing.T) {
	js := newJWKSServer(t, ecJWK("ec-1", &ecKey().PublicKey))
	var used atomic.Int64
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	srv := serveAuth(t, newJWKSAuth(t, JWTConfig{JWKSURL: js.URL, HTTPDo: client.Do}))
	wantUser(t, call(t, nil, srv.URL, "Bearer "+sign(t, jwt.SigningMethodES256, ecKey(), claims("ec-user"), kidHeader("ec-1"))), "ec-user")
	if used.Load() == 0 {
		t.Fatal("configured HTTPDo not used for the JWKS fetch")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewJWTJWKSFailures(t *testing.T) {
	small := mustRSA(1024)
	cases := map[string]func(t *testing.T) string{
		"server error": func(t *testing.T) string {
			js := newJWKSServer(t, rsaJWK("a", &rsaKeyA().PublicKey))
			js.status.Store(http.StatusInternalServerError)
			return js.URL
		},
		"no keys": func(t *testing.T) string { return newJWKSServer(t).URL },
		"only oct key": func(t *testing.T) string {
			return newJWKSServer(t, map[string]any{"kty": "oct", "k": b64([]byte("0123456789abcdef0123456789abcdef"))}).URL
		},
		"only P-384 key": func(t *testing.T) string {
			return newJWKSServer(t, ecJWK("p384", &mustEC(elliptic.P384()).PublicKey)).URL
		},
		"only 1024 RSA": func(t *testing.T) string { return newJWKSServer(t, rsaJWK("small", &small.PublicKey)).URL },
		"not JSON":      func(t *testing.T) string { return staticServer(t, "<html>login</html>") },
		"over 1 MiB body": func(t *testing.T) string {
			return staticServer(t, `{"keys":[],"pad":"`+strings.Repeat("x", jwksMaxBody)+`"}`)
		},
	}
	for name, url := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := NewJWT(context.Background(), JWTConfig{JWKSURL: url(t)}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	// A document just under the cap is read in full.
	doc, _ := json.Marshal(map[string]any{"keys": []any{ecJWK("ec-1", &ecKey().PublicKey)}})
	padded := string(doc[:len(doc)-1]) + `,"pad":"` + strings.Repeat("x", jwksMaxBody-len(doc)-9) + `"}`
	if len(padded) > jwksMaxBody {
		t.Fatalf("test document is %d bytes", len(padded))
	}
	if _, err := NewJWT(context.Background(), JWTConfig{JWKSURL: staticServer(t, padded)}); err != nil {
		t.Fatalf("document of %d bytes refused: %v", len(padded), err)
	}
}

func staticServer(t *testing.T, body string) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) }))
	t.Cleanup(s.Close)
	return s.URL
}

// TestJWKSHostileKeysDoNotCrash: malformed keys in the set (oversized or off-curve EC coordinates, which made
// jwkset v0.8.0's validation panic) neither crash us nor verify anything, and the good key keeps working.
func TestJWKSHostileKeysDoNotCrash(t *testing.T) {
	good := ecJWK("good", &ecKey().PublicKey)
	oversized := ecJWK("oversized", &ecOther().PublicKey)
	oversized["x"] = b64(append([]byte{1}, mustB64(t, oversized["x"].(string))...))
	offCurve := ecJWK("off-curve", &ecOther().PublicKey)
	y := mustB64(t, offCurve["y"].(string))
	y[len(y)-1] ^= 1
	offCurve["y"] = b64(y)
	js := newJWKSServer(t, oversized, offCurve, good)
	srv := serveAuth(t, newJWKSAuth(t, JWTConfig{JWKSURL: js.URL}))

	wantUser(t, call(t, nil, srv.URL, "Bearer "+sign(t, jwt.SigningMethodES256, ecKey(), claims("alice"), kidHeader("good"))), "alice")
	for _, kid := range []string{"oversized", "off-curve"} {
		tok := sign(t, jwt.SigningMethodES256, ecOther(), claims("mallory"), kidHeader(kid))
		wantRefused(t, call(t, nil, srv.URL, "Bearer "+tok), "invalid signature", tok)
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConcurrentAuthentication shares each Authenticator between goroutines, as the server does (run with -race).
func TestConcurrentAuthentication(t *testing.T) {
	js := newJWKSServer(t, rsaJWK("rsa-1", &rsaKeyA().PublicKey), ecJWK("ec-1", &ecKey().PublicKey))
	jwks := serveAuth(t, newJWKSAuth(t, JWTConfig{JWKSURL: js.URL}))
	hs := serveAuth(t, newHS256(t, "", ""))
	dev := serveAuth(t, newTestDev(t, 3))
	rsTok := sign(t, jwt.SigningMethodRS256, rsaKeyA(), claims("rs"), kidHeader("rsa-1"))
	esTok := sign(t, jwt.SigningMethodES256, ecKey(), claims("es"), nil)
	hsTok := sign(t, jwt.SigningMethodHS256, hsSecret, claims("hs"), nil)
	bogus := sign(t, jwt.SigningMethodRS256, rsaOther(), claims("mallory"), kidHeader("bogus"))

	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 8 {
		wg.Go(func() {
			for range 5 {
				for _, c := range []struct{ url, tok, want string }{
					{jwks.URL, rsTok, "rs"}, {jwks.URL, esTok, "es"}, {hs.URL, hsTok, "hs"}, {jwks.URL, bogus, ""},
				} {
					res := call(t, nil, c.url, "Bearer "+c.tok)
					if res.ID != c.want {
						errs <- res.ID + " != " + c.want + " (" + res.Reason + ")"
						return
					}
				}
				if res := call(t, nil, dev.URL); !devIDPattern.MatchString(res.ID) {
					errs <- "dev id " + res.ID
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
