package ossauth

import (
	"net/http"
	"net/url"
	"testing"
)

func TestParseAnonymous(t *testing.T) {
	for _, raw := range []string{"", "uploads", "prefix=a&max-parts=5", "Expires=123"} {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/b/k", RawQuery: raw}, Header: http.Header{}}
		a, err := Parse(r)
		if err != nil || a.Version != 0 {
			t.Fatalf("%q: %+v %v", raw, a, err)
		}
		err = a.Verify(r, "b", "k", "sk", VerifyOptions{})
		wantCode(t, err, 403, "AccessDenied")
	}
}

func TestParseMalformed(t *testing.T) {
	const cred = "ak/20231216/cn-hangzhou/oss/aliyun_v4_request"
	const sig = "e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"
	const date = "20231216T162057Z"
	goodV4 := "OSS4-HMAC-SHA256 Credential=" + cred + ",Signature=" + sig
	for _, tc := range []struct {
		name   string
		header http.Header
		query  string
		status int
		code   string
	}{
		{"unknown scheme", hdr("Authorization", "Bearer abc"), "", 400, "InvalidArgument"},
		{"V1 no colon", hdr("Authorization", "OSS akonly", "Date", "Wed, 28 Dec 2022 10:27:41 GMT"), "", 400, "InvalidArgument"},
		{"V1 empty signature", hdr("Authorization", "OSS ak:", "Date", "Wed, 28 Dec 2022 10:27:41 GMT"), "", 400, "InvalidArgument"},
		{"V1 no date", hdr("Authorization", "OSS ak:c2ln"), "", 403, "AccessDenied"},
		{"V1 bad date", hdr("Authorization", "OSS ak:c2ln", "Date", "yesterday"), "", 403, "AccessDenied"},
		{"V4 no signature", hdr("Authorization", "OSS4-HMAC-SHA256 Credential="+cred, "x-oss-date", date), "", 400, "InvalidArgument"},
		{"V4 unknown field", hdr("Authorization", goodV4+",SignedHeaders=host", "x-oss-date", date), "", 400, "InvalidArgument"},
		{"V4 duplicate field", hdr("Authorization", goodV4+",Signature="+sig, "x-oss-date", date), "", 400, "InvalidArgument"},
		{"V4 bad terminator", hdr("Authorization", "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/abc,Signature="+sig, "x-oss-date", date), "", 400, "InvalidArgument"},
		{"V4 short credential", hdr("Authorization", "OSS4-HMAC-SHA256 Credential=ak/cn-hangzhou/oss/aliyun_v4_request,Signature="+sig, "x-oss-date", date), "", 400, "InvalidArgument"},
		{"V4 bad scope date", hdr("Authorization", "OSS4-HMAC-SHA256 Credential=ak/2023-12-16/cn-hangzhou/oss/aliyun_v4_request,Signature="+sig, "x-oss-date", date), "", 400, "InvalidArgument"},
		{"V4 scope date differs", hdr("Authorization", goodV4, "x-oss-date", "20231217T000001Z"), "", 400, "InvalidArgument"},
		{"V4 no date at all", hdr("Authorization", goodV4), "", 403, "AccessDenied"},
		{"V4 Date of another day", hdr("Authorization", goodV4, "Date", "Sun, 17 Dec 2023 16:20:57 GMT"), "", 400, "InvalidArgument"},
		{"V4 Date not RFC 1123", hdr("Authorization", goodV4, "Date", "20231216T162057Z"), "", 403, "AccessDenied"},
		{"V4 RFC1123 x-oss-date", hdr("Authorization", goodV4, "x-oss-date", "Sat, 16 Dec 2023 16:20:57 GMT"), "", 403, "AccessDenied"},
		{"V4 signed payload", hdr("Authorization", goodV4, "x-oss-date", date, "x-oss-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "", 400, "InvalidArgument"},
		{"V1 query no key id", http.Header{}, "Expires=1&Signature=abc", 400, "InvalidArgument"},
		{"V1 query no signature", http.Header{}, "OSSAccessKeyId=ak&Expires=1", 400, "InvalidArgument"},
		{"V1 query no expires", http.Header{}, "OSSAccessKeyId=ak&Signature=abc", 403, "AccessDenied"},
		{"V1 query bad expires", http.Header{}, "OSSAccessKeyId=ak&Signature=abc&Expires=soon", 403, "AccessDenied"},
		{"V4 query other version", http.Header{}, "x-oss-signature-version=OSS2&x-oss-signature=abc", 400, "InvalidArgument"},
		{"V4 query no version", http.Header{}, "x-oss-credential=" + url.QueryEscape(cred) + "&x-oss-signature=abc", 400, "InvalidArgument"},
		{"V4 query no signature", http.Header{}, "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=" + url.QueryEscape(cred) + "&x-oss-date=" + date + "&x-oss-expires=60", 400, "InvalidArgument"},
		{"V4 query no date", http.Header{}, "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=" + url.QueryEscape(cred) + "&x-oss-expires=60&x-oss-signature=abc", 403, "AccessDenied"},
		{"V4 query expires too long", http.Header{}, "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=" + url.QueryEscape(cred) + "&x-oss-date=" + date + "&x-oss-expires=604801&x-oss-signature=abc", 403, "AccessDenied"},
		{"V4 query bad credential", http.Header{}, "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=ak&x-oss-date=" + date + "&x-oss-expires=60&x-oss-signature=abc", 400, "InvalidArgument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{Method: "GET", URL: &url.URL{Path: "/b/k", RawQuery: tc.query}, Header: tc.header}
			a, err := Parse(r)
			if err == nil {
				t.Fatalf("parsed %+v", a)
			}
			wantCode(t, err, tc.status, tc.code)
		})
	}
}

// TestAuthorizationWinsOverQuery checks the header takes precedence when a
// request carries both forms.
func TestAuthorizationWinsOverQuery(t *testing.T) {
	r := &http.Request{Method: "GET", URL: &url.URL{Path: "/b/k", RawQuery: "OSSAccessKeyId=q&Expires=1&Signature=x"},
		Header: hdr("Authorization", "OSS h:c2ln", "Date", "Wed, 28 Dec 2022 10:27:41 GMT")}
	a, err := Parse(r)
	if err != nil || a.AccessKeyID != "h" || a.Presigned {
		t.Fatalf("%+v %v", a, err)
	}
}

func TestParseNilRequest(t *testing.T) {
	if _, err := Parse(nil); err == nil {
		t.Fatal("nil request accepted")
	}
	var a *Auth
	if err := a.Verify(&http.Request{Header: http.Header{}}, "", "", "", VerifyOptions{}); err == nil {
		t.Fatal("nil Auth verified")
	}
}
