//go:build !js

package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestWorkerJWKSInWorkerd runs OSSUP_AUTH=jwt with a JWKS URL in the worker:
// the key set comes through the Workers fetch API (cmd/worker's fetchDo into
// userauth's jwksStore), tokens signed with a published key pass, others do
// not, and an unknown kid makes the worker look at the key set again.
func TestWorkerJWKSInWorkerd(t *testing.T) {
	cl := startLocalCloud(t)
	key := mustP256(t)
	other := mustP256(t)
	var fetches atomic.Int64
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{p256JWK("k1", &key.PublicKey)}})
	}))
	defer jwks.Close()
	_, b := startWorker(t, workerEnv(cl, map[string]string{
		"OSSUP_AUTH": "jwt", "OSSUP_JWT_JWKS_URL": jwks.URL + "/jwks.json", "OSSUP_JWT_ISSUER": "https://id.example",
	}))
	sign := func(k *ecdsa.PrivateKey, kid, sub string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
			"sub": sub, "iss": "https://id.example", "exp": time.Now().Add(time.Hour).Unix()})
		tok.Header["kid"] = kid
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	s := b.client(t, sign(key, "k1", "carol")).mustCreate("c.txt", 1)
	if !strings.HasPrefix(s.Key, "uploads/carol/") {
		t.Fatalf("the JWT subject is not the user: %q", s.Key)
	}
	// The worker's Go instance outlives a request (worker/glue/worker.mjs)
	// and keeps the key set it fetched for the first one; an unknown kid
	// fetches it once more.
	for _, tc := range []struct {
		name, tok string
		fetches   int64
	}{
		{"known kid, wrong key", sign(other, "k1", "mallory"), 0},
		{"unknown kid", sign(other, "k2", "mallory"), 1},
	} {
		before := fetches.Load()
		_, r := b.client(t, tc.tok).create("c.txt", 1)
		if r.Status != http.StatusUnauthorized || r.code() != "unauthenticated" {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
		if n := fetches.Load() - before; n != tc.fetches {
			t.Errorf("%s: %d JWKS fetches, want %d", tc.name, n, tc.fetches)
		}
	}
}

func mustP256(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func p256JWK(kid string, k *ecdsa.PublicKey) map[string]any {
	b, err := k.Bytes()
	if err != nil {
		panic(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return map[string]any{"kty": "EC", "kid": kid, "crv": "P-256", "x": enc(b[1:33]), "y": enc(b[33:])}
}
