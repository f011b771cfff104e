package stscreds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/localcloud"
)

func TestObjectScopeAllowsExactlyTheUpload(t *testing.T) {
	cl := startCloud(t, nil)
	bucket := cl.Config.Bucket
	m := newMinter(t, minterConfig(cl, ""))
	const key = "uploads/u-42/2024/photo (1).jpg"
	creds := mint(t, m, "u-42", "uploads/u-42/", key)
	if !strings.HasPrefix(creds.AccessKeyID, "STS.") || creds.SecurityToken == "" || creds.AccessKeySecret == "" {
		t.Fatalf("credentials look wrong: %v", creds)
	}
	if d := time.Until(creds.Expiration); d <= 0 || d > 900*time.Second {
		t.Fatalf("Expiration %s is not within the default 900 s", creds.Expiration)
	}
	c := credsClient(cl, creds)
	data := bytes.Repeat([]byte("ossup"), 1000)
	multipart(t, c, bucket, key, data)
	if got := readBack(t, cl, key); !bytes.Equal(got, data) {
		t.Fatalf("object holds %d bytes, want %d", len(got), len(data))
	}
	initiateAndAbort(t, c, bucket, key)

	// A second upload's root-made object, to test reads and deletes on keys that exist.
	const other = "uploads/u-42/other.jpg"
	if _, err := rootClient(cl).PutObject(bg, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(other), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.InitiateMultipartUpload(bg, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(other)})
	wantDenied(t, "Initiate on another key", err)
	_, err = c.PutObject(bg, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key + "x"), Body: strings.NewReader("x")})
	wantDenied(t, "PutObject on a longer key", err)
	_, err = c.GetObject(bg, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	wantDenied(t, "GetObject on the same key", err)
	_, err = c.GetObject(bg, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(other)})
	wantDenied(t, "GetObject on another key", err)
	_, err = c.DeleteObject(bg, &oss.DeleteObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	wantDenied(t, "DeleteObject on the same key", err)
	_, err = c.ListMultipartUploads(bg, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(bucket)})
	wantDenied(t, "ListMultipartUploads on the bucket", err)
	_, err = c.ListMultipartUploads(bg, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(bucket), Prefix: oss.Ptr(key)})
	wantDenied(t, "ListMultipartUploads with the key as prefix", err)
	_, err = c.HeadObject(bg, &oss.HeadObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	wantDenied(t, "HeadObject on the same key", err)

	// Object scope never caches: each upload gets its own AssumeRole.
	again := mint(t, m, "u-42", "", key)
	if again.AccessKeyID == creds.AccessKeyID {
		t.Fatal("object scope returned cached credentials")
	}
	if calls, hits := m.Stats(); calls != 2 || hits != 0 {
		t.Fatalf("Stats = %d calls, %d hits; want 2, 0", calls, hits)
	}
}

func TestPrefixScopeAllowsOnlyThePrefix(t *testing.T) {
	cl := startCloud(t, nil)
	bucket := cl.Config.Bucket
	m := newMinter(t, minterConfig(cl, ScopePrefix))
	const prefix = "uploads/u-42/"
	a := mint(t, m, "u-42", prefix, prefix+"a.bin")
	b := mint(t, m, "u-42", prefix, prefix+"dir/b.bin")
	if a != b {
		t.Fatalf("second key under the prefix got new credentials %v, want cached %v", b, a)
	}
	if calls, hits := m.Stats(); calls != 1 || hits != 1 {
		t.Fatalf("Stats = %d calls, %d hits; want 1, 1", calls, hits)
	}
	c := credsClient(cl, a)
	multipart(t, c, bucket, prefix+"a.bin", []byte("first"))
	multipart(t, c, bucket, prefix+"dir/b.bin", []byte("second"))
	initiateAndAbort(t, c, bucket, prefix+"c.bin")
	if got := readBack(t, cl, prefix+"dir/b.bin"); string(got) != "second" {
		t.Fatalf("object = %q", got)
	}
	for _, key := range []string{"uploads/u-420/a.bin", "uploads/u-4/a.bin", "uploads/a.bin", "elsewhere/u-42/a.bin"} {
		_, err := c.InitiateMultipartUpload(bg, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
		wantDenied(t, "Initiate outside the prefix "+key, err)
	}
	_, err := c.GetObject(bg, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(prefix + "a.bin")})
	wantDenied(t, "GetObject under the prefix", err)
	_, err = c.DeleteObject(bg, &oss.DeleteObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(prefix + "a.bin")})
	wantDenied(t, "DeleteObject under the prefix", err)
	_, err = c.ListMultipartUploads(bg, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(bucket), Prefix: oss.Ptr(prefix)})
	wantDenied(t, "ListMultipartUploads of the prefix", err)

	// Another user's prefix and another session name get their own credentials.
	other := mint(t, m, "u-43", "uploads/u-43/", "uploads/u-43/a.bin")
	if other.AccessKeyID == a.AccessKeyID {
		t.Fatal("another prefix shared credentials")
	}
	_, err = credsClient(cl, other).InitiateMultipartUpload(bg, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(prefix + "x")})
	wantDenied(t, "u-43's credentials on u-42's prefix", err)
	if renamed := mint(t, m, "u-42-admin", prefix, prefix+"a.bin"); renamed.AccessKeyID == a.AccessKeyID {
		t.Fatal("another session name shared credentials")
	}
}

func TestPrefixCacheRefreshesAt80Percent(t *testing.T) {
	start := time.Now().Truncate(time.Second)
	clk := &fakeClock{t: start}
	// The cloud shares the clock, so STS's Expiration is exactly start+10s.
	cl := startCloud(t, func(c *localcloud.Config) {
		c.MinSTSDuration = time.Second
		c.Now = clk.Now
	})
	cfg := minterConfig(cl, ScopePrefix)
	cfg.Duration = 10 * time.Second
	cfg.Now = clk.Now
	m := newMinter(t, cfg)
	const prefix = "uploads/u-7/"
	first := mint(t, m, "u-7", prefix, prefix+"a")
	if !first.Expiration.Equal(start.Add(10 * time.Second)) {
		t.Fatalf("Expiration = %s, want %s", first.Expiration, start.Add(10*time.Second))
	}
	clk.Set(start.Add(8*time.Second - time.Nanosecond))
	if got := mint(t, m, "u-7", prefix, prefix+"b"); got != first {
		t.Fatal("credentials replaced before 80 % of their lifetime")
	}
	clk.Set(start.Add(8 * time.Second))
	second := mint(t, m, "u-7", prefix, prefix+"c")
	if second.AccessKeyID == first.AccessKeyID {
		t.Fatal("credentials not replaced at 80 % of their lifetime")
	}
	if !second.Expiration.Equal(start.Add(18 * time.Second)) {
		t.Fatalf("new Expiration = %s, want %s", second.Expiration, start.Add(18*time.Second))
	}
	if got := mint(t, m, "u-7", prefix, prefix+"d"); got != second {
		t.Fatal("refreshed credentials not cached")
	}
	if calls, hits := m.Stats(); calls != 2 || hits != 2 {
		t.Fatalf("Stats = %d calls, %d hits; want 2, 2", calls, hits)
	}
	// The refreshed credentials work against OSS.
	multipart(t, credsClient(cl, second), cl.Config.Bucket, prefix+"c", []byte("refreshed"))
}

// gatedTransport counts requests and holds them until the gate opens.
type gatedTransport struct {
	gate     chan struct{}
	requests atomic.Int64
	hosts    sync.Map
}

func (g *gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	g.requests.Add(1)
	g.hosts.Store(r.URL.Host, true)
	select {
	case <-g.gate:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestConcurrentCallersShareOneAssumeRole(t *testing.T) {
	cl := startCloud(t, nil)
	tr := &gatedTransport{gate: make(chan struct{})}
	cfg := minterConfig(cl, ScopePrefix)
	cfg.HTTPDo = (&http.Client{Transport: tr}).Do
	m := newMinter(t, cfg)
	const n = 16
	const prefix = "uploads/u-9/"
	results := make([]Credentials, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = m.ForObject(bg, "u-9", prefix, fmt.Sprintf("%sfile-%d", prefix, i))
		})
	}
	// Open the gate only once every caller has joined the one call in flight.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, hits := m.Stats(); hits == n-1 {
			break
		}
		if time.Now().After(deadline) {
			calls, hits := m.Stats()
			t.Fatalf("callers did not join the flight: %d calls, %d hits", calls, hits)
		}
		time.Sleep(time.Millisecond)
	}
	close(tr.gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if results[i] != results[0] {
			t.Fatalf("caller %d got different credentials", i)
		}
	}
	if calls, hits := m.Stats(); calls != 1 || hits != n-1 {
		t.Fatalf("Stats = %d calls, %d hits; want 1, %d", calls, hits, n-1)
	}
	if got := tr.requests.Load(); got != 1 {
		t.Fatalf("injected HTTP client saw %d requests, want 1", got)
	}
	if _, ok := tr.hosts.Load(cl.STSHost); !ok {
		t.Fatalf("injected HTTP client did not see a request to %s", cl.STSHost)
	}
	multipart(t, credsClient(cl, results[3]), cl.Config.Bucket, prefix+"file-3", []byte("x"))
}

func TestWaiterCancellationDoesNotFailOthers(t *testing.T) {
	cl := startCloud(t, nil)
	tr := &gatedTransport{gate: make(chan struct{})}
	cfg := minterConfig(cl, ScopePrefix)
	cfg.HTTPDo = (&http.Client{Transport: tr}).Do
	m := newMinter(t, cfg)
	const prefix = "uploads/u-5/"
	ctx, cancel := context.WithCancel(bg)
	leaderErr := make(chan error, 1)
	go func() {
		_, err := m.ForObject(ctx, "u-5", prefix, prefix+"a")
		leaderErr <- err
	}()
	for tr.requests.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	follower := make(chan error, 1)
	go func() {
		_, err := m.ForObject(bg, "u-5", prefix, prefix+"b")
		follower <- err
	}()
	for _, hits := m.Stats(); hits == 0; _, hits = m.Stats() {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v, want context.Canceled", err)
	}
	close(tr.gate)
	if err := <-follower; err != nil {
		t.Fatalf("the other caller failed with the first one's cancellation: %v", err)
	}
	if calls, _ := m.Stats(); calls != 1 {
		t.Fatalf("%d AssumeRole calls, want 1", calls)
	}
}

func wantSTSError(t testing.TB, err error, status int, code string, secrets ...string) {
	t.Helper()
	var se *STSError
	if !errors.As(err, &se) {
		t.Fatalf("want STS %s, got %v", code, err)
	}
	if se.Code != code || se.StatusCode != status {
		t.Fatalf("want STS %d %s, got %d %s: %s", status, code, se.StatusCode, se.Code, se.Message)
	}
	var sdk *tea.SDKError
	if !errors.As(err, &sdk) || tea.StringValue(sdk.Code) != code {
		t.Fatalf("the SDK's *tea.SDKError is not wrapped: %v", err)
	}
	if !strings.Contains(err.Error(), code) {
		t.Fatalf("message %q does not name the code %s", err.Error(), code)
	}
	mustNotContain(t, "error message", err.Error()+fmt.Sprintf("%+v", err), secrets...)
}

func TestSTSErrorsSurface(t *testing.T) {
	cl := startCloud(t, nil)
	const key = "uploads/u-1/a"

	cfg := minterConfig(cl, "")
	cfg.RoleARN = "acs:ram::" + cl.Config.AccountID + ":role/no-such-role"
	_, err := newMinter(t, cfg).ForObject(bg, "u-1", "", key)
	wantSTSError(t, err, http.StatusNotFound, "EntityNotExist.Role", cl.Config.AccessKeySecret)

	cfg = minterConfig(cl, "")
	cfg.AccessKeySecret = "wrong-secret-value-0123456789"
	_, err = newMinter(t, cfg).ForObject(bg, "u-1", "", key)
	wantSTSError(t, err, http.StatusBadRequest, "SignatureDoesNotMatch", cfg.AccessKeySecret, cl.Config.AccessKeySecret)

	cfg = minterConfig(cl, "")
	cfg.AccessKeyID = "LTAI5tNoSuchKey000000000"
	_, err = newMinter(t, cfg).ForObject(bg, "u-1", "", key)
	wantSTSError(t, err, http.StatusNotFound, "InvalidAccessKeyId.NotFound", cfg.AccessKeySecret)

	// Errors are not cached: a later call asks STS again.
	cfg = minterConfig(cl, ScopePrefix)
	cfg.RoleARN = "acs:ram::" + cl.Config.AccountID + ":role/no-such-role"
	m := newMinter(t, cfg)
	for range 2 {
		_, err = m.ForObject(bg, "u-1", "uploads/u-1/", key)
		wantSTSError(t, err, http.StatusNotFound, "EntityNotExist.Role")
	}
	if calls, hits := m.Stats(); calls != 2 || hits != 0 {
		t.Fatalf("Stats = %d calls, %d hits; want 2, 0", calls, hits)
	}

	// No STS listening: a transport error, not an STSError.
	cl.Close()
	_, err = newMinter(t, minterConfig(cl, "")).ForObject(bg, "u-1", "", key)
	var se *STSError
	if err == nil || errors.As(err, &se) {
		t.Fatalf("closed endpoint: err = %v, want a transport error", err)
	}
}

func TestRefusesBadInputWithoutCallingSTS(t *testing.T) {
	cl := startCloud(t, nil)
	obj := newMinter(t, minterConfig(cl, ScopeObject))
	pre := newMinter(t, minterConfig(cl, ScopePrefix))
	cases := []struct {
		name                 string
		m                    *Minter
		session, prefix, key string
		wildcard             bool
	}{
		{"star in key", obj, "u-1", "", "uploads/u-1/*", true},
		{"question mark in key", obj, "u-1", "", "uploads/u-1/a?.jpg", true},
		{"star in key, prefix scope", pre, "u-1", "uploads/u-1/", "uploads/u-1/a*", true},
		{"star in prefix", pre, "u-1", "uploads/*/", "uploads/*/a", true},
		{"empty key", obj, "u-1", "", "", false},
		{"key too long", obj, "u-1", "", strings.Repeat("k", 1024), false},
		{"invalid UTF-8", obj, "u-1", "", "uploads/\xff", false},
		{"policy too long once escaped", obj, "u-1", "", strings.Repeat("\x01", 400), false},
		{"key outside prefix", obj, "u-1", "uploads/u-1/", "uploads/u-2/a", false},
		{"empty prefix", pre, "u-1", "", "uploads/u-1/a", false},
		{"prefix without slash", pre, "u-1", "uploads/u-1", "uploads/u-1/a", false},
		{"key outside prefix, prefix scope", pre, "u-1", "uploads/u-1/", "uploads/u-10/a", false},
		{"session name too short", obj, "u", "", "a", false},
		{"session name with space", obj, "u 1", "", "a", false},
		{"session name too long", obj, strings.Repeat("s", 65), "", "a", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.m.ForObject(bg, tc.session, tc.prefix, tc.key)
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("err = %v, want ErrInvalidInput", err)
			}
			if got := errors.Is(err, ErrWildcardInKey); got != tc.wildcard {
				t.Fatalf("errors.Is(err, ErrWildcardInKey) = %v, want %v (%v)", got, tc.wildcard, err)
			}
		})
	}
	for _, m := range []*Minter{obj, pre} {
		if calls, _ := m.Stats(); calls != 0 {
			t.Fatalf("STS was called %d times for invalid input", calls)
		}
	}
	// The longest legal key still fits the policy limit.
	mint(t, obj, "u-1", "", strings.Repeat("k", 1023))
}

func TestLogsAndErrorsCarryNoSecrets(t *testing.T) {
	cl := startCloud(t, nil)
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := minterConfig(cl, ScopePrefix)
	cfg.Logger = logger
	m := newMinter(t, cfg)
	creds := mint(t, m, "u-3", "uploads/u-3/", "uploads/u-3/a")
	mint(t, m, "u-3", "uploads/u-3/", "uploads/u-3/b")
	bad := cfg
	bad.AccessKeySecret = "another-wrong-secret-42"
	_, err := newMinter(t, bad).ForObject(bg, "u-3", "uploads/u-3/", "uploads/u-3/a")
	if err == nil {
		t.Fatal("wrong secret accepted")
	}
	// Callers logging the config or the credentials must not leak either.
	logger.Info("config", "cfg", cfg, "bad", bad, "creds", creds)
	logger.Info("formatted", "v", fmt.Sprintf("%v %+v %#v %v %+v %#v %s", cfg, cfg, cfg, creds, creds, creds, err))
	out := buf.String()
	if !strings.Contains(out, "stscreds: minted credentials") || !strings.Contains(out, "SignatureDoesNotMatch") {
		t.Fatalf("expected the mint and the failure to be logged:\n%s", out)
	}
	if !strings.Contains(out, creds.AccessKeyID) {
		t.Fatalf("temporary access key id not logged:\n%s", out)
	}
	mustNotContain(t, "log", out, cl.Config.AccessKeySecret, bad.AccessKeySecret, creds.AccessKeySecret, creds.SecurityToken)
}

func TestNewValidatesConfig(t *testing.T) {
	good := Config{Endpoint: "127.0.0.1:9001", Protocol: "http", AccessKeyID: "ak", AccessKeySecret: "s3cr3t-value",
		RoleARN: "acs:ram::1:role/r", Bucket: "dev-bucket"}
	if _, err := New(good); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	bad := map[string]func(*Config){
		"no endpoint":       func(c *Config) { c.Endpoint = "" },
		"endpoint URL":      func(c *Config) { c.Endpoint = "https://sts.aliyuncs.com/" },
		"protocol":          func(c *Config) { c.Protocol = "ftp" },
		"no key":            func(c *Config) { c.AccessKeyID = "" },
		"no secret":         func(c *Config) { c.AccessKeySecret = "" },
		"role ARN":          func(c *Config) { c.RoleARN = "role/r" },
		"wildcard role":     func(c *Config) { c.RoleARN = "acs:ram::1:role/*" },
		"bucket":            func(c *Config) { c.Bucket = "Dev_Bucket" },
		"wildcard bucket":   func(c *Config) { c.Bucket = "dev-*" },
		"negative duration": func(c *Config) { c.Duration = -time.Second },
		"fractional":        func(c *Config) { c.Duration = 1500 * time.Millisecond },
		"scope":             func(c *Config) { c.Scope = "bucket" },
	}
	for name, mod := range bad {
		c := good
		mod(&c)
		_, err := New(c)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		mustNotContain(t, name+" error", err.Error(), "s3cr3t-value")
	}
}

// TestConcurrentMintsForDifferentKeys creates many uploads at once, as a busy
// backend does. Under -race it proves the STS SDK is not driven through its
// shared, racy default client.
func TestConcurrentMintsForDifferentKeys(t *testing.T) {
	cl := startCloud(t, nil)
	m := newMinter(t, minterConfig(cl, ScopeObject))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := m.ForObject(bg, "user-1", "uploads/user-1/", fmt.Sprintf("uploads/user-1/file-%d", i))
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if calls, _ := m.Stats(); calls != 8 {
		t.Fatalf("%d AssumeRole calls for 8 different keys, want 8", calls)
	}
}
