package ossauth

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// vector is one signed request from the SDK's own signer tests
// (oss/signer/signer_test.go, v1.6.1), rebuilt as it goes on the wire: the
// headers the test sets plus those the signer adds (Date, x-oss-date,
// x-oss-content-sha256, x-oss-security-token, Authorization) or, for
// presigned URLs, the query the signer writes. Signatures are the SDK
// test's literal expectations.
type vector struct {
	name     string
	method   string
	bucket   string
	key      string
	rawQuery string
	header   http.Header
	now      time.Time
	secret   string

	wantVersion   int
	wantPresigned bool
	wantToken     string
	// stringToSign, when the SDK test asserts it, is compared with the
	// StringToSign field of the error for a wrong secret.
	stringToSign string

	// mutations that must break the signature; "" = not applicable.
	flipHeader string // header whose value gets one byte flipped
	flipQuery  string // query parameter whose value gets one byte flipped
	// unsignedQuery is a parameter the signature does not cover: changing
	// it must still verify.
	unsignedQuery string
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// sdkParams is the query every V4 vector in signer_test.go starts from.
func sdkParams() url.Values {
	v := url.Values{}
	v.Add("param1", "value1")
	v.Add("+param1", "value3")
	v.Add("|param1", "value4")
	v.Add("+param2", "")
	v.Add("|param2", "")
	v.Add("param2", "")
	return v
}

// v4HeaderVector rebuilds a TestV4AuthHeader* request signed at unix time ts.
func v4HeaderVector(name string, ts int64, token, auth string) vector {
	t := time.Unix(ts, 0).UTC()
	h := hdr(
		"x-oss-head1", "value",
		"abc", "value",
		"ZAbc", "value",
		"XYZ", "value",
		"content-type", "text/plain",
		"x-oss-content-sha256", "UNSIGNED-PAYLOAD",
		"x-oss-date", t.Format("20060102T150405Z"),
		"Date", t.Format(http.TimeFormat),
		"Authorization", auth,
	)
	if token != "" {
		h.Set("x-oss-security-token", token)
	}
	return vector{
		name: name, method: "PUT", bucket: "bucket", key: "1234+-/123/1.txt",
		rawQuery: sdkParams().Encode(), header: h, now: t, secret: "sk",
		wantVersion: 4, wantToken: token,
		flipHeader: "x-oss-head1", flipQuery: "param1",
	}
}

// v4QueryVector rebuilds a TestV4AuthQuery* presigned URL signed at unix
// time ts with x-oss-expires 599.
func v4QueryVector(name string, ts int64, token, additional, sig string) vector {
	t := time.Unix(ts, 0).UTC()
	q := sdkParams()
	if token != "" {
		q.Add("x-oss-security-token", token)
	}
	q.Add("x-oss-signature-version", "OSS4-HMAC-SHA256")
	q.Add("x-oss-date", t.Format("20060102T150405Z"))
	q.Add("x-oss-expires", "599")
	q.Add("x-oss-credential", "ak/"+t.Format("20060102")+"/cn-hangzhou/oss/aliyun_v4_request")
	if additional != "" {
		q.Add("x-oss-additional-headers", additional)
	}
	q.Add("x-oss-signature", sig)
	return vector{
		name: name, method: "PUT", bucket: "bucket", key: "1234+-/123/1.txt",
		rawQuery: strings.ReplaceAll(q.Encode(), "+", "%20"),
		header: hdr(
			"x-oss-head1", "value",
			"abc", "value",
			"ZAbc", "value",
			"XYZ", "value",
			"content-type", "application/octet-stream",
		),
		now: t.Add(time.Minute), secret: "sk",
		wantVersion: 4, wantPresigned: true, wantToken: token,
		flipHeader: "content-type", flipQuery: "param1",
	}
}

func sdkVectors() []vector {
	v1Date := "Wed, 28 Dec 2022 10:27:41 GMT"
	v1Now, _ := http.ParseTime(v1Date)
	v1Header := func(auth string) http.Header {
		return hdr(
			"Content-MD5", "eB5eJF1ptWaXm4bijSPyxw==",
			"Content-Type", "text/html",
			"x-oss-meta-author", "alice",
			"x-oss-meta-magic", "abracadabra",
			"x-oss-date", v1Date,
			"Date", v1Date,
			"Authorization", auth,
		)
	}
	v1Query := func(name, key, raw string, token string, expires int64) vector {
		return vector{
			name: name, method: "GET", bucket: "bucket", key: key, rawQuery: raw,
			header: http.Header{}, now: time.Unix(expires, 0).Add(-10 * time.Minute), secret: "sk",
			wantVersion: 1, wantPresigned: true, wantToken: token,
			flipQuery: "versionId",
		}
	}

	vs := []vector{
		{
			name: "TestV1AuthHeader/case1", method: "PUT", bucket: "examplebucket", key: "nelson",
			header: v1Header("OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M="), now: v1Now, secret: "sk",
			wantVersion:  1,
			stringToSign: "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson",
			flipHeader:   "x-oss-meta-author",
		},
		{
			name: "TestV1AuthHeader/case2", method: "PUT", bucket: "examplebucket", key: "nelson", rawQuery: "acl",
			header: v1Header("OSS ak:/afkugFbmWDQ967j1vr6zygBLQk="), now: v1Now, secret: "sk",
			wantVersion:  1,
			stringToSign: "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson?acl",
			flipHeader:   "Content-Type",
		},
		{
			name: "TestV1AuthHeader/case3", method: "GET", bucket: "examplebucket", rawQuery: "resourceGroup&non-resousce=null",
			header: hdr("x-oss-date", v1Date, "Date", v1Date, "Authorization", "OSS ak:vkQmfuUDyi1uDi3bKt67oemssIs="),
			now:    v1Now, secret: "sk", wantVersion: 1,
			stringToSign:  "GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n/examplebucket/?resourceGroup",
			flipHeader:    "x-oss-date",
			unsignedQuery: "non-resousce",
		},
		{
			name: "TestV1AuthHeader/case4", method: "GET", bucket: "examplebucket", rawQuery: "resourceGroup&acl",
			header: hdr("x-oss-date", v1Date, "Date", v1Date, "Authorization", "OSS ak:x3E5TgOvl/i7PN618s5mEvpJDYk="),
			now:    v1Now, secret: "sk", wantVersion: 1,
			stringToSign: "GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n/examplebucket/?acl&resourceGroup",
			flipHeader:   "x-oss-date",
		},
		v1Query("TestV1AuthQuery/case1", "key",
			"Expires=1699807420&OSSAccessKeyId=ak&Signature=dcLTea%2BYh9ApirQ8o8dOPqtvJXQ%3D&versionId=versionId", "", 1699807420),
		v1Query("TestV1AuthQuery/case2", "key+123",
			"Expires=1699808204&OSSAccessKeyId=ak&Signature=jzKYRrM5y6Br0dRFPaTGOsbrDhY%3D&security-token=token&versionId=versionId", "token", 1699808204),
		v1Query("TestV1AuthQuery1/case1", "key",
			"Expires=1699807420&OSSAccessKeyId=ak&Signature=dcLTea%2BYh9ApirQ8o8dOPqtvJXQ%3D&versionId=versionId", "", 1699807420),
		v1Query("TestV1AuthQuery1/case2", "key+123",
			"Expires=1699808204&OSSAccessKeyId=ak&Signature=jzKYRrM5y6Br0dRFPaTGOsbrDhY%3D&security-token=token&versionId=versionId", "token", 1699808204),

		v4HeaderVector("TestV4AuthHeader", 1702743657, "",
			"OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"),
		v4HeaderVector("TestV4AuthHeaderToken", 1702784856, "token",
			"OSS4-HMAC-SHA256 Credential=ak/20231217/cn-hangzhou/oss/aliyun_v4_request,Signature=b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea"),
		// Both cases of the test (AdditionalHeaders {ZAbc, abc} and
		// {x-oss-no-exist, ZAbc, x-oss-head1, abc}) produce this request.
		v4HeaderVector("TestV4AuthHeaderWithAdditionalHeaders", 1702747512, "",
			"OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=abc;zabc,Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f"),
		v4QueryVector("TestV4AuthQuery", 1702781677, "", "",
			"a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe"),
		v4QueryVector("TestV4AuthQueryToken", 1702785388, "token", "",
			"3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5"),
		v4QueryVector("TestV4AuthQueryWithAdditionalHeaders", 1702783809, "", "abc;zabc",
			"6bd984bfe531afb6db1f7550983a741b103a8c58e5e14f83ea474c2322dfa2b7"),
	}
	// The additional-headers vectors also sign "abc" and "zabc".
	for i := range vs {
		if strings.Contains(vs[i].name, "AdditionalHeaders") {
			vs[i].flipHeader = "ZAbc"
		}
	}
	return vs
}

func (v vector) request() *http.Request {
	u := &url.URL{Scheme: "http", Host: "bucket.oss-cn-hangzhou.aliyuncs.com", Path: "/" + v.key, RawQuery: v.rawQuery}
	return &http.Request{Method: v.method, URL: u, Host: u.Host, Header: v.header.Clone()}
}

func flipByte(s string) string {
	if s == "" {
		return "x"
	}
	return string(s[0]^1) + s[1:]
}

// verify runs Parse and Verify as the endpoint would.
func verify(r *http.Request, bucket, key, secret string, opts VerifyOptions) (*Auth, error) {
	a, err := Parse(r)
	if err != nil {
		return nil, err
	}
	return a, a.Verify(r, bucket, key, secret, opts)
}

func wantCode(t *testing.T, err error, status int, code string) *osserr.Error {
	t.Helper()
	var e *osserr.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want *osserr.Error %s", err, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	return e
}

func field(e *osserr.Error, name string) (string, bool) {
	for _, f := range e.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

func TestSDKVectors(t *testing.T) {
	for _, v := range sdkVectors() {
		t.Run(v.name, func(t *testing.T) {
			opts := VerifyOptions{Now: v.now, Region: "cn-hangzhou"}
			a, err := verify(v.request(), v.bucket, v.key, v.secret, opts)
			if err != nil {
				t.Fatalf("SDK vector refused: %v", err)
			}
			if a.Version != v.wantVersion || a.Presigned != v.wantPresigned || a.AccessKeyID != "ak" || a.SecurityToken != v.wantToken {
				t.Fatalf("parsed %+v", a)
			}

			// One flipped byte of the secret.
			_, err = verify(v.request(), v.bucket, v.key, flipByte(v.secret), opts)
			e := wantCode(t, err, 403, "SignatureDoesNotMatch")
			if v.stringToSign != "" {
				if got, _ := field(e, "StringToSign"); got != v.stringToSign {
					t.Errorf("StringToSign %q, SDK signed %q", got, v.stringToSign)
				}
			}
			if got, _ := field(e, "OSSAccessKeyId"); got != "ak" {
				t.Errorf("OSSAccessKeyId field %q", got)
			}
			if got, _ := field(e, "SignatureProvided"); got != a.signature {
				t.Errorf("SignatureProvided field %q, want %q", got, a.signature)
			}

			// One flipped byte of the key.
			if v.key != "" {
				_, err = verify(v.request(), v.bucket, flipByte(v.key), v.secret, opts)
				wantCode(t, err, 403, "SignatureDoesNotMatch")
			}
			// A bucket-level request must not verify for an object.
			_, err = verify(v.request(), v.bucket, v.key+"x", v.secret, opts)
			wantCode(t, err, 403, "SignatureDoesNotMatch")

			// One flipped byte of a signed header value.
			if v.flipHeader != "" {
				r := v.request()
				r.Header.Set(v.flipHeader, flipByte(r.Header.Get(v.flipHeader)))
				_, err = verify(r, v.bucket, v.key, v.secret, opts)
				if err == nil {
					t.Fatalf("flipped header %s still verifies", v.flipHeader)
				}
				// x-oss-date for V4 is also the signing time; any rejection
				// is fine, but for the other headers it is a signature error.
				if v.flipHeader != "x-oss-date" {
					wantCode(t, err, 403, "SignatureDoesNotMatch")
				}
			} else {
				// No signed header in the vector: adding one breaks it.
				r := v.request()
				r.Header.Set("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")
				_, err = verify(r, v.bucket, v.key, v.secret, opts)
				wantCode(t, err, 403, "SignatureDoesNotMatch")
			}

			// One flipped byte of a signed query value.
			if v.flipQuery != "" {
				r := v.request()
				q := r.URL.Query()
				q.Set(v.flipQuery, flipByte(q.Get(v.flipQuery)))
				r.URL.RawQuery = q.Encode()
				_, err = verify(r, v.bucket, v.key, v.secret, opts)
				wantCode(t, err, 403, "SignatureDoesNotMatch")
			}
			if v.unsignedQuery != "" {
				r := v.request()
				q := r.URL.Query()
				q.Set(v.unsignedQuery, flipByte(q.Get(v.unsignedQuery)))
				r.URL.RawQuery = q.Encode()
				if _, err = verify(r, v.bucket, v.key, v.secret, opts); err != nil {
					t.Fatalf("V1 must ignore the unsigned parameter %s: %v", v.unsignedQuery, err)
				}
			}
			// A different method.
			r := v.request()
			r.Method = "DELETE"
			_, err = verify(r, v.bucket, v.key, v.secret, opts)
			wantCode(t, err, 403, "SignatureDoesNotMatch")
		})
	}
}

// TestV4VectorSpacedAuthorization checks the documented form of the header,
// with a space after each comma, against the SDK's vector.
func TestV4VectorSpacedAuthorization(t *testing.T) {
	v := v4HeaderVector("spaced", 1702747512, "",
		"OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request, AdditionalHeaders=abc;zabc, Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f")
	if _, err := verify(v.request(), v.bucket, v.key, v.secret, VerifyOptions{Now: v.now}); err != nil {
		t.Fatal(err)
	}
}

// TestV4VectorQueryReencoded checks that a presigned query percent-encoded
// differently (as JavaScript clients do) verifies: the canonical query is
// built from decoded values.
func TestV4VectorQueryReencoded(t *testing.T) {
	v := v4QueryVector("TestV4AuthQuery", 1702781677, "", "",
		"a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe")
	q, err := url.ParseQuery(v.rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	// Lowercase hex escapes.
	var parts []string
	for k, vals := range q {
		for _, val := range vals {
			parts = append(parts, lowerEscapes(url.QueryEscape(k))+"="+lowerEscapes(url.QueryEscape(val)))
		}
	}
	v.rawQuery = strings.Join(parts, "&")
	if strings.Contains(v.rawQuery, "%2B") || !strings.Contains(v.rawQuery, "%2b") {
		t.Fatalf("re-encoding did not change the escapes: %s", v.rawQuery)
	}
	if _, err := verify(v.request(), v.bucket, v.key, v.secret, VerifyOptions{Now: v.now}); err != nil {
		t.Fatal(err)
	}
}

// lowerEscapes rewrites %XX escapes with lowercase hex digits.
func lowerEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1] = byte(unicode.ToLower(rune(b[i+1])))
			b[i+2] = byte(unicode.ToLower(rune(b[i+2])))
		}
	}
	return string(b)
}
