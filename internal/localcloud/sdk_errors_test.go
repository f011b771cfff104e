package localcloud

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/localcloud/faults"
)

// checkErrorResponse asserts the shape of an OSS error response: request id
// and Date headers, and an XML document (the body, or x-oss-err for HEAD)
// with Code, Message, RequestId, HostId, one ServerTime and the EC the
// x-oss-ec header names.
func checkErrorResponse(t testing.TB, name string, resp *http.Response, status int, code string) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d: %s", name, resp.StatusCode, status, body)
	}
	id := resp.Header.Get("x-oss-request-id")
	if id == "" || resp.Header.Get("Date") == "" {
		t.Errorf("%s: request id %q Date %q", name, id, resp.Header.Get("Date"))
	}
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("%s: Date %q: %v", name, resp.Header.Get("Date"), err)
	}
	doc := body
	if resp.Request.Method == http.MethodHead {
		if len(body) != 0 {
			t.Errorf("%s: HEAD error with a body", name)
		}
		doc, err = base64.StdEncoding.DecodeString(resp.Header.Get("x-oss-err"))
		if err != nil || len(doc) == 0 {
			t.Fatalf("%s: x-oss-err %q: %v", name, resp.Header.Get("x-oss-err"), err)
		}
	} else if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("%s: Content-Type %q", name, ct)
	}
	var e sdkErrorDoc
	if err := xml.Unmarshal(doc, &e); err != nil {
		t.Fatalf("%s: %v: %s", name, err, doc)
	}
	if e.XMLName.Local != "Error" || e.get("Code") != code || e.get("Message") == "" || e.get("RequestId") != id || e.get("HostId") == "" {
		t.Errorf("%s: document %s", name, doc)
	}
	for _, el := range []string{"Code", "Message", "RequestId", "HostId", "ServerTime"} {
		if n := len(e.all(el)); n != 1 {
			t.Errorf("%s: %d <%s> elements: %s", name, n, el, doc)
		}
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", e.get("ServerTime")); err != nil {
		t.Errorf("%s: ServerTime %q: %v", name, e.get("ServerTime"), err)
	}
	if ec := resp.Header.Get("x-oss-ec"); ec != "" || len(e.all("EC")) > 0 {
		if len(e.all("EC")) != 1 || e.get("EC") != ec {
			t.Errorf("%s: x-oss-ec %q but <EC> %v", name, ec, e.all("EC"))
		}
	}
}

func TestSDKErrorResponses(t *testing.T) {
	cl := startCloud(t, nil)
	sdkPut(t, rootClient(cl), "err/x", []byte("x"))
	wrong := func(method, key string) *http.Response {
		return sdkRaw{method: method, bucket: DevBucket, key: key, ak: cl.Config.AccessKeyID, sk: "wrong"}.send(t, cl)
	}
	for _, tc := range []struct {
		name   string
		resp   func() *http.Response
		status int
		code   string
		wantEC bool
	}{
		{"GET missing key", func() *http.Response {
			return sdkRaw{method: http.MethodGet, bucket: DevBucket, key: "err/none"}.send(t, cl)
		}, 404, "NoSuchKey", false},
		{"HEAD missing key", func() *http.Response {
			return sdkRaw{method: http.MethodHead, bucket: DevBucket, key: "err/none"}.send(t, cl)
		}, 404, "NoSuchKey", false},
		{"GET bad signature", func() *http.Response { return wrong(http.MethodGet, "err/x") }, 403, "SignatureDoesNotMatch", true},
		{"HEAD bad signature", func() *http.Response { return wrong(http.MethodHead, "err/x") }, 403, "SignatureDoesNotMatch", true},
		{"missing bucket", func() *http.Response {
			return sdkRaw{method: http.MethodGet, bucket: "no-such-bucket", key: "x"}.send(t, cl)
		}, 404, "NoSuchBucket", false},
		{"missing upload", func() *http.Response {
			return sdkRaw{method: http.MethodGet, bucket: DevBucket, key: "err/x", query: url.Values{"uploadId": {"0123456789ABCDEF0123456789ABCDEF"}}}.send(t, cl)
		}, 404, "NoSuchUpload", false},
		{"skewed", func() *http.Response {
			return sdkRaw{method: http.MethodGet, bucket: DevBucket, key: "err/x", signTime: time.Now().Add(time.Hour)}.send(t, cl)
		}, 403, "RequestTimeTooSkewed", true},
		{"malformed complete", func() *http.Response {
			u := sdkInitiate(t, rootClient(cl), "err/mp")
			return sdkRaw{method: http.MethodPost, bucket: DevBucket, key: "err/mp", query: url.Values{"uploadId": {u.id}}, body: []byte("<nope")}.send(t, cl)
		}, 400, "MalformedXML", false},
	} {
		resp := tc.resp()
		checkErrorResponse(t, tc.name, resp, tc.status, tc.code)
		if tc.wantEC && resp.Header.Get("x-oss-ec") == "" {
			t.Errorf("%s: no x-oss-ec", tc.name)
		}
	}

	// The SDK decodes the same fields, from the body or from x-oss-err.
	_, err := rootClient(cl).HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("err/none")})
	se := serviceError(t, err, http.StatusNotFound, "NoSuchKey")
	if se.Message == "" || se.Timestamp.IsZero() {
		t.Errorf("decoded HEAD error: message %q timestamp %v", se.Message, se.Timestamp)
	}
}

func TestSDKSuccessResponsesCarryRequestID(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	data := randomBytes(sdkMinPart, 1)
	var results []oss.ResultCommon
	put := sdkPut(t, c, "ids/x", data)
	results = append(results, put.ResultCommon)
	head, err := c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("ids/x")})
	if err != nil {
		t.Fatal(err)
	}
	results = append(results, head.ResultCommon)
	_, get := readObject(t, c, DevBucket, "ids/x")
	results = append(results, get.ResultCommon)
	u := sdkInitiate(t, c, "ids/mp")
	part, err := u.part(1, data)
	if err != nil {
		t.Fatal(err)
	}
	results = append(results, part.ResultCommon)
	lp, err := u.listParts(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	results = append(results, lp.ResultCommon)
	lu, err := c.ListMultipartUploads(sdkCtx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(DevBucket)})
	if err != nil {
		t.Fatal(err)
	}
	results = append(results, lu.ResultCommon)
	done, err := u.complete(oss.UploadPart{PartNumber: 1, ETag: part.ETag})
	if err != nil {
		t.Fatal(err)
	}
	results = append(results, done.ResultCommon)
	del, err := c.DeleteObject(sdkCtx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("ids/x")})
	if err != nil {
		t.Fatal(err)
	}
	results = append(results, del.ResultCommon)
	seen := map[string]bool{}
	for i, r := range results {
		id := r.Headers.Get("x-oss-request-id")
		if id == "" || seen[id] || r.Headers.Get("Date") == "" {
			t.Errorf("response %d: request id %q (seen before: %v) Date %q", i, id, seen[id], r.Headers.Get("Date"))
		}
		seen[id] = true
	}
	resp := preflight(t, cl, "/"+DevBucket+"/ids/x", "https://a.example", "PUT", nil)
	drainOK(t, resp, http.StatusOK)
	if resp.Header.Get("x-oss-request-id") == "" {
		t.Error("preflight without a request id")
	}
}

// TestSDKInjected5xxShape: the injected 5xx answers are real OSS errors.
func TestSDKInjected5xxShape(t *testing.T) {
	cl := startCloud(t, nil)
	if err := cl.Faults.Set(faults.Config{Rules: []faults.Rule{{Op: "GetObject", ErrorRate: 1}, {Op: "HeadObject", ErrorRate: 1}}}); err != nil {
		t.Fatal(err)
	}
	resp := sdkRaw{method: http.MethodGet, bucket: DevBucket, key: "x"}.send(t, cl)
	if resp.StatusCode != http.StatusInternalServerError && resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d", resp.StatusCode)
	}
	code := map[int]string{500: "InternalError", 503: "ServiceUnavailable"}[resp.StatusCode]
	checkErrorResponse(t, "injected GET", resp, resp.StatusCode, code)
	resp = sdkRaw{method: http.MethodHead, bucket: DevBucket, key: "x"}.send(t, cl)
	code = map[int]string{500: "InternalError", 503: "ServiceUnavailable"}[resp.StatusCode]
	checkErrorResponse(t, "injected HEAD", resp, resp.StatusCode, code)
}

func TestSDKAdminEndpoints(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl, fastRetries(3))
	sdkPut(t, c, "admin/x", []byte("x"))

	// Configure faults over HTTP, as a browser test harness would.
	cfg := `{"seed":1,"rules":[{"op":"HeadObject","errorRate":1,"count":1}]}`
	req, _ := http.NewRequest(http.MethodPut, cl.OSSEndpoint+"/-/faults", strings.NewReader(cfg))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	drainOK(t, resp, http.StatusOK)
	if _, err := c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("admin/x")}); err != nil {
		t.Fatalf("HeadObject should survive one injected 5xx: %v", err)
	}
	var state struct {
		Rules []faults.Rule                `json:"rules"`
		Stats map[string]faults.FaultStats `json:"stats"`
	}
	sdkGetJSON(t, cl.OSSEndpoint+"/-/faults", &state)
	if len(state.Rules) != 1 || state.Rules[0].Op != "HeadObject" || state.Stats["HeadObject"].Errors != 1 {
		t.Fatalf("/-/faults: %+v", state)
	}
	var stats struct {
		Ops map[string]struct {
			Requests, BytesIn, Errors int64
		} `json:"ops"`
	}
	sdkGetJSON(t, cl.OSSEndpoint+"/-/stats", &stats)
	if h := stats.Ops["HeadObject"]; h.Requests != 2 || h.Errors != 1 {
		t.Fatalf("/-/stats HeadObject %+v", h)
	}
	if p := stats.Ops["PutObject"]; p.Requests != 1 || p.BytesIn != 1 {
		t.Fatalf("/-/stats PutObject %+v", p)
	}

	// DELETE switches faults off and clears the counters.
	for _, path := range []string{"/-/faults", "/-/stats"} {
		req, _ := http.NewRequest(http.MethodDelete, cl.OSSEndpoint+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("DELETE %s: %d", path, resp.StatusCode)
		}
	}
	stats.Ops = nil
	sdkGetJSON(t, cl.OSSEndpoint+"/-/stats", &stats)
	if len(stats.Ops) != 0 {
		t.Fatalf("stats after reset: %+v", stats.Ops)
	}
	if len(cl.Faults.Config().Rules) != 0 {
		t.Fatal("faults still configured after DELETE")
	}
	resp, err = http.Get(cl.OSSEndpoint + "/-/health")
	if err != nil {
		t.Fatal(err)
	}
	if b := drainOK(t, resp, http.StatusOK); !bytes.HasPrefix(b, []byte("ok")) {
		t.Fatalf("/-/health: %q", b)
	}
}
