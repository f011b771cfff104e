package faults

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func adminDo(t *testing.T, c *http.Client, method, url, body string) (int, string) {
	t.Helper()
	return adminDoType(t, c, method, url, body, "application/json")
}

func adminDoType(t *testing.T, c *http.Client, method, url, body, contentType string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestAdminRoundTrip(t *testing.T) {
	inj := New(Config{})
	srv := httptest.NewServer(inj.AdminHandler())
	t.Cleanup(srv.Close)
	c := newClient(t)
	url := srv.URL + "/_faults"

	status, body := adminDo(t, c, http.MethodGet, url, "")
	if status != 200 || !strings.Contains(body, `"rules": []`) {
		t.Fatalf("initial GET: %d %s", status, body)
	}

	const cfgJSON = `{"seed":9,"bandwidthBytesPerSec":65536,"rules":[
		{"op":"UploadPart","resetRate":1,"count":2},
		{"op":"*","errorRate":0.25,"stallRate":0.5,"stall":"1.5s","corruptCrcRate":0.1}]}`
	want := Config{Seed: 9, BandwidthBytesPerSec: 65536, Rules: []Rule{
		{Op: "UploadPart", ResetRate: 1, Count: 2},
		{Op: "*", ErrorRate: 0.25, StallRate: 0.5, Stall: Duration(1500 * time.Millisecond), CorruptCRCRate: 0.1},
	}}
	if status, body := adminDo(t, c, http.MethodPut, url, cfgJSON); status != 200 {
		t.Fatalf("PUT: %d %s", status, body)
	}
	if got := inj.Config(); !reflect.DeepEqual(got, want) {
		t.Fatalf("config after PUT:\n%+v\nwant\n%+v", got, want)
	}

	// A fault fires; GET shows it in the statistics. A recorder cannot be
	// hijacked, so the reset falls back to aborting the handler.
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("reset of a recorder: recovered %v, want http.ErrAbortHandler", v)
			}
		}()
		inj.Apply("UploadPart", httptest.NewRecorder(), httptest.NewRequest(http.MethodPut, "/", nil), "id")
	}()
	status, body = adminDo(t, c, http.MethodGet, url, "")
	if status != 200 || !strings.Contains(body, `"UploadPart": {`) || !strings.Contains(body, `"resets": 1`) {
		t.Fatalf("GET after a reset: %d %s", status, body)
	}
	got, err := ParseConfig(body)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GET document parses to %+v, %v; want %+v", got, err, want)
	}

	// The GET document can be sent back as it is.
	if status, resp := adminDo(t, c, http.MethodPost, url, body); status != 200 || !reflect.DeepEqual(inj.Config(), want) {
		t.Fatalf("POST of the GET document: %d %s", status, resp)
	}

	status, body = adminDo(t, c, http.MethodDelete, url, "")
	if status != 200 || !strings.Contains(body, `"rules": []`) || !strings.Contains(body, `"bandwidthBytesPerSec": 0`) {
		t.Fatalf("DELETE: %d %s", status, body)
	}
	if cfg := inj.Config(); len(cfg.Rules) != 0 || cfg.BandwidthBytesPerSec != 0 {
		t.Fatalf("config after DELETE: %+v", cfg)
	}
}

func TestAdminRejectsBadRequests(t *testing.T) {
	before := Config{Rules: []Rule{{Op: "PutObject", ErrorRate: 0.5}}}
	inj := New(before)
	srv := httptest.NewServer(inj.AdminHandler())
	t.Cleanup(srv.Close)
	c := newClient(t)

	for _, tc := range []struct {
		method, body string
		status       int
		msg          string
	}{
		{http.MethodPut, `{"rules":[`, 400, "unexpected EOF"},
		{http.MethodPut, `{"rules":[{"op":"*","errorRate":1.5}]}`, 400, "errorRate must be between 0 and 1"},
		{http.MethodPost, `{"rulez":[]}`, 400, `unknown field "rulez"`},
		{http.MethodPut, ``, 400, "DELETE to turn faults off"},
		{http.MethodPatch, `{}`, 405, "method not allowed"},
	} {
		status, body := adminDo(t, c, tc.method, srv.URL, tc.body)
		if status != tc.status || !strings.Contains(body, tc.msg) {
			t.Errorf("%s %q: %d %q, want %d containing %q", tc.method, tc.body, status, body, tc.status, tc.msg)
		}
	}
	// What a cross-site page can send without a preflight is refused.
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
		status, body := adminDoType(t, c, http.MethodPost, srv.URL, `{"rules":[{"op":"*","errorRate":1}]}`, ct)
		if status != http.StatusUnsupportedMediaType || !strings.Contains(body, "application/json") {
			t.Errorf("POST with Content-Type %q: %d %q, want 415", ct, status, body)
		}
	}
	if !reflect.DeepEqual(inj.Config(), before) {
		t.Errorf("a rejected request changed the config: %+v", inj.Config())
	}
}

func TestAdminLoopbackOnly(t *testing.T) {
	inj := New(Config{})
	h := inj.AdminHandler()
	for _, tc := range []struct {
		remote string
		status int
	}{
		{"203.0.113.5:4000", 403},
		{"10.0.0.1:80", 403},
		{"[2001:db8::1]:80", 403},
		{"garbage", 403},
		{"", 403},
		{"127.0.0.1:5000", 200},
		{"127.8.9.10:1", 200},
		{"[::1]:5000", 200},
		{"[::ffff:127.0.0.1]:5000", 200},
	} {
		req := httptest.NewRequest(http.MethodDelete, "/", nil)
		req.RemoteAddr = tc.remote
		req.Host = "127.0.0.1:9000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("RemoteAddr %q: %d, want %d", tc.remote, rec.Code, tc.status)
		}
	}
}

// TestAdminLoopbackHostOnly: a loopback peer is not enough; the Host must be
// a loopback name too, or a DNS-rebound page could reach the endpoint.
func TestAdminLoopbackHostOnly(t *testing.T) {
	inj := New(Config{})
	h := inj.AdminHandler()
	for _, tc := range []struct {
		host   string
		status int
	}{
		{"evil.example:9000", 403},
		{"evil.example", 403},
		{"127.0.0.1.nip.io:9000", 403},
		{"localhost.evil.example", 403},
		{"10.0.0.1:9000", 403},
		{"", 403},
		{"localhost:9000", 200},
		{"LOCALHOST", 200},
		{"127.0.0.1:9000", 200},
		{"127.1.2.3", 200},
		{"[::1]:9000", 200},
	} {
		req := httptest.NewRequest(http.MethodDelete, "/", nil)
		req.RemoteAddr = "127.0.0.1:5000"
		req.Host = tc.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("Host %q: %d, want %d", tc.host, rec.Code, tc.status)
		}
	}
}
