//go:build !js

package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// countingTransport counts the requests the app makes through its client.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestWorkerAppNative serves NewWorkerApp natively: the app the worker runs,
// with every STS and OSS call through the client it is given.
func TestWorkerAppNative(t *testing.T) {
	cl := startLocalCloud(t)
	env := workerEnv(cl, map[string]string{"OSSUP_MODE": "cloud"})
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ct := &countingTransport{}
	var logs bytes.Buffer
	e, err := NewWorkerApp(cfg, (&http.Client{Transport: ct}).Do, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	b := &testBackend{base: srv.URL}
	alice := b.client(t, aliceToken)

	data := pseudoRandom(150 << 10)
	s := alice.mustCreate("n.bin", int64(len(data)))
	upload(t, s, data)
	if r := alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data), "crc64": crcString(data)}); r.Status != 200 {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	// GetBucketOverwriteConfig and AssumeRole, then complete's HeadObject,
	// GetObjectTagging, GetObjectAcl and PutObjectTagging: all through the
	// given client.
	if n := ct.n.Load(); n != 6 {
		t.Fatalf("%d requests through the given client, want 6", n)
	}
	for _, path := range []string{"/metrics", "/"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("the worker app serves %s: %d", path, resp.StatusCode)
		}
	}
	if !strings.Contains(logs.String(), "upload completed") {
		t.Errorf("log: %s", logs.String())
	}
}

func TestWorkerAppRefusals(t *testing.T) {
	cloud := func(extra map[string]string) Config {
		t.Helper()
		e := merge(tokenAuth, map[string]string{"OSSUP_MODE": "cloud", "OSS_ACCESS_KEY_ID": "LTAIx", "OSS_ACCESS_KEY_SECRET": "y",
			"OSSUP_ROLE_ARN": "acs:ram::1:role/r", "OSSUP_SECRET": strings.Repeat("s", 32)}, extra)
		cfg, err := LoadConfig(func(k string) string { return e[k] })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	dev, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		cfg    Config
		client DoFunc
		want   string
	}{
		"dev mode":         {dev, http.DefaultClient.Do, "cloud mode only"},
		"no client":        {cloud(nil), nil, "HTTP client"},
		"bad key template": {cloud(map[string]string{"OSSUP_KEY_TEMPLATE": "uploads/{nope}"}), http.DefaultClient.Do, "OSSUP_KEY_TEMPLATE"},
	} {
		if _, err := NewWorkerApp(tc.cfg, tc.client, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", name, err, tc.want)
		}
	}
	if _, err := NewWorkerApp(cloud(nil), http.DefaultClient.Do, nil); err != nil {
		t.Fatalf("valid cloud config: %v", err)
	}
}
