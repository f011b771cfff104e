package ossserver

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

const (
	fuzzKeyID  = "LTAIfuzzKey"
	fuzzSecret = "fuzzSecret"
)

type mapKeyring map[string]string

func (k mapKeyring) Lookup(id, token string, _ time.Time) (string, *Principal, error) {
	s, ok := k[id]
	if !ok || token != "" {
		return "", nil, osserr.New(http.StatusForbidden, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.")
	}
	return s, &Principal{AccessKeyID: id, Root: true}, nil
}

// FuzzHandler sends arbitrary requests through routing, addressing, auth
// and, for the share the fuzzer asks to be signed with the SDK's V4 signer,
// the operations themselves, against a real store. The endpoint must never
// panic and must always answer with a request id and a status OSS uses.
func FuzzHandler(f *testing.F) {
	store, err := ossstore.Open(f.TempDir(), ossstore.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	if err := store.CreateBucket("fuzz-bucket"); err != nil {
		f.Fatal(err)
	}
	h, err := New(Config{Store: store, Keys: mapKeyring{fuzzKeyID: fuzzSecret}, Region: "cn-hangzhou", AccountID: "1", Domains: []string{"localhost"}})
	if err != nil {
		f.Fatal(err)
	}
	seeds := []struct {
		method, host, path, query, hdr, body string
		sign                                 bool
	}{
		{"PUT", "127.0.0.1", "/fuzz-bucket/a.txt", "", "Content-Type: text/plain", "hello", true},
		{"POST", "127.0.0.1", "/fuzz-bucket/big", "uploads", "", "", true},
		{"PUT", "127.0.0.1", "/fuzz-bucket/big", "partNumber=1&uploadId=X", "", "part", true},
		{"POST", "127.0.0.1", "/fuzz-bucket/big", "uploadId=X", "", "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"A\"</ETag></Part></CompleteMultipartUpload>", true},
		{"GET", "fuzz-bucket.localhost", "/a.txt", "", "Range: bytes=1-2", "", true},
		{"GET", "127.0.0.1", "/fuzz-bucket/", "uploads&prefix=a&max-uploads=2&encoding-type=url", "", "", true},
		{"GET", "127.0.0.1", "/fuzz-bucket/big", "uploadId=X&max-parts=0&part-number-marker=-1", "", "", true},
		{"PUT", "127.0.0.1", "/fuzz-bucket/", "cors", "", "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>", true},
		{"OPTIONS", "127.0.0.1", "/fuzz-bucket/a", "", "Origin: http://x\nAccess-Control-Request-Method: PUT", "", false},
		{"HEAD", "127.0.0.1", "/fuzz-bucket/missing", "", "Authorization: OSS4-HMAC-SHA256 Credential=x", "", false},
		{"GET", "127.0.0.1", "/fuzz-bucket/a", "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=a%2F20240101%2Fcn-hangzhou%2Foss%2Faliyun_v4_request", "", "", false},
		{"DELETE", "Bad_Bucket.localhost", "/k", "uploadId=", "Content-MD5: xx", "", true},
	}
	for _, s := range seeds {
		f.Add(s.method, s.host, s.path, s.query, s.hdr, []byte(s.body), s.sign)
	}
	f.Fuzz(func(t *testing.T, method, host, path, query, hdr string, body []byte, sign bool) {
		if !validMethod(method) || strings.ContainsAny(host, " /?#\r\n\x00") || host == "" {
			return
		}
		req, err := http.NewRequest(method, "http://placeholder/", bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Host = host
		req.URL.Path = "/" + strings.TrimPrefix(path, "/")
		req.URL.RawQuery = query
		req.RemoteAddr = "127.0.0.1:1234"
		for _, line := range strings.Split(hdr, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && validHeaderName(strings.TrimSpace(k)) && !strings.ContainsAny(v, "\r\n\x00") {
				req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		if sign && strings.HasPrefix(req.URL.Path, "/fuzz-bucket/") {
			bucket, key := "fuzz-bucket", strings.TrimPrefix(req.URL.Path, "/fuzz-bucket/")
			sc := &signer.SigningContext{
				Product: ptr("oss"), Region: ptr("cn-hangzhou"), Bucket: &bucket, Request: req,
				Credentials: &credentials.Credentials{AccessKeyID: fuzzKeyID, AccessKeySecret: fuzzSecret},
			}
			if key != "" {
				sc.Key = &key
			}
			if (&signer.SignerV4{}).Sign(context.Background(), sc) != nil {
				return
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Header().Get("x-oss-request-id") == "" {
			t.Fatalf("%s %s%s?%s: no request id", method, host, req.URL.Path, query)
		}
		switch c := rec.Code; {
		case c == 200, c == 204, c == 206, c == 304, c >= 400 && c <= 416, c == 501:
		default:
			t.Fatalf("%s %s%s?%s: unexpected status %d", method, host, req.URL.Path, query, c)
		}
	})
}

func ptr(s string) *string { return &s }

func validMethod(m string) bool {
	switch m {
	case "GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH":
		return true
	}
	return false
}

func validHeaderName(k string) bool {
	if k == "" || strings.EqualFold(k, "Host") || strings.EqualFold(k, "Content-Length") || strings.EqualFold(k, "Transfer-Encoding") {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
