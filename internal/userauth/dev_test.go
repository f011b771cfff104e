package userauth

import (
	"bytes"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
)

var devIDPattern = regexp.MustCompile(`^dev-[a-z2-7]{16}$`)

func newTestDev(t *testing.T, fill byte) Authenticator {
	t.Helper()
	a, err := NewDev(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func jarClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func devCookie(t *testing.T, res authResult) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if c.Name == DevCookieName {
			return c
		}
	}
	return nil
}

func TestDevCookieRoundTrip(t *testing.T) {
	srv := serveAuth(t, newTestDev(t, 1))
	c := jarClient(t)

	first := call(t, c, srv.URL)
	if first.Status != http.StatusOK || !first.Dev || !devIDPattern.MatchString(first.ID) {
		t.Fatalf("first request: status %d dev %v id %q", first.Status, first.Dev, first.ID)
	}
	if got := first.Header.Get(DevHeader); got != "dev" {
		t.Errorf("%s = %q, want dev", DevHeader, got)
	}
	ck := devCookie(t, first)
	if ck == nil {
		t.Fatal("no dev cookie set")
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge < 30*24*3600 || ck.Secure {
		t.Errorf("cookie attributes: %+v", ck)
	}

	second := call(t, c, srv.URL)
	if second.ID != first.ID || !second.Dev {
		t.Fatalf("second request id %q, want %q", second.ID, first.ID)
	}
	if devCookie(t, second) != nil {
		t.Error("a valid cookie was replaced")
	}
	if got := second.Header.Get(DevHeader); got != "dev" {
		t.Errorf("second response %s = %q", DevHeader, got)
	}

	// A different browser is a different user.
	other := call(t, jarClient(t), srv.URL)
	if other.ID == first.ID || !devIDPattern.MatchString(other.ID) {
		t.Fatalf("second browser got id %q (first %q)", other.ID, first.ID)
	}
}

func TestDevRejectsForgedCookies(t *testing.T) {
	a := newTestDev(t, 1)
	srv := serveAuth(t, a)
	genuine := call(t, jarClient(t), srv.URL)
	gc := devCookie(t, genuine)
	mac := gc.Value[len(genuine.ID)+1:]

	// The same id signed with another secret, as an attacker who does not know ours would produce it.
	foreign := newTestDev(t, 2).(*devAuth)
	victim := "dev-aaaaaaaaaaaaaaaa"
	flipped := []byte(mac)
	flipped[0] ^= 1

	cases := map[string]struct{ value, notID string }{
		"other secret":       {victim + "." + foreign.mac(victim), victim},
		"mac of another id":  {victim + "." + mac, victim},
		"no mac":             {genuine.ID, genuine.ID},
		"empty mac":          {genuine.ID + ".", genuine.ID},
		"flipped mac":        {genuine.ID + "." + string(flipped), genuine.ID},
		"uppercased id":      {"DEV-" + genuine.ID[4:] + "." + mac, "DEV-" + genuine.ID[4:]},
		"id with slash":      {"dev-aaaaaaaa/aaaaaaa." + mac, "dev-aaaaaaaa/aaaaaaa"},
		"plain chosen value": {"admin", "admin"},
	}
	u, _ := url.Parse(srv.URL)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := jarClient(t)
			c.Jar.SetCookies(u, []*http.Cookie{{Name: DevCookieName, Value: tc.value}})
			res := call(t, c, srv.URL)
			if res.Status != http.StatusOK || !devIDPattern.MatchString(res.ID) {
				t.Fatalf("status %d id %q", res.Status, res.ID)
			}
			if res.ID == tc.notID || res.ID == genuine.ID {
				t.Fatalf("forged cookie accepted: id %q", res.ID)
			}
			if nc := devCookie(t, res); nc == nil || nc.Value == tc.value {
				t.Fatalf("no fresh cookie minted: %+v", nc)
			}
			// The fresh identity then sticks.
			if again := call(t, c, srv.URL); again.ID != res.ID {
				t.Fatalf("fresh identity not kept: %q then %q", res.ID, again.ID)
			}
		})
	}
}

func TestDevValidDuplicateCookieWins(t *testing.T) {
	a := newTestDev(t, 1)
	srv := serveAuth(t, a)
	genuine := call(t, jarClient(t), srv.URL)
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Cookie", DevCookieName+"=junk; "+DevCookieName+"="+devCookie(t, genuine).Value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) != 0 {
		t.Fatalf("identity reset despite a valid cookie: %v", resp.Cookies())
	}
}

func TestDevSecureCookieOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(authHandler(newTestDev(t, 1)))
	defer srv.Close()
	res := call(t, srv.Client(), srv.URL)
	// Over https the identity may travel cross-site, where the browser
	// allows third-party cookies.
	if ck := devCookie(t, res); ck == nil || !ck.Secure || ck.SameSite != http.SameSiteNoneMode {
		t.Fatalf("cookie over TLS not Secure with SameSite=None: %+v", ck)
	}

	plain := serveAuth(t, newTestDev(t, 1))
	req, _ := http.NewRequest(http.MethodGet, plain.URL, nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cs := resp.Cookies(); len(cs) != 1 || !cs[0].Secure || cs[0].SameSite != http.SameSiteNoneMode {
		t.Fatalf("cookie behind a TLS proxy not Secure with SameSite=None: %v", cs)
	}
}

func TestNewDevRejectsShortSecret(t *testing.T) {
	if _, err := NewDev(make([]byte, 31)); err == nil {
		t.Fatal("31-byte secret accepted")
	}
	if _, err := NewDev(nil); err == nil {
		t.Fatal("nil secret accepted")
	}
}

// TestDevSecretIsCopied guards against the caller zeroing or reusing its buffer after NewDev.
func TestDevSecretIsCopied(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	a, err := NewDev(secret)
	if err != nil {
		t.Fatal(err)
	}
	srv := serveAuth(t, a)
	c := jarClient(t)
	first := call(t, c, srv.URL)
	clear(secret)
	if again := call(t, c, srv.URL); again.ID != first.ID {
		t.Fatalf("identity changed after the caller's secret buffer changed: %q then %q", first.ID, again.ID)
	}
}
