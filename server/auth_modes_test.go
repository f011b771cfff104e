//go:build !js

package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ossup/ossup/internal/uploadapi"
)

func TestJWTAuthMode(t *testing.T) {
	secret := strings.Repeat("j", 40)
	b := startBackend(t, map[string]string{"OSSUP_AUTH": "jwt", "OSSUP_JWT_SECRET": secret, "OSSUP_JWT_ISSUER": "https://id.example"})
	sign := func(claims jwt.MapClaims, key string) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	good := sign(jwt.MapClaims{"sub": "carol", "iss": "https://id.example", "exp": now.Add(time.Hour).Unix()}, secret)
	s := b.client(t, good).mustCreate("c.txt", 1)
	if !strings.HasPrefix(s.Key, "uploads/carol/") {
		t.Fatalf("the JWT subject is not the user: %q", s.Key)
	}
	for name, tok := range map[string]string{
		"expired":      sign(jwt.MapClaims{"sub": "carol", "iss": "https://id.example", "exp": now.Add(-time.Hour).Unix()}, secret),
		"wrong key":    sign(jwt.MapClaims{"sub": "carol", "iss": "https://id.example", "exp": now.Add(time.Hour).Unix()}, strings.Repeat("x", 40)),
		"wrong issuer": sign(jwt.MapClaims{"sub": "carol", "iss": "https://evil.example", "exp": now.Add(time.Hour).Unix()}, secret),
		"no subject":   sign(jwt.MapClaims{"iss": "https://id.example", "exp": now.Add(time.Hour).Unix()}, secret),
		"none":         "",
	} {
		_, r := b.client(t, tok).create("c.txt", 1)
		if r.Status != http.StatusUnauthorized || r.code() != "unauthenticated" || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s token: %d %v %s", name, r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
		}
	}
}

// TestPrefixScopeCachesCredentials shows the per-user-prefix mode: many
// small files share one AssumeRole, and the credentials still cannot leave
// the user's prefix.
func TestPrefixScopeCachesCredentials(t *testing.T) {
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_CREDENTIAL_SCOPE": "prefix", "OSSUP_RATE_LIMIT_USER": "1000"}))
	alice, bob := b.client(t, aliceToken), b.client(t, bobToken)
	var first uploadapi.Session
	for i := 0; i < 10; i++ {
		s := alice.mustCreate("small.txt", 10)
		if i == 0 {
			first = s
		} else if s.Credentials.AccessKeyID != first.Credentials.AccessKeyID {
			t.Fatalf("create %d minted new credentials inside the cache window", i)
		}
	}
	bs := bob.mustCreate("small.txt", 10)
	calls, hits := b.srv.Minter().Stats()
	if calls != 2 || hits != 9 {
		t.Fatalf("AssumeRole calls %d, cache hits %d; want 2 and 9", calls, hits)
	}
	// Alice's cached credentials cannot write into Bob's prefix.
	upload(t, first, []byte("0123456789"))
	err := func() error {
		c := ossFor(first)
		_, err := c.PutObject(t.Context(), putReq(bs.Bucket, bs.Key, "x"))
		return err
	}()
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("alice's prefix credentials wrote into bob's prefix: %v", err)
	}
}
