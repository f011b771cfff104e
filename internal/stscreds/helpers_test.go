package stscreds

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossup/ossup/internal/localcloud"
)

var bg = context.Background()

// startCloud runs the local cloud on free loopback ports.
func startCloud(t testing.TB, mod func(*localcloud.Config)) *localcloud.Cloud {
	t.Helper()
	cfg := localcloud.Config{DataDir: t.TempDir(), OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"}
	if mod != nil {
		mod(&cfg)
	}
	cl, err := localcloud.Start(cfg)
	if err != nil {
		t.Fatalf("start local cloud: %v", err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// minterConfig is a Config for the local cloud's STS with the root keys.
func minterConfig(cl *localcloud.Cloud, scope string) Config {
	return Config{
		Endpoint:        cl.STSHost,
		Protocol:        "http",
		AccessKeyID:     cl.Config.AccessKeyID,
		AccessKeySecret: cl.Config.AccessKeySecret,
		RoleARN:         cl.Config.RoleARN,
		Bucket:          cl.Config.Bucket,
		Scope:           scope,
	}
}

func newMinter(t testing.TB, cfg Config) *Minter {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func mint(t testing.TB, m *Minter, session, prefix, key string) Credentials {
	t.Helper()
	c, err := m.ForObject(bg, session, prefix, key)
	if err != nil {
		t.Fatalf("ForObject(%q, %q, %q): %v", session, prefix, key, err)
	}
	return c
}

// ossClient is an OSS SDK client (path style) with the given credentials.
func ossClient(cl *localcloud.Cloud, ak, sk, token string) *oss.Client {
	return oss.NewClient(oss.LoadDefaultConfig().
		WithEndpoint(cl.OSSEndpoint).
		WithRegion(cl.Config.Region).
		WithUsePathStyle(true).
		WithRetryMaxAttempts(1).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ak, sk, token)))
}

func credsClient(cl *localcloud.Cloud, c Credentials) *oss.Client {
	return ossClient(cl, c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
}

func rootClient(cl *localcloud.Cloud) *oss.Client {
	return ossClient(cl, cl.Config.AccessKeyID, cl.Config.AccessKeySecret, "")
}

// wantDenied asserts err is OSS's 403 AccessDenied.
func wantDenied(t testing.TB, what string, err error) {
	t.Helper()
	var se *oss.ServiceError
	if !errors.As(err, &se) {
		t.Fatalf("%s: want 403 AccessDenied, got %v", what, err)
	}
	if se.StatusCode != 403 || se.Code != "AccessDenied" {
		t.Fatalf("%s: want 403 AccessDenied, got %d %s: %s", what, se.StatusCode, se.Code, se.Message)
	}
}

// multipart runs Initiate, UploadPart, ListParts and Complete for key.
func multipart(t testing.TB, c *oss.Client, bucket, key string, data []byte) {
	t.Helper()
	init, err := c.InitiateMultipartUpload(bg, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatalf("Initiate %q: %v", key, err)
	}
	part, err := c.UploadPart(bg, &oss.UploadPartRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key),
		UploadId: init.UploadId, PartNumber: 1, Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("UploadPart %q: %v", key, err)
	}
	parts, err := c.ListParts(bg, &oss.ListPartsRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), UploadId: init.UploadId})
	if err != nil {
		t.Fatalf("ListParts %q: %v", key, err)
	}
	if len(parts.Parts) != 1 || oss.ToString(parts.Parts[0].ETag) != oss.ToString(part.ETag) {
		t.Fatalf("ListParts %q: %+v, want the one part %s", key, parts.Parts, oss.ToString(part.ETag))
	}
	_, err = c.CompleteMultipartUpload(bg, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key),
		UploadId: init.UploadId, CompleteMultipartUpload: &oss.CompleteMultipartUpload{
			Parts: []oss.UploadPart{{PartNumber: 1, ETag: part.ETag}}}})
	if err != nil {
		t.Fatalf("Complete %q: %v", key, err)
	}
}

// initiateAndAbort starts an upload for key and aborts it.
func initiateAndAbort(t testing.TB, c *oss.Client, bucket, key string) {
	t.Helper()
	init, err := c.InitiateMultipartUpload(bg, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatalf("Initiate %q: %v", key, err)
	}
	if _, err := c.AbortMultipartUpload(bg, &oss.AbortMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), UploadId: init.UploadId}); err != nil {
		t.Fatalf("Abort %q: %v", key, err)
	}
}

// readBack reads an object with the root client.
func readBack(t testing.TB, cl *localcloud.Cloud, key string) []byte {
	t.Helper()
	res, err := rootClient(cl).GetObject(bg, &oss.GetObjectRequest{Bucket: oss.Ptr(cl.Config.Bucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatalf("GetObject %q (root): %v", key, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// syncBuffer is a bytes.Buffer safe for a logger shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func mustNotContain(t testing.TB, what, haystack string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(haystack, s) {
			t.Errorf("%s contains a secret (%d chars)", what, len(s))
		}
	}
}
