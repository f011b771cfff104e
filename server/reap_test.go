//go:build !js

package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/localcloud"
)

// agedBackend is a cloud-mode backend against a local cloud whose stored
// data is stamped by clock (requests are still signed and checked with the
// real time), served without Serve so the janitor only runs when the test
// says.
func agedBackend(t *testing.T, clock *localcloud.ManualClock, extra map[string]string) (*testBackend, *localcloud.Cloud) {
	t.Helper()
	cl, err := localcloud.Start(localcloud.Config{DataDir: t.TempDir(), OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0",
		DataClock: clock.Now, LifecycleInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	protectBucket(t, cl)
	cfg, err := LoadConfig(env(merge(tokenAuth, map[string]string{
		"OSSUP_MODE": "cloud", "OSSUP_ADDR": "127.0.0.1:0", "OSSUP_WEB_DIR": t.TempDir(), "OSSUP_JANITOR_INTERVAL": "1h",
		"OSS_ACCESS_KEY_ID": cl.Config.AccessKeyID, "OSS_ACCESS_KEY_SECRET": cl.Config.AccessKeySecret,
		"OSSUP_ROLE_ARN": cl.Config.RoleARN, "OSSUP_SECRET": strings.Repeat("s", 40),
		"OSSUP_OSS_ENDPOINT": cl.OSSEndpoint, "OSSUP_STS_ENDPOINT": cl.STSEndpoint,
	}, extra)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(srv.Handler())
	t.Cleanup(h.Close)
	return &testBackend{srv: srv, base: h.URL}, cl
}

func exists(t *testing.T, cl *localcloud.Cloud, key string) bool {
	t.Helper()
	_, err := rootOSS(cl).HeadObject(vctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(cl.Config.Bucket), Key: oss.Ptr(key)})
	if err == nil {
		return true
	}
	var se *oss.ServiceError
	if !errors.As(err, &se) || se.StatusCode != http.StatusNotFound {
		t.Fatalf("head %s: %v", key, err)
	}
	return false
}

// TestJanitorReapsUnverified: an object stored under the upload prefix
// and never verified is deleted once older than OSSUP_UNVERIFIED_MAX_AGE
// (default: the ticket's lifetime and an hour); a verified one of the same
// age, a younger unverified one and anything outside the prefix stay.
func TestJanitorReapsUnverified(t *testing.T) {
	clock := localcloud.NewManualClock(time.Now().Add(-170 * time.Hour))
	b, cl := agedBackend(t, clock, nil)
	alice := b.client(t, aliceToken)
	data := []byte("0123456789")

	verified := createTyped(alice, "v.png", "image/png", int64(len(data)))
	upload(t, verified, data)
	if r := alice.completeOf(verified, data); r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	abandoned := createTyped(alice, "a.png", "image/png", int64(len(data)))
	upload(t, abandoned, data)
	outside := "elsewhere/" + verified.Key
	if _, err := rootOSS(cl).PutObject(vctx, putReq(cl.Config.Bucket, outside, "x")); err != nil {
		t.Fatal(err)
	}
	clock.Advance(170 * time.Hour)
	young := createTyped(alice, "y.png", "image/png", int64(len(data)))
	upload(t, young, data)

	n, err := b.srv.janitor.ReapOnce(vctx)
	if err != nil || n != 1 {
		t.Fatalf("reap: %d deleted, %v; want 1", n, err)
	}
	if exists(t, cl, abandoned.Key) {
		t.Error("the unverified object older than the max age is still there")
	}
	for _, k := range []string{verified.Key, young.Key, outside} {
		if !exists(t, cl, k) {
			t.Errorf("%s was deleted", k)
		}
	}
	if n, err := b.srv.janitor.ReapOnce(vctx); err != nil || n != 0 {
		t.Errorf("second reap: %d, %v", n, err)
	}
}

// lifecycleRuleXML is the bucket lifecycle configuration the README gives
// for deployments without the janitor, read from the README itself so the
// documented rule is the tested one.
func lifecycleRuleXML(t *testing.T) []byte {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```xml\n(<LifecycleConfiguration>.*?</LifecycleConfiguration>)\n```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no lifecycle configuration")
	}
	return m[1]
}

// TestLifecycleRuleExpiresUnverified applies the README's lifecycle rule in
// the local cloud and ages the data: 9 days on (8 days and OSS's rounding
// to the next UTC midnight), the unverified object has expired and the
// verified one stays.
func TestLifecycleRuleExpiresUnverified(t *testing.T) {
	clock := localcloud.NewManualClock(time.Now().UTC())
	b, cl := agedBackend(t, clock, nil)
	alice := b.client(t, aliceToken)
	data := []byte("0123456789")
	o, err := newSignedObjects(signedObjectsConfig{Endpoint: cl.OSSEndpoint, PathStyle: true, Region: cl.Config.Region, Bucket: cl.Config.Bucket,
		AccessKeyID: cl.Config.AccessKeyID, AccessKeySecret: cl.Config.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := o.do(vctx, http.MethodPut, "", "lifecycle", lifecycleRuleXML(t), http.Header{"Content-Type": {"application/xml"}})
	if err != nil {
		t.Fatalf("PutBucketLifecycle with the README's rule: %v", err)
	}
	resp.Body.Close()

	verified := createTyped(alice, "v.png", "image/png", int64(len(data)))
	upload(t, verified, data)
	if r := alice.completeOf(verified, data); r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	abandoned := createTyped(alice, "a.png", "image/png", int64(len(data)))
	upload(t, abandoned, data)

	clock.Advance(7 * 24 * time.Hour)
	if _, err := cl.RunLifecycle(vctx); err != nil {
		t.Fatal(err)
	}
	if !exists(t, cl, abandoned.Key) || !exists(t, cl, verified.Key) {
		t.Fatal("expired before the rule's 8 days")
	}
	clock.Advance(2 * 24 * time.Hour)
	rep, err := cl.RunLifecycle(vctx)
	if err != nil {
		t.Fatal(err)
	}
	if exists(t, cl, abandoned.Key) {
		t.Errorf("the unverified object survived the rule (report %+v)", rep)
	}
	if !exists(t, cl, verified.Key) {
		t.Error("the rule expired the verified object")
	}
}
