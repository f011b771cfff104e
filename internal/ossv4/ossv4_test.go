package ossv4

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
)

// sdkSign signs the same request with the OSS Go SDK v2's SignerV4 and
// returns the headers it ends with, Date removed (V4 signs x-oss-date; the
// engine drops Date, which browsers refuse to send).
func sdkSign(t *testing.T, r Request, c Credentials, now time.Time) http.Header {
	t.Helper()
	h := http.Header{}
	for k, v := range r.Header {
		h[k] = append([]string(nil), v...)
	}
	hr := &http.Request{Method: r.Method, URL: &url.URL{Scheme: "https", Host: "example.com", RawQuery: r.RawQuery}, Header: h}
	product := r.Product
	if product == "" {
		product = "oss"
	}
	sc := &signer.SigningContext{
		Product: &product, Region: &r.Region, Bucket: &r.Bucket, Key: &r.Key, Request: hr,
		Credentials: &credentials.Credentials{AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken},
		Time:        now,
	}
	if err := (&signer.SignerV4{}).Sign(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	h.Del("Date")
	return h
}

func ours(t *testing.T, r Request, c Credentials, now time.Time) map[string][]string {
	t.Helper()
	h := map[string][]string{}
	for k, v := range r.Header {
		h[k] = append([]string(nil), v...)
	}
	r.Header = h
	if err := Sign(&r, c, now); err != nil {
		t.Fatal(err)
	}
	return r.Header
}

// TestSDKVector is the SDK's own known answer (signer_test.go,
// TestV4AuthHeader case 1).
func TestSDKVector(t *testing.T) {
	h := http.Header{}
	h.Add("x-oss-head1", "value")
	h.Add("abc", "value")
	h.Add("ZAbc", "value")
	h.Add("XYZ", "value")
	h.Add("content-type", "text/plain")
	h.Add("x-oss-content-sha256", "UNSIGNED-PAYLOAD")
	q := url.Values{}
	for _, kv := range [][2]string{{"param1", "value1"}, {"+param1", "value3"}, {"|param1", "value4"}, {"+param2", ""}, {"|param2", ""}, {"param2", ""}} {
		q.Add(kv[0], kv[1])
	}
	r := Request{Method: "PUT", Bucket: "bucket", Key: "1234+-/123/1.txt", RawQuery: q.Encode(), Header: h, Region: "cn-hangzhou"}
	got := ours(t, r, Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}, time.Unix(1702743657, 0))
	want := "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"
	if a := got["Authorization"]; len(a) != 1 || a[0] != want {
		t.Fatalf("Authorization %q, want %q", a, want)
	}
}

// TestAgainstSDK signs generated requests with both signers: every header
// they end with must be the same.
func TestAgainstSDK(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 2026))
	for i := 0; i < 3000; i++ {
		r, c, now := genRequest(rng)
		want := sdkSign(t, r, c, now)
		got := ours(t, r, c, now)
		if !reflect.DeepEqual(map[string][]string(want), got) {
			t.Fatalf("request %d differs:\n%+v\nSDK:  %q\nours: %q", i, r, want, got)
		}
	}
}

// TestCanonicalKey: the same names as net/textproto.
func TestCanonicalKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	alphabet := "aZ-x_0 .:\"é\x00\x7fOSS-Meta"
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(12))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		if got, want := canonicalKey(string(b)), textproto.CanonicalMIMEHeaderKey(string(b)); got != want {
			t.Fatalf("canonicalKey(%q) = %q, textproto %q", b, got, want)
		}
	}
}

func TestNoKeys(t *testing.T) {
	if err := Sign(&Request{Method: "GET"}, Credentials{AccessKeyID: "ak"}, time.Now()); err == nil {
		t.Fatal("signed without a secret")
	}
}

// genRequest makes a request as varied as the engine's and more: keys with
// any bytes, queries escaped by the engine's rule or by url.Values (with
// "+"), headers signed and not, in canonical and other spellings, with
// spaces and repeated values.
func genRequest(rng *rand.Rand) (Request, Credentials, time.Time) {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	str := func(alphabet string, n int) string {
		b := make([]byte, rng.IntN(n+1))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	const keyChars = "abcXYZ019-._~ /+%?#&=!*'()é\u4e2d\x01"
	r := Request{
		Method: pick("GET", "PUT", "POST", "DELETE", "HEAD"),
		Bucket: pick("bucket", "dev-bucket", "a1-b2"),
		Key:    str(keyChars, 40),
		Region: pick("cn-hangzhou", "us-west-1", "ap-southeast-1"),
		Header: map[string][]string{},
	}
	if rng.IntN(4) == 0 {
		r.Product = pick("oss", "oss-cloudbox")
	}
	switch rng.IntN(3) {
	case 0: // the engine's rule: unreserved kept, %XX upper case, bare names
		var q []string
		for n := rng.IntN(4); n > 0; n-- {
			s := escapeQ(pick("uploads", "uploadId", "partNumber", "max-parts", "part-number-marker", str(keyChars, 6)))
			if v := pick("", "1", str(keyChars, 8)); v != "" {
				s += "=" + escapeQ(v)
			}
			q = append(q, s)
		}
		r.RawQuery = strings.Join(q, "&")
	case 1: // url.Values: spaces as "+"
		v := url.Values{}
		for n := rng.IntN(4); n > 0; n-- {
			v.Set(str(keyChars, 6), str(keyChars, 8))
		}
		r.RawQuery = v.Encode()
	}
	names := []string{"Content-Type", "Content-Md5", "X-Oss-Meta-A", "X-Oss-Meta-Long-Name", "X-Oss-Hash-Crc64ecma",
		"X-Oss-Forbid-Overwrite", "Cache-Control", "Content-Disposition", "X-Other", "x-oss-meta-lower", "Content-type"}
	for n := rng.IntN(6); n > 0; n-- {
		name := pick(names...)
		for m := 1 + rng.IntN(2); m > 0; m-- {
			r.Header[name] = append(r.Header[name], pick("", " ", "  spaced  ", "text/plain", "application/octet-stream", str(keyChars, 10)))
		}
	}
	c := Credentials{AccessKeyID: "LTAI" + str("ABCDEFabc0123", 16), AccessKeySecret: str("ABCdef0123456789+/", 30)}
	if c.AccessKeySecret == "" {
		c.AccessKeySecret = "s"
	}
	if rng.IntN(2) == 0 {
		c.SecurityToken = "CAIS" + str("ABCdef0123456789+/=", 200)
	}
	now := time.Unix(1700000000+rng.Int64N(200000000), 0)
	if rng.IntN(3) == 0 {
		now = now.In(time.FixedZone("CST", 8*3600))
	}
	return r, c, now
}

func escapeQ(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}
