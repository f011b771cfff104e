package ossauth

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
)

func ptr[T any](v T) *T { return &v }

// keyRunes are the characters random keys and values are drawn from: the
// ones signing gets wrong most easily (space, '+', '%', '/', '~', '*',
// reserved URL characters) and multi-byte UTF-8.
var keyRunes = []rune("abcxyzABCXYZ0129 +%/~*-_.!'()&=?#:;,@$üé中文😀")

func randString(rng *rand.Rand, alphabet []rune, minLen, maxLen int) string {
	n := minLen + rng.IntN(maxLen-minLen+1)
	var b strings.Builder
	for range n {
		b.WriteRune(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

// signCase is one generated request.
type signCase struct {
	version    int
	query      bool // presigned
	token      string
	method     string
	bucket     string
	key        *string // nil = bucket level
	params     [][2]string
	header     http.Header
	additional []string
	subRes     []string // V1 operation subresources
}

func (c signCase) String() string {
	k := "<bucket>"
	if c.key != nil {
		k = strconv.Quote(*c.key)
	}
	return fmt.Sprintf("v%d query=%v token=%q %s /%s/%s params=%q header=%v additional=%v",
		c.version, c.query, c.token, c.method, c.bucket, k, c.params, c.header, c.additional)
}

func genCase(rng *rand.Rand) signCase {
	c := signCase{
		version: []int{1, 4}[rng.IntN(2)],
		query:   rng.IntN(3) == 0,
		method:  []string{"GET", "PUT", "POST", "DELETE", "HEAD"}[rng.IntN(5)],
		bucket:  "examplebucket",
		header:  http.Header{},
	}
	if rng.IntN(2) == 0 {
		// STS tokens are long base64-like strings.
		c.token = "CAIS" + randString(rng, []rune("abcXYZ0189+/="), 10, 60)
	}
	if rng.IntN(6) != 0 {
		c.key = ptr(randString(rng, keyRunes, 1, 24))
	}

	type gen func() (string, string)
	pool := []gen{
		func() (string, string) { return "uploads", "" },
		func() (string, string) { return "uploadId", randString(rng, []rune("0123456789ABCDEF"), 8, 32) },
		func() (string, string) { return "partNumber", strconv.Itoa(1 + rng.IntN(10000)) },
		func() (string, string) { return "encoding-type", "url" },
		func() (string, string) { return "max-parts", strconv.Itoa(rng.IntN(1001)) },
		func() (string, string) { return "prefix", randString(rng, keyRunes, 0, 12) },
		func() (string, string) { return "x-oss-process", "image/resize," + randString(rng, keyRunes, 1, 8) },
		func() (string, string) { return "x-oss-traffic-limit", strconv.Itoa(rng.IntN(1 << 20)) },
		func() (string, string) { return "acl", "" },
		func() (string, string) { return "response-content-type", "text/plain; charset=utf-8" },
		func() (string, string) {
			return "response-content-disposition", "attachment; filename=" + randString(rng, keyRunes, 1, 8)
		},
		func() (string, string) { return "versionId", randString(rng, keyRunes, 1, 10) },
		func() (string, string) { return "continuation-token", randString(rng, keyRunes, 1, 10) },
		func() (string, string) { return randString(rng, keyRunes, 1, 6), randString(rng, keyRunes, 0, 8) },
	}
	seen := map[string]bool{}
	for range rng.IntN(5) {
		k, v := pool[rng.IntN(len(pool))]()
		if seen[k] {
			continue
		}
		seen[k] = true
		c.params = append(c.params, [2]string{k, v})
	}
	if c.version == 1 && rng.IntN(5) == 0 {
		// An operation-specific subresource, as GetBucketCors signs it.
		c.params = append(c.params, [2]string{"cors", ""})
		c.subRes = []string{"cors"}
	}

	if rng.IntN(2) == 0 {
		c.header.Set("Content-Type", []string{"text/plain", "application/octet-stream", "image/jpeg", "text/html; charset=utf-8"}[rng.IntN(4)])
	}
	if rng.IntN(3) == 0 {
		sum := make([]byte, 16)
		for i := range sum {
			sum[i] = byte(rng.IntN(256))
		}
		c.header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum))
	}
	metaValue := []rune("abc XYZ 019 +%/~*=ü中😀")
	for range rng.IntN(4) {
		name := "x-oss-meta-" + randString(rng, []rune("abcz09-"), 1, 8)
		// Leading and trailing blanks are trimmed on both sides of the wire.
		c.header.Add(name, " "+randString(rng, metaValue, 0, 12)+"  ")
	}
	if rng.IntN(4) == 0 {
		c.header.Add("x-oss-meta-multi", "first")
		c.header.Add("x-oss-meta-multi", "second")
	}
	if rng.IntN(3) == 0 {
		c.header.Set("x-oss-forbid-overwrite", "true")
	}
	if rng.IntN(2) == 0 {
		c.header.Set("Abc", randString(rng, metaValue, 1, 10))
	}
	if rng.IntN(2) == 0 {
		c.header.Set("X-Custom", randString(rng, metaValue, 1, 10))
	}
	for _, h := range []string{"abc", "x-custom", "host", "x-oss-meta-multi", "absent-header"} {
		if rng.IntN(3) == 0 {
			c.additional = append(c.additional, h)
		}
	}
	return c
}

// rawQuery writes the query the way the SDK's client does (client.go
// sendRequest): QueryEscape for names and values, "%20" for spaces in values.
func (c signCase) rawQuery() string {
	var parts []string
	for _, p := range c.params {
		s := url.QueryEscape(p[0])
		if p[1] != "" {
			s += "=" + strings.ReplaceAll(url.QueryEscape(p[1]), "+", "%20")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "&")
}

// signed builds the request for base (scheme://host) and signs it with the
// real SDK signer.
func (c signCase) signed(t *testing.T, base, ak, secret string) *http.Request {
	t.Helper()
	path := "/" + c.bucket + "/"
	if c.key != nil {
		path += escape(*c.key, true)
	}
	var body io.Reader
	if c.method == "PUT" || c.method == "POST" {
		body = strings.NewReader("payload")
	}
	req, err := http.NewRequest(c.method, base+path, body)
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	req.URL.RawQuery = c.rawQuery()
	req.Header = c.header.Clone()
	for _, h := range c.additional {
		if h == "host" {
			// The SDK only signs additional headers present in the map.
			req.Header.Set("Host", req.URL.Host)
		}
	}
	var sgn signer.Signer = &signer.SignerV4{}
	if c.version == 1 {
		sgn = &signer.SignerV1{}
	}
	sc := &signer.SigningContext{
		Product:           ptr("oss"),
		Region:            ptr("cn-hangzhou"),
		Bucket:            ptr(c.bucket),
		Key:               c.key,
		Request:           req,
		SubResource:       c.subRes,
		AdditionalHeaders: c.additional,
		Credentials:       &credentials.Credentials{AccessKeyID: ak, AccessKeySecret: secret, SecurityToken: c.token},
		AuthMethodQuery:   c.query,
	}
	if err := sgn.Sign(context.Background(), sc); err != nil {
		t.Fatalf("%v: sign: %v", c, err)
	}
	return req
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Test-Code")
}

// TestSDKSignerCrossCheck signs generated requests with the SDK's SignerV1
// and SignerV4, in header and query mode, sends them over loopback and
// checks the server accepts them, and refuses tampered copies.
func TestSDKSignerCrossCheck(t *testing.T) {
	const ak, secret = "LTAI5tCrossCheck", "s3cr3t/+=Key"
	srv := newVerifyServer(t, map[string]string{ak: secret})
	rng := rand.New(rand.NewPCG(20240601, 7))
	counts := map[string]int{}
	for i := range 400 {
		c := genCase(rng)
		counts[fmt.Sprintf("v%d query=%v", c.version, c.query)]++

		status, code := send(t, c.signed(t, srv.URL, ak, secret))
		if status/100 != 2 {
			t.Fatalf("case %d refused: %d %s\n%v", i, status, code, c)
		}
		got := srv.last()
		if got.Version != c.version || got.Presigned != c.query || got.AccessKeyID != ak || got.SecurityToken != c.token {
			t.Fatalf("case %d: server parsed %+v\n%v", i, got, c)
		}
		if c.version == 4 && got.Region != "cn-hangzhou" {
			t.Fatalf("case %d: region %q", i, got.Region)
		}

		// A tampered copy must be refused with SignatureDoesNotMatch.
		var bad *http.Request
		var what string
		switch i % 4 {
		case 0:
			bad, what = c.signed(t, srv.URL, ak, secret+"x"), "wrong secret"
		case 1:
			bad, what = c.signed(t, srv.URL, ak, secret), "header added after signing"
			bad.Header.Set("x-oss-meta-tampered", "1")
		case 2:
			bad, what = c.signed(t, srv.URL, ak, secret), "key changed after signing"
			bad.URL.Path += "x"
			bad.URL.RawPath = ""
		case 3:
			bad, what = c.signed(t, srv.URL, ak, secret), "method changed after signing"
			if bad.Method == "GET" {
				bad.Method = "HEAD"
			} else {
				bad.Method = "GET"
			}
		}
		if status, code := send(t, bad); status != http.StatusForbidden || code != "SignatureDoesNotMatch" {
			t.Fatalf("case %d (%s) got %d %q\n%v", i, what, status, code, c)
		}
	}
	for _, k := range []string{"v1 query=false", "v1 query=true", "v4 query=false", "v4 query=true"} {
		if counts[k] < 30 {
			t.Fatalf("generator covered %s only %d times: %v", k, counts[k], counts)
		}
	}
}

// TestSDKSignerSignedQueryChange checks that every query parameter V4
// covers, and every V1 subresource, is bound by the signature.
func TestSDKSignerSignedQueryChange(t *testing.T) {
	const ak, secret = "ak", "sk"
	srv := newVerifyServer(t, map[string]string{ak: secret})
	for _, version := range []int{1, 4} {
		for _, query := range []bool{false, true} {
			c := signCase{
				version: version, query: query, method: "PUT", bucket: "examplebucket", key: ptr("dir/ä b+c"),
				params: [][2]string{{"partNumber", "3"}, {"uploadId", "ABC123"}, {"x-oss-process", "a b"}},
				header: http.Header{},
			}
			if status, code := send(t, c.signed(t, srv.URL, ak, secret)); status != 200 {
				t.Fatalf("v%d query=%v: %d %s", version, query, status, code)
			}
			for _, name := range []string{"partNumber", "uploadId", "x-oss-process"} {
				r := c.signed(t, srv.URL, ak, secret)
				q := r.URL.Query()
				q.Set(name, q.Get(name)+"0")
				r.URL.RawQuery = q.Encode()
				if status, code := send(t, r); status != 403 || code != "SignatureDoesNotMatch" {
					t.Fatalf("v%d query=%v: changed %s got %d %s", version, query, name, status, code)
				}
			}
		}
	}
}
