package stsserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

const (
	testAccount = "1000000000000000"
	testAK      = "LTAI5tLocalCallerKey01"
	testSK      = "caller-secret-Xq7vN2kP9wLm4Rt8Yz"
	testRoleARN = "acs:ram::1000000000000000:role/uploader"
	// testRolePolicy lets the role write and read everything under uploads/.
	testRolePolicy = `{"Version":"1","Statement":[{"Effect":"Allow",
		"Action":["oss:PutObject","oss:GetObject","oss:AbortMultipartUpload","oss:ListParts"],
		"Resource":"acs:oss:*:*:dev-bucket/uploads/*"}]}`
	// testSessionPolicy narrows a session to one user's prefix.
	testSessionPolicy = `{"Version":"1","Statement":[{"Effect":"Allow",
		"Action":["oss:PutObject","oss:AbortMultipartUpload","oss:ListParts","oss:DeleteObject"],
		"Resource":["acs:oss:*:*:dev-bucket/uploads/u-42/*"]}]}`
)

// testEnv is a Service behind a loopback HTTP server.
type testEnv struct {
	cfg Config
	svc *Service
	srv *httptest.Server
	rec *recorder
}

func newTestEnv(t *testing.T, mutate func(*Config)) *testEnv {
	t.Helper()
	cfg := Config{
		AccountID: testAccount,
		Keys:      map[string]string{testAK: testSK},
		Roles: []Role{
			{ARN: testRoleARN, Policy: testRolePolicy},
			{ARN: "acs:ram::1000000000000000:role/long", Policy: testRolePolicy, MaxSessionDuration: 2 * time.Hour},
		},
		DataDir: t.TempDir(),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e := &testEnv{cfg: cfg, svc: svc, rec: &recorder{}}
	e.srv = httptest.NewServer(e.rec.wrap(svc))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *testEnv) host() string { return strings.TrimPrefix(e.srv.URL, "http://") }

// client returns the real STS SDK client pointed at the test server.
func (e *testEnv) client(t *testing.T, ak, sk string) *sts.Client {
	t.Helper()
	c, err := sts.NewClient(&openapiutil.Config{
		AccessKeyId:     dara.String(ak),
		AccessKeySecret: dara.String(sk),
		Endpoint:        dara.String(e.host()),
		Protocol:        dara.String("http"),
	})
	if err != nil {
		t.Fatalf("sts.NewClient: %v", err)
	}
	return c
}

func (e *testEnv) assumeRole(t *testing.T, req *sts.AssumeRoleRequest) (*sts.AssumeRoleResponse, error) {
	t.Helper()
	return e.client(t, testAK, testSK).AssumeRole(req)
}

func (e *testEnv) mustAssumeRole(t *testing.T, req *sts.AssumeRoleRequest) *sts.AssumeRoleResponseBodyCredentials {
	t.Helper()
	resp, err := e.assumeRole(t, req)
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if resp.Body == nil || resp.Body.Credentials == nil {
		t.Fatalf("AssumeRole returned no credentials: %+v", resp)
	}
	return resp.Body.Credentials
}

func basicRequest() *sts.AssumeRoleRequest {
	return &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42")}
}

// wantSDKError checks that err is the SDK's *tea.SDKError carrying code,
// status and a message that includes msg.
func wantSDKError(t *testing.T, err error, status int, code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %d %s", status, code)
	}
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("error %T (%v) is not *tea.SDKError", err, err)
	}
	if got := tea.StringValue(se.Code); got != code {
		t.Errorf("Code = %q, want %q (message %q)", got, code, tea.StringValue(se.Message))
	}
	if got := tea.IntValue(se.StatusCode); got != status {
		t.Errorf("StatusCode = %d, want %d", got, status)
	}
	if !strings.Contains(tea.StringValue(se.Message), msg) {
		t.Errorf("Message = %q, want it to contain %q", tea.StringValue(se.Message), msg)
	}
}

// recorder keeps a copy of each request so tests can replay or alter it.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, rawQuery string
	header           http.Header
	body             []byte
}

func (rc *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, recorded{r.Method, r.URL.RawQuery, r.Header.Clone(), body})
		rc.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}

func (rc *recorder) last(t *testing.T) recorded {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.reqs) == 0 {
		t.Fatal("no request recorded")
	}
	return rc.reqs[len(rc.reqs)-1]
}

// send replays a (possibly altered) recorded request and decodes the answer.
func (e *testEnv) send(t *testing.T, r recorded) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(r.method, e.srv.URL+"/?"+r.rawQuery, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range r.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode response: %v", err)
	}
	return resp.StatusCode, out
}

// signed builds a request signed with the SDK's own exported signer
// (openapiutil.GetAuthorization), for wire shapes the SDK client does not
// produce itself: form bodies, other actions, other dates.
func (e *testEnv) signed(t *testing.T, query, form url.Values, headers map[string]string, ak, sk string) recorded {
	t.Helper()
	var body []byte
	if form != nil {
		body = []byte(form.Encode())
	}
	sum := sha256.Sum256(body)
	h := map[string]*string{
		"host":                  dara.String(e.host()),
		"x-acs-action":          dara.String("AssumeRole"),
		"x-acs-version":         dara.String("2015-04-01"),
		"x-acs-date":            dara.String(time.Now().UTC().Format("2006-01-02T15:04:05Z")),
		"x-acs-signature-nonce": dara.String(newRequestID()),
		"x-acs-content-sha256":  dara.String(hex.EncodeToString(sum[:])),
	}
	if form != nil {
		h["content-type"] = dara.String("application/x-www-form-urlencoded")
	}
	for k, v := range headers {
		h[k] = dara.String(v)
	}
	q := map[string]*string{}
	for k := range query {
		q[k] = dara.String(query.Get(k))
	}
	dr := &dara.Request{Method: dara.String("POST"), Pathname: dara.String("/"), Headers: h, Query: q}
	auth := openapiutil.GetAuthorization(dr, dara.String("ACS3-HMAC-SHA256"), h["x-acs-content-sha256"], dara.String(ak), dara.String(sk))
	hdr := http.Header{}
	for k, v := range h {
		if k != "host" {
			hdr.Set(k, *v)
		}
	}
	hdr.Set("Authorization", *auth)
	return recorded{method: "POST", rawQuery: query.Encode(), header: hdr, body: body}
}
