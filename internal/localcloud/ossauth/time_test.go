package ossauth

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
)

// sdkSign signs an in-memory PUT /examplebucket/obj with the SDK signer.
// For header auth t is the signing time, for presigning the deadline (the
// SDK then signs at time.Now()).
func sdkSign(t *testing.T, version int, presign bool, tm time.Time, region string, prepare func(*http.Request)) *http.Request {
	t.Helper()
	req, _ := http.NewRequest("PUT", "http://127.0.0.1/examplebucket/obj?uploadId=U1&partNumber=2", nil)
	req.Header.Set("Content-Type", "application/octet-stream")
	if prepare != nil {
		prepare(req)
	}
	var s signer.Signer = &signer.SignerV4{}
	if version == 1 {
		s = &signer.SignerV1{}
	}
	err := s.Sign(context.Background(), &signer.SigningContext{
		Product: ptr("oss"), Region: ptr(region), Bucket: ptr("examplebucket"), Key: ptr("obj"),
		Request: req, Credentials: &credentials.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"},
		AuthMethodQuery: presign, Time: tm,
	})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestHeaderAuthSkew(t *testing.T) {
	signedAt := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, version := range []int{1, 4} {
		r := sdkSign(t, version, false, signedAt, "cn-hangzhou", nil)
		for _, d := range []time.Duration{0, 15 * time.Minute, -15 * time.Minute} {
			if _, err := verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: signedAt.Add(d)}); err != nil {
				t.Fatalf("v%d skew %v: %v", version, d, err)
			}
		}
		for _, d := range []time.Duration{15*time.Minute + time.Second, -16 * time.Minute, 24 * time.Hour} {
			_, err := verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: signedAt.Add(d)})
			e := wantCode(t, err, 403, "RequestTimeTooSkewed")
			want := r.Header.Get("Date")
			if version == 4 {
				want = r.Header.Get("x-oss-date")
			}
			if got, _ := field(e, "RequestTime"); got != want {
				t.Fatalf("v%d RequestTime %q, want %q", version, got, want)
			}
			// osserr.Render adds ServerTime; exactly one, or ali-oss's
			// clock correction reads garbage.
			if n := strings.Count(string(e.Render("rid", "host", time.Now())), "<ServerTime>"); n != 1 {
				t.Fatalf("%d ServerTime elements", n)
			}
		}
		// A custom window.
		if _, err := verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: signedAt.Add(2 * time.Minute), MaxSkew: time.Minute}); err == nil {
			t.Fatalf("v%d: MaxSkew ignored", version)
		}
	}
}

// TestV4TimeIsXOSSDate checks that V4 takes its time from x-oss-date when
// it is present, whatever Date says, and only then falls back to Date.
func TestV4TimeIsXOSSDate(t *testing.T) {
	signedAt := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	r := sdkSign(t, 4, false, signedAt, "cn-hangzhou", nil)
	r.Header.Set("Date", signedAt.Add(-48*time.Hour).Format(http.TimeFormat))
	a, err := verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: signedAt})
	if err != nil {
		t.Fatalf("a stale Date must not matter to V4: %v", err)
	}
	if !a.SignedAt.Equal(signedAt) {
		t.Fatalf("SignedAt %v", a.SignedAt)
	}
	// Without x-oss-date, the stale Date is the request time: signed for
	// another day than the credential scope.
	r.Header.Del("x-oss-date")
	_, err = verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: signedAt})
	wantCode(t, err, 400, "InvalidArgument")
	r.Header.Del("Date")
	_, err = verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: signedAt})
	wantCode(t, err, 403, "AccessDenied")
}

// TestV1XOSSDateOnly is ali-oss's (and any browser's) V1 form: no Date
// header, the DATE line is x-oss-date.
func TestV1XOSSDateOnly(t *testing.T) {
	signedAt := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	r := sdkSign(t, 1, false, signedAt, "", func(r *http.Request) {
		r.Header.Set("x-oss-date", signedAt.Format(http.TimeFormat))
	})
	r.Header.Del("Date")
	a, err := verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: signedAt.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if !a.SignedAt.Equal(signedAt) {
		t.Fatalf("SignedAt %v", a.SignedAt)
	}
	_, err = verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: signedAt.Add(time.Hour)})
	wantCode(t, err, 403, "RequestTimeTooSkewed")
}

func TestPresignedExpiry(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	deadline := now.Add(10 * time.Minute)
	for _, version := range []int{1, 4} {
		r := sdkSign(t, version, true, deadline, "cn-hangzhou", nil)
		a, err := verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: deadline.Add(-time.Second)})
		if err != nil {
			t.Fatalf("v%d: %v", version, err)
		}
		if !a.Expires.Equal(deadline) {
			t.Fatalf("v%d: Expires %v, want %v", version, a.Expires, deadline)
		}
		// Presigned URLs are not subject to the skew window before expiry.
		if _, err := verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: deadline.Add(-time.Second), MaxSkew: time.Second}); err != nil {
			t.Fatalf("v%d: %v", version, err)
		}
		_, err = verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: deadline.Add(time.Second)})
		e := wantCode(t, err, 403, "AccessDenied")
		if e.Message != "Request has expired." {
			t.Fatalf("message %q", e.Message)
		}
		if got, _ := field(e, "Expires"); got != deadline.UTC().Format("2006-01-02T15:04:05.000Z") {
			t.Fatalf("Expires field %q", got)
		}
	}
}

func TestScopeChecks(t *testing.T) {
	signedAt := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, presign := range []bool{false, true} {
		tm, now := signedAt, signedAt
		if presign {
			tm, now = time.Now().Add(time.Hour), time.Now()
		}
		r := sdkSign(t, 4, presign, tm, "cn-shanghai", nil)
		if _, err := verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: now}); err != nil {
			t.Fatalf("no region restriction: %v", err)
		}
		a, err := verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: now, Region: "cn-shanghai"})
		if err != nil || a.Region != "cn-shanghai" {
			t.Fatalf("matching region: %v %+v", err, a)
		}
		_, err = verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: now, Region: "cn-hangzhou"})
		wantCode(t, err, 400, "InvalidArgument")
		_, err = verify(r, "examplebucket", "obj", "sk", VerifyOptions{Now: now, Product: "oss-cloudbox"})
		wantCode(t, err, 400, "InvalidArgument")
	}
}
