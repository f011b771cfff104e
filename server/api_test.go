//go:build !js

package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/crc64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/internal/uploadapi"
)

const (
	aliceToken = "tok-alice-0123456789abcdef"
	bobToken   = "tok-bob-fedcba9876543210xx"
	hookSecret = "webhook-secret-0123456789abcdef"
)

var tokenAuth = map[string]string{"OSSUP_AUTH": "token", "OSSUP_AUTH_TOKENS": aliceToken + "=alice," + bobToken + "=bob"}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func crcString(b []byte) string {
	return strconv.FormatUint(crc64.Checksum(b, crc64.MakeTable(crc64.ECMA)), 10)
}

func pseudoRandom(n int) []byte {
	b := make([]byte, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// webhookSink records deliveries whose signature verifies.
type webhookSink struct {
	mu     sync.Mutex
	bodies [][]byte
	ids    []string // X-Ossup-Delivery of each
	bad    int
}

func (s *webhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sig := r.Header.Get(SignatureHeader)
	var ts, v1 string
	for _, part := range strings.Split(sig, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	m := hmac.New(sha256.New, []byte(hookSecret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(v1)) {
		s.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	s.bodies = append(s.bodies, body)
	s.ids = append(s.ids, r.Header.Get(DeliveryHeader))
	w.WriteHeader(http.StatusNoContent)
}

// upload sends data with the SDK Uploader, as a browser engine would: the
// session's part size and concurrency, its endpoint, its credentials and
// the headers it decided (Content-Type, Content-Disposition,
// x-oss-forbid-overwrite).
func upload(t *testing.T, s uploadapi.Session, data []byte) {
	t.Helper()
	if err := uploadWith(s, data, nil); err != nil {
		t.Fatalf("upload with session credentials: %v", err)
	}
}

// uploadWith is upload with the request changed by tamper (nil: as the
// session decided), returning the upload's error.
func uploadWith(s uploadapi.Session, data []byte, tamper func(*oss.PutObjectRequest)) error {
	u := oss.NewUploader(ossFor(s), func(o *oss.UploaderOptions) {
		o.PartSize = s.PartSize
		o.ParallelNum = s.Concurrency
	})
	req := &oss.PutObjectRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key)}
	h := s.Headers.PutObject
	if !s.SinglePut {
		h = s.Headers.InitiateMultipartUpload
	}
	for k, v := range h {
		switch k {
		case "Content-Type":
			req.ContentType = oss.Ptr(v)
		case "Content-Disposition":
			req.ContentDisposition = oss.Ptr(v)
		case "x-oss-forbid-overwrite":
			req.ForbidOverwrite = oss.Ptr(v)
		}
	}
	if tamper != nil {
		tamper(req)
	}
	if s.SinglePut {
		req.Body = bytes.NewReader(data)
		_, err := ossFor(s).PutObject(context.Background(), req)
		return err
	}
	_, err := u.UploadFrom(context.Background(), req, bytes.NewReader(data))
	return err
}

func TestFullFlowWithWebhook(t *testing.T) {
	sink := &webhookSink{}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	var logs bytes.Buffer
	cfg, err := LoadConfig(env(merge(tokenAuth, map[string]string{
		"OSSUP_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_OSS_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_STS_ADDR": "127.0.0.1:0",
		"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_WEB_DIR": t.TempDir(), "OSSUP_JANITOR_INTERVAL": "0",
		"OSSUP_PART_SIZE": strconv.Itoa(5 << 20), "OSSUP_WEBHOOK_URL": hook.URL, "OSSUP_WEBHOOK_SECRET": hookSecret,
	})))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	b := serveExisting(t, srv)
	alice := b.client(t, aliceToken)

	data := pseudoRandom(12<<20 + 12345)
	s := alice.mustCreate("Quarterly report (final).bin", int64(len(data)))
	if s.SinglePut || s.Parts != 3 || s.PartSize != 5<<20 || s.Bucket != "dev-bucket" || !s.PathStyle {
		t.Fatalf("session plan: %+v", s)
	}
	if !strings.HasPrefix(s.Key, "uploads/alice/") || !strings.HasSuffix(s.Key, "Quarterly report (final).bin") {
		t.Fatalf("key %q does not follow the template", s.Key)
	}
	upload(t, s, data)

	r := alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data), "crc64": crcString(data)})
	if r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	var obj uploadapi.Object
	_ = json.Unmarshal(r.Body, &obj)
	if obj.Key != s.Key || obj.Size != int64(len(data)) || obj.CRC64 != crcString(data) || obj.User != "alice" || obj.Name != "Quarterly report (final).bin" {
		t.Fatalf("complete answered %+v", obj)
	}
	sink.mu.Lock()
	if len(sink.bodies) != 1 || sink.bad != 0 {
		t.Fatalf("webhook: %d verified deliveries, %d with a bad signature", len(sink.bodies), sink.bad)
	}
	var ev struct {
		Type   string           `json:"type"`
		Object uploadapi.Object `json:"object"`
	}
	_ = json.Unmarshal(sink.bodies[0], &ev)
	sink.mu.Unlock()
	if ev.Type != "upload.completed" || ev.Object.Key != s.Key || ev.Object.CRC64 != obj.CRC64 {
		t.Fatalf("webhook event %+v", ev)
	}

	// A client reporting other bytes than those stored is told so.
	r = alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data), "crc64": "12345"})
	if r.Status != http.StatusConflict || r.code() != "object_mismatch" || !strings.Contains(string(r.Body), `"field":"crc64"`) {
		t.Fatalf("mismatched crc: %d %s", r.Status, r.Body)
	}
	r = alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data) - 1, "crc64": crcString(data)})
	if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), `"field":"size"`) {
		t.Fatalf("mismatched size: %d %s", r.Status, r.Body)
	}

	// Nothing secret reached the logs.
	for _, secret := range []string{s.Credentials.AccessKeySecret, s.Credentials.SecurityToken, s.Ticket, aliceToken, hookSecret, srv.Config().AccessKeySecret} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a secret reached the logs: %.12s...", secret)
		}
	}
	if !strings.Contains(logs.String(), "upload completed") {
		t.Fatalf("logs lack the completion record")
	}
}

func TestCredentialsAreScopedToOneKey(t *testing.T) {
	b := startBackend(t, tokenAuth)
	alice := b.client(t, aliceToken)
	a := alice.mustCreate("a.txt", 5)
	other := alice.mustCreate("b.txt", 5)
	c := ossFor(a)
	ctx := context.Background()
	put := func(key string) error {
		_, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(a.Bucket), Key: oss.Ptr(key), Body: strings.NewReader("hello")})
		return err
	}
	if err := put(a.Key); err != nil {
		t.Fatalf("put own key: %v", err)
	}
	// The other object exists, written by the root account.
	root := rootOSS(b.srv.Cloud())
	if _, err := root.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(a.Bucket), Key: oss.Ptr(other.Key), Body: strings.NewReader("other")}); err != nil {
		t.Fatal(err)
	}
	denied := func(what string, err error) {
		t.Helper()
		var se *oss.ServiceError
		if err == nil || !errors.As(err, &se) || se.StatusCode != 403 || se.Code != "AccessDenied" {
			t.Errorf("%s: want 403 AccessDenied, got %v", what, err)
		}
	}
	denied("put another key", put(other.Key))
	_, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(a.Bucket), Key: oss.Ptr(other.Key)})
	denied("get another object", err)
	_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(a.Bucket), Key: oss.Ptr(a.Key)})
	denied("get own object", err)
	_, err = c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(a.Bucket), Key: oss.Ptr(a.Key)})
	denied("delete own object", err)
	_, err = c.ListMultipartUploads(ctx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(a.Bucket)})
	denied("list multipart uploads", err)
}

func TestTicketsAndAuthRefusals(t *testing.T) {
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_TICKET_TTL": "2s"}))
	alice, bob := b.client(t, aliceToken), b.client(t, bobToken)
	s := alice.mustCreate("x.bin", 10)

	// Refresh gives fresh credentials for the same key.
	r := alice.post("/api/v1/uploads/credentials", map[string]any{"ticket": s.Ticket})
	var fresh struct{ Credentials uploadapi.Credentials }
	_ = json.Unmarshal(r.Body, &fresh)
	if r.Status != 200 || fresh.Credentials.SecurityToken == "" || fresh.Credentials.AccessKeyID == s.Credentials.AccessKeyID {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}

	checkTicketDenials(t, s.Ticket, alice, bob, b.client(t, ""), b.client(t, "tok-mallory-000000000000"))
	if _, r := b.client(t, "").create("y", 1); r.Status != 401 {
		t.Errorf("create without auth in token mode: %d", r.Status)
	}

	time.Sleep(2100 * time.Millisecond)
	r = alice.post("/api/v1/uploads/credentials", map[string]any{"ticket": s.Ticket})
	if r.Status != 403 || r.code() != "ticket_expired" {
		t.Errorf("expired ticket: %d %s", r.Status, r.Body)
	}
}

// checkTicketDenials: on every ticket endpoint, a forged or garbage ticket
// and another user's ticket get 403 with the precise code; no or an unknown
// token gets 401 with WWW-Authenticate. ticket is alice's.
func checkTicketDenials(t *testing.T, ticket string, alice, bob, noAuth, unknown *apiClient) {
	t.Helper()
	forged := ticket[:len(ticket)-2] + "xy"
	for _, tc := range []struct {
		name   string
		c      *apiClient
		ticket string
		status int
		code   string
	}{
		{"forged", alice, forged, 403, "ticket_invalid"},
		{"garbage", alice, "not-a-ticket", 403, "ticket_invalid"},
		{"other user's", bob, ticket, 403, "ticket_wrong_user"},
		{"no auth", noAuth, ticket, 401, "unauthenticated"},
		{"unknown token", unknown, ticket, 401, "unauthenticated"},
	} {
		for path, body := range map[string]map[string]any{
			"/api/v1/uploads/credentials": {"ticket": tc.ticket},
			"/api/v1/uploads/complete":    {"ticket": tc.ticket, "size": 10, "crc64": "1"},
			"/api/v1/uploads/abort":       {"ticket": tc.ticket, "uploadId": "ABC"},
		} {
			r := tc.c.post(path, body)
			if r.Status != tc.status || r.code() != tc.code {
				t.Errorf("%s ticket on %s: %d %s, want %d %s", tc.name, path, r.Status, r.Body, tc.status, tc.code)
			}
			if tc.status == 401 && r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s on %s: 401 without WWW-Authenticate", tc.name, path)
			}
		}
	}
}

func TestAbortThroughBackend(t *testing.T) {
	b := startBackend(t, tokenAuth)
	alice := b.client(t, aliceToken)
	s := alice.mustCreate("big.bin", 50<<20)
	c := ossFor(s)
	ctx := context.Background()
	init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key), UploadId: init.UploadId, PartNumber: 1, Body: bytes.NewReader(pseudoRandom(200 << 10))}); err != nil {
		t.Fatal(err)
	}
	// The browser's credentials may abort too, but the backend does it so a
	// client never needs more than upload rights.
	r := alice.post("/api/v1/uploads/abort", map[string]any{"ticket": s.Ticket, "uploadId": *init.UploadId})
	if r.Status != http.StatusNoContent {
		t.Fatalf("abort: %d %s", r.Status, r.Body)
	}
	_, err = rootOSS(b.srv.Cloud()).ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key), UploadId: init.UploadId})
	var se *oss.ServiceError
	if !errors.As(err, &se) || se.Code != "NoSuchUpload" {
		t.Fatalf("upload still there after abort: %v", err)
	}
	r = alice.post("/api/v1/uploads/abort", map[string]any{"ticket": s.Ticket, "uploadId": *init.UploadId})
	if r.Status != http.StatusNotFound || r.code() != "upload_not_found" {
		t.Fatalf("second abort: %d %s", r.Status, r.Body)
	}
	r = alice.post("/api/v1/uploads/abort", map[string]any{"ticket": s.Ticket, "uploadId": "../../x"})
	if r.Status != http.StatusBadRequest || r.code() != "invalid_upload_id" {
		t.Fatalf("hostile upload id: %d %s", r.Status, r.Body)
	}
	r = alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": 1, "crc64": "1"})
	if r.Status != http.StatusConflict || r.code() != "object_missing" {
		t.Fatalf("complete before upload: %d %s", r.Status, r.Body)
	}
}

func TestHostileInputs(t *testing.T) {
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_RATE_LIMIT_USER": "1000"}))
	alice := b.client(t, aliceToken)
	huge := []byte(`{"name":"` + strings.Repeat("a", 1<<20) + `","size":1}`)
	for _, tc := range []struct {
		name   string
		body   any
		ctype  string
		status int
		code   string
	}{
		{"huge JSON", huge, "", 413, "body_too_large"},
		{"NUL in name", map[string]any{"name": "a\x00b.txt", "size": 1}, "", 400, "upload_refused"},
		{"10 KB name", map[string]any{"name": strings.Repeat("n", 10<<10), "size": 1}, "", 400, "upload_refused"},
		{"negative size", map[string]any{"name": "a", "size": -1}, "", 400, "upload_refused"},
		{"over 48.8 TB", map[string]any{"name": "a", "size": int64(10000)*(5<<30) + 1}, "", 413, "upload_refused"},
		{"size beyond int64", []byte(`{"name":"a","size":1e30}`), "", 400, "invalid_json"},
		{"size as string", []byte(`{"name":"a","size":"1"}`), "", 400, "invalid_json"},
		{"fractional size", []byte(`{"name":"a","size":1.5}`), "", 400, "invalid_json"},
		{"unknown field", []byte(`{"name":"a","size":1,"admin":true}`), "", 400, "invalid_json"},
		{"trailing data", []byte(`{"name":"a","size":1}{}`), "", 400, "invalid_json"},
		{"duplicate size", []byte(`{"name":"a","size":1,"size":99999999999}`), "", 400, "invalid_json"},
		{"duplicate name", []byte(`{"name":"a.png","size":1,"name":"a.html"}`), "", 400, "invalid_json"},
		{"empty body", []byte(``), "", 400, "invalid_json"},
		{"not JSON", []byte(`name=a&size=1`), "", 400, "invalid_json"},
		{"form content type", []byte(`{"name":"a","size":1}`), "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		{"missing size", map[string]any{"name": "a"}, "", 400, "missing_field"},
		{"missing name", map[string]any{"size": 1}, "", 400, "missing_field"},
		{"empty name", map[string]any{"name": "", "size": 1}, "", 400, "upload_refused"},
		{"invalid UTF-8", []byte("{\"name\":\"a\xff\",\"size\":1}"), "", 400, "upload_refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.ctype != "" {
				hdr = []string{"Content-Type", tc.ctype}
			}
			r := alice.post("/api/v1/uploads", tc.body, hdr...)
			if r.Status != tc.status || r.code() != tc.code {
				t.Fatalf("%d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
		})
	}
	// Path tricks in the name are neutralised, not refused: the key stays
	// under the user's prefix and has no dot segments.
	for _, name := range []string{"../../etc/passwd", "..", "a/../../b.txt", `..\..\win.ini`, "\u202egnp.exe"} {
		s := alice.mustCreate(name, 1)
		if !strings.HasPrefix(s.Key, "uploads/alice/") {
			t.Errorf("name %q escaped the prefix: %q", name, s.Key)
		}
		for _, seg := range strings.Split(s.Key, "/") {
			if seg == ".." || seg == "." || seg == "" {
				t.Errorf("name %q gave key %q with a %q segment", name, s.Key, seg)
			}
		}
		if strings.ContainsRune(s.Key, '\u202e') {
			t.Errorf("bidi override kept in %q", s.Key)
		}
	}
}

func TestCORSAllowlist(t *testing.T) {
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_CORS_ORIGINS": "https://app.example"}))
	checkCORSAllowlist(t, b.base, b.client(t, aliceToken))
}

// checkCORSAllowlist checks a backend at base that allows only the origin
// https://app.example: preflights from it pass, preflights and requests
// from another origin get no CORS headers, so that page cannot read the
// answers.
func checkCORSAllowlist(t *testing.T, base string, alice *apiClient) {
	t.Helper()
	preflight := func(origin string) http.Header {
		req, _ := http.NewRequest(http.MethodOptions, base+"/api/v1/uploads", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	if h := preflight("https://app.example"); h.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("allowed origin refused: %v", h)
	}
	if h := preflight("https://evil.example"); h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("non-allowed origin got CORS headers: %v", h)
	}
	r := alice.post("/api/v1/uploads", map[string]any{"name": "a", "size": 1}, "Origin", "https://evil.example")
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin can read the API: %v", r.Header)
	}
}

func TestRateLimits(t *testing.T) {
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_RATE_LIMIT_USER": "1", "OSSUP_RATE_LIMIT_IP": "1000"}))
	alice := b.client(t, aliceToken)
	limited := 0
	for i := 0; i < 6; i++ {
		_, r := alice.create("f", 1)
		if r.Status == http.StatusTooManyRequests {
			limited++
			if r.code() != "rate_limited" || r.Header.Get("Retry-After") == "" {
				t.Fatalf("429 without code or Retry-After: %v %s", r.Header, r.Body)
			}
		}
	}
	if limited == 0 {
		t.Fatal("6 quick creates at 1/s with burst 2: none limited")
	}
	// Another user has a budget of their own.
	if _, r := b.client(t, bobToken).create("f", 1); r.Status != http.StatusCreated {
		t.Fatalf("bob limited by alice's traffic: %d", r.Status)
	}

	b2 := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_RATE_LIMIT_IP": "1"}))
	limited = 0
	for i := 0; i < 6; i++ {
		if _, r := b2.client(t, "").create("f", 1); r.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("unauthenticated flood from one IP was not limited")
	}
}

func TestDevAuthIdentities(t *testing.T) {
	b := startBackend(t, nil)
	u1, u2 := b.client(t, ""), b.client(t, "")
	// whoami settles the identity once; the create that follows is the same user.
	req, _ := http.NewRequest(http.MethodGet, b.base+"/api/v1/whoami", nil)
	resp, err := u1.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var who struct {
		User string
		Dev  bool
		Auth string
	}
	_ = json.NewDecoder(resp.Body).Decode(&who)
	resp.Body.Close()
	if resp.StatusCode != 200 || !who.Dev || who.Auth != "dev" || !strings.HasPrefix(who.User, "dev-") {
		t.Fatalf("whoami: %d %+v", resp.StatusCode, who)
	}
	s := u1.mustCreate("dev.txt", 3)
	if !strings.HasPrefix(s.Key, "uploads/"+who.User+"/") {
		t.Fatalf("dev user key %q", s.Key)
	}
	if r := u1.post("/api/v1/uploads/credentials", map[string]any{"ticket": s.Ticket}); r.Status != 200 || r.Header.Get("X-Ossup-Auth") != "dev" {
		t.Fatalf("same dev user refresh: %d %v", r.Status, r.Header)
	}
	if r := u2.post("/api/v1/uploads/credentials", map[string]any{"ticket": s.Ticket}); r.Status != 403 || r.code() != "ticket_wrong_user" {
		t.Fatalf("another dev user used the ticket: %d %s", r.Status, r.Body)
	}
}

func TestCloudModeAgainstLocalCloud(t *testing.T) {
	cl, err := localcloud.Start(localcloud.Config{DataDir: t.TempDir(), OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cfg, err := LoadConfig(env(merge(tokenAuth, map[string]string{
		"OSSUP_MODE": "cloud", "OSSUP_ADDR": "127.0.0.1:0", "OSSUP_WEB_DIR": t.TempDir(), "OSSUP_JANITOR_INTERVAL": "0",
		"OSS_ACCESS_KEY_ID": cl.Config.AccessKeyID, "OSS_ACCESS_KEY_SECRET": cl.Config.AccessKeySecret,
		"OSSUP_ROLE_ARN": cl.Config.RoleARN, "OSSUP_SECRET": strings.Repeat("s", 40),
		"OSSUP_OSS_ENDPOINT": cl.OSSEndpoint, "OSSUP_STS_ENDPOINT": cl.STSEndpoint,
	})))
	if err != nil {
		t.Fatal(err)
	}
	b := serveBackend(t, cfg)
	if b.srv.Cloud() != nil {
		t.Fatal("cloud mode started a local cloud")
	}
	alice := b.client(t, aliceToken)
	// Without the bucket's overwrite rule the credentials could replace
	// verified objects: no credentials, and the reason.
	if _, r := alice.create("cloud.bin", 10); r.Status != http.StatusServiceUnavailable || r.code() != "bucket_not_write_once" ||
		!strings.Contains(string(r.Body), "assumed-role/ossup-uploader/*") {
		t.Fatalf("create without the overwrite rule: %d %s", r.Status, r.Body)
	}
	protectBucket(t, cl)
	data := pseudoRandom(300 << 10)
	s := alice.mustCreate("cloud.bin", int64(len(data)))
	if s.Endpoint != cl.OSSEndpoint {
		t.Fatalf("endpoint %q, want %q", s.Endpoint, cl.OSSEndpoint)
	}
	upload(t, s, data)
	r := alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data), "crc64": crcString(data)})
	if r.Status != 200 {
		t.Fatalf("complete in cloud mode: %d %s", r.Status, r.Body)
	}
}

// TestCORSWildcardWithoutCredentials: "*" admits any origin as
// Access-Control-Allow-Origin: * and never with credentials; an origin
// listed by name beside it is echoed with credentials.
func TestCORSWildcardWithoutCredentials(t *testing.T) {
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_CORS_ORIGINS": "*,https://app.example"}))
	alice := b.client(t, aliceToken)
	for _, tc := range []struct {
		origin, allow string
		creds         bool
	}{
		{"https://any.example", "*", false},
		{"http://127.0.0.1:1234", "*", false},
		{"https://app.example", "https://app.example", true},
	} {
		req, _ := http.NewRequest(http.MethodOptions, b.base+"/api/v1/uploads", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		r := alice.post("/api/v1/uploads", map[string]any{"name": "a", "size": 1}, "Origin", tc.origin)
		for what, h := range map[string]http.Header{"preflight": resp.Header, "request": r.Header} {
			if got := h.Get("Access-Control-Allow-Origin"); got != tc.allow {
				t.Errorf("%s from %s: Access-Control-Allow-Origin %q, want %q", what, tc.origin, got, tc.allow)
			}
			if got := h.Get("Access-Control-Allow-Credentials") == "true"; got != tc.creds {
				t.Errorf("%s from %s: Allow-Credentials %v, want %v", what, tc.origin, got, tc.creds)
			}
			if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("%s from %s: no Vary: Origin (%v)", what, tc.origin, h)
			}
		}
		if resp.Header.Get("Access-Control-Allow-Headers") == "" || resp.StatusCode != http.StatusNoContent {
			t.Errorf("preflight from %s: %d %v", tc.origin, resp.StatusCode, resp.Header)
		}
	}
}

// TestNamesEchoedWithoutBidiControls: a name with a bidi override comes
// back from complete (and so in the webhook) with the override replaced.
func TestNamesEchoedWithoutBidiControls(t *testing.T) {
	b := startBackend(t, tokenAuth)
	alice := b.client(t, aliceToken)
	data := []byte("x")
	s := alice.mustCreate("invoice\u202efdp.exe", 1)
	upload(t, s, data)
	r := alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data), "crc64": crcString(data)})
	var obj uploadapi.Object
	if r.Status != 200 || json.Unmarshal(r.Body, &obj) != nil {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	if strings.ContainsRune(obj.Name, '\u202e') || obj.Name != "invoice\ufffdfdp.exe" {
		t.Fatalf("name echoed as %q", obj.Name)
	}
}
