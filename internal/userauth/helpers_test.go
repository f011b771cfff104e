package userauth

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// authResult is what the loopback test server reports about one Authenticate call.
type authResult struct {
	Status    int
	ID        string `json:"id"`
	Dev       bool   `json:"dev"`
	Reason    string `json:"reason"`
	Scheme    string `json:"scheme"`
	Message   string `json:"message"`
	Unauth    bool   `json:"unauth"`
	Challenge string
	Header    http.Header
	Body      string
}

// serveAuth runs a over real HTTP on loopback the way the server will: 401 plus WWW-Authenticate on failure.
func serveAuth(t *testing.T, a Authenticator) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(authHandler(a))
	t.Cleanup(srv.Close)
	return srv
}

func authHandler(a Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := a.Authenticate(w, r)
		res := authResult{ID: u.ID, Dev: u.Dev}
		if err != nil {
			var ae *Error
			if errors.As(err, &ae) {
				res.Reason, res.Scheme = ae.Reason, ae.Scheme
			}
			res.Message = err.Error()
			res.Unauth = errors.Is(err, ErrUnauthenticated)
			w.Header().Set("WWW-Authenticate", Challenge("ossup", err))
			w.WriteHeader(http.StatusUnauthorized)
		}
		_ = json.NewEncoder(w).Encode(res)
	})
}

// call sends GET to url with the given Authorization values (none if empty) through c.
func call(t *testing.T, c *http.Client, url string, authz ...string) authResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range authz {
		req.Header.Add("Authorization", v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var res authResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
	res.Status = resp.StatusCode
	res.Challenge = resp.Header.Get("WWW-Authenticate")
	res.Header = resp.Header
	res.Body = string(body)
	return res
}

// wantUser asserts a 200 for user id.
func wantUser(t *testing.T, res authResult, id string) {
	t.Helper()
	if res.Status != http.StatusOK || res.ID != id {
		t.Fatalf("got status %d id %q reason %q, want 200 for %q", res.Status, res.ID, res.Reason, id)
	}
}

// wantRefused asserts a 401 with exactly reason, and that neither body nor challenge echoes any of secrets.
func wantRefused(t *testing.T, res authResult, reason string, secrets ...string) {
	t.Helper()
	if res.Status != http.StatusUnauthorized || !res.Unauth || res.ID != "" {
		t.Fatalf("got status %d id %q unauth %v reason %q, want 401 (reason %q)", res.Status, res.ID, res.Unauth, res.Reason, reason)
	}
	if res.Reason != reason {
		t.Fatalf("reason = %q, want %q", res.Reason, reason)
	}
	for _, s := range secrets {
		if s != "" && (strings.Contains(res.Body, s) || strings.Contains(res.Challenge, s)) {
			t.Fatalf("response leaks the credential: body %q challenge %q", res.Body, res.Challenge)
		}
	}
}
