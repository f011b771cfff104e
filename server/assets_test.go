//go:build !js

package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func TestStaticAssetsHashedAndPrecompressed(t *testing.T) {
	web := t.TempDir()
	wasm := bytes.Repeat([]byte("\x00asm engine bytes "), 4096)
	files := map[string]string{
		"index.html":  `<script type="module" src="{{asset "app.js"}}"></script><link rel="preload" href="{{ asset "engine.wasm" }}">`,
		"app.js":      strings.Repeat("export const x = 1;\n", 100),
		"engine.wasm": string(wasm),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(web, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := startBackend(t, map[string]string{"OSSUP_WEB_DIR": web})
	b.srv.Assets().Wait()

	get := func(path, ae string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
		req.Header.Set("Accept-Encoding", ae)
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	index := get("/", "")
	body, _ := io.ReadAll(index.Body)
	if index.Header.Get("Cache-Control") != "no-cache" || !strings.HasPrefix(index.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("index headers %v", index.Header)
	}
	m := regexp.MustCompile(`/assets/engine\.[0-9a-f]{16}\.wasm`).Find(body)
	if m == nil || !regexp.MustCompile(`/assets/app\.[0-9a-f]{16}\.js`).Match(body) {
		t.Fatalf("index does not reference hashed assets: %s", body)
	}
	for _, tc := range []struct {
		ae, enc string
		decode  func(io.Reader) io.Reader
	}{
		{"br, gzip", "br", func(r io.Reader) io.Reader { return brotli.NewReader(r) }},
		{"gzip", "gzip", func(r io.Reader) io.Reader { g, _ := gzip.NewReader(r); return g }},
		{"", "", func(r io.Reader) io.Reader { return r }},
		{"br;q=0, gzip", "gzip", func(r io.Reader) io.Reader { g, _ := gzip.NewReader(r); return g }},
	} {
		resp := get(string(m), tc.ae)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/wasm" ||
			resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			resp.Header.Get("Content-Encoding") != tc.enc {
			t.Fatalf("Accept-Encoding %q: %d %v", tc.ae, resp.StatusCode, resp.Header)
		}
		got, err := io.ReadAll(tc.decode(resp.Body))
		if err != nil || !bytes.Equal(got, wasm) {
			t.Fatalf("Accept-Encoding %q: body differs after decoding (%v)", tc.ae, err)
		}
	}
	// Revalidation of the plain path answers 304.
	plain := get("/engine.wasm", "gzip")
	req, _ := http.NewRequest(http.MethodGet, b.base+"/engine.wasm", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("If-None-Match", plain.Header.Get("ETag"))
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified || plain.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("revalidation: %d, plain cache-control %q", resp.StatusCode, plain.Header.Get("Cache-Control"))
	}
	if r := get("/nope.js", ""); r.StatusCode != 404 {
		t.Fatalf("missing asset: %d", r.StatusCode)
	}
}

func TestAssetsRefuseDanglingReference(t *testing.T) {
	web := t.TempDir()
	_ = os.WriteFile(filepath.Join(web, "index.html"), []byte(`{{asset "missing.js"}}`), 0o644)
	if _, err := LoadAssets(web); err == nil || !strings.Contains(err.Error(), "missing.js") {
		t.Fatalf("dangling reference accepted: %v", err)
	}
}

func TestMetricsLoopbackOnly(t *testing.T) {
	b := startBackend(t, tokenAuth)
	b.client(t, aliceToken).mustCreate("m.txt", 1)
	resp, err := http.Get(b.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"ossup_upload_sessions_created_total 1", "ossup_sts_assume_role_total", `ossup_http_requests_total{method="POST",route="/api/v1/uploads",status="201"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for name, tc := range map[string]struct {
		peer, host string
		hdr        []string
	}{
		"a public peer":                 {"203.0.113.9:5555", "127.0.0.1:8080", nil},
		"a DNS-rebound Host":            {"127.0.0.1:5555", "rebind.evil.example:8080", nil},
		"a rebound Host without port":   {"127.0.0.1:5555", "evil.example", nil},
		"a same-host proxy (XFF)":       {"127.0.0.1:5555", "127.0.0.1:8080", []string{"X-Forwarded-For", "203.0.113.9"}},
		"a same-host proxy (Forwarded)": {"[::1]:5555", "localhost:8080", []string{"Forwarded", "for=203.0.113.9"}},
	} {
		req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr, req.Host = tc.peer, tc.host
		for i := 0; i+1 < len(tc.hdr); i += 2 {
			req.Header.Set(tc.hdr[i], tc.hdr[i+1])
		}
		if code := newRecorderFor(b.srv, req); code != http.StatusForbidden {
			t.Errorf("metrics from %s: %d, want 403", name, code)
		}
	}
	for _, host := range []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "localhost"} {
		req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr, req.Host = "127.0.0.1:5555", host
		if code := newRecorderFor(b.srv, req); code != http.StatusOK {
			t.Errorf("metrics from this machine as %s: %d", host, code)
		}
	}
}

func TestMetricsToken(t *testing.T) {
	const token = "metrics-token-0123456789"
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_METRICS_TOKEN": token}))
	for auth, want := range map[string]int{"": 401, "Bearer wrong-token-000000000": 401, "Bearer " + token: 200, token: 401} {
		req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr, req.Host = "203.0.113.9:5555", "metrics.example.com"
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if code := newRecorderFor(b.srv, req); code != want {
			t.Errorf("metrics with Authorization %q from elsewhere: %d, want %d", auth, code, want)
		}
	}
}

// TestDemoPageHasCSP: the demo page (the real web/index.html) and the
// scripts are served with a Content-Security-Policy that admits only this
// origin's scripts, the page's own inline bootstrap by its hash, and
// requests to here and the OSS endpoint.
func TestDemoPageHasCSP(t *testing.T) {
	// The page and scripts as checked in; the built engine does not matter.
	web := t.TempDir()
	if err := os.CopyFS(web, os.DirFS(filepath.Join("..", "web"))); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"engine.wasm", "wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(web, name)); err != nil {
			if err := os.WriteFile(filepath.Join(web, name), []byte("stub"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	b := startBackend(t, map[string]string{"OSSUP_WEB_DIR": web})
	resp, err := http.Get(b.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	start := strings.Index(string(body), `<script type="module">`)
	end := strings.Index(string(body), "</script>")
	if start < 0 || end < start {
		t.Fatalf("no inline module script in the demo page:\n%s", body)
	}
	sum := sha256.Sum256(body[start+len(`<script type="module">`) : end])
	for _, want := range []string{
		"default-src 'none'", "script-src 'self' 'wasm-unsafe-eval' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'",
		"connect-src 'self' " + b.srv.Cloud().OSSEndpoint, "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'",
	} {
		if !strings.Contains(csp, want) {
			t.Errorf("demo page CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "'unsafe-eval'") {
		t.Errorf("demo page CSP allows inline or eval: %q", csp)
	}
	u, _ := b.srv.Assets().URL("ossup-worker.js")
	resp, err = http.Get(b.base + u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if w := resp.Header.Get("Content-Security-Policy"); !strings.Contains(w, "connect-src 'self' "+b.srv.Cloud().OSSEndpoint) {
		t.Errorf("worker script CSP %q", w)
	}
}

// TestScriptsLoadableFromOtherOrigins: a page elsewhere may take ossup.js,
// its worker, Go's glue and the engine from here (module scripts and the
// engine's fetch are CORS requests): they are answered
// Access-Control-Allow-Origin: * without credentials; pages are not.
func TestScriptsLoadableFromOtherOrigins(t *testing.T) {
	web := t.TempDir()
	for name, body := range map[string]string{
		"index.html": "<p>page</p>", "ossup.js": "export {};", "ossup-worker.js": "'use strict';",
		"wasm_exec.js": "'use strict';", "engine.wasm": "\x00asm", "demo.css": "p{}",
	} {
		if err := os.WriteFile(filepath.Join(web, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := startBackend(t, map[string]string{"OSSUP_WEB_DIR": web})
	for path, want := range map[string]string{
		"/ossup.js": "*", "/ossup-worker.js": "*", "/wasm_exec.js": "*", "/engine.wasm": "*",
		"/": "", "/index.html": "", "/demo.css": "",
	} {
		req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
		req.Header.Set("Origin", "https://app.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode != 200 || got != want || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s: %d, Access-Control-Allow-Origin %q (want %q), Allow-Credentials %q", path, resp.StatusCode, got, want, resp.Header.Get("Access-Control-Allow-Credentials"))
		}
	}
}

// TestPagesNameTheirIcon: every page in web/ names its icon (favicon.svg,
// served from here), so no browser asks for /favicon.ico, which the
// backend answers 404.
func TestPagesNameTheirIcon(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("..", "web", "*.html"))
	if err != nil || len(pages) < 2 {
		t.Fatalf("pages %v (%v)", pages, err)
	}
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `<link rel="icon" type="image/svg+xml" href="{{asset "favicon.svg"}}">`) {
			t.Errorf("%s names no icon: browsers would ask for /favicon.ico", filepath.Base(p))
		}
	}
}
