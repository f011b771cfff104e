package localcloud

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// presignClients are the four credential and signature combinations a
// presigned link can be made with.
func presignClients(t *testing.T, cl *Cloud) []struct {
	name string
	c    *oss.Client
	// tokenParam is the query parameter that must carry the STS token.
	tokenParam string
} {
	creds := assumeRole(t, cl, "", 3600)
	return []struct {
		name       string
		c          *oss.Client
		tokenParam string
	}{
		{"v4-root", rootClient(cl), ""},
		{"v1-root", rootClient(cl, withV1()), ""},
		{"v4-sts", stsClient(cl, creds), "x-oss-security-token"},
		{"v1-sts", stsClient(cl, creds, withV1()), "security-token"},
	}
}

// sendPresigned performs a presigned request with a plain http.Client,
// sending the headers the signature covers.
func sendPresigned(t testing.TB, p *oss.PresignResult, body []byte) *http.Response {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(p.Method, p.URL, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p.SignedHeaders {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestSDKPresignedURLs(t *testing.T) {
	cl := startCloud(t, nil)
	for _, v := range presignClients(t, cl) {
		t.Run(v.name, func(t *testing.T) {
			key := "presign/" + v.name + "/ünï code+%.txt"
			data := randomBytes(50_000, 4)
			put, err := v.c.Presign(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), ContentType: oss.Ptr("text/x-presigned")},
				oss.PresignExpires(10*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(put.URL)
			if err != nil {
				t.Fatal(err)
			}
			if v.tokenParam != "" && u.Query().Get(v.tokenParam) == "" {
				t.Fatalf("presigned URL without %s: %s", v.tokenParam, put.URL)
			}
			if put.SignedHeaders["Content-Type"] != "text/x-presigned" {
				t.Fatalf("signed headers %v", put.SignedHeaders)
			}
			resp := sendPresigned(t, put, data)
			drainOK(t, resp, http.StatusOK)
			if resp.Header.Get("ETag") != quotedMD5(data) || resp.Header.Get("x-oss-hash-crc64ecma") != crcDecimal(data) {
				t.Errorf("presigned PUT: ETag %s CRC %s", resp.Header.Get("ETag"), resp.Header.Get("x-oss-hash-crc64ecma"))
			}

			get, err := v.c.Presign(sdkCtx, &oss.GetObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
			if err != nil {
				t.Fatal(err)
			}
			resp = sendPresigned(t, get, nil)
			mustEqual(t, "presigned GET", drainOK(t, resp, http.StatusOK), data)
			if ct := resp.Header.Get("Content-Type"); ct != "text/x-presigned" {
				t.Errorf("Content-Type %q", ct)
			}

			// Tampering with the resource, the signature or the expiry breaks the signature.
			other := *get
			other.URL = strings.Replace(get.URL, "/presign/", "/presigm/", 1)
			sdkReadError(t, sendPresigned(t, &other, nil), http.StatusForbidden, "SignatureDoesNotMatch")
			sig := map[bool]string{true: "Signature", false: "x-oss-signature"}[strings.HasPrefix(v.name, "v1")]
			q := mustParseQuery(t, get.URL)
			q.Set(sig, flipFirst(q.Get(sig)))
			other.URL = withQuery(get.URL, q)
			sdkReadError(t, sendPresigned(t, &other, nil), http.StatusForbidden, "SignatureDoesNotMatch")
			q = mustParseQuery(t, get.URL)
			if strings.HasPrefix(v.name, "v1") {
				q.Set("Expires", "4102444800") // 2100: a longer life than was signed
			} else {
				q.Set("x-oss-expires", "3600")
			}
			other.URL = withQuery(get.URL, q)
			sdkReadError(t, sendPresigned(t, &other, nil), http.StatusForbidden, "SignatureDoesNotMatch")

			// A link whose expiry has passed.
			expired, err := v.c.Presign(sdkCtx, &oss.GetObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)},
				oss.PresignExpiration(time.Now().Add(-time.Second)))
			if err != nil {
				t.Fatal(err)
			}
			sdkReadError(t, sendPresigned(t, expired, nil), http.StatusForbidden, "AccessDenied")
		})
	}
}

// TestSDKPresignedURLExpires watches a short-lived link stop working.
func TestSDKPresignedURLExpires(t *testing.T) {
	t.Parallel()
	cl := startCloud(t, nil)
	sdkPut(t, rootClient(cl), "short/lived", []byte("soon gone"))
	var links []*oss.PresignResult
	for _, v := range presignClients(t, cl) {
		p, err := v.c.Presign(sdkCtx, &oss.GetObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("short/lived")}, oss.PresignExpires(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, v.name+" before expiry", drainOK(t, sendPresigned(t, p, nil), http.StatusOK), []byte("soon gone"))
		links = append(links, p)
	}
	time.Sleep(2100 * time.Millisecond)
	for _, p := range links {
		doc := sdkReadError(t, sendPresigned(t, p, nil), http.StatusForbidden, "AccessDenied")
		if !strings.Contains(doc.get("Message"), "expired") {
			t.Errorf("expired link: message %q", doc.get("Message"))
		}
	}
}

func mustParseQuery(t testing.TB, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func withQuery(raw string, q url.Values) string {
	base, _, _ := strings.Cut(raw, "?")
	return base + "?" + q.Encode()
}

// flipFirst changes the first character of s to another one valid in both
// hex and base64.
func flipFirst(s string) string {
	if s == "" {
		return "a"
	}
	r := "a"
	if s[0] == 'a' {
		r = "b"
	}
	return r + s[1:]
}
