//go:build !js

package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDevModeServes starts the backend as `make run` does (local cloud
// in-process) on free ports and checks what it serves and prints.
func TestDevModeServes(t *testing.T) {
	web := t.TempDir()
	if err := os.WriteFile(filepath.Join(web, "index.html"), []byte("<h1>demo</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(env(map[string]string{
		"OSSUP_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_OSS_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_STS_ADDR": "127.0.0.1:0",
		"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_WEB_DIR": web,
	}))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ln, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ok", "/": "<h1>demo</h1>"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, b)
		}
	}

	// The dev bucket exists, and its CORS rule admits the demo page.
	req, _ := http.NewRequest(http.MethodOptions, srv.Cloud().OSSEndpoint+"/"+cfg.Bucket+"/x", nil)
	req.Header.Set("Origin", base)
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "authorization,x-oss-date")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != base {
		t.Errorf("preflight from the demo page on the dev bucket: %d %v", resp.StatusCode, resp.Header)
	}

	banner := srv.Banner(ln.Addr().String())
	for _, w := range []string{base, srv.Cloud().OSSEndpoint, srv.Cloud().STSEndpoint, srv.Config().AccessKeyID, srv.Config().AccessKeySecret, cfg.RoleARN} {
		if !strings.Contains(banner, w) {
			t.Errorf("banner lacks %q:\n%s", w, banner)
		}
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
}

// TestReadyzReportsLocalCloudDown shows /readyz fails when the local OSS
// stops answering, while /healthz (liveness) does not.
func TestReadyzReportsLocalCloudDown(t *testing.T) {
	cfg, err := LoadConfig(env(map[string]string{
		"OSSUP_LOCAL_OSS_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_STS_ADDR": "127.0.0.1:0", "OSSUP_DATA_DIR": t.TempDir(),
		"OSSUP_WEB_DIR": t.TempDir(),
	}))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	for path, want := range map[string]int{"/readyz": 503, "/healthz": 200} {
		req, _ := http.NewRequest(http.MethodGet, path, nil)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("%s after the local cloud stopped: %d, want %d", path, rec.Code, want)
		}
	}
}
