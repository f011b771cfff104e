package ossauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// FuzzParse feeds arbitrary authentication material to Parse and, when it
// parses, to Verify: neither may panic, and every refusal is an OSS error.
func FuzzParse(f *testing.F) {
	for _, v := range sdkVectors() {
		f.Add(v.method, "/"+v.bucket+"/"+v.key, v.rawQuery, v.header.Get("Authorization"), v.header.Get("Date"),
			v.header.Get("x-oss-date"), v.header.Get("x-oss-security-token"), v.header.Get("x-oss-content-sha256"), "host")
	}
	f.Add("GET", "/", "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=a%2F20231216%2Fr%2Foss%2Faliyun_v4_request&x-oss-date=20231216T162057Z&x-oss-expires=9&x-oss-signature=00&x-oss-additional-headers=host;abc",
		"", "", "", "", "", "h")
	f.Add("PUT", "/b/%zz", "a=%&=&&b", "OSS4-HMAC-SHA256 Credential=a/20231216/r/p/aliyun_v4_request, AdditionalHeaders=Host, Signature=x",
		"", "20231216T162057Z", "t", "UNSIGNED-PAYLOAD", "h:1")
	f.Fuzz(func(t *testing.T, method, path, rawQuery, authorization, date, ossDate, token, contentSHA, host string) {
		h := http.Header{}
		set := func(k, v string) {
			if v != "" {
				h.Set(k, v)
			}
		}
		set("Authorization", authorization)
		set("Date", date)
		set("x-oss-date", ossDate)
		set("x-oss-security-token", token)
		set("x-oss-content-sha256", contentSHA)
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: rawQuery}, Header: h, Host: host}
		a, err := Parse(r)
		if err != nil {
			var e *osserr.Error
			if !errors.As(err, &e) || (e.Status != 400 && e.Status != 403) {
				t.Fatalf("Parse error %v is not an OSS 400/403", err)
			}
			return
		}
		if a == nil {
			t.Fatal("nil Auth without error")
		}
		bucket, key := splitPathStyle(path)
		err = a.Verify(r, bucket, key, "sk", VerifyOptions{Region: "r"})
		if a.Version == 0 && err == nil {
			t.Fatal("anonymous request verified")
		}
		if err != nil {
			var e *osserr.Error
			if !errors.As(err, &e) {
				t.Fatalf("Verify error %v is not an OSS error", err)
			}
		}
	})
}

// reservedQuery are the names the signers themselves write into the query.
var reservedQuery = map[string]bool{
	"OSSAccessKeyId": true, "Expires": true, "Signature": true, "security-token": true,
	"x-oss-signature-version": true, "x-oss-date": true, "x-oss-expires": true, "x-oss-credential": true,
	"x-oss-additional-headers": true, "x-oss-security-token": true, "x-oss-signature": true,
}

// FuzzVerify signs fuzzed requests with the SDK signer and checks Verify
// accepts exactly them: the same request verifies, another key does not.
func FuzzVerify(f *testing.F) {
	f.Add(uint8(4), false, "1234+-/123/1.txt", "param1", "value1", " alice ", "text/plain", "")
	f.Add(uint8(1), false, "nelson", "acl", "", "abracadabra", "text/html", "token")
	f.Add(uint8(1), true, "key+123", "versionId", "versionId", "", "", "token")
	f.Add(uint8(4), true, "dir/ü %2F~*", "x-oss-process", "a b+c", "v", "", "CAIS+/=")
	f.Add(uint8(4), false, "k", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, version uint8, presign bool, key, qk, qv, meta, ctype, token string) {
		if reservedQuery[qk] {
			return // a name the signer writes itself; the property does not apply
		}
		v := 4
		if version%2 == 1 {
			v = 1
		}
		req, err := http.NewRequest("PUT", "http://127.0.0.1/examplebucket/obj", nil)
		if err != nil {
			t.Fatal(err)
		}
		if qk != "" || qv != "" {
			req.URL.RawQuery = url.Values{qk: {qv}}.Encode()
		}
		if meta != "" {
			req.Header.Set("x-oss-meta-fuzz", meta)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.Header.Set("Abc", meta+"!")
		signedAt := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
		now := signedAt
		tm := signedAt
		if presign {
			now = time.Now()
			tm = now.Add(time.Hour)
		}
		var s signer.Signer = &signer.SignerV4{}
		if v == 1 {
			s = &signer.SignerV1{}
		}
		err = s.Sign(context.Background(), &signer.SigningContext{
			Product: ptr("oss"), Region: ptr("cn-hangzhou"), Bucket: ptr("examplebucket"), Key: ptr(key),
			Request: req, AuthMethodQuery: presign, Time: tm, AdditionalHeaders: []string{"abc"},
			Credentials: &credentials.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk", SecurityToken: token},
		})
		if err != nil {
			t.Fatal(err)
		}
		opts := VerifyOptions{Now: now, Region: "cn-hangzhou"}
		a, err := verify(req, "examplebucket", key, "sk", opts)
		if err != nil {
			t.Fatalf("v%d presign=%v: SDK-signed request refused: %v\nquery %q", v, presign, err, req.URL.RawQuery)
		}
		if a.SecurityToken != token || a.Version != v || a.Presigned != presign {
			t.Fatalf("parsed %+v", a)
		}
		_, err = verify(req, "examplebucket", key+"x", "sk", opts)
		wantCode(t, err, 403, "SignatureDoesNotMatch")
	})
}
