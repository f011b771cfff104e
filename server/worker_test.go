//go:build !js

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/internal/uploadapi"
	"github.com/ossup/ossup/internal/workertest"
)

// The worker tests build cmd/worker for js/wasm once per test binary and run
// it in local workerd (npm's workerd, pinned in worker/package-lock.json),
// pointed at a local cloud running in this process.
var workerBuild struct {
	once sync.Once
	dir  string
	err  error
}

// builtWorker is the directory holding workerd.capnp and build/.
func builtWorker(t *testing.T) (root, dir string) {
	t.Helper()
	root, err := workertest.Root()
	if err != nil {
		t.Fatal(err)
	}
	workerBuild.once.Do(func() {
		workerBuild.dir, workerBuild.err = os.MkdirTemp("", "ossup-worker-test-")
		if workerBuild.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		workerBuild.err = workertest.Build(ctx, "go", root, workerBuild.dir)
	})
	if workerBuild.err != nil {
		t.Fatal(workerBuild.err)
	}
	return root, workerBuild.dir
}

// workerEnv is the worker's configuration against cl: cloud mode, token
// auth, everything else as in production defaults.
func workerEnv(cl *localcloud.Cloud, extra map[string]string) map[string]string {
	return merge(tokenAuth, map[string]string{
		"OSS_ACCESS_KEY_ID": cl.Config.AccessKeyID, "OSS_ACCESS_KEY_SECRET": cl.Config.AccessKeySecret,
		"OSSUP_ROLE_ARN": cl.Config.RoleARN, "OSSUP_SECRET": strings.Repeat("w", 40),
		"OSSUP_OSS_ENDPOINT": cl.OSSEndpoint, "OSSUP_STS_ENDPOINT": cl.STSEndpoint,
		"OSSUP_CORS_ORIGINS": "https://app.example", "OSSUP_PART_SIZE": "102400",
	}, extra)
}

// startWorker runs the worker in workerd with env and waits for it.
func startWorker(t *testing.T, env map[string]string) (*workertest.Worker, *testBackend) {
	t.Helper()
	root, dir := builtWorker(t)
	bin, err := workertest.Workerd(root)
	if err != nil {
		t.Fatal(err)
	}
	w, err := workertest.Start(bin, dir, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		if t.Failed() {
			t.Logf("workerd output:\n%s", w.Output())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := w.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	return w, &testBackend{base: w.URL}
}

func startLocalCloud(t *testing.T) *localcloud.Cloud {
	t.Helper()
	cl, err := localcloud.Start(localcloud.Config{DataDir: t.TempDir(), OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	protectBucket(t, cl)
	return cl
}

// TestWorkerInWorkerd runs the backend's API flows against the worker build
// in workerd: every STS and OSS call the worker makes goes through the
// Workers fetch API to the local cloud.
func TestWorkerInWorkerd(t *testing.T) {
	cl := startLocalCloud(t)
	sink := &webhookSink{}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	// The subtests send alice's requests back to back, faster than the
	// production limit of 10 a second when the machine is idle (seen
	// failing: "hostile inputs" got 429 rate_limited); TestRateLimits
	// checks the limiter itself.
	w, b := startWorker(t, workerEnv(cl, map[string]string{"OSSUP_WEBHOOK_URL": hook.URL, "OSSUP_WEBHOOK_SECRET": hookSecret, "OSSUP_RATE_LIMIT_USER": "1000"}))
	alice, bob := b.client(t, aliceToken), b.client(t, bobToken)
	ctx := context.Background()

	for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ok\n"} {
		resp, err := http.Get(b.base + path)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || body.String() != want {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, body.String())
		}
	}

	var s uploadapi.Session
	var data []byte
	t.Run("create, upload, refresh, complete", func(t *testing.T) {
		data = pseudoRandom(250 << 10)
		s = alice.mustCreate("Report (final).bin", int64(len(data)))
		if s.Endpoint != cl.OSSEndpoint || !s.PathStyle || s.Bucket != cl.Config.Bucket || s.Parts != 3 || s.PartSize != 102400 {
			t.Fatalf("session: %+v", s)
		}
		if !strings.HasPrefix(s.Key, "uploads/alice/") || !strings.HasSuffix(s.Key, "/Report (final).bin") {
			t.Fatalf("key %q does not follow the template", s.Key)
		}
		r := alice.post("/api/v1/uploads/credentials", map[string]any{"ticket": s.Ticket})
		var fresh struct{ Credentials uploadapi.Credentials }
		_ = json.Unmarshal(r.Body, &fresh)
		if r.Status != 200 || fresh.Credentials.SecurityToken == "" || fresh.Credentials.AccessKeyID == s.Credentials.AccessKeyID {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		// The refreshed credentials upload the file, as the engine would.
		s2 := s
		s2.Credentials = fresh.Credentials
		upload(t, s2, data)

		r = alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data), "crc64": crcString(data)})
		var obj uploadapi.Object
		_ = json.Unmarshal(r.Body, &obj)
		if r.Status != 200 || obj.Key != s.Key || obj.Size != int64(len(data)) || obj.CRC64 != crcString(data) || obj.User != "alice" || obj.ETag == "" {
			t.Fatalf("complete: %d %s", r.Status, r.Body)
		}
		// The webhook receiver answered 204: a response with a null body
		// behind the fetch API.
		sink.mu.Lock()
		if len(sink.bodies) != 1 || sink.bad != 0 || !strings.Contains(string(sink.bodies[0]), s.Key) {
			t.Errorf("webhook: %d verified deliveries, %d with a bad signature", len(sink.bodies), sink.bad)
		}
		sink.mu.Unlock()
		r = alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data), "crc64": "12345"})
		if r.Status != http.StatusConflict || r.code() != "object_mismatch" || !strings.Contains(string(r.Body), `"field":"crc64"`) {
			t.Fatalf("mismatched crc: %d %s", r.Status, r.Body)
		}
	})

	t.Run("abort", func(t *testing.T) {
		a := alice.mustCreate("big.bin", 50<<20)
		c := ossFor(a)
		init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(a.Bucket), Key: oss.Ptr(a.Key)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(a.Bucket), Key: oss.Ptr(a.Key), UploadId: init.UploadId, PartNumber: 1, Body: bytes.NewReader(pseudoRandom(100 << 10))}); err != nil {
			t.Fatal(err)
		}
		r := alice.post("/api/v1/uploads/complete", map[string]any{"ticket": a.Ticket, "size": 1, "crc64": "1"})
		if r.Status != http.StatusConflict || r.code() != "object_missing" {
			t.Fatalf("complete before the upload completed: %d %s", r.Status, r.Body)
		}
		r = alice.post("/api/v1/uploads/abort", map[string]any{"ticket": a.Ticket, "uploadId": *init.UploadId})
		if r.Status != http.StatusNoContent {
			t.Fatalf("abort: %d %s", r.Status, r.Body)
		}
		_, err = rootOSS(cl).ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(a.Bucket), Key: oss.Ptr(a.Key), UploadId: init.UploadId})
		var se *oss.ServiceError
		if !errors.As(err, &se) || se.Code != "NoSuchUpload" {
			t.Fatalf("upload still there after abort: %v", err)
		}
		r = alice.post("/api/v1/uploads/abort", map[string]any{"ticket": a.Ticket, "uploadId": *init.UploadId})
		if r.Status != http.StatusNotFound || r.code() != "upload_not_found" {
			t.Fatalf("second abort: %d %s", r.Status, r.Body)
		}
	})

	t.Run("ticket and auth denials", func(t *testing.T) {
		if s.Ticket == "" {
			t.Fatal("no session from the first subtest")
		}
		checkTicketDenials(t, s.Ticket, alice, bob, b.client(t, ""), b.client(t, "tok-mallory-000000000000"))
	})

	t.Run("origins", func(t *testing.T) { checkCORSAllowlist(t, b.base, alice) })

	t.Run("hostile inputs", func(t *testing.T) {
		huge := []byte(`{"name":"` + strings.Repeat("a", 1<<20) + `","size":1}`)
		for _, tc := range []struct {
			name   string
			body   any
			ctype  string
			status int
			code   string
		}{
			{"huge JSON", huge, "", 413, "body_too_large"},
			{"over 48.8 TB", map[string]any{"name": "a", "size": int64(10000)*(5<<30) + 1}, "", 413, "upload_refused"},
			{"negative size", map[string]any{"name": "a", "size": -1}, "", 400, "upload_refused"},
			{"NUL in name", map[string]any{"name": "a\x00b.txt", "size": 1}, "", 400, "upload_refused"},
			{"10 KB name", map[string]any{"name": strings.Repeat("n", 10<<10), "size": 1}, "", 400, "upload_refused"},
			{"unknown field", []byte(`{"name":"a","size":1,"admin":true}`), "", 400, "invalid_json"},
			{"form content type", []byte(`{"name":"a","size":1}`), "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		} {
			var hdr []string
			if tc.ctype != "" {
				hdr = []string{"Content-Type", tc.ctype}
			}
			var r apiResp
			if raw, ok := tc.body.([]byte); ok && len(raw) > 64<<10 {
				r = alice.postRefused("/api/v1/uploads", raw)
			} else {
				r = alice.post("/api/v1/uploads", tc.body, hdr...)
			}
			if r.Status != tc.status || r.code() != tc.code {
				t.Errorf("%s: %d %.200s, want %d %s", tc.name, r.Status, r.Body, tc.status, tc.code)
			}
		}
		k := alice.mustCreate("../../etc/passwd", 1).Key
		if !strings.HasPrefix(k, "uploads/alice/") {
			t.Errorf("path tricks escaped the prefix: %q", k)
		}
		for _, seg := range strings.Split(k, "/") {
			if seg == ".." || seg == "." || seg == "" {
				t.Errorf("key %q has a %q segment", k, seg)
			}
		}
	})

	// The worker logged its requests, and no secret.
	out := w.Output()
	if !strings.Contains(out, "upload session created") {
		t.Errorf("the worker's log lacks its records:\n%s", out)
	}
	for _, secret := range []string{s.Credentials.AccessKeySecret, s.Credentials.SecurityToken, s.Ticket, aliceToken, cl.Config.AccessKeySecret, strings.Repeat("w", 40), hookSecret} {
		if secret != "" && strings.Contains(out, secret) {
			t.Errorf("a secret reached the worker's log: %.12s...", secret)
		}
	}
}

// TestWorkerRefusesDevMode: a worker cannot host the local cloud, so dev mode
// (and any invalid configuration) answers 500 and says why in the log,
// without secret values.
func TestWorkerRefusesDevMode(t *testing.T) {
	cl := startLocalCloud(t)
	root, dir := builtWorker(t)
	bin, err := workertest.Workerd(root)
	if err != nil {
		t.Fatal(err)
	}
	// Without the endpoints, which dev mode refuses before it gets here.
	w, err := workertest.Start(bin, dir, workerEnv(cl, map[string]string{"OSSUP_MODE": "dev", "OSSUP_OSS_ENDPOINT": "", "OSSUP_STS_ENDPOINT": ""}))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var resp *http.Response
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err = http.Get(w.URL + "/healthz"); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, w.Output())
	}
	var e struct{ Error struct{ Code string } }
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 500 || e.Error.Code != "misconfigured" {
		t.Fatalf("dev-mode worker answered %d %q", resp.StatusCode, e.Error.Code)
	}
	// workerd's log reaches Output through a pipe, possibly after the
	// answer: wait for it (bounded) rather than read it at once.
	out := w.Output()
	for !strings.Contains(out, "cloud mode only") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		out = w.Output()
	}
	if !strings.Contains(out, "cloud mode only") || strings.Contains(out, cl.Config.AccessKeySecret) || strings.Contains(out, strings.Repeat("w", 40)) {
		t.Fatalf("log of the misconfigured worker:\n%s", out)
	}
}
