package main

import (
	"net/http"
	"testing"

	"github.com/ossup/ossup/internal/localcloud"
)

// TestStandaloneClosedToOtherSites: `make localcloud` is dev mode too, so
// it must not be open to every web page either — no fixed, published root
// keys, and a bucket CORS rule that names the dev origins only (issue 12,
// finding 4, for the emulator alone).
func TestStandaloneClosedToOtherSites(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"OSSUP_DATA_DIR": dir, "OSSUP_LOCAL_OSS_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_STS_ADDR": "127.0.0.1:0"}
	cl, banner, err := start(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if cl.Config.AccessKeyID == localcloud.DevAccessKeyID || cl.Config.AccessKeySecret == localcloud.DevAccessKeySecret {
		t.Errorf("the standalone local cloud runs with the published dev keys:\n%s", banner)
	}
	for origin, want := range map[string]bool{"https://evil.example": false, "http://localhost:8080": true} {
		req, _ := http.NewRequest(http.MethodOptions, cl.OSSEndpoint+"/"+cl.Config.Bucket+"/k", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin") != ""
		if got != want {
			t.Errorf("preflight from %s: allowed %v (%d %q), want %v", origin, got, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), want)
		}
	}
}
