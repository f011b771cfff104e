package janitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossup/ossup/internal/localcloud"
)

var bg = context.Background()

func startCloud(t testing.TB) *localcloud.Cloud {
	t.Helper()
	cl, err := localcloud.Start(localcloud.Config{DataDir: t.TempDir(), OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("start local cloud: %v", err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// ossClient is a path-style OSS SDK client with the given keys.
func ossClient(cl *localcloud.Cloud, ak, sk, token string, opts ...func(*oss.Config)) *oss.Client {
	cfg := oss.LoadDefaultConfig().
		WithEndpoint(cl.OSSEndpoint).
		WithRegion(cl.Config.Region).
		WithUsePathStyle(true).
		WithRetryMaxAttempts(1).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ak, sk, token))
	for _, o := range opts {
		o(cfg)
	}
	return oss.NewClient(cfg)
}

func rootClient(cl *localcloud.Cloud, opts ...func(*oss.Config)) *oss.Client {
	return ossClient(cl, cl.Config.AccessKeyID, cl.Config.AccessKeySecret, "", opts...)
}

// initiate starts an upload for each key and returns their upload ids.
func initiate(t testing.TB, c *oss.Client, bucket string, keys ...string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, k := range keys {
		res, err := c.InitiateMultipartUpload(bg, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(k)})
		if err != nil {
			t.Fatalf("Initiate %q: %v", k, err)
		}
		ids[oss.ToString(res.UploadId)] = k
	}
	return ids
}

// remaining lists every upload left in the bucket: upload id → key.
func remaining(t testing.TB, c *oss.Client, bucket string) map[string]oss.Upload {
	t.Helper()
	left := map[string]oss.Upload{}
	p := c.NewListMultipartUploadsPaginator(&oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(bucket)})
	for p.HasNext() {
		page, err := p.NextPage(bg)
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		for _, u := range page.Uploads {
			left[oss.ToString(u.UploadId)] = u
		}
	}
	return left
}

func keysOf(n int, format string) []string {
	var ks []string
	for i := range n {
		ks = append(ks, fmt.Sprintf(format, i))
	}
	return ks
}

func newJanitor(t testing.TB, cfg Config) *Janitor {
	t.Helper()
	j, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return j
}

func TestRunOnceAbortsOldUploadsUnderPrefixAcrossPages(t *testing.T) {
	cl := startCloud(t)
	bucket := cl.Config.Bucket
	root := rootClient(cl)
	// Keys that sort among and around the prefix, with characters the SDK
	// URL-encodes in listings.
	oldIn := initiate(t, root, bucket, append(keysOf(16, "uploads/u-%02d/file name+%%.bin"), "uploads/日本/ä.bin")...)
	// A second upload of one key, so paging must also follow upload-id-marker.
	for id, k := range initiate(t, root, bucket, "uploads/u-00/file name+%.bin") {
		oldIn[id] = k
	}
	outside := initiate(t, root, bucket, "uploads", "uploads-old/a.bin", "other/uploads/a.bin", "Uploads/a.bin", "a.bin")

	// Uploads initiated after the cutoff must survive: wait until the clock
	// (millisecond resolution in listings) has moved past the old batch.
	var lastOld time.Time
	for _, u := range remaining(t, root, bucket) {
		if u.Initiated.After(lastOld) {
			lastOld = *u.Initiated
		}
	}
	for !time.Now().After(lastOld.Add(10 * time.Millisecond)) {
		time.Sleep(5 * time.Millisecond)
	}
	young := initiate(t, root, bucket, "uploads/u-young/a.bin", "uploads/u-00/file name+%.bin")

	var logs bytes.Buffer
	j := newJanitor(t, Config{
		Client: root, Bucket: bucket, Prefix: "uploads/", PageSize: 5,
		// Cutoff = Now-MaxAge = just after the last old upload.
		Now:    func() time.Time { return lastOld.Add(7*24*time.Hour + time.Millisecond) },
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	aborted, err := j.RunOnce(bg)
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if aborted != len(oldIn) {
		t.Fatalf("aborted %d uploads, want %d", aborted, len(oldIn))
	}
	left := remaining(t, root, bucket)
	var got, want []string
	for id := range left {
		got = append(got, id)
	}
	for id := range outside {
		want = append(want, id)
	}
	for id := range young {
		want = append(want, id)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("uploads left: %v\nwant the %d outside the prefix and the %d young ones", left, len(outside), len(young))
	}
	if n := strings.Count(logs.String(), "janitor: aborted abandoned upload"); n != len(oldIn) {
		t.Fatalf("%d aborts logged, want %d", n, len(oldIn))
	}

	// Nothing left to do: a second run aborts nothing.
	if aborted, err := j.RunOnce(bg); err != nil || aborted != 0 {
		t.Fatalf("second RunOnce = %d, %v; want 0, nil", aborted, err)
	}
}

func TestRunOnceDefaultMaxAge(t *testing.T) {
	cl := startCloud(t)
	bucket := cl.Config.Bucket
	root := rootClient(cl)
	ids := initiate(t, root, bucket, "uploads/a", "uploads/b")
	now := time.Now()
	clock := now.Add(6*24*time.Hour + 23*time.Hour)
	j := newJanitor(t, Config{Client: root, Bucket: bucket, Prefix: "uploads/", Now: func() time.Time { return clock }})
	if n, err := j.RunOnce(bg); err != nil || n != 0 {
		t.Fatalf("after 6d23h: RunOnce = %d, %v; want 0, nil", n, err)
	}
	clock = now.Add(8 * 24 * time.Hour)
	if n, err := j.RunOnce(bg); err != nil || n != len(ids) {
		t.Fatalf("after 8 days: RunOnce = %d, %v; want %d, nil", n, err, len(ids))
	}
	if left := remaining(t, root, bucket); len(left) != 0 {
		t.Fatalf("uploads left: %v", left)
	}
}

// abortHook lets a test act on AbortMultipartUpload requests before they are
// sent.
type abortHook struct {
	mu     sync.Mutex
	before func(key string)
}

func (h *abortHook) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodDelete && r.URL.Query().Has("uploadId") {
		h.mu.Lock()
		f := h.before
		h.mu.Unlock()
		if f != nil {
			f(r.URL.Path)
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestRunOnceContinuesPastFailures(t *testing.T) {
	cl := startCloud(t)
	bucket := cl.Config.Bucket
	root := rootClient(cl)
	ids := initiate(t, root, bucket, keysOf(6, "uploads/f-%d")...)
	idOf := map[string]string{}
	for id, k := range ids {
		idOf[k] = id
	}
	// uploads/f-1 is aborted by someone else just before the janitor gets to
	// it (NoSuchUpload: fine); uploads/f-3's abort is denied (a failure).
	hook := &abortHook{}
	hook.before = func(path string) {
		if strings.HasSuffix(path, "/uploads/f-1") {
			if _, err := root.AbortMultipartUpload(bg, &oss.AbortMultipartUploadRequest{Bucket: oss.Ptr(bucket),
				Key: oss.Ptr("uploads/f-1"), UploadId: oss.Ptr(idOf["uploads/f-1"])}); err != nil {
				t.Errorf("concurrent abort: %v", err)
			}
		}
	}
	// A principal allowed to list and abort, except on uploads/f-3.
	deny := `{"Version":"1","Statement":[
		{"Effect":"Allow","Action":["oss:ListMultipartUploads","oss:AbortMultipartUpload"],"Resource":["acs:oss:*:*:` + bucket + `","acs:oss:*:*:` + bucket + `/*"]},
		{"Effect":"Deny","Action":["oss:AbortMultipartUpload"],"Resource":["acs:oss:*:*:` + bucket + `/uploads/f-3"]}]}`
	creds := assumeRole(t, cl, deny)
	c := ossClient(cl, creds[0], creds[1], creds[2], func(cfg *oss.Config) {
		cfg.WithHttpClient(&http.Client{Transport: hook})
	})
	j := newJanitor(t, Config{Client: c, Bucket: bucket, Prefix: "uploads/", PageSize: 2,
		Now: func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }})
	aborted, err := j.RunOnce(bg)
	if aborted != 4 {
		t.Fatalf("aborted %d, want 4 (6 minus the vanished and the denied one); err %v", aborted, err)
	}
	var se *oss.ServiceError
	if !errors.As(err, &se) || se.Code != "AccessDenied" || !strings.Contains(err.Error(), "uploads/f-3") {
		t.Fatalf("err = %v, want the AccessDenied of uploads/f-3", err)
	}
	if strings.Contains(err.Error(), "NoSuchUpload") {
		t.Fatalf("a vanished upload was reported as a failure: %v", err)
	}
	left := remaining(t, root, bucket)
	if len(left) != 1 || oss.ToString(left[idOf["uploads/f-3"]].Key) != "uploads/f-3" {
		t.Fatalf("uploads left: %v, want only uploads/f-3", left)
	}
}

func TestRunOnceReportsListingFailure(t *testing.T) {
	cl := startCloud(t)
	bad := ossClient(cl, cl.Config.AccessKeyID, "wrong-secret", "")
	j := newJanitor(t, Config{Client: bad, Bucket: cl.Config.Bucket, Prefix: "uploads/"})
	n, err := j.RunOnce(bg)
	var se *oss.ServiceError
	if n != 0 || !errors.As(err, &se) || se.Code != "SignatureDoesNotMatch" {
		t.Fatalf("RunOnce = %d, %v; want 0 and SignatureDoesNotMatch", n, err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Fatal("error contains the secret")
	}
}

func TestRunAbortsAndStopsOnCancel(t *testing.T) {
	cl := startCloud(t)
	bucket := cl.Config.Bucket
	root := rootClient(cl)
	j := newJanitor(t, Config{Client: root, Bucket: bucket, Prefix: "uploads/", Interval: 20 * time.Millisecond,
		Now: func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }})
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() {
		j.Run(ctx)
		close(done)
	}()
	// Uploads made while Run is running are aborted by a later run.
	for round := range 2 {
		initiate(t, root, bucket, fmt.Sprintf("uploads/r-%d", round))
		deadline := time.Now().Add(20 * time.Second)
		for len(remaining(t, root, bucket)) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: Run did not abort the upload", round)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunReturnsWhenCancelledBeforeFirstRun(t *testing.T) {
	cl := startCloud(t)
	root := rootClient(cl)
	initiate(t, root, cl.Config.Bucket, "uploads/a")
	// With a one-hour interval the first run is up to a minute away.
	j := newJanitor(t, Config{Client: root, Bucket: cl.Config.Bucket, Prefix: "uploads/",
		Now: func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }})
	ctx, cancel := context.WithCancel(bg)
	cancel()
	done := make(chan struct{})
	go func() {
		j.Run(ctx)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return for a cancelled context")
	}
	if left := remaining(t, root, cl.Config.Bucket); len(left) != 1 {
		t.Fatalf("a cancelled Run aborted uploads: %d left", len(left))
	}
}

func TestNewValidatesConfig(t *testing.T) {
	c := oss.NewClient(oss.LoadDefaultConfig())
	good := Config{Client: c, Bucket: "b", Prefix: "uploads/"}
	if _, err := New(good); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for name, mod := range map[string]func(*Config){
		"no client":      func(c *Config) { c.Client = nil },
		"no bucket":      func(c *Config) { c.Bucket = "" },
		"no prefix":      func(c *Config) { c.Prefix = "" },
		"tiny MaxAge":    func(c *Config) { c.MaxAge = 7 },
		"negative age":   func(c *Config) { c.MaxAge = -time.Hour },
		"negative tick":  func(c *Config) { c.Interval = -time.Second },
		"page too large": func(c *Config) { c.PageSize = 1001 },
		"negative page":  func(c *Config) { c.PageSize = -1 },
		"tiny unverified age": func(c *Config) {
			c.UnverifiedMaxAge, c.VerifiedTag, c.VerifiedValue = time.Minute, "ossup-verified", "1"
		},
		"reap without a tag": func(c *Config) { c.UnverifiedMaxAge = 2 * time.Hour },
	} {
		cfg := good
		mod(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
