//go:build !js

package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/localcloud/callbacktest"
	"github.com/ossup/ossup/internal/uploadapi"
)

// TestOSSCallbackConfig: what OSSUP_OSS_CALLBACK_* refuses at start.
func TestOSSCallbackConfig(t *testing.T) {
	base := map[string]string{"OSSUP_DATA_DIR": t.TempDir()}
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"not a URL":        {map[string]string{"OSSUP_OSS_CALLBACK_URL": "ftp://127.0.0.1/x"}, "is not one http(s) URL"},
		"several URLs":     {map[string]string{"OSSUP_OSS_CALLBACK_URL": "http://127.0.0.1/a;http://127.0.0.1/b"}, "is not one http(s) URL"},
		"browser's vars":   {map[string]string{"OSSUP_OSS_CALLBACK_URL": "http://127.0.0.1/cb", "OSSUP_OSS_CALLBACK_BODY": "user=${x:user}"}, "x: variables"},
		"body without URL": {map[string]string{"OSSUP_OSS_CALLBACK_BODY": "object=${object}"}, "without OSSUP_OSS_CALLBACK_URL"},
		"dev mode, public": {map[string]string{"OSSUP_OSS_CALLBACK_URL": "https://app.example.com/oss-callback"}, "loopback addresses only"},
		"too long":         {map[string]string{"OSSUP_OSS_CALLBACK_URL": "http://127.0.0.1/cb", "OSSUP_OSS_CALLBACK_BODY": strings.Repeat("object=${object}&", 300)}, "5 KB"},
	} {
		_, err := LoadConfig(env(merge(base, tc.env)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: LoadConfig error %v, want one mentioning %q", name, err, tc.want)
		}
	}
}

// decodeCallback reads an x-oss-callback value.
func decodeCallback(t *testing.T, v string) map[string]string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		t.Fatalf("x-oss-callback %q is not base64: %v", v, err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("x-oss-callback %s is not a JSON object: %v", raw, err)
	}
	return m
}

// TestOSSCallbackFires runs the backend in dev mode with
// OSSUP_OSS_CALLBACK_URL and plays the engine's part with signed requests:
// each request that stores the object carries exactly the headers the
// session lists, the local OSS calls the callback server (which verifies
// OSS's signature with the key the local OSS serves), and the backend's
// complete verifies the object. A client that drops the header stores the
// object without a callback, and complete still decides.
func TestOSSCallbackFires(t *testing.T) {
	srv := callbacktest.New()
	defer srv.Close()
	b := startBackend(t, merge(tokenAuth, map[string]string{
		"OSSUP_OSS_CALLBACK_URL": srv.URL + "/oss-callback?app=demo",
		"OSSUP_PART_SIZE":        strconv.Itoa(100 << 10),
	}))
	alice := b.client(t, aliceToken)
	ctx := context.Background()

	received := func(key string, size int) {
		t.Helper()
		got := srv.Received()
		if len(got) == 0 {
			t.Fatalf("no callback for %s", key)
		}
		r := got[len(got)-1]
		if !r.Verified {
			t.Fatalf("callback for %s does not verify: %v", key, r.VerifyErr)
		}
		form, err := url.ParseQuery(string(r.Body))
		if err != nil || form.Get("object") != key || form.Get("size") != strconv.Itoa(size) || form.Get("bucket") != devBucket || form.Get("crc64") == "" {
			t.Errorf("callback body %q for %s (%d bytes)", r.Body, key, size)
		}
		if r.Path != "/oss-callback" || r.RawQuery != "app=demo" {
			t.Errorf("callback to %s?%s", r.Path, r.RawQuery)
		}
	}
	complete := func(s uploadapi.Session, data []byte) {
		t.Helper()
		r := alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data), "crc64": crcString(data)})
		if r.Status != http.StatusOK {
			t.Fatalf("complete %s: %d %s", s.Key, r.Status, r.Body)
		}
	}

	t.Run("single put", func(t *testing.T) {
		data := bytes.Repeat([]byte("s"), 1000)
		s := alice.mustCreate("small.bin", int64(len(data)))
		if !s.SinglePut {
			t.Fatalf("a %d-byte session is not a single PUT", len(data))
		}
		cb := decodeCallback(t, s.Headers.PutObject["x-oss-callback"])
		if cb["callbackUrl"] != srv.URL+"/oss-callback?app=demo" || cb["callbackBody"] != defaultOSSCallbackBody || cb["callbackBodyType"] != "application/x-www-form-urlencoded" {
			t.Errorf("session's x-oss-callback %v", cb)
		}
		if _, ok := s.Headers.InitiateMultipartUpload["x-oss-callback"]; ok {
			t.Error("InitiateMultipartUpload lists x-oss-callback: OSS calls back only on the request that stores the object")
		}
		before := len(srv.Received())
		res, err := ossFor(s).PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key), Body: bytes.NewReader(data),
			RequestCommon: oss.RequestCommon{Headers: s.Headers.PutObject}})
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("PutObject with the session's headers: %v", err)
		}
		if len(srv.Received()) != before+1 {
			t.Fatalf("PutObject called back %d times", len(srv.Received())-before)
		}
		received(s.Key, len(data))
		complete(s, data)
	})

	t.Run("multipart", func(t *testing.T) {
		data := bytes.Repeat([]byte("m"), 250<<10)
		s := alice.mustCreate("big.bin", int64(len(data)))
		if s.SinglePut || s.Parts != 3 {
			t.Fatalf("session: single %v, %d parts", s.SinglePut, s.Parts)
		}
		c := ossFor(s)
		init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key),
			RequestCommon: oss.RequestCommon{Headers: s.Headers.InitiateMultipartUpload}})
		if err != nil {
			t.Fatal(err)
		}
		var parts []oss.UploadPart
		for i := 0; i < s.Parts; i++ {
			chunk := data[int64(i)*s.PartSize : min(int64(len(data)), int64(i+1)*s.PartSize)]
			p, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key), UploadId: init.UploadId,
				PartNumber: int32(i + 1), Body: bytes.NewReader(chunk)})
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, oss.UploadPart{PartNumber: int32(i + 1), ETag: p.ETag})
		}
		// The same headers on the wire, but x-oss-callback through the SDK's
		// Callback field: only then does the SDK read the callback's JSON
		// answer instead of Complete's XML (which the answer replaces).
		h := map[string]string{}
		for k, v := range s.Headers.CompleteMultipartUpload {
			if k != "x-oss-callback" {
				h[k] = v
			}
		}
		before := len(srv.Received())
		res, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key),
			UploadId: init.UploadId, CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts},
			Callback:      oss.Ptr(s.Headers.CompleteMultipartUpload["x-oss-callback"]),
			RequestCommon: oss.RequestCommon{Headers: h}})
		if err != nil || res.CallbackResult["Status"] != "OK" {
			t.Fatalf("CompleteMultipartUpload with the session's headers: %v %v", err, res)
		}
		if len(srv.Received()) != before+1 {
			t.Fatalf("Complete called back %d times", len(srv.Received())-before)
		}
		received(s.Key, len(data))
		complete(s, data)
	})

	t.Run("the browser drops the header", func(t *testing.T) {
		data := []byte("no callback")
		s := alice.mustCreate("dropped.bin", int64(len(data)))
		h := map[string]string{}
		for k, v := range s.Headers.PutObject {
			if k != "x-oss-callback" {
				h[k] = v
			}
		}
		before := len(srv.Received())
		if _, err := ossFor(s).PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key), Body: bytes.NewReader(data),
			RequestCommon: oss.RequestCommon{Headers: h}}); err != nil {
			t.Fatal(err)
		}
		if len(srv.Received()) != before {
			t.Fatal("a PutObject without x-oss-callback was called back")
		}
		// The callback is a notification only: the verified complete decides.
		complete(s, data)
	})
}
