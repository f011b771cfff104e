//go:build !js

package server

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/localcloud"
)

func TestSignedObjectsURLs(t *testing.T) {
	for _, tc := range []struct {
		pathStyle bool
		endpoint  string
		key, want string
	}{
		{true, "http://127.0.0.1:9000", "a/b c+d%e.txt", "http://127.0.0.1:9000/dev-bucket/a/b%20c%2Bd%25e.txt?uploadId=X"},
		{false, "https://oss-cn-hangzhou.aliyuncs.com", "u/ü~_-.bin", "https://dev-bucket.oss-cn-hangzhou.aliyuncs.com/u/%C3%BC~_-.bin?uploadId=X"},
	} {
		o, err := newSignedObjects(signedObjectsConfig{Endpoint: tc.endpoint, PathStyle: tc.pathStyle, Region: "cn-hangzhou", Bucket: "dev-bucket", AccessKeyID: "a", AccessKeySecret: "b"})
		if err != nil {
			t.Fatal(err)
		}
		if got := o.objectURL(tc.key, "uploadId=X"); got != tc.want {
			t.Errorf("objectURL(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
	for _, bad := range []string{"oss-cn-hangzhou.aliyuncs.com", "ftp://x", "https://x/path"} {
		if _, err := newSignedObjects(signedObjectsConfig{Endpoint: bad, Region: "r", Bucket: "b"}); err == nil {
			t.Errorf("endpoint %q accepted", bad)
		}
	}
}

// TestSignedObjectsAgainstLocalOSS: the local OSS verifies the V4 signature
// of keys that need escaping, and answers the errors the API maps.
func TestSignedObjectsAgainstLocalOSS(t *testing.T) {
	cl, err := localcloud.Start(localcloud.Config{DataDir: t.TempDir(), OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	o, err := newSignedObjects(signedObjectsConfig{Endpoint: cl.OSSEndpoint, PathStyle: true, Region: cl.Config.Region, Bucket: cl.Config.Bucket,
		AccessKeyID: cl.Config.AccessKeyID, AccessKeySecret: cl.Config.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	key := "uploads/x/a b+c%d ü (1).txt"
	if _, err := o.Head(ctx, key); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("head of a missing object: %v", err)
	}
	root := rootOSS(cl)
	if _, err := root.PutObject(ctx, putReq(cl.Config.Bucket, key, "hello")); err != nil {
		t.Fatal(err)
	}
	info, err := o.Head(ctx, key)
	if err != nil || info.Size != 5 || info.CRC64 != crcString([]byte("hello")) || info.ETag == "" || strings.Contains(info.ETag, `"`) || info.LastModified.IsZero() {
		t.Fatalf("head: %+v %v", info, err)
	}
	init, err := root.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(cl.Config.Bucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.AbortUpload(ctx, key, *init.UploadId); err != nil {
		t.Fatalf("abort: %v", err)
	}
	if err := o.AbortUpload(ctx, key, *init.UploadId); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("second abort: %v", err)
	}
	// Wrong keys: a signature error, not a missing object.
	bad, _ := newSignedObjects(signedObjectsConfig{Endpoint: cl.OSSEndpoint, PathStyle: true, Region: cl.Config.Region, Bucket: cl.Config.Bucket,
		AccessKeyID: cl.Config.AccessKeyID, AccessKeySecret: "wrong"})
	var oe *ossError
	if _, err := bad.Head(ctx, key); !errors.As(err, &oe) || oe.Status != 403 || oe.Code != "SignatureDoesNotMatch" {
		t.Fatalf("head with a wrong secret: %v", err)
	}
}

// TestSignedObjectsRetries: transport failures, 5xx and 429 are retried, as
// the SDK's retryer does; other 4xx are final.
func TestSignedObjectsRetries(t *testing.T) {
	var calls atomic.Int32
	var script atomic.Value // the statuses answered, call by call; the last repeats
	script.Store([]int{503, 429, 200})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1)) - 1
		answers := script.Load().([]int)
		status := answers[min(n, len(answers)-1)]
		if status == 200 {
			w.Header().Set("Content-Length", "7")
			w.Header().Set("x-oss-hash-crc64ecma", "42")
		} else {
			w.Header().Set("x-oss-err", base64.StdEncoding.EncodeToString([]byte("<Error><Code>SlowDown</Code><Message>m</Message></Error>")))
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	o, _ := newSignedObjects(signedObjectsConfig{Endpoint: srv.URL, PathStyle: true, Region: "r", Bucket: "b", AccessKeyID: "a", AccessKeySecret: "s"})
	info, err := o.Head(context.Background(), "k")
	if err != nil || info.Size != 7 || info.CRC64 != "42" || calls.Load() != 3 {
		t.Fatalf("head after 503, 429: %+v %v (%d calls)", info, err, calls.Load())
	}
	calls.Store(0)
	script.Store([]int{403})
	var oe *ossError
	if _, err := o.Head(context.Background(), "k"); !errors.As(err, &oe) || oe.Code != "SlowDown" || calls.Load() != 1 {
		t.Fatalf("403: %v after %d calls", err, calls.Load())
	}
	calls.Store(0)
	script.Store([]int{500})
	if _, err := o.Head(context.Background(), "k"); !errors.As(err, &oe) || oe.Status != 500 || calls.Load() != objectAttempts {
		t.Fatalf("persistent 500: %v after %d calls", err, calls.Load())
	}
}
