//go:build !(js && wasm)

package stscreds

// The js/wasm build (the Cloudflare Worker) calls STS with acs3Client instead
// of the SDK. These tests build it natively and hold it to the SDK: the same
// request on the wire, the same answers from the local STS, and the same
// mapping of every kind of answer onto Credentials and STSError.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

func newACS3(cfg Config) (assumer, error) { return newACS3Client(cfg) }

// assumers are the SDK's and the hand-signed AssumeRole for cfg, as New
// would configure them (defaults applied, a client of their own).
func assumers(t *testing.T, cfg Config) (sdk, acs3 assumer) {
	t.Helper()
	if cfg.Protocol == "" {
		cfg.Protocol = "https"
	}
	if cfg.HTTPDo == nil {
		cfg.HTTPDo = (&http.Client{Timeout: stsCallTimeout}).Do
	}
	s, err := newSDKAssumer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newACS3Client(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, a
}

// recorder keeps every request it carries.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
	next func(*http.Request) (*http.Response, error)
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.mu.Unlock()
	return r.next(req)
}

func TestACS3SendsTheSDKsRequest(t *testing.T) {
	cl := startCloud(t, nil)
	rec := &recorder{next: http.DefaultClient.Do}
	cfg := minterConfig(cl, "")
	cfg.HTTPDo = rec.Do
	sdk, acs3 := assumers(t, cfg)
	in := assumeInput{RoleARN: cfg.RoleARN, SessionName: "u-1.x@y_z", DurationSeconds: 900,
		Policy: ObjectPolicy(cfg.Bucket, "uploads/u-1/ä b+c~d'e(1)*.jpg")}
	for _, a := range []assumer{sdk, acs3} {
		if _, err := a.assumeRole(bg, in); err != nil {
			t.Fatalf("%T: %v", a, err)
		}
	}
	if len(rec.reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(rec.reqs))
	}
	want, got := rec.reqs[0], rec.reqs[1]
	if got.Method != want.Method || got.URL.Scheme != want.URL.Scheme || got.URL.Host != want.URL.Host ||
		got.URL.Path != want.URL.Path || got.Host != want.Host || got.ContentLength != want.ContentLength || got.Body != nil {
		t.Fatalf("request %s %s (Host %q, %d bytes), want %s %s (Host %q, %d bytes)",
			got.Method, got.URL, got.Host, got.ContentLength, want.Method, want.URL, want.Host, want.ContentLength)
	}
	// url.Values.Encode sorts, so equal parameters give the same query string.
	if got.URL.RawQuery != want.URL.RawQuery {
		t.Fatalf("query\n%s\nwant\n%s", got.URL.RawQuery, want.URL.RawQuery)
	}
	if q := got.URL.Query(); q.Get("Policy") != in.Policy || q.Get("RoleSessionName") != in.SessionName {
		t.Fatalf("query %v does not carry the input", q)
	}
	var names, wantNames []string
	for k := range got.Header {
		names = append(names, k)
	}
	for k := range want.Header {
		wantNames = append(wantNames, k)
	}
	slices.Sort(names)
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Fatalf("header names %q, want the SDK's %q", names, wantNames)
	}
	varying := map[string]bool{"x-acs-date": true, "x-acs-signature-nonce": true, "Authorization": true}
	for _, k := range names {
		if !varying[k] && !slices.Equal(got.Header[k], want.Header[k]) {
			t.Errorf("header %s: %q, want %q", k, got.Header[k], want.Header[k])
		}
	}
	// Same algorithm, credential and signed headers; the signature differs
	// with the date and nonce, and the local STS verified both.
	head := func(h string) string { return h[:strings.Index(h, ",Signature=")] }
	if g, w := head(got.Header["Authorization"][0]), head(want.Header["Authorization"][0]); g != w {
		t.Fatalf("Authorization %s, want %s", g, w)
	}
	if n := got.Header["x-acs-signature-nonce"][0]; len(n) != 32 || n == want.Header["x-acs-signature-nonce"][0] {
		t.Fatalf("nonce %q is not a fresh 32-hex-digit value like the SDK's", n)
	}
	if d, err := time.Parse("2006-01-02T15:04:05Z", got.Header["x-acs-date"][0]); err != nil || time.Since(d) > time.Minute {
		t.Fatalf("x-acs-date %q: %v", got.Header["x-acs-date"][0], err)
	}
}

var sha256Hex = regexp.MustCompile(`[0-9a-f]{64}`)

// sameOutcome fails unless the two results are the same: equal credentials,
// equal STSError fields (request ids aside, which STS makes per request), or
// both another error.
func sameOutcome(t *testing.T, what string, sdkC, gotC *rawCredentials, sdkErr, gotErr error, sameCreds bool) {
	t.Helper()
	var se, ge *STSError
	switch {
	case errors.As(sdkErr, &se):
		if !errors.As(gotErr, &ge) {
			t.Fatalf("%s: got %v, want the SDK's STSError %v", what, gotErr, sdkErr)
		}
		stripID := func(m string) string {
			i := strings.LastIndex(m, " request id: ")
			if i < 0 {
				t.Fatalf("%s: message %q has no request id", what, m)
			}
			// SignatureDoesNotMatch quotes the hash of the dated, nonced request.
			return sha256Hex.ReplaceAllString(m[:i], "<sha256>")
		}
		if ge.StatusCode != se.StatusCode || ge.Code != se.Code || stripID(ge.Message) != stripID(se.Message) {
			t.Fatalf("%s: got %d %s %q, want the SDK's %d %s %q", what, ge.StatusCode, ge.Code, ge.Message, se.StatusCode, se.Code, se.Message)
		}
		if sameCreds && ge.Message != se.Message {
			t.Fatalf("%s: message %q, want the SDK's %q", what, ge.Message, se.Message)
		}
	case sdkErr != nil:
		if gotErr == nil || errors.As(gotErr, &ge) {
			t.Fatalf("%s: got %v, want a failed call like the SDK's %v", what, gotErr, sdkErr)
		}
		if !strings.HasPrefix(gotErr.Error(), "stscreds: AssumeRole request failed: ") {
			t.Fatalf("%s: error %q", what, gotErr)
		}
	case gotErr != nil:
		t.Fatalf("%s: got %v, the SDK succeeded", what, gotErr)
	case (sdkC == nil) != (gotC == nil):
		t.Fatalf("%s: credentials %+v, the SDK's %+v", what, gotC, sdkC)
	case sameCreds && sdkC != nil && *sdkC != *gotC:
		t.Fatalf("%s: credentials %+v, the SDK's %+v", what, gotC, sdkC)
	}
}

func TestACS3AnswersLikeTheSDK(t *testing.T) {
	cl := startCloud(t, nil)
	good := minterConfig(cl, "")
	in := assumeInput{RoleARN: good.RoleARN, SessionName: "u-1", DurationSeconds: 900, Policy: ObjectPolicy(good.Bucket, "uploads/u-1/a")}
	cases := []struct {
		name string
		cfg  func(*Config)
		in   func(*assumeInput)
		code string // "" for success, "*" for whatever the SDK gets
	}{
		{"success", nil, nil, ""},
		{"wrong secret", func(c *Config) { c.AccessKeySecret = "wrong-secret-value-0123456789" }, nil, "SignatureDoesNotMatch"},
		{"unknown access key", func(c *Config) { c.AccessKeyID = "LTAI5tNoSuchKey000000000" }, nil, "InvalidAccessKeyId.NotFound"},
		{"unknown role", nil, func(in *assumeInput) { in.RoleARN = "acs:ram::" + cl.Config.AccountID + ":role/no-such-role" }, "EntityNotExist.Role"},
		{"bad session name", nil, func(in *assumeInput) { in.SessionName = "u 1/x" }, "InvalidParameter.RoleSessionName"},
		{"short duration", nil, func(in *assumeInput) { in.DurationSeconds = 1 }, "InvalidParameter.DurationSeconds"},
		{"bad policy", nil, func(in *assumeInput) { in.Policy = "{not json" }, "*"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, in := good, in
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			if tc.in != nil {
				tc.in(&in)
			}
			sdk, acs3 := assumers(t, cfg)
			sdkC, sdkErr := sdk.assumeRole(bg, in)
			gotC, gotErr := acs3.assumeRole(bg, in)
			if tc.code == "" {
				if sdkErr != nil || gotErr != nil {
					t.Fatalf("SDK: %v; hand-signed: %v", sdkErr, gotErr)
				}
				sdkCreds, err1 := credentialsFrom(sdkC)
				gotCreds, err2 := credentialsFrom(gotC)
				if err1 != nil || err2 != nil {
					t.Fatalf("SDK: %v; hand-signed: %v", err1, err2)
				}
				if !strings.HasPrefix(gotCreds.AccessKeyID, "STS.") || gotCreds.AccessKeyID == sdkCreds.AccessKeyID ||
					gotCreds.Expiration.Sub(sdkCreds.Expiration).Abs() > 5*time.Second {
					t.Fatalf("credentials %v, the SDK's %v", gotCreds, sdkCreds)
				}
				return
			}
			var se *STSError
			if tc.code != "*" && (!errors.As(sdkErr, &se) || se.Code != tc.code) {
				t.Fatalf("the SDK answered %v, want %s", sdkErr, tc.code)
			}
			sameOutcome(t, tc.name, sdkC, gotC, sdkErr, gotErr, false)
		})
	}
}

// TestACS3MapsAnswersLikeTheSDK serves both clients the same canned answers,
// including ones STS should never give.
func TestACS3MapsAnswersLikeTheSDK(t *testing.T) {
	answers := []struct {
		name, contentType, body string
		status                  int
	}{
		{"credentials", "application/json", `{"RequestId":"r-1","Credentials":{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2030-01-02T03:04:05Z"}}`, 200},
		{"credentials, lower-case names", "application/json", `{"credentials":{"accessKeyId":"STS.a","accessKeySecret":"s","securityToken":"t","expiration":"2030-01-02T03:04:05Z"}}`, 200},
		{"incomplete credentials", "application/json", `{"Credentials":{"AccessKeyId":"STS.a"}}`, 200},
		{"no credentials", "application/json", `{"RequestId":"r-1"}`, 200},
		{"empty success", "application/json", ``, 200},
		{"null success", "application/json", `null`, 200},
		{"array success", "application/json", `[1,2]`, 200},
		{"malformed success", "application/json", `{"Credentials":`, 200},
		{"fuzzy strings", "application/json", `{"RequestId":7,"SourceIdentity":null,"AssumedRoleUser":{"Arn":true},"Credentials":{"AccessKeyId":"STS.a","AccessKeySecret":1.50,"SecurityToken":false,"Expiration":null}}`, 200},
		{"credentials not an object", "application/json", `{"Credentials":"STS.a"}`, 200},
		{"null credentials", "application/json", `{"Credentials":null}`, 200},
		{"object expiration", "application/json", `{"Credentials":{"AccessKeyId":"STS.a","Expiration":{}}}`, 200},
		{"array request id", "application/json", `{"RequestId":[],"Credentials":{"AccessKeyId":"STS.a"}}`, 200},
		{"assumed role user not an object", "application/json", `{"AssumedRoleUser":"x"}`, 200},
		{"object arn", "application/json", `{"AssumedRoleUser":{"Arn":{}}}`, 200},
		{"client error", "application/json", `{"RequestId":"r-2","Code":"EntityNotExist.Role","Message":"The role not exists: x."}`, 404},
		{"lower-case fields", "application/json", `{"requestId":"r-3","code":"InvalidParameter","message":"bad"}`, 400},
		{"empty upper-case fields", "application/json", `{"Code":"","code":"Lower","Message":"","message":"m"}`, 400},
		{"no message", "application/json", `{"Code":"Forbidden"}`, 403},
		{"numeric code", "application/json", `{"Code":42,"Message":true,"RequestId":1.50}`, 400},
		{"empty code", "application/json", `{"Code":"","Message":"m"}`, 400},
		{"throttled", "application/json", `{"Code":"Throttling.User","Message":"Request was denied due to user flow control.","RequestId":"r-4"}`, 429},
		{"server error", "application/json", `{"Code":"InternalError","Message":"oops","RequestId":"r-5"}`, 500},
		{"empty error", "application/json", ``, 503},
		{"html error", "text/html", `<html>Bad Gateway</html>`, 502},
		{"array error", "application/json", `["x"]`, 400},
		{"xml error", "text/xml;charset=utf-8", `<?xml version="1.0" encoding="UTF-8"?><Error><RequestId>r-6</RequestId><Code>NoPermission</Code><Message>You are not authorized.</Message></Error>`, 403},
		{"xml, other root", "text/xml;charset=utf-8", `<Response><Code>X</Code></Response>`, 400},
		{"xml, malformed", "text/xml;charset=utf-8", `<Error><Code>X</Code>`, 400},
		{"xml under another type", "text/xml", `<Error><Code>X</Code></Error>`, 400},
	}
	var mu sync.Mutex
	var current int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		a := answers[current]
		mu.Unlock()
		w.Header().Set("Content-Type", a.contentType)
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	cfg := Config{Endpoint: u.Host, Protocol: "http", AccessKeyID: "ak", AccessKeySecret: "sk"}
	sdk, acs3 := assumers(t, cfg)
	in := assumeInput{RoleARN: "acs:ram::1:role/r", SessionName: "u-1", DurationSeconds: 900, Policy: "{}"}
	for i, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			mu.Lock()
			current = i
			mu.Unlock()
			sdkC, sdkErr := sdk.assumeRole(bg, in)
			gotC, gotErr := acs3.assumeRole(bg, in)
			sameOutcome(t, a.name, sdkC, gotC, sdkErr, gotErr, true)
			_, sdkCredsErr := credentialsFrom(sdkC)
			_, gotCredsErr := credentialsFrom(gotC)
			if sdkErr == nil && (sdkCredsErr == nil) != (gotCredsErr == nil) {
				t.Fatalf("credentials: %v, the SDK's: %v", gotCredsErr, sdkCredsErr)
			}
		})
	}
}

// TestACS3MinterUploads runs the Minter on the hand-signed client end to end:
// its credentials upload exactly what the policy allows.
func TestACS3MinterUploads(t *testing.T) {
	cl := startCloud(t, nil)
	bucket := cl.Config.Bucket
	for _, scope := range []string{ScopeObject, ScopePrefix} {
		cfg := minterConfig(cl, scope)
		cfg.HTTPDo = http.DefaultClient.Do
		m, err := newWith(cfg, newACS3)
		if err != nil {
			t.Fatal(err)
		}
		const prefix = "uploads/u-7/"
		key := prefix + scope + " (1).bin"
		c := mint(t, m, "u-7", prefix, key)
		again := mint(t, m, "u-7", prefix, key)
		if calls, hits := m.Stats(); scope == ScopePrefix && (again != c || calls != 1 || hits != 1) ||
			scope == ScopeObject && (again == c || calls != 2) {
			t.Fatalf("%s scope: Stats = %d calls, %d hits", scope, calls, hits)
		}
		client := credsClient(cl, c)
		multipart(t, client, bucket, key, []byte(scope))
		if got := readBack(t, cl, key); string(got) != scope {
			t.Fatalf("object = %q", got)
		}
		_, err = client.InitiateMultipartUpload(bg, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr("uploads/u-8/x")})
		wantDenied(t, scope+" scope: Initiate outside the grant", err)
	}
}

func TestACS3Failures(t *testing.T) {
	cl := startCloud(t, nil)
	cfg := minterConfig(cl, "")

	// The js/wasm build has no client of its own to fall back on.
	if _, err := newWith(cfg, newACS3); err == nil || !strings.Contains(err.Error(), "HTTPDo") {
		t.Fatalf("no HTTPDo: err = %v", err)
	}

	cfg.HTTPDo = http.DefaultClient.Do
	m, err := newWith(cfg, newACS3)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := m.ForObject(ctx, "u-1", "", "uploads/u-1/a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v, want context.Canceled", err)
	}

	bad := cfg
	bad.AccessKeySecret = "wrong-secret-value-0123456789"
	mb, err := newWith(bad, newACS3)
	if err != nil {
		t.Fatal(err)
	}
	_, err = mb.ForObject(bg, "u-1", "", "uploads/u-1/a")
	var se *STSError
	if !errors.As(err, &se) || se.Code != "SignatureDoesNotMatch" || se.StatusCode != http.StatusBadRequest || se.Err != nil {
		t.Fatalf("wrong secret: err = %v, want STS SignatureDoesNotMatch without an SDK error", err)
	}
	mustNotContain(t, "error message", err.Error(), bad.AccessKeySecret, cfg.AccessKeySecret)

	cl.Close()
	_, err = m.ForObject(bg, "u-1", "", "uploads/u-1/a")
	if err == nil || errors.As(err, &se) || !strings.Contains(err.Error(), "AssumeRole request failed") {
		t.Fatalf("closed endpoint: err = %v, want a transport error", err)
	}
}
