package localcloud

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/localcloud/callbacktest"
)

func b64JSON(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // '&' as it is, as the SDKs' samples encode it
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func onlyReceived(t *testing.T, s *callbacktest.Server, n int) []callbacktest.Received {
	t.Helper()
	got := s.Received()
	if len(got) != n {
		t.Fatalf("callback server received %d requests, want %d", len(got), n)
	}
	for _, r := range got {
		if !r.Verified {
			t.Fatalf("callback signature did not verify: %v", r.VerifyErr)
		}
	}
	return got
}

// TestSDKPutObjectCallback: a form-encoded callback on PutObject, with a
// path and query to sign, callbackHost and custom variables; the server
// verifies the signature with the key the local OSS serves, sees the
// documented variables, and its answer reaches the SDK.
func TestSDKPutObjectCallback(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	srv := callbacktest.New()
	defer srv.Close()
	srv.SetAnswer(func(r callbacktest.Received) callbacktest.Answer {
		if !r.Verified {
			return callbacktest.Answer{Status: 400, Body: `{"Status":"bad signature"}`}
		}
		return callbacktest.Answer{Status: 200, Body: `{"Status":"OK","seen":"` + r.ContentType + `"}`}
	})
	cbURL := srv.URL + "/cb/%E4%B8%AD%E6%96%87.php?id=1&index=2"
	callback := b64JSON(t, map[string]string{
		"callbackUrl":  cbURL,
		"callbackHost": "callback.example.com",
		"callbackBody": "bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}&crc64=${crc64}" +
			"&contentMd5=${contentMd5}&vpcId=${vpcId}&clientIp=${clientIp}&reqId=${reqId}&operation=${operation}" +
			"&h=${imageInfo.height}&w=${imageInfo.width}&f=${imageInfo.format}&my_var=${x:my_var}&missing=${x:none}&const=1",
		"callbackBodyType": "application/x-www-form-urlencoded",
	})
	vars := b64JSON(t, map[string]string{"x:my_var": "a b&c=d/é"})
	data := []byte("hello callback")
	key := "cb/dir/ob ject+ü.txt"
	res, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), Body: bytes.NewReader(data),
		ContentType: oss.Ptr("text/plain"), Callback: oss.Ptr(callback), CallbackVar: oss.Ptr(vars),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.CallbackResult["Status"] != "OK" || res.CallbackResult["seen"] != "application/x-www-form-urlencoded" {
		t.Fatalf("PutObject with callback: %d %v", res.StatusCode, res.CallbackResult)
	}
	if oss.ToString(res.ETag) != quotedMD5(data) || oss.ToString(res.HashCRC64) != crcDecimal(data) {
		t.Errorf("PutObject headers: ETag %s CRC %s", oss.ToString(res.ETag), oss.ToString(res.HashCRC64))
	}
	r := onlyReceived(t, srv, 1)[0]
	if r.Method != http.MethodPost || r.Path != "/cb/%E4%B8%AD%E6%96%87.php" || r.RawQuery != "id=1&index=2" || r.Host != "callback.example.com" {
		t.Errorf("callback request %s %s?%s Host %s", r.Method, r.Path, r.RawQuery, r.Host)
	}
	if want := cl.OSSEndpoint + "/-/callback_pub_key_v1.pem"; r.PublicKeyURL != want {
		t.Errorf("x-oss-pub-key-url %q, want %q", r.PublicKeyURL, want)
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatalf("callback body %q: %v", r.Body, err)
	}
	want := map[string]string{
		"bucket": DevBucket, "object": key, "etag": strings.Trim(quotedMD5(data), `"`), "size": "14",
		"mimeType": "text/plain", "crc64": crcDecimal(data), "contentMd5": b64MD5(data), "vpcId": "",
		"clientIp": "127.0.0.1", "reqId": res.Headers.Get("x-oss-request-id"), "operation": "PutObject",
		"h": "", "w": "", "f": "", "my_var": "a b&c=d/é", "missing": "", "const": "1",
	}
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("callback variable %s = %q, want %q (body %s)", k, got, v, r.Body)
		}
	}
	got, _ := readObject(t, c, DevBucket, key)
	mustEqual(t, "object stored with a callback", got, data)
}

// pngImage encodes a w×h PNG of noise (so it does not compress below the
// 100 KB minimum part size).
func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	noise := randomBytes(w*h*4, 11)
	for i := 0; i < w*h; i++ {
		img.Set(i%w, i/w, color.NRGBA{noise[4*i], noise[4*i+1], noise[4*i+2], 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSDKCompleteCallbackJSON: a JSON callback on CompleteMultipartUpload of
// a PNG: bare variables become JSON values, quoted ones are escaped in
// place, image dimensions are filled, and the answer replaces Complete's
// XML.
func TestSDKCompleteCallbackJSON(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	srv := callbacktest.New()
	defer srv.Close()
	srv.SetAnswer(func(r callbacktest.Received) callbacktest.Answer {
		return callbacktest.Answer{Status: 200, Body: `{"accepted":true,"verified":` + map[bool]string{true: "true", false: "false"}[r.Verified] + `}`}
	})
	img := pngImage(t, 300, 200)
	if len(img) < 150_000 {
		t.Fatalf("test image is %d bytes, too small for two parts", len(img))
	}
	key := `cb/img "quoted".png`
	init, err := c.InitiateMultipartUpload(sdkCtx, &oss.InitiateMultipartUploadRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), ContentType: oss.Ptr("image/png"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var parts []oss.UploadPart
	for i, chunk := range [][]byte{img[:100<<10], img[100<<10:]} {
		p, err := c.UploadPart(sdkCtx, &oss.UploadPartRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), UploadId: init.UploadId,
			PartNumber: int32(i + 1), Body: bytes.NewReader(chunk)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, oss.UploadPart{PartNumber: int32(i + 1), ETag: p.ETag})
	}
	callback := b64JSON(t, map[string]string{
		"callbackUrl": srv.URL + "/json",
		"callbackBody": `{"bucket":${bucket},"object":${object},"quoted":"${object}","size":${size},"crc64":${crc64},` +
			`"mimeType":${mimeType},"imageInfo":{"height":${imageInfo.height},"width":${imageInfo.width},"format":${imageInfo.format}},` +
			`"contentMd5":${contentMd5},"operation":${operation},"v":${x:v}}`,
		"callbackBodyType": "application/json",
	})
	res, err := c.CompleteMultipartUpload(sdkCtx, &oss.CompleteMultipartUploadRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), UploadId: init.UploadId,
		CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts},
		Callback:                oss.Ptr(callback), CallbackVar: oss.Ptr(b64JSON(t, map[string]string{"x:v": `tab\t"q"`})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.CallbackResult["accepted"] != true || res.CallbackResult["verified"] != true {
		t.Fatalf("Complete callback result %v", res.CallbackResult)
	}
	r := onlyReceived(t, srv, 1)[0]
	if r.ContentType != "application/json" {
		t.Errorf("callback Content-Type %q", r.ContentType)
	}
	var body struct {
		Bucket, Object, Quoted, MimeType, ContentMd5, Operation, V string
		Size                                                       int64
		CRC64                                                      string `json:"crc64"`
		ImageInfo                                                  struct {
			Height, Width int
			Format        string
		}
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("JSON callback body %s: %v", r.Body, err)
	}
	if body.Bucket != DevBucket || body.Object != key || body.Quoted != key || body.Size != int64(len(img)) ||
		body.CRC64 != crcDecimal(img) || body.MimeType != "image/png" || body.ContentMd5 != "" ||
		body.Operation != "CompleteMultipartUpload" || body.V != `tab\t"q"` ||
		body.ImageInfo.Height != 200 || body.ImageInfo.Width != 300 || body.ImageInfo.Format != "png" {
		t.Errorf("JSON callback body %s", r.Body)
	}
	got, _ := readObject(t, c, DevBucket, key)
	mustEqual(t, "completed object", got, img)
}

// TestSDKCallbackFailures: every way a callback fails gives 203
// CallbackFailed with OSS's message and EC, and the object is stored anyway.
func TestSDKCallbackFailures(t *testing.T) {
	cl := startCloud(t, func(c *Config) { c.CallbackTimeout = 2 * time.Second })
	c := rootClient(cl)
	srv := callbacktest.New()
	defer srv.Close()
	refused := closedPort(t)
	for _, tc := range []struct {
		name   string
		answer callbacktest.Answer
		url    string
		msg    string
	}{
		{"status 500", callbacktest.Answer{Status: 500, Body: `{}`}, "", "Error status : 500."},
		{"redirect", callbacktest.Answer{Redirect: "http://127.0.0.1:1/elsewhere"}, "", "Error status : 301."},
		{"not json", callbackAnswer(200, "OK"), "", "Response body is not valid json format."},
		{"empty body", callbackAnswer(200, ""), "", "Response body is not valid json format."},
		{"too slow", callbacktest.Answer{Status: 200, Body: `{}`, Delay: 8 * time.Second}, "", "Cost too long time."},
		{"refused", callbackAnswer(200, `{}`), "http://" + refused + "/cb", "Error Status : -1.OSS can not connect to your callbackUrl, please check it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetAnswer(func(callbacktest.Received) callbacktest.Answer { return tc.answer })
			u := tc.url
			if u == "" {
				u = srv.URL + "/cb"
			}
			key := "cbfail/" + strings.ReplaceAll(tc.name, " ", "-")
			data := []byte(tc.name)
			start := time.Now()
			_, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), Body: bytes.NewReader(data),
				Callback: oss.Ptr(b64JSON(t, map[string]string{"callbackUrl": u, "callbackBody": "object=${object}"}))})
			se := serviceError(t, err, http.StatusNonAuthoritativeInfo, "CallbackFailed")
			if se.Message != tc.msg || se.EC != "0007-00000203" {
				t.Errorf("203 message %q EC %q, want %q 0007-00000203", se.Message, se.EC, tc.msg)
			}
			if tc.name == "too slow" && time.Since(start) > 6*time.Second {
				t.Errorf("the 2 s callback timeout took %v", time.Since(start))
			}
			if se.Headers.Get("ETag") != quotedMD5(data) {
				t.Errorf("203 without the object's ETag: %q", se.Headers.Get("ETag"))
			}
			got, _ := readObject(t, c, DevBucket, key)
			mustEqual(t, "object stored despite the failed callback", got, data)
		})
	}

	t.Run("second url answers", func(t *testing.T) {
		srv.SetAnswer(func(callbacktest.Received) callbacktest.Answer { return callbackAnswer(200, `{"second":1}`) })
		res, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("cbfail/second"), Body: strings.NewReader("x"),
			Callback: oss.Ptr(b64JSON(t, map[string]string{"callbackUrl": "http://" + refused + "/a;" + srv.URL + "/b", "callbackBody": "k=${object}"}))})
		if err != nil || res.CallbackResult["second"] != float64(1) {
			t.Fatalf("PutObject: %v %v", err, res)
		}
	})

	t.Run("complete", func(t *testing.T) {
		srv.SetAnswer(func(callbacktest.Received) callbacktest.Answer { return callbackAnswer(404, `{}`) })
		key := "cbfail/complete"
		init, err := c.InitiateMultipartUpload(sdkCtx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UploadPart(sdkCtx, &oss.UploadPartRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), UploadId: init.UploadId,
			PartNumber: 1, Body: strings.NewReader("part")}); err != nil {
			t.Fatal(err)
		}
		_, err = c.CompleteMultipartUpload(sdkCtx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key),
			UploadId: init.UploadId, CompleteAll: oss.Ptr("yes"),
			Callback: oss.Ptr(b64JSON(t, map[string]string{"callbackUrl": srv.URL + "/c", "callbackBody": "k=${object}"}))})
		se := serviceError(t, err, http.StatusNonAuthoritativeInfo, "CallbackFailed")
		if se.Message != "Error status : 404." {
			t.Errorf("203 message %q", se.Message)
		}
		got, _ := readObject(t, c, DevBucket, key)
		mustEqual(t, "completed despite the failed callback", got, []byte("part"))
	})
}

func callbackAnswer(status int, body string) callbacktest.Answer {
	return callbacktest.Answer{Status: status, Body: body}
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestSDKCallbackRefused: callback parameters the local OSS refuses with
// 400 before storing anything: OSS's own refusals, and every destination
// that is not loopback.
func TestSDKCallbackRefused(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	srv := callbacktest.New()
	defer srv.Close()
	cb := func(m map[string]string) string {
		if _, ok := m["callbackBody"]; !ok {
			m["callbackBody"] = "k=${object}"
		}
		return b64JSON(t, m)
	}
	six := strings.Repeat(srv.URL+"/a;", 6)
	for _, tc := range []struct {
		name, callback, vars, ec string
	}{
		{"public address", cb(map[string]string{"callbackUrl": "http://203.0.113.7/cb"}), "", ""},
		{"host name", cb(map[string]string{"callbackUrl": "http://callback.example.com/cb"}), "", ""},
		{"private address", cb(map[string]string{"callbackUrl": "http://10.1.2.3:8080/cb"}), "", "0007-00000008"},
		{"link-local address", cb(map[string]string{"callbackUrl": "169.254.169.254/latest/meta-data"}), "", "0007-00000008"},
		{"ipv6 loopback", cb(map[string]string{"callbackUrl": "http://[::1]:8080/cb"}), "", "0007-00000004"},
		{"bad port", cb(map[string]string{"callbackUrl": "127.0.0.1:test"}), "", "0007-00000004"},
		{"ftp", cb(map[string]string{"callbackUrl": "ftp://127.0.0.1/cb"}), "", "0007-00000004"},
		{"six urls", cb(map[string]string{"callbackUrl": six}), "", "0007-00000005"},
		{"empty body", cb(map[string]string{"callbackUrl": srv.URL, "callbackBody": ""}), "", "0007-00000011"},
		{"body type", cb(map[string]string{"callbackUrl": srv.URL, "callbackBodyType": "text/plain"}), "", ""},
		{"unknown variable", cb(map[string]string{"callbackUrl": srv.URL, "callbackBody": "k=${objects}"}), "", ""},
		{"unclosed variable", cb(map[string]string{"callbackUrl": srv.URL, "callbackBody": "k=${object"}), "", ""},
		{"not base64", "not base64!", "", ""},
		{"not json", base64.StdEncoding.EncodeToString([]byte("[1,2]")), "", ""},
		{"var without x:", cb(map[string]string{"callbackUrl": srv.URL}), b64JSON(t, map[string]string{"var1": "v"}), ""},
		{"var upper case", cb(map[string]string{"callbackUrl": srv.URL}), b64JSON(t, map[string]string{"x:Var": "v"}), ""},
		{"too long", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte(" "), 4000)), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "cbrefused/" + strings.ReplaceAll(tc.name, " ", "-")
			req := &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), Body: strings.NewReader("x"), Callback: oss.Ptr(tc.callback)}
			if tc.vars != "" {
				req.CallbackVar = oss.Ptr(tc.vars)
			}
			_, err := c.PutObject(sdkCtx, req)
			se := serviceError(t, err, http.StatusBadRequest, "InvalidArgument")
			if tc.ec != "" && se.EC != tc.ec {
				t.Errorf("EC %q, want %q (%s)", se.EC, tc.ec, se.Message)
			}
			if objectExists(t, c, key) {
				t.Error("a refused callback stored the object")
			}
		})
	}
	if n := len(srv.Received()); n != 0 {
		t.Errorf("refused callbacks reached the server %d times", n)
	}

	t.Run("header and query", func(t *testing.T) {
		v := cb(map[string]string{"callbackUrl": srv.URL})
		resp := sdkRaw{method: "PUT", bucket: DevBucket, key: "cbrefused/both", query: url.Values{"callback": {v}},
			header: http.Header{"x-oss-callback": {v}}, body: []byte("x")}.send(t, cl)
		sdkReadError(t, resp, http.StatusBadRequest, "InvalidArgument")
	})

	t.Run("empty url is no callback", func(t *testing.T) {
		res, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("cbrefused/none"), Body: strings.NewReader("x"),
			Callback: oss.Ptr(cb(map[string]string{"callbackUrl": ""}))})
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("PutObject with an empty callbackUrl: %v", err)
		}
	})

	t.Run("in the query, presigned", func(t *testing.T) {
		v := cb(map[string]string{"callbackUrl": srv.URL + "/q"})
		res, err := c.Presign(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("cbrefused/presigned"), Callback: oss.Ptr(v)})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(res.Method, res.URL, strings.NewReader("presigned"))
		for k, v := range res.SignedHeaders {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if b := drainOK(t, resp, http.StatusOK); string(b) != `{"Status":"OK"}` {
			t.Errorf("presigned PUT with a callback answered %s", b)
		}
	})
}

// TestCallbackSignatureCanFail: the receiver's check is real: a tampered
// body or query does not verify.
func TestCallbackSignatureCanFail(t *testing.T) {
	cl := startCloud(t, nil)
	srv := callbacktest.New()
	defer srv.Close()
	c := rootClient(cl)
	if _, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("sig"), Body: strings.NewReader("x"),
		Callback: oss.Ptr(b64JSON(t, map[string]string{"callbackUrl": srv.URL + "/p?q=1", "callbackBody": "k=${object}"}))}); err != nil {
		t.Fatal(err)
	}
	r := onlyReceived(t, srv, 1)[0]
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/p?q=1", nil)
	req.Header = r.Header
	if _, err := callbacktest.Verify(req, r.Body); err != nil {
		t.Fatalf("the genuine callback does not verify again: %v", err)
	}
	if _, err := callbacktest.Verify(req, append(r.Body, 'x')); err == nil {
		t.Error("a tampered body verifies")
	}
	req2, _ := http.NewRequest(http.MethodPost, srv.URL+"/p?q=2", nil)
	req2.Header = r.Header
	if _, err := callbacktest.Verify(req2, r.Body); err == nil {
		t.Error("a tampered query verifies")
	}
}

// TestSDKCallbackHTTPS: an https callback server is verified like any TLS
// server: refused with an unknown certificate, called with a trusted one.
func TestSDKCallbackHTTPS(t *testing.T) {
	var answered atomic.Int32
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answered.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"tls":true}`)
	}))
	defer tlsSrv.Close()
	callback := b64JSON(t, map[string]string{"callbackUrl": tlsSrv.URL + "/s", "callbackBody": "k=${object}"})

	untrusted := rootClient(startCloud(t, nil))
	_, err := untrusted.PutObject(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("tls"), Body: strings.NewReader("x"), Callback: oss.Ptr(callback)})
	serviceError(t, err, http.StatusNonAuthoritativeInfo, "CallbackFailed")
	if answered.Load() != 0 {
		t.Fatal("the callback reached a server whose certificate is not trusted")
	}

	roots := x509.NewCertPool()
	roots.AddCert(tlsSrv.Certificate())
	trusted := rootClient(startCloud(t, func(c *Config) { c.CallbackRootCAs = roots }))
	res, err := trusted.PutObject(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("tls"), Body: strings.NewReader("x"), Callback: oss.Ptr(callback)})
	if err != nil || res.CallbackResult["tls"] != true || answered.Load() != 1 {
		t.Fatalf("https callback with a trusted certificate: %v %v (answered %d)", err, res, answered.Load())
	}
}

// TestCallbackKeyKeptAcrossRestarts: the public key a callback server may
// cache stays the same when the local cloud restarts on its data dir.
func TestCallbackKeyKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	key := func() string {
		cl, err := Start(Config{DataDir: dir, OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		resp, err := http.Get(cl.OSSEndpoint + "/-/callback_pub_key_v1.pem")
		if err != nil {
			t.Fatal(err)
		}
		return string(drainOK(t, resp, http.StatusOK))
	}
	first := key()
	if !strings.HasPrefix(first, "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("public key %q", first)
	}
	if second := key(); second != first {
		t.Error("the callback public key changed across a restart")
	}
}
