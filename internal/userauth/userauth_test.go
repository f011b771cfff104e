package userauth

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestValidUserID(t *testing.T) {
	good := []string{"a", "alice", "alice@example.com", "auth0|5f7c8ec7c33c6c004bbafe82", "用户-1", "a b", strings.Repeat("x", 128), `back\slash`}
	for _, id := range good {
		if !ValidUserID(id) {
			t.Errorf("ValidUserID(%q) = false, want true", id)
		}
	}
	bad := []string{"", ".", "..", "a/b", "/", "../etc", "nul\x00byte", "tab\tid", "line\nbreak", "del\x7f", " lead", "trail ",
		"nbsp\u00a0id", "ls\u2028id", "\xff\xfe", strings.Repeat("x", 129), strings.Repeat("é", 65)}
	for _, id := range bad {
		if ValidUserID(id) {
			t.Errorf("ValidUserID(%q) = true, want false", id)
		}
	}
}

func TestErrorWrapsErrUnauthenticated(t *testing.T) {
	err := error(unauthenticated("jwt", "token expired"))
	if !errors.Is(err, ErrUnauthenticated) {
		t.Fatal("Error does not wrap ErrUnauthenticated")
	}
	if got := err.Error(); got != "unauthenticated (jwt): token expired" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestChallenge(t *testing.T) {
	missing := &Error{Scheme: "jwt", Reason: "missing bearer token", missing: true}
	if got, want := Challenge("ossup", missing), `Bearer realm="ossup"`; got != want {
		t.Errorf("missing: %q, want %q", got, want)
	}
	if got, want := Challenge(`o"s`, unauthenticated("jwt", "token expired")), `Bearer realm="o\"s", error="invalid_token", error_description="token expired"`; got != want {
		t.Errorf("invalid: %q, want %q", got, want)
	}
	if got, want := Challenge("r\x00\n", errors.New("other")), `Bearer realm="r"`; got != want {
		t.Errorf("other error: %q, want %q", got, want)
	}
}

// TestBearerHeaderShapes runs header variants through real HTTP against the token authenticator.
func TestBearerHeaderShapes(t *testing.T) {
	const tok = "0123456789abcdef-TOKEN"
	a, err := NewTokens(map[string]string{tok: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	srv := serveAuth(t, a)

	wantUser(t, call(t, nil, srv.URL, "Bearer "+tok), "alice")
	wantUser(t, call(t, nil, srv.URL, "bearer "+tok), "alice")
	wantUser(t, call(t, nil, srv.URL, "BEARER   "+tok), "alice")

	res := call(t, nil, srv.URL)
	wantRefused(t, res, "missing bearer token")
	if res.Challenge != `Bearer realm="ossup"` {
		t.Errorf("challenge for missing credentials = %q", res.Challenge)
	}
	wantRefused(t, call(t, nil, srv.URL, "Basic "+tok), "Authorization scheme is not Bearer", tok)
	wantRefused(t, call(t, nil, srv.URL, tok), "Authorization scheme is not Bearer", tok)
	wantRefused(t, call(t, nil, srv.URL, "Bearer"), "empty bearer token")
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+tok, "Bearer "+tok), "multiple Authorization headers", tok)
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+tok+" extra"), "malformed bearer token", tok)
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+tok+",x"), "malformed bearer token", tok)
	wantRefused(t, call(t, nil, srv.URL, "Bearer ="), "malformed bearer token")
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+strings.Repeat("A", maxBearerLen+1)), "bearer token too long")
	res = call(t, nil, srv.URL, "Bearer "+tok+"x")
	wantRefused(t, res, "unknown token", tok)
	if res.Challenge != `Bearer realm="ossup", error="invalid_token", error_description="unknown token"` {
		t.Errorf("challenge = %q", res.Challenge)
	}
	if res.Status != http.StatusUnauthorized {
		t.Errorf("status %d", res.Status)
	}
}
