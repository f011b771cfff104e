//go:build !js

package server

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// TestDevRootKeysArePerDataDir: the local cloud's root keys are generated
// at a data dir's first start, kept (0600) and used again; another data
// dir gets others, and the keys once published in the README open nothing.
func TestDevRootKeysArePerDataDir(t *testing.T) {
	dir := t.TempDir()
	b1 := startBackend(t, map[string]string{"OSSUP_DATA_DIR": dir})
	k1 := b1.srv.Config()
	st, err := os.Stat(filepath.Join(dir, devKeysFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("keys file: %v, mode %v", err, st)
	}
	if !strings.HasPrefix(k1.AccessKeyID, "LTAI5t") || len(k1.AccessKeySecret) < 30 {
		t.Fatalf("generated keys %q / %d characters", k1.AccessKeyID, len(k1.AccessKeySecret))
	}
	b1.srv.Close()
	b2 := startBackend(t, map[string]string{"OSSUP_DATA_DIR": dir})
	if b2.srv.Config().AccessKeyID != k1.AccessKeyID || b2.srv.Config().AccessKeySecret != k1.AccessKeySecret {
		t.Fatal("a restart on the same data dir changed the root keys")
	}
	other := startBackend(t, nil)
	if other.srv.Config().AccessKeyID == k1.AccessKeyID || other.srv.Config().AccessKeySecret == k1.AccessKeySecret {
		t.Fatal("two data dirs share root keys")
	}
	published := oss.NewClient(oss.LoadDefaultConfig().
		WithEndpoint(b2.srv.Cloud().OSSEndpoint).WithRegion(devRegion).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider("LTAI5tOssupDevLocalKey01", "ossupDevSecretNotForProduction")))
	_, err = published.ListObjectsV2(context.Background(), &oss.ListObjectsV2Request{Bucket: oss.Ptr(devBucket)})
	var se *oss.ServiceError
	if !errors.As(err, &se) || se.Code != "InvalidAccessKeyId" {
		t.Fatalf("the old published dev keys: %v, want InvalidAccessKeyId", err)
	}
}

// TestDevBucketCORSNamesItsOrigins: a page of another origin gets no CORS
// grant from the dev bucket, so it can neither read nor list it through
// the developer's browser; the demo page and configured origins can.
func TestDevBucketCORSNamesItsOrigins(t *testing.T) {
	b := startBackend(t, map[string]string{"OSSUP_CORS_ORIGINS": "https://app.example"})
	bucketURL := b.srv.Cloud().OSSEndpoint + "/" + devBucket
	port := b.base[strings.LastIndexByte(b.base, ':'):]
	for _, tc := range []struct {
		origin, method, path string
		allowed              bool
	}{
		{"https://evil.example", "GET", "/?list-type=2", false},
		{"https://evil.example", "GET", "/uploads/x", false},
		{"http://127.0.0.1:1", "PUT", "/uploads/x", false},
		{b.base, "PUT", "/uploads/x", true},
		{"http://localhost" + port, "PUT", "/uploads/x", true},
		{"https://app.example", "PUT", "/uploads/x", true},
	} {
		req, _ := http.NewRequest(http.MethodOptions, bucketURL+tc.path, nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", tc.method)
		req.Header.Set("Access-Control-Request-Headers", "authorization,x-oss-date,x-oss-content-sha256")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if tc.allowed != (got == tc.origin) || (!tc.allowed && got != "") {
			t.Errorf("preflight %s %s from %s: Access-Control-Allow-Origin %q (status %d), allowed %v", tc.method, tc.path, tc.origin, got, resp.StatusCode, tc.allowed)
		}
	}
}

// TestDevModeStaysOnLoopback: dev mode refuses to listen beyond loopback
// unless told to, and says why.
func TestDevModeStaysOnLoopback(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"OSSUP_ADDR", "0.0.0.0:8080"}, {"OSSUP_ADDR", ":8080"}, {"OSSUP_ADDR", "192.168.1.5:8080"},
		{"OSSUP_LOCAL_OSS_ADDR", "0.0.0.0:9000"}, {"OSSUP_LOCAL_STS_ADDR", "[::]:9001"},
	} {
		_, err := LoadConfig(env(map[string]string{tc.name: tc.value}))
		if err == nil || !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), "not a loopback address") || !strings.Contains(err.Error(), "OSSUP_DEV_EXPOSE") {
			t.Errorf("%s=%s: %v", tc.name, tc.value, err)
		}
		if _, err := LoadConfig(env(map[string]string{tc.name: tc.value, "OSSUP_DEV_EXPOSE": "true"})); err != nil {
			t.Errorf("%s=%s with OSSUP_DEV_EXPOSE=true: %v", tc.name, tc.value, err)
		}
	}
	for _, ok := range []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "127.0.0.2:0"} {
		if _, err := LoadConfig(env(map[string]string{"OSSUP_ADDR": ok})); err != nil {
			t.Errorf("OSSUP_ADDR=%s: %v", ok, err)
		}
	}
	// Cloud mode may listen anywhere: it has no dev users nor local cloud.
	if _, err := LoadConfig(env(map[string]string{"OSSUP_MODE": "cloud", "OSSUP_ADDR": "0.0.0.0:8080", "OSSUP_AUTH": "token",
		"OSSUP_AUTH_TOKENS": aliceToken + "=alice", "OSSUP_SECRET": strings.Repeat("s", 32), "OSS_ACCESS_KEY_ID": "a",
		"OSS_ACCESS_KEY_SECRET": "b", "OSSUP_ROLE_ARN": "acs:ram::1:role/r"})); err != nil {
		t.Errorf("cloud mode on 0.0.0.0: %v", err)
	}
}
