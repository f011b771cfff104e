package ossauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// e2eKey exercises escaping on the wire and in both string-to-sign forms.
const e2eKey = "dir/sub dir/ü+%~*(1)&x=y?.txt"

func newSDKClient(srvURL string, v1 bool, ak, sk, token string, additional ...string) *oss.Client {
	cfg := oss.LoadDefaultConfig().
		WithEndpoint(srvURL).
		WithRegion("cn-hangzhou").
		WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ak, sk, token))
	if v1 {
		cfg = cfg.WithSignatureVersion(oss.SignatureVersionV1)
	}
	if len(additional) > 0 {
		cfg = cfg.WithAdditionalHeaders(additional)
	}
	return oss.NewClient(cfg)
}

// TestSDKClientEndToEnd drives the real oss.Client against a server whose
// handler only answers requests that Parse and Verify accept.
func TestSDKClientEndToEnd(t *testing.T) {
	const ak, sk = "LTAI5tE2E", "e2e-secret"
	srv := newVerifyServer(t, map[string]string{ak: sk})
	ctx := context.Background()

	for _, tc := range []struct {
		name       string
		v1         bool
		token      string
		additional []string
	}{
		{name: "V4"},
		{name: "V4+token", token: "CAISsts+token/with=chars"},
		{name: "V4+additional", additional: []string{"content-length", "host", "user-agent"}},
		{name: "V1", v1: true},
		{name: "V1+token", v1: true, token: "CAISsts+token/with=chars"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newSDKClient(srv.URL, tc.v1, ak, sk, tc.token, tc.additional...)
			wantVersion := 4
			if tc.v1 {
				wantVersion = 1
			}
			check := func(op string, before int) {
				t.Helper()
				if srv.count() != before+1 {
					t.Fatalf("%s: server verified %d requests, want 1", op, srv.count()-before)
				}
				a := srv.last()
				if a.Version != wantVersion || a.Presigned || a.AccessKeyID != ak || a.SecurityToken != tc.token {
					t.Fatalf("%s: server saw %+v", op, a)
				}
			}

			n := srv.count()
			_, err := c.PutObject(ctx, &oss.PutObjectRequest{
				Bucket:        oss.Ptr("examplebucket"),
				Key:           oss.Ptr(e2eKey),
				Body:          strings.NewReader("hello"),
				ContentType:   oss.Ptr("text/plain; charset=utf-8"),
				ContentLength: oss.Ptr(int64(5)),
				Metadata:      map[string]string{"author": "alice", "note": "a b  c"},
			})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			check("PutObject", n)
			if tc.additional != nil {
				// host is never in a Go request's header map, so the SDK drops it.
				if got := strings.Join(srv.last().additional, ";"); got != "content-length;user-agent" {
					t.Fatalf("AdditionalHeaders signed: %q", got)
				}
			}

			n = srv.count()
			get, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr("examplebucket"), Key: oss.Ptr(e2eKey)})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			body, _ := io.ReadAll(get.Body)
			get.Body.Close()
			if string(body) != "hello" {
				t.Fatalf("GetObject body %q", body)
			}
			check("GetObject", n)

			n = srv.count()
			initRes, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{
				Bucket: oss.Ptr("examplebucket"), Key: oss.Ptr(e2eKey), ContentType: oss.Ptr("video/mp4"),
			})
			if err != nil {
				t.Fatalf("InitiateMultipartUpload: %v", err)
			}
			check("InitiateMultipartUpload", n)

			n = srv.count()
			if _, err := c.UploadPart(ctx, &oss.UploadPartRequest{
				Bucket: oss.Ptr("examplebucket"), Key: oss.Ptr(e2eKey),
				UploadId: initRes.UploadId, PartNumber: 1, Body: strings.NewReader("part-1"),
			}); err != nil {
				t.Fatalf("UploadPart: %v", err)
			}
			check("UploadPart", n)

			n = srv.count()
			if _, err := c.ListParts(ctx, &oss.ListPartsRequest{
				Bucket: oss.Ptr("examplebucket"), Key: oss.Ptr(e2eKey), UploadId: initRes.UploadId,
			}); err != nil {
				t.Fatalf("ListParts: %v", err)
			}
			check("ListParts", n)

			n = srv.count()
			if _, err := c.AbortMultipartUpload(ctx, &oss.AbortMultipartUploadRequest{
				Bucket: oss.Ptr("examplebucket"), Key: oss.Ptr(e2eKey), UploadId: initRes.UploadId,
			}); err != nil {
				t.Fatalf("AbortMultipartUpload: %v", err)
			}
			check("AbortMultipartUpload", n)

			// The same client with a wrong secret gets OSS's error back.
			bad := newSDKClient(srv.URL, tc.v1, ak, sk+"!", tc.token, tc.additional...)
			_, err = bad.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr("examplebucket"), Key: oss.Ptr(e2eKey)})
			var se *oss.ServiceError
			if !errors.As(err, &se) || se.StatusCode != 403 || se.Code != "SignatureDoesNotMatch" {
				t.Fatalf("wrong secret: %v", err)
			}
		})
	}
}

// TestSDKPresignEndToEnd sends URLs from Client.Presign, as a browser would,
// and checks the server verifies them.
func TestSDKPresignEndToEnd(t *testing.T) {
	const ak, sk = "LTAI5tPresign", "presign-secret"
	srv := newVerifyServer(t, map[string]string{ak: sk})
	ctx := context.Background()

	for _, tc := range []struct {
		name  string
		v1    bool
		token string
	}{
		{name: "V4"},
		{name: "V4+token", token: "CAISsts+token/with=chars"},
		{name: "V1", v1: true},
		{name: "V1+token", v1: true, token: "CAISsts+token/with=chars"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newSDKClient(srv.URL, tc.v1, ak, sk, tc.token)
			wantVersion := 4
			if tc.v1 {
				wantVersion = 1
			}
			for _, p := range []struct {
				op   string
				req  any
				body string
			}{
				{"GetObject", &oss.GetObjectRequest{Bucket: oss.Ptr("examplebucket"), Key: oss.Ptr(e2eKey)}, ""},
				{"PutObject", &oss.PutObjectRequest{
					Bucket: oss.Ptr("examplebucket"), Key: oss.Ptr(e2eKey),
					ContentType: oss.Ptr("text/plain"), Metadata: map[string]string{"owner": "u-42"},
				}, "hello"},
				{"InitiateMultipartUpload", &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr("examplebucket"), Key: oss.Ptr(e2eKey)}, ""},
			} {
				res, err := c.Presign(ctx, p.req, oss.PresignExpires(10*time.Minute))
				if err != nil {
					t.Fatalf("Presign %s: %v", p.op, err)
				}
				var body io.Reader
				if p.body != "" {
					body = strings.NewReader(p.body)
				}
				req, err := http.NewRequest(res.Method, res.URL, body)
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range res.SignedHeaders {
					req.Header.Set(k, v)
				}
				n := srv.count()
				if status, code := send(t, req); status != http.StatusOK {
					t.Fatalf("%s presigned %s: %d %s", p.op, res.URL, status, code)
				}
				if srv.count() != n+1 {
					t.Fatalf("%s: request not verified", p.op)
				}
				a := srv.last()
				if a.Version != wantVersion || !a.Presigned || a.AccessKeyID != ak || a.SecurityToken != tc.token {
					t.Fatalf("%s: server saw %+v", p.op, a)
				}
				if d := time.Until(a.Expires); d < 9*time.Minute || d > 11*time.Minute {
					t.Fatalf("%s: Expires %v is not ~10 minutes away", p.op, a.Expires)
				}

				// The same URL with a different method is refused.
				bad, _ := http.NewRequest(http.MethodDelete, res.URL, nil)
				for k, v := range res.SignedHeaders {
					bad.Header.Set(k, v)
				}
				if status, code := send(t, bad); status != 403 || code != "SignatureDoesNotMatch" {
					t.Fatalf("%s presigned URL reused for DELETE: %d %s", p.op, status, code)
				}
			}
		})
	}
}
