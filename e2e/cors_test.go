package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/server"
)

// TestCORSSelfDiagnosis: a bucket whose CORS rule does not expose ETag and
// x-oss-hash-crc64ecma (a common misconfiguration) makes both a multipart
// and a single-PutObject upload stop with code CORSExposeHeaders and a
// message, shown in the page, naming the exact rule to add. Once the rule
// is fixed, picking the files again uploads them.
func TestCORSSelfDiagnosis(t *testing.T) {
	inEngines(t, browser.Engines, testCORSSelfDiagnosis)
}

func testCORSSelfDiagnosis(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(256 << 10)})
	good := setBucketCORS(t, srv, "*", "x-oss-request-id")

	pg := openDemo(t, e, base)
	dir := t.TempDir()
	multi, multiData := writeFile(t, dir, "cors-multi.bin", 600_000)
	small, smallData := writeFile(t, dir, "cors-small.bin", 50_000)
	pickFiles(pg, t, multi, small)
	if _, err := pollAs[bool](pg, `window.ossupDemo.errors.length >= 2`, time.Minute); err != nil {
		t.Fatalf("the uploads did not fail: %v", err)
	}
	errs := pageErrors(pg, t)
	raw, err := evalAs[string](pg, `JSON.stringify([...document.querySelectorAll('#uploads li')].map(li => li.querySelector('strong').textContent + ': ' + li.querySelector('.err').textContent))`)
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	if err := json.Unmarshal([]byte(raw), &shown); err != nil {
		t.Fatal(err)
	}
	t.Logf("the page shows: %q", shown)
	for _, e := range errs {
		msg, _ := e["message"].(string)
		if e["code"] != "CORSExposeHeaders" {
			t.Errorf("error code %v, want CORSExposeHeaders: %s", e["code"], msg)
		}
		for _, want := range []string{"<ExposeHeader>ETag</ExposeHeader>", "<ExposeHeader>x-oss-hash-crc64ecma</ExposeHeader>", "CORS"} {
			if !strings.Contains(msg, want) {
				t.Errorf("the message does not name %s: %s", want, msg)
			}
		}
		found := false
		for _, s := range shown {
			found = found || strings.Contains(s, msg)
		}
		if !found {
			t.Errorf("the page does not show the message %q", msg)
		}
	}
	var ops []string
	for _, s := range shown {
		switch {
		case strings.HasPrefix(s, "cors-multi.bin: ") && strings.Contains(s, "UploadPart"):
			ops = append(ops, "UploadPart")
		case strings.HasPrefix(s, "cors-small.bin: ") && strings.Contains(s, "PutObject"):
			ops = append(ops, "PutObject")
		}
	}
	if len(ops) != 2 {
		t.Errorf("the messages should name the failing request of each file (UploadPart, PutObject): %q", shown)
	}

	// The advice works: with the rule fixed, the same files go up.
	c, bucket := rootOSS(srv), oss.Ptr(srv.Cloud().Config.Bucket)
	if _, err := c.PutBucketCors(context.Background(), &oss.PutBucketCorsRequest{Bucket: bucket, CORSConfiguration: good}); err != nil {
		t.Fatal(err)
	}
	pickFiles(pg, t, multi, small)
	raw, err = pollAs[string](pg, `(d => d.results.length >= 2 ? JSON.stringify(d.results) : null)(window.ossupDemo)`, time.Minute)
	if err != nil {
		t.Fatalf("after fixing CORS the uploads did not finish: %v (errors %v)", err, pageErrors(pg, t))
	}
	var results []pageResult
	if err := json.Unmarshal([]byte(raw), &results); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"cors-multi.bin": multiData, "cors-small.bin": smallData}
	for _, r := range results {
		checkStored(t, srv, r, want[r.Name])
	}
}

// TestCORSOriginRefused: a bucket whose CORS rule does not allow the
// page's origin refuses every preflight, which a page cannot tell from a
// dropped network. The upload still fails within the usual attempts (no
// network patience is spent on a route that never answered) and the page
// names the CORS rule to check.
func TestCORSOriginRefused(t *testing.T) {
	inEngines(t, browser.Engines, testCORSOriginRefused)
}

func testCORSOriginRefused(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(256 << 10)})
	setBucketCORS(t, srv, "https://elsewhere.example", "ETag", "x-oss-hash-crc64ecma", "x-oss-request-id")
	pg := openDemo(t, e, base)
	dir := t.TempDir()
	multi, _ := writeFile(t, dir, "origin-multi.bin", 600_000)
	small, _ := writeFile(t, dir, "origin-small.bin", 50_000)
	pickFiles(pg, t, multi, small)
	// Six attempts back off for at most 6.2 s; network patience would take
	// two minutes.
	if _, err := pollAs[bool](pg, `window.ossupDemo.errors.length >= 2`, time.Minute); err != nil {
		t.Fatalf("the refused uploads did not fail within a minute: %v", err)
	}
	raw, err := evalAs[string](pg, `JSON.stringify([...document.querySelectorAll('#uploads li .err')].map(e => e.textContent))`)
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	if err := json.Unmarshal([]byte(raw), &shown); err != nil {
		t.Fatal(err)
	}
	t.Logf("the page shows: %q", shown)
	for _, e := range pageErrors(pg, t) {
		msg, _ := e["message"].(string)
		hint, _ := e["hint"].(string)
		if e["code"] != "NetworkError" || !strings.Contains(hint, "<AllowedOrigin>") || !strings.Contains(msg, hint) {
			t.Errorf("error %v: %s (hint %q), want NetworkError whose hint names the CORS rule", e["code"], msg, hint)
		}
	}
	if len(shown) != 2 {
		t.Fatalf("%d errors shown, want 2", len(shown))
	}
	for _, s := range shown {
		if !strings.Contains(s, "Check the network") || !strings.Contains(s, "<AllowedOrigin>") {
			t.Errorf("the page does not name both the network and the CORS rule: %s", s)
		}
	}
}

// setBucketCORS gives the dev bucket one CORS rule, for origin with every
// method and header and the given exposed headers, and returns the
// configuration it replaced.
func setBucketCORS(t *testing.T, srv *server.Server, origin string, expose ...string) *oss.CORSConfiguration {
	t.Helper()
	c, bucket, bg := rootOSS(srv), oss.Ptr(srv.Cloud().Config.Bucket), context.Background()
	old, err := c.GetBucketCors(bg, &oss.GetBucketCorsRequest{Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	rule := &oss.CORSConfiguration{CORSRules: []oss.CORSRule{{
		AllowedOrigins: []string{origin}, AllowedMethods: []string{"GET", "PUT", "POST", "DELETE", "HEAD"},
		AllowedHeaders: []string{"*"}, ExposeHeaders: expose, MaxAgeSeconds: oss.Ptr(int64(600)),
	}}}
	if _, err := c.PutBucketCors(bg, &oss.PutBucketCorsRequest{Bucket: bucket, CORSConfiguration: rule}); err != nil {
		t.Fatal(err)
	}
	return old.CORSConfiguration
}
