package localcloud

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// browserHeaders are the request headers a browser uploader using V4 and STS
// credentials asks to send.
var browserHeaders = []string{"authorization", "content-type", "x-oss-date", "x-oss-content-sha256", "x-oss-security-token"}

func preflight(t testing.TB, cl *Cloud, path, origin, method string, headers []string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, cl.OSSEndpoint+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	if len(headers) > 0 {
		req.Header.Set("Access-Control-Request-Headers", strings.Join(headers, ", "))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// headerList splits a comma-separated header into lower-case names.
func headerList(h http.Header, name string) map[string]bool {
	out := map[string]bool{}
	for _, v := range h.Values(name) {
		for _, f := range strings.Split(v, ",") {
			if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
				out[f] = true
			}
		}
	}
	return out
}

// noCredentials asserts an answer never admits a credentialed request: OSS
// documents no Access-Control-Allow-Credentials (see ossserver/cors.go).
func noCredentials(t testing.TB, what string, h http.Header) {
	t.Helper()
	if v := h.Get("Access-Control-Allow-Credentials"); v != "" {
		t.Errorf("%s: Access-Control-Allow-Credentials %q", what, v)
	}
}

// TestSDKCORSPreflightDevBucket: the dev bucket's rule allows every origin
// with "*", which OSS answers with Access-Control-Allow-Origin: * and no
// credentials (ali-sdk/ali-oss#140).
func TestSDKCORSPreflightDevBucket(t *testing.T) {
	cl := startCloud(t, nil)
	const origin = "http://localhost:5173"
	for _, method := range []string{"PUT", "POST", "GET", "DELETE", "HEAD"} {
		resp := preflight(t, cl, "/"+DevBucket+"/uploads/u-42/file.bin", origin, method, browserHeaders)
		drainOK(t, resp, http.StatusOK)
		h := resp.Header
		if h.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%s: Allow-Origin %q, want *", method, h.Get("Access-Control-Allow-Origin"))
		}
		noCredentials(t, method, h)
		if !headerList(h, "Access-Control-Allow-Methods")[strings.ToLower(method)] {
			t.Errorf("%s: Allow-Methods %q", method, h.Get("Access-Control-Allow-Methods"))
		}
		allowed := headerList(h, "Access-Control-Allow-Headers")
		for _, name := range browserHeaders {
			if !allowed[name] {
				t.Errorf("%s: Allow-Headers %q lacks %s", method, h.Get("Access-Control-Allow-Headers"), name)
			}
		}
		exposed := headerList(h, "Access-Control-Expose-Headers")
		for _, name := range []string{"etag", "x-oss-request-id", "x-oss-hash-crc64ecma", "date", "x-oss-ec"} {
			if !exposed[name] {
				t.Errorf("%s: Expose-Headers %q lacks %s", method, h.Get("Access-Control-Expose-Headers"), name)
			}
		}
		// ResponseVary is false: no Vary.
		if h.Get("Vary") != "" || h.Get("x-oss-request-id") == "" {
			t.Errorf("%s: Vary %q request id %q", method, h.Get("Vary"), h.Get("x-oss-request-id"))
		}
	}
	// The bucket level (ListMultipartUploads) is covered too.
	drainOK(t, preflight(t, cl, "/"+DevBucket+"/?uploads", origin, "GET", browserHeaders), http.StatusOK)
}

func TestSDKCORSHeadersOnResponses(t *testing.T) {
	cl := startCloud(t, nil)
	const origin = "https://page.example"
	// A successful signed request.
	resp := sdkRaw{method: http.MethodPut, bucket: DevBucket, key: "cors/ok", body: []byte("x"), header: http.Header{"Origin": {origin}}}.send(t, cl)
	drainOK(t, resp, http.StatusOK)
	noCredentials(t, "success", resp.Header)
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || !headerList(resp.Header, "Access-Control-Expose-Headers")["etag"] {
		t.Fatalf("success: Allow-Origin %q Expose %q", resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Expose-Headers"))
	}
	// A refused one: the page must be able to read OSS's error.
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		resp = sdkRaw{method: method, bucket: DevBucket, key: "cors/ok", sk: "wrong", ak: cl.Config.AccessKeyID, header: http.Header{"Origin": {origin}}}.send(t, cl)
		sdkReadError(t, resp, http.StatusForbidden, "SignatureDoesNotMatch")
		exposed := headerList(resp.Header, "Access-Control-Expose-Headers")
		noCredentials(t, method+" error", resp.Header)
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" || !exposed["x-oss-ec"] || !exposed["x-oss-request-id"] {
			t.Fatalf("%s error: Allow-Origin %q Expose %q", method, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Expose-Headers"))
		}
		if method == http.MethodHead && !exposed["x-oss-err"] {
			t.Errorf("HEAD error: x-oss-err not exposed")
		}
	}
	// An anonymous request for a missing key.
	resp = sdkRaw{method: http.MethodGet, bucket: DevBucket, key: "cors/none", anonymous: true, header: http.Header{"Origin": {origin}}}.send(t, cl)
	sdkReadError(t, resp, http.StatusForbidden, "AccessDenied")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("anonymous error: Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestSDKCORSRestrictiveBucket(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	const app = "https://app.example"
	_, err := c.PutBucketCors(sdkCtx, &oss.PutBucketCorsRequest{Bucket: oss.Ptr(DevBucket), CORSConfiguration: &oss.CORSConfiguration{
		CORSRules: []oss.CORSRule{{
			AllowedOrigins: []string{app},
			AllowedMethods: []string{"PUT", "GET"},
			AllowedHeaders: []string{"authorization", "content-type", "x-oss-*"},
			ExposeHeaders:  []string{"ETag", "x-oss-request-id"},
			MaxAgeSeconds:  oss.Ptr(int64(300)),
		}},
	}})
	if err != nil {
		t.Fatalf("PutBucketCors: %v", err)
	}
	got, err := c.GetBucketCors(sdkCtx, &oss.GetBucketCorsRequest{Bucket: oss.Ptr(DevBucket)})
	if err != nil {
		t.Fatal(err)
	}
	if rules := got.CORSConfiguration.CORSRules; len(rules) != 1 || rules[0].AllowedOrigins[0] != app || oss.ToInt64(rules[0].MaxAgeSeconds) != 300 {
		t.Fatalf("GetBucketCors: %+v", got.CORSConfiguration)
	}

	resp := preflight(t, cl, "/"+DevBucket+"/k", app, "PUT", browserHeaders)
	drainOK(t, resp, http.StatusOK)
	// A rule naming the origin echoes it, still without credentials.
	if resp.Header.Get("Access-Control-Allow-Origin") != app || resp.Header.Get("Access-Control-Max-Age") != "300" {
		t.Fatalf("allowed preflight: %v", resp.Header)
	}
	noCredentials(t, "specific-origin preflight", resp.Header)
	if resp.Header.Get("Vary") != "" {
		t.Errorf("Vary %q without ResponseVary", resp.Header.Get("Vary"))
	}
	resp = sdkRaw{method: http.MethodPut, bucket: DevBucket, key: "k", body: []byte("x"), header: http.Header{"Origin": {app}}}.send(t, cl)
	drainOK(t, resp, http.StatusOK)
	if resp.Header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("specific-origin PUT: Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	noCredentials(t, "specific-origin PUT", resp.Header)
	for _, tc := range []struct {
		name, origin, method string
		headers              []string
	}{
		{"other origin", "https://evil.example", "PUT", browserHeaders},
		{"method not allowed", app, "DELETE", nil},
		{"header not allowed", app, "PUT", []string{"authorization", "x-custom"}},
	} {
		resp := preflight(t, cl, "/"+DevBucket+"/k", tc.origin, tc.method, tc.headers)
		sdkReadError(t, resp, http.StatusForbidden, "AccessDenied")
		if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("%s: refused preflight with Allow-Origin %q", tc.name, v)
		}
	}
	// An actual request from a foreign origin gets no CORS headers either.
	resp = sdkRaw{method: http.MethodPut, bucket: DevBucket, key: "k", body: []byte("x"), header: http.Header{"Origin": {"https://evil.example"}}}.send(t, cl)
	drainOK(t, resp, http.StatusOK)
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("foreign origin got Allow-Origin %q", v)
	}
}

// TestSDKCORSRuleShapes: which origin is answered for each kind of rule, the
// first matching rule winning, and ResponseVary.
func TestSDKCORSRuleShapes(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	vary := true
	_, err := c.PutBucketCors(sdkCtx, &oss.PutBucketCorsRequest{Bucket: oss.Ptr(DevBucket), CORSConfiguration: &oss.CORSConfiguration{
		ResponseVary: &vary,
		CORSRules: []oss.CORSRule{
			{AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}},
			{AllowedOrigins: []string{"https://named.test", "*"}, AllowedMethods: []string{"GET", "PUT"}},
			{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"DELETE"}, MaxAgeSeconds: oss.Ptr(int64(60))},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBucketCors(sdkCtx, &oss.GetBucketCorsRequest{Bucket: oss.Ptr(DevBucket)})
	if err != nil || got.CORSConfiguration.ResponseVary == nil || !*got.CORSConfiguration.ResponseVary {
		t.Fatalf("GetBucketCors ResponseVary: %+v %v", got, err)
	}
	for _, tc := range []struct{ origin, method, want string }{
		{"https://a.example.com", "GET", "https://a.example.com"}, // pattern: echoed
		{"https://named.test", "PUT", "https://named.test"},       // named: echoed
		{"https://other.test", "PUT", "*"},                        // only "*" admits it
		{"https://a.example.com", "DELETE", "*"},                  // the first matching rule is the third
	} {
		resp := preflight(t, cl, "/"+DevBucket+"/k", tc.origin, tc.method, nil)
		drainOK(t, resp, http.StatusOK)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("%s %s: Allow-Origin %q, want %q", tc.origin, tc.method, got, tc.want)
		}
		noCredentials(t, tc.origin, resp.Header)
		if !headerList(resp.Header, "Vary")["origin"] {
			t.Errorf("%s %s: no Vary: Origin with ResponseVary", tc.origin, tc.method)
		}
	}
	// ResponseVary true: Vary on every answer of the bucket, even without Origin
	// and even when refused.
	resp := sdkRaw{method: http.MethodGet, bucket: DevBucket, key: "absent"}.send(t, cl)
	sdkReadError(t, resp, http.StatusNotFound, "NoSuchKey")
	if !headerList(resp.Header, "Vary")["origin"] {
		t.Errorf("no Vary on a same-origin error")
	}
	resp = preflight(t, cl, "/"+DevBucket+"/k", "https://x.test", "POST", nil)
	sdkReadError(t, resp, http.StatusForbidden, "AccessDenied")
	if !headerList(resp.Header, "Vary")["origin"] || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused preflight: Vary %q Allow-Origin %q", resp.Header.Get("Vary"), resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if _, err := c.DeleteBucketCors(sdkCtx, &oss.DeleteBucketCorsRequest{Bucket: oss.Ptr(DevBucket)}); err != nil {
		t.Fatal(err)
	}
	resp = preflight(t, cl, "/"+DevBucket+"/k", "https://x.test", "GET", nil)
	sdkReadError(t, resp, http.StatusForbidden, "AccessDenied")
	if resp.Header.Get("Vary") != "" {
		t.Errorf("Vary after DeleteBucketCors: %q", resp.Header.Get("Vary"))
	}
}
