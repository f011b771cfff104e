package userauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzAuthorizationHeader: no Authorization value makes any bearer scheme panic or authenticate, and refusals
// never echo the value. The configured secrets are random per run, so no seed can be mutated into a valid one.
func FuzzAuthorizationHeader(f *testing.F) {
	rnd := make([]byte, 64)
	if _, err := rand.Read(rnd); err != nil {
		f.Fatal(err)
	}
	tokens, err := NewTokens(map[string]string{hex.EncodeToString(rnd[:24]): "alice"})
	if err != nil {
		f.Fatal(err)
	}
	hs, err := NewJWT(context.Background(), JWTConfig{HS256Secret: rnd[24:]})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	js := newJWKSServer(f, rsaJWK("rsa-1", &rsaKeyA().PublicKey), ecJWK("ec-1", &ecKey().PublicKey))
	jwks, err := NewJWT(ctx, JWTConfig{JWKSURL: js.URL})
	if err != nil {
		f.Fatal(err)
	}
	auths := []Authenticator{tokens, hs, jwks}

	wrongHS := func(c jwt.MapClaims, h map[string]any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		for k, v := range h {
			tok.Header[k] = v
		}
		s, _ := tok.SignedString([]byte("not-the-secret-not-the-secret-!!"))
		return s
	}
	wrongRS := func(h map[string]any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims("mallory"))
		for k, v := range h {
			tok.Header[k] = v
		}
		s, _ := tok.SignedString(rsaOther())
		return s
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims("mallory"))
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	for _, seed := range []string{
		"", "Bearer", "Bearer ", "bearer x", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer 0123456789abcdef0123456789abcdef",
		"Bearer " + wrongHS(claims("mallory"), nil), "Bearer " + wrongHS(claims("mallory"), map[string]any{"kid": "rsa-1"}),
		"Bearer " + wrongRS(map[string]any{"kid": "rsa-1"}), "Bearer " + wrongRS(map[string]any{"kid": []any{1}}),
		"Bearer " + noneTok, "Bearer " + noneTok + "c2ln", "Bearer a.b.c", "Bearer ...", "Bearer e30.e30.", "Bearer \x00\xff",
		"Bearer " + strings.Repeat("A", maxBearerLen), "Bearer  \t x", "Bearer ======",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, a := range auths {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header["Authorization"] = []string{v}
			u, err := a.Authenticate(httptest.NewRecorder(), r)
			if err == nil || !errors.Is(err, ErrUnauthenticated) || u != (User{}) {
				t.Fatalf("%s: header %q gave user %+v err %v", a.Scheme(), v, u, err)
			}
			if len(v) >= 24 && strings.Contains(err.Error(), v) {
				t.Fatalf("%s: error echoes the header: %v", a.Scheme(), err)
			}
		}
	})
}

// FuzzDevCookie: a dev cookie is honoured only if it is exactly "<id>.<our MAC of id>"; anything else mints a
// fresh identity (and a cookie for it) instead of adopting the id it names.
func FuzzDevCookie(f *testing.F) {
	a, err := NewDev([]byte("fuzz-secret-fuzz-secret-fuzz-sec"))
	if err != nil {
		f.Fatal(err)
	}
	d := a.(*devAuth)
	id := "dev-abcdefghijklmnop"
	for _, seed := range []string{"", "x", id, id + ".", id + "." + d.mac(id), id + "." + d.mac(id) + "x",
		"dev-aaaaaaaaaaaaaaaa." + d.mac(id), strings.ToUpper(id) + "." + d.mac(id), "dev-" + "." + d.mac("dev-")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", DevCookieName+"="+value)
		w := httptest.NewRecorder()
		u, err := a.Authenticate(w, r)
		if err != nil || !u.Dev || !validDevID(u.ID) {
			t.Fatalf("cookie %q: user %+v err %v", value, u, err)
		}
		if w.Header().Get(DevHeader) != "dev" {
			t.Fatal("dev response not marked")
		}
		minted := len(w.Result().Cookies()) == 1
		if minted {
			return
		}
		for _, c := range r.CookiesNamed(DevCookieName) {
			if c.Value == u.ID+"."+d.mac(u.ID) {
				return
			}
		}
		t.Fatalf("cookie %q accepted as %q without our MAC", value, u.ID)
	})
}
