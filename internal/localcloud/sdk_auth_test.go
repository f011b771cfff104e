package localcloud

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
)

func statement(effect string, actions []string, resources ...string) string {
	q := func(list []string) string {
		out := ""
		for i, s := range list {
			if i > 0 {
				out += ","
			}
			out += fmt.Sprintf("%q", s)
		}
		return out
	}
	return fmt.Sprintf(`{"Effect":%q,"Action":[%s],"Resource":[%s]}`, effect, q(actions), q(resources))
}

func policyDoc(statements ...string) string {
	doc := `{"Version":"1","Statement":[`
	for i, s := range statements {
		if i > 0 {
			doc += ","
		}
		doc += s
	}
	return doc + "]}"
}

func objectARN(pattern string) string { return "acs:oss:*:*:" + DevBucket + "/" + pattern }

// denied asserts err is the AccessDenied a RAM policy gives.
func denied(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: allowed, want AccessDenied", what)
	}
	se := serviceError(t, err, http.StatusForbidden, "AccessDenied")
	if se.EC == "" {
		t.Errorf("%s: AccessDenied without an EC", what)
	}
}

func putErr(c *oss.Client, key string) error {
	_, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), Body: bytes.NewReader([]byte("data:" + key))})
	return err
}

func getErr(c *oss.Client, key string) error {
	res, err := c.GetObject(sdkCtx, &oss.GetObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
	if err == nil {
		res.Body.Close()
	}
	return err
}

// TestSDKSessionPolicyDenials is the required list: a session scoped
// to PutObject under uploads/a/ can upload there, simply or in parts, and do
// nothing else.
func TestSDKSessionPolicyDenials(t *testing.T) {
	cl := startCloud(t, nil)
	root := rootClient(cl)
	sdkPut(t, root, "uploads/a/existing", []byte("root wrote this"))
	sdkPut(t, root, "uploads/b/x", []byte("not yours"))
	pol := policyDoc(statement("Allow", []string{"oss:PutObject"}, objectARN("uploads/a/*")))
	for _, v := range sdkSigners {
		t.Run(v.name, func(t *testing.T) {
			c := stsClient(cl, assumeRole(t, cl, pol, 900), v.opts...)
			if err := putErr(c, "uploads/a/"+v.name); err != nil {
				t.Fatalf("PutObject inside the policy: %v", err)
			}
			// oss:PutObject covers the multipart calls too.
			up := oss.NewUploader(c, func(o *oss.UploaderOptions) { o.PartSize = sdkMinPart })
			data := randomBytes(2*sdkMinPart+7, 2)
			if _, err := up.UploadFrom(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("uploads/a/mp-" + v.name)}, bytes.NewReader(data)); err != nil {
				t.Fatalf("multipart inside the policy: %v", err)
			}
			got, _ := readObject(t, root, DevBucket, "uploads/a/mp-"+v.name)
			mustEqual(t, "multipart object", got, data)

			denied(t, "PutObject uploads/b/x", putErr(c, "uploads/b/x"))
			denied(t, "PutObject uploads/ab", putErr(c, "uploads/ab"))
			_, err := c.InitiateMultipartUpload(sdkCtx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("uploads/b/mp")})
			denied(t, "Initiate uploads/b/mp", err)
			denied(t, "GetObject of its own key", getErr(c, "uploads/a/"+v.name))
			_, err = c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("uploads/a/existing")})
			denied(t, "HeadObject", err)
			_, err = c.DeleteObject(sdkCtx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("uploads/a/" + v.name)})
			denied(t, "DeleteObject of its own key", err)
			_, err = c.ListMultipartUploads(sdkCtx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(DevBucket), Prefix: oss.Ptr("uploads/a/")})
			denied(t, "ListMultipartUploads", err)
		})
	}
	// Nothing the denied calls touched changed.
	got, _ := readObject(t, root, DevBucket, "uploads/b/x")
	mustEqual(t, "uploads/b/x", got, []byte("not yours"))
	for _, v := range sdkSigners {
		if _, err := root.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("uploads/a/" + v.name)}); err != nil {
			t.Errorf("the denied delete removed uploads/a/%s: %v", v.name, err)
		}
	}
}

// TestSDKRolePolicyIntersection: a session policy broader than the role's
// grants nothing beyond the role.
func TestSDKRolePolicyIntersection(t *testing.T) {
	cl := startCloud(t, func(c *Config) {
		c.RolePolicy = policyDoc(statement("Allow", []string{"oss:PutObject"}, objectARN("uploads/*")))
	})
	sdkPut(t, rootClient(cl), "uploads/readme", []byte("hello"))
	broad := policyDoc(statement("Allow", []string{"oss:*"}, "acs:oss:*:*:*"))
	for name, pol := range map[string]string{"broad session policy": broad, "no session policy": ""} {
		t.Run(name, func(t *testing.T) {
			c := stsClient(cl, assumeRole(t, cl, pol, 900))
			if err := putErr(c, "uploads/x"); err != nil {
				t.Fatalf("PutObject the role allows: %v", err)
			}
			denied(t, "GetObject", getErr(c, "uploads/readme"))
			denied(t, "PutObject outside the role's prefix", putErr(c, "elsewhere/x"))
			_, err := c.DeleteObject(sdkCtx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("uploads/x")})
			denied(t, "DeleteObject", err)
		})
	}
}

func TestSDKExplicitDenyWins(t *testing.T) {
	cl := startCloud(t, nil)
	pol := policyDoc(
		statement("Allow", []string{"oss:*"}, objectARN("*")),
		statement("Deny", []string{"oss:PutObject", "oss:GetObject"}, objectARN("secret/*")),
	)
	c := stsClient(cl, assumeRole(t, cl, pol, 900))
	if err := putErr(c, "public/x"); err != nil {
		t.Fatal(err)
	}
	if err := getErr(c, "public/x"); err != nil {
		t.Fatal(err)
	}
	denied(t, "PutObject under the Deny", putErr(c, "secret/x"))
	sdkPut(t, rootClient(cl), "secret/y", []byte("y"))
	denied(t, "GetObject under the Deny", getErr(c, "secret/y"))
}

func TestSDKCredentialErrors(t *testing.T) {
	cl := startCloud(t, nil)
	sdkPut(t, rootClient(cl), "cred/x", []byte("x"))
	creds := assumeRole(t, cl, "", 900)
	other := assumeRole(t, cl, "", 900)
	for _, v := range sdkSigners {
		t.Run(v.name, func(t *testing.T) {
			wrong := sdkClient(cl, cl.Config.AccessKeyID, "not-the-secret", "", v.opts...)
			se := serviceError(t, getErr(wrong, "cred/x"), http.StatusForbidden, "SignatureDoesNotMatch")
			if se.EC == "" {
				t.Error("SignatureDoesNotMatch without an EC")
			}
			// HEAD: the SDK decodes the error from x-oss-err.
			_, err := wrong.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("cred/x")})
			serviceError(t, err, http.StatusForbidden, "SignatureDoesNotMatch")

			unknown := sdkClient(cl, "LTAI5tNoSuchKeyAnywhere0", "whatever", "", v.opts...)
			serviceError(t, getErr(unknown, "cred/x"), http.StatusForbidden, "InvalidAccessKeyId")

			wrongSTSSecret := sdkClient(cl, *creds.AccessKeyId, "not-the-secret", *creds.SecurityToken, v.opts...)
			serviceError(t, getErr(wrongSTSSecret, "cred/x"), http.StatusForbidden, "SignatureDoesNotMatch")

			tok := []byte(*creds.SecurityToken)
			tok[len(tok)/2] ^= 1
			tampered := sdkClient(cl, *creds.AccessKeyId, *creds.AccessKeySecret, string(tok), v.opts...)
			serviceError(t, getErr(tampered, "cred/x"), http.StatusForbidden, "InvalidSecurityToken")

			// A temporary key without its token is unknown.
			noToken := sdkClient(cl, *creds.AccessKeyId, *creds.AccessKeySecret, "", v.opts...)
			serviceError(t, getErr(noToken, "cred/x"), http.StatusForbidden, "InvalidAccessKeyId")

			// A valid token presented with another session's key: the token
			// does not match the access key.
			mismatched := sdkClient(cl, *other.AccessKeyId, *other.AccessKeySecret, *creds.SecurityToken, v.opts...)
			serviceError(t, getErr(mismatched, "cred/x"), http.StatusForbidden, "InvalidSecurityToken")

			// The account's keys with a token that is not theirs.
			rootWithToken := sdkClient(cl, cl.Config.AccessKeyID, cl.Config.AccessKeySecret, *creds.SecurityToken, v.opts...)
			serviceError(t, getErr(rootWithToken, "cred/x"), http.StatusForbidden, "InvalidSecurityToken")
		})
	}
}

func TestSDKExpiredSecurityToken(t *testing.T) {
	t.Parallel()
	cl := startCloud(t, func(c *Config) { c.MinSTSDuration = time.Second })
	sdkPut(t, rootClient(cl), "exp/x", []byte("x"))
	creds := assumeRole(t, cl, "", 1)
	c := stsClient(cl, creds)
	c1 := stsClient(cl, creds, withV1())
	if err := getErr(c, "exp/x"); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	time.Sleep(2 * time.Second)
	for _, c := range []*oss.Client{c, c1} {
		se := serviceError(t, getErr(c, "exp/x"), http.StatusForbidden, "SecurityTokenExpired")
		if se.EC != "0002-00000007" {
			t.Errorf("EC %q, want 0002-00000007", se.EC)
		}
	}
	// A presigned link made with the expired token fails the same way.
	p, err := c.Presign(sdkCtx, &oss.GetObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("exp/x")})
	if err != nil {
		t.Fatal(err)
	}
	sdkReadError(t, sendPresigned(t, p, nil), http.StatusForbidden, "SecurityTokenExpired")
}

func TestSDKAnonymousDenied(t *testing.T) {
	cl := startCloud(t, nil)
	sdkPut(t, rootClient(cl), "anon/x", []byte("x"))
	anon := oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).
		WithUsePathStyle(true).WithCredentialsProvider(credentials.NewAnonymousCredentialsProvider()))
	serviceError(t, getErr(anon, "anon/x"), http.StatusForbidden, "AccessDenied")
	serviceError(t, putErr(anon, "anon/y"), http.StatusForbidden, "AccessDenied")
	resp := sdkRaw{method: http.MethodGet, bucket: DevBucket, key: "anon/x", anonymous: true}.send(t, cl)
	sdkReadError(t, resp, http.StatusForbidden, "AccessDenied")
	resp = sdkRaw{method: http.MethodGet, bucket: DevBucket, query: url.Values{"uploads": {""}}, anonymous: true}.send(t, cl)
	sdkReadError(t, resp, http.StatusForbidden, "AccessDenied")
}

// TestSDKClockSkew: a request signed 20 minutes ago is refused, and the SDK
// corrects its clock from the Date header of that refusal and succeeds.
func TestSDKClockSkew(t *testing.T) {
	cl := startCloud(t, nil)
	for _, v1 := range []bool{false, true} {
		resp := sdkRaw{method: http.MethodPut, bucket: DevBucket, key: "skew/raw", body: []byte("x"), v1: v1,
			signTime: time.Now().Add(-20 * time.Minute)}.send(t, cl)
		doc := sdkReadError(t, resp, http.StatusForbidden, "RequestTimeTooSkewed")
		if len(doc.all("ServerTime")) != 1 || doc.get("RequestTime") == "" {
			t.Errorf("v1=%v: ServerTime %v RequestTime %q", v1, doc.all("ServerTime"), doc.get("RequestTime"))
		}
	}
	// Just within the window is fine.
	resp := sdkRaw{method: http.MethodPut, bucket: DevBucket, key: "skew/raw", body: []byte("x"), signTime: time.Now().Add(-14 * time.Minute)}.send(t, cl)
	drainOK(t, resp, http.StatusOK)

	// An SDK client whose clock runs 20 minutes slow.
	cfg := oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret, ""))
	c := oss.NewClient(cfg, func(o *oss.Options) { o.Signer = &slowClockSigner{SignerV4: &signer.SignerV4{}, lag: 20 * time.Minute} })
	cl.OSS.Stats().Reset()
	if err := putErr(c, "skew/sdk"); err != nil {
		t.Fatalf("the SDK did not recover from clock skew: %v", err)
	}
	if st := cl.OSS.Stats().Snapshot()["PutObject"]; st.Requests != 2 || st.Errors != 1 {
		t.Fatalf("PutObject stats %+v, want a refused attempt and a corrected one", st)
	}
	// The client keeps its corrected offset.
	if err := getErr(c, "skew/sdk"); err != nil {
		t.Fatal(err)
	}
	if st := cl.OSS.Stats().Snapshot()["GetObject"]; st.Requests != 1 || st.Errors != 0 {
		t.Fatalf("GetObject stats %+v, want one clean request", st)
	}
}

// slowClockSigner signs as the SDK does on a machine whose clock lags: the
// SDK's ClockOffset still applies on top.
type slowClockSigner struct {
	*signer.SignerV4
	lag time.Duration
}

func (s *slowClockSigner) Sign(ctx context.Context, sc *signer.SigningContext) error {
	if sc.Time.IsZero() {
		sc.Time = time.Now().Add(-s.lag).Add(sc.ClockOffset)
	}
	return s.SignerV4.Sign(ctx, sc)
}
