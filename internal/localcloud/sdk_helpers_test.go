package localcloud

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
)

var sdkCtx = context.Background()

// putObject uploads data with the SDK and fails the test on error.
func sdkPut(t testing.TB, c *oss.Client, key string, data []byte) *oss.PutObjectResult {
	t.Helper()
	res, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("PutObject %q: %v", key, err)
	}
	return res
}

// quotedMD5 is the ETag OSS gives a normal object: quoted upper-case hex MD5.
func quotedMD5(b []byte) string {
	s := md5.Sum(b)
	return `"` + strings.ToUpper(hex.EncodeToString(s[:])) + `"`
}

func b64MD5(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

func crcDecimal(b []byte) string { return strconv.FormatUint(crcOf(b), 10) }

// encodeQuery writes q with bare names for empty values ("?uploads"), as the
// SDK does.
func sdkEncodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			if v == "" {
				parts = append(parts, url.QueryEscape(k))
			} else {
				parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
			}
		}
	}
	return strings.Join(parts, "&")
}

// sdkRaw is an HTTP request to the local OSS built by hand, for the wire
// details the SDK hides (error bodies, raw headers, signing times).
type sdkRaw struct {
	method, bucket, key string
	query               url.Values
	header              http.Header
	body                []byte
	// signTime, if set, is the time the request is signed at.
	signTime time.Time
	// ak, sk, token override the root keys; anonymous skips signing.
	ak, sk, token string
	anonymous     bool
	v1            bool
}

// send signs r with the SDK's own signer package and sends it with a plain
// http.Client over path-style addressing.
func (r sdkRaw) send(t testing.TB, cl *Cloud) *http.Response {
	t.Helper()
	req := r.request(t, cl)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, req.URL, err)
	}
	return resp
}

// signed returns the signed request for a body of size bytes that the
// caller writes itself.
func (r sdkRaw) signed(t testing.TB, cl *Cloud, size int64) *http.Request {
	t.Helper()
	req := r.request(t, cl)
	req.ContentLength = size
	return req
}

// request builds and signs r.
func (r sdkRaw) request(t testing.TB, cl *Cloud) *http.Request {
	t.Helper()
	u := cl.OSSEndpoint + "/" + r.bucket
	if r.key != "" {
		u += "/" + sdkEscapeKey(r.key)
	}
	if len(r.query) > 0 {
		u += "?" + sdkEncodeQuery(r.query)
	}
	req, err := http.NewRequest(r.method, u, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.body == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if !r.anonymous {
		ak, sk := r.ak, r.sk
		if ak == "" {
			ak, sk = cl.Config.AccessKeyID, cl.Config.AccessKeySecret
		}
		sctx := &signer.SigningContext{
			Product: oss.Ptr("oss"), Region: oss.Ptr(cl.Config.Region),
			Bucket: oss.Ptr(r.bucket), Request: req, Time: r.signTime,
			Credentials: &credentials.Credentials{AccessKeyID: ak, AccessKeySecret: sk, SecurityToken: r.token},
		}
		if r.key != "" {
			sctx.Key = oss.Ptr(r.key)
		}
		var s signer.Signer = &signer.SignerV4{}
		if r.v1 {
			s = &signer.SignerV1{}
			for k := range r.query {
				sctx.SubResource = append(sctx.SubResource, k)
			}
		}
		if err := s.Sign(sdkCtx, sctx); err != nil {
			t.Fatalf("sign: %v", err)
		}
	}
	return req
}

// escapeKey escapes a key the way the SDK does: unreserved characters and
// '/' kept, everything else percent-encoded.
func sdkEscapeKey(k string) string {
	return strings.ReplaceAll(url.PathEscape(k), "%2F", "/")
}

// sdkErrorDoc is the XML error body, with every element kept so that tests can
// check for duplicates.
type sdkErrorDoc struct {
	XMLName  xml.Name
	Elements []struct {
		XMLName xml.Name
		Value   string `xml:",chardata"`
	} `xml:",any"`
}

func (d *sdkErrorDoc) all(name string) []string {
	var out []string
	for _, e := range d.Elements {
		if e.XMLName.Local == name {
			out = append(out, e.Value)
		}
	}
	return out
}

func (d *sdkErrorDoc) get(name string) string {
	if v := d.all(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// readError consumes an error response and checks its status and code.
func sdkReadError(t testing.TB, resp *http.Response, status int, code string) *sdkErrorDoc {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if resp.Request != nil && resp.Request.Method == http.MethodHead {
		if len(body) != 0 {
			t.Fatalf("HEAD error with a body: %q", body)
		}
		body, err = base64.StdEncoding.DecodeString(resp.Header.Get("x-oss-err"))
		if err != nil {
			t.Fatalf("x-oss-err is not base64: %v", err)
		}
	}
	var doc sdkErrorDoc
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("error body is not XML: %v: %s", err, body)
	}
	if doc.XMLName.Local != "Error" || doc.get("Code") != code {
		t.Fatalf("error %s/%s, want Error/%s: %s", doc.XMLName.Local, doc.get("Code"), code, body)
	}
	return &doc
}

// getJSON fetches an admin endpoint and decodes its JSON.
func sdkGetJSON(t testing.TB, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// drain reads and closes a successful response, returning its body.
func drainOK(t testing.TB, resp *http.Response, want int) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, want, b)
	}
	return b
}

// writeTemp writes data to a file in a test directory and returns its path.
func writeTemp(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
