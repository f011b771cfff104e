package ossgosdkv1

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/internal/localcloud/callbacktest"
	"github.com/ossup/ossup/internal/localcloud/faults"
)

func startCloud(t testing.TB) *localcloud.Cloud {
	t.Helper()
	cl, err := localcloud.Start(localcloud.Config{DataDir: t.TempDir(), OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// creds are keys an SDK client signs with.
type creds struct{ ak, sk, token string }

func rootCreds(cl *localcloud.Cloud) creds {
	return creds{cl.Config.AccessKeyID, cl.Config.AccessKeySecret, ""}
}

// assumeRole gets temporary credentials from the local STS with the STS SDK.
func assumeRole(t testing.TB, cl *localcloud.Cloud, policy string) creds {
	t.Helper()
	c, err := sts.NewClient(&openapi.Config{
		AccessKeyId: dara.String(cl.Config.AccessKeyID), AccessKeySecret: dara.String(cl.Config.AccessKeySecret),
		Endpoint: dara.String(cl.STSHost), Protocol: dara.String("http"),
	})
	if err != nil {
		t.Fatal(err)
	}
	req := &sts.AssumeRoleRequest{RoleArn: dara.String(cl.Config.RoleARN), RoleSessionName: dara.String("sdkv1"), DurationSeconds: dara.Int64(900)}
	if policy != "" {
		req.Policy = dara.String(policy)
	}
	resp, err := c.AssumeRole(req)
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	k := resp.Body.Credentials
	return creds{*k.AccessKeyId, *k.AccessKeySecret, *k.SecurityToken}
}

// signing is one way SDK v1 signs: V1, or V4 (with Date only).
type signing struct {
	name string
	opts []oss.ClientOption
}

func signings(cl *localcloud.Cloud) []signing {
	return []signing{
		{"V1", nil},
		{"V4", []oss.ClientOption{oss.AuthVersion(oss.AuthV4), oss.Region(cl.Config.Region)}},
	}
}

func bucketFor(t testing.TB, cl *localcloud.Cloud, c creds, s signing) *oss.Bucket {
	t.Helper()
	opts := append([]oss.ClientOption{}, s.opts...)
	if c.token != "" {
		opts = append(opts, oss.SecurityToken(c.token))
	}
	client, err := oss.New(cl.OSSEndpoint, c.ak, c.sk, opts...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := client.Bucket(localcloud.DevBucket)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serviceErr(t testing.TB, what string, err error, status int, code string) {
	t.Helper()
	var se oss.ServiceError
	if !errors.As(err, &se) {
		t.Fatalf("%s: want %d %s, got %v", what, status, code, err)
	}
	if se.StatusCode != status || se.Code != code {
		t.Fatalf("%s: want %d %s, got %d %s (%s)", what, status, code, se.StatusCode, se.Code, se.Message)
	}
}

func readAll(t testing.TB, b *oss.Bucket, key string) []byte {
	t.Helper()
	r, err := b.GetObject(key)
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return data
}

// TestSDKv1Everyday runs the everyday calls with V1 and V4, root keys and STS
// credentials.
func TestSDKv1Everyday(t *testing.T) {
	cl := startCloud(t)
	for _, s := range signings(cl) {
		for _, who := range []struct {
			name string
			c    creds
		}{{"root", rootCreds(cl)}, {"sts", assumeRole(t, cl, "")}} {
			t.Run(s.name+"/"+who.name, func(t *testing.T) {
				b := bucketFor(t, cl, who.c, s)
				p := "v1/" + s.name + "/" + who.name + "/"
				data := []byte("hello from SDK v1, " + p)
				if err := b.PutObject(p+"obj", bytes.NewReader(data), oss.ContentType("text/plain"), oss.Meta("Owner", "alice")); err != nil {
					t.Fatalf("PutObject: %v", err)
				}
				if got := readAll(t, b, p+"obj"); !bytes.Equal(got, data) {
					t.Fatalf("GetObject: %q", got)
				}
				h, err := b.GetObjectDetailedMeta(p + "obj")
				if err != nil || h.Get("X-Oss-Meta-Owner") != "alice" || h.Get("Content-Type") != "text/plain" {
					t.Fatalf("GetObjectDetailedMeta: %v %v", h, err)
				}
				if ok, err := b.IsObjectExist(p + "obj"); err != nil || !ok {
					t.Fatalf("IsObjectExist: %v %v", ok, err)
				}
				if _, err := b.GetObject(p + "absent"); err != nil {
					serviceErr(t, "GetObject absent", err, 404, "NoSuchKey")
				} else {
					t.Fatal("GetObject of an absent key succeeded")
				}
				// ListObjects V1 and V2.
				for i := 0; i < 3; i++ {
					if err := b.PutObject(p+"list/"+string(rune('a'+i)), strings.NewReader("x")); err != nil {
						t.Fatal(err)
					}
				}
				lr, err := b.ListObjects(oss.Prefix(p+"list/"), oss.MaxKeys(2))
				if err != nil || len(lr.Objects) != 2 || !lr.IsTruncated {
					t.Fatalf("ListObjects: %+v %v", lr, err)
				}
				lr, err = b.ListObjects(oss.Prefix(p+"list/"), oss.Marker(lr.NextMarker))
				if err != nil || len(lr.Objects) != 1 || lr.IsTruncated {
					t.Fatalf("ListObjects page 2: %+v %v", lr, err)
				}
				l2, err := b.ListObjectsV2(oss.Prefix(p), oss.Delimiter("/"))
				if err != nil || len(l2.CommonPrefixes) != 1 || len(l2.Objects) != 1 {
					t.Fatalf("ListObjectsV2: %+v %v", l2, err)
				}
				// CopyObject.
				if _, err := b.CopyObject(p+"obj", p+"copy"); err != nil {
					t.Fatalf("CopyObject: %v", err)
				}
				if got := readAll(t, b, p+"copy"); !bytes.Equal(got, data) {
					t.Fatalf("copy: %q", got)
				}
				// DeleteObjects, verbose and quiet.
				del, err := b.DeleteObjects([]string{p + "list/a", p + "list/b"})
				if err != nil || len(del.DeletedObjects) != 2 {
					t.Fatalf("DeleteObjects: %+v %v", del, err)
				}
				if _, err := b.DeleteObjects([]string{p + "list/c"}, oss.DeleteObjectsQuiet(true)); err != nil {
					t.Fatalf("DeleteObjects quiet: %v", err)
				}
				// AppendObject.
				next, err := b.AppendObject(p+"app", strings.NewReader("abc"), 0)
				if err != nil || next != 3 {
					t.Fatalf("AppendObject: %d %v", next, err)
				}
				if next, err = b.AppendObject(p+"app", strings.NewReader("def"), next); err != nil || next != 6 {
					t.Fatalf("AppendObject 2: %d %v", next, err)
				}
				if _, err := b.AppendObject(p+"app", strings.NewReader("x"), 2); err == nil {
					t.Fatal("append at a wrong position succeeded")
				} else {
					serviceErr(t, "append at a wrong position", err, 409, "PositionNotEqualToLength")
				}
				if got := readAll(t, b, p+"app"); string(got) != "abcdef" {
					t.Fatalf("appended object: %q", got)
				}
				// ACL round trip.
				if err := b.SetObjectACL(p+"obj", oss.ACLPublicRead); err != nil {
					t.Fatalf("SetObjectACL: %v", err)
				}
				acl, err := b.GetObjectACL(p + "obj")
				if err != nil || acl.ACL != "public-read" {
					t.Fatalf("GetObjectACL: %+v %v", acl, err)
				}
				// SignURL.
				u, err := b.SignURL(p+"copy", oss.HTTPGet, 60)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := http.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Equal(got, data) {
					t.Fatalf("signed URL: %d %q", resp.StatusCode, got)
				}
				if err := b.DeleteObject(p + "obj"); err != nil {
					t.Fatalf("DeleteObject: %v", err)
				}
				if ok, _ := b.IsObjectExist(p + "obj"); ok {
					t.Fatal("object still there after DeleteObject")
				}
			})
		}
	}
	// IsBucketExist lists the buckets.
	client, _ := oss.New(cl.OSSEndpoint, cl.Config.AccessKeyID, cl.Config.AccessKeySecret)
	if ok, err := client.IsBucketExist(localcloud.DevBucket); err != nil || !ok {
		t.Fatalf("IsBucketExist: %v %v", ok, err)
	}
}

// TestSDKv1Denials: a write outside the session policy, a wrong secret and
// an absent key, with both signatures.
func TestSDKv1Denials(t *testing.T) {
	cl := startCloud(t)
	pol := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:PutObject","oss:GetObject"],"Resource":["acs:oss:*:*:` + localcloud.DevBucket + `/uploads/*"]}]}`
	session := assumeRole(t, cl, pol)
	for _, s := range signings(cl) {
		t.Run(s.name, func(t *testing.T) {
			b := bucketFor(t, cl, session, s)
			if err := b.PutObject("uploads/ok", strings.NewReader("x")); err != nil {
				t.Fatalf("write inside the policy: %v", err)
			}
			serviceErr(t, "write outside the policy", b.PutObject("elsewhere/x", strings.NewReader("x")), 403, "AccessDenied")
			wrong := bucketFor(t, cl, creds{cl.Config.AccessKeyID, "not-the-secret", ""}, s)
			serviceErr(t, "wrong secret", wrong.PutObject("uploads/x", strings.NewReader("x")), 403, "SignatureDoesNotMatch")
			_, err := b.GetObject("uploads/absent")
			serviceErr(t, "absent key", err, 404, "NoSuchKey")
		})
	}
}

// TestSDKv1DownloadFile: DownloadFile with a checkpoint, in parts.
func TestSDKv1DownloadFile(t *testing.T) {
	cl := startCloud(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 40<<10) // 640 KiB
	for _, s := range signings(cl) {
		b := bucketFor(t, cl, rootCreds(cl), s)
		if err := b.PutObject("dl/"+s.name, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		out := filepath.Join(dir, "out.bin")
		if err := b.DownloadFile("dl/"+s.name, out, 100<<10, oss.Routines(3), oss.Checkpoint(true, filepath.Join(dir, "cp"))); err != nil {
			t.Fatalf("%s DownloadFile: %v", s.name, err)
		}
		got, _ := os.ReadFile(out)
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: downloaded %d bytes differ", s.name, len(got))
		}
	}
}

const childEnv = "OSSUP_SDKV1_UPLOAD_CHILD"

// TestSDKv1UploadFileChild is the process TestSDKv1UploadFileResume kills:
// it uploads a file with a checkpoint directory and never returns on its
// own before the kill. It does nothing when run as an ordinary test.
func TestSDKv1UploadFileChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		return
	}
	var opts []oss.ClientOption
	if os.Getenv("V4") != "" {
		opts = []oss.ClientOption{oss.AuthVersion(oss.AuthV4), oss.Region(os.Getenv("REGION"))}
	}
	client, err := oss.New(os.Getenv("ENDPOINT"), os.Getenv("AK"), os.Getenv("SK"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := client.Bucket(localcloud.DevBucket)
	err = b.UploadFile(os.Getenv("KEY"), os.Getenv("FILE"), 100<<10, oss.Routines(1), oss.Checkpoint(true, os.Getenv("CPDIR")))
	t.Fatalf("the upload was meant to be killed, but ended: %v", err)
}

// TestSDKv1UploadFileResume: UploadFile with a checkpoint directory, killed
// (SIGKILL) at about half, resumed by a new UploadFile: only the missing
// parts are sent, and the object is the file.
func TestSDKv1UploadFileResume(t *testing.T) {
	cl := startCloud(t)
	const parts = 10
	data := make([]byte, parts*100<<10)
	for i := range data {
		data[i] = byte(i * 7 % 251)
	}
	for _, s := range signings(cl) {
		t.Run(s.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "in.bin")
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
			cpdir := filepath.Join(dir, "cp")
			key := "resume/" + s.name
			// Each part takes a while, so the kill lands mid-upload.
			if err := cl.Faults.Set(faults.Config{Rules: []faults.Rule{{Op: "UploadPart", StallRate: 1, Stall: faults.Duration(150 * time.Millisecond)}}}); err != nil {
				t.Fatal(err)
			}
			cl.OSS.Stats().Reset()
			cmd := exec.Command(os.Args[0], "-test.run=^TestSDKv1UploadFileChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), childEnv+"=1", "ENDPOINT="+cl.OSSEndpoint, "AK="+cl.Config.AccessKeyID,
				"SK="+cl.Config.AccessKeySecret, "KEY="+key, "FILE="+file, "CPDIR="+cpdir, "REGION="+cl.Config.Region)
			if s.name == "V4" {
				cmd.Env = append(cmd.Env, "V4=1")
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for cl.OSS.Stats().Snapshot()["UploadPart"].Requests < parts/2 {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatal("the first upload never reached half")
				}
				time.Sleep(10 * time.Millisecond)
			}
			// Kill while the next part is in flight (each stalls 150 ms), not
			// while the SDK writes its checkpoint file, which it does not
			// write atomically.
			time.Sleep(50 * time.Millisecond)
			cmd.Process.Kill()
			cmd.Wait()
			before := cl.OSS.Stats().Snapshot()["UploadPart"].Requests
			if _, err := bucketFor(t, cl, rootCreds(cl), s).GetObjectMeta(key); err == nil {
				t.Fatal("the object exists after the kill")
			}
			cl.Faults.Set(faults.Config{})
			cl.OSS.Stats().Reset()
			b := bucketFor(t, cl, rootCreds(cl), s)
			if err := b.UploadFile(key, file, 100<<10, oss.Routines(1), oss.Checkpoint(true, cpdir)); err != nil {
				t.Fatalf("resumed UploadFile: %v", err)
			}
			after := cl.OSS.Stats().Snapshot()
			sent := after["UploadPart"].Requests
			if after["InitiateMultipartUpload"].Requests != 0 {
				t.Errorf("the resume started a new upload")
			}
			// At most the part in flight at the kill is sent again.
			if sent >= parts || before+sent > parts+1 {
				t.Errorf("parts: %d before the kill, %d after; %d in all", before, sent, parts)
			}
			if got := readAll(t, b, key); !bytes.Equal(got, data) {
				t.Fatalf("resumed object: %d bytes differ", len(got))
			}
		})
	}
}

// TestSDKv1Lifecycle sets, reads and deletes a bucket lifecycle with SDK v1
// (V1 and V4), including its overlap option, and sees a rule applied.
func TestSDKv1Lifecycle(t *testing.T) {
	clock := localcloud.NewManualClock(time.Now().UTC())
	cl, err := localcloud.Start(localcloud.Config{DataDir: t.TempDir(), OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0",
		DataClock: clock.Now, LifecycleInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	for _, s := range signings(cl) {
		t.Run(s.name, func(t *testing.T) {
			b := bucketFor(t, cl, rootCreds(cl), s)
			c := b.Client
			// The deprecated Date element: everything under the prefix is due.
			byDate := oss.BuildLifecycleRuleByDate("rule1", s.name+"/one/", true, 2015, 11, 11)
			byDays := oss.BuildLifecycleRuleByDays("rule2", s.name+"/two/", true, 3)
			abort := oss.LifecycleRule{ID: "rule3", Prefix: s.name + "/", Status: "Enabled",
				AbortMultipartUpload: &oss.LifecycleAbortMultipartUpload{Days: 1}}
			if err := c.SetBucketLifecycle(localcloud.DevBucket, []oss.LifecycleRule{byDate, byDays, abort}); err != nil {
				t.Fatal(err)
			}
			res, err := c.GetBucketLifecycle(localcloud.DevBucket)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rules) != 3 || res.Rules[0].ID != "rule1" || res.Rules[0].Expiration.Date != "2015-11-11T00:00:00.000Z" ||
				res.Rules[1].Expiration.Days != 3 || res.Rules[2].AbortMultipartUpload.Days != 1 {
				t.Fatalf("GetBucketLifecycle: %+v", res.Rules)
			}

			key := s.name + "/two/old"
			for _, k := range []string{key, s.name + "/one/x"} {
				if err := b.PutObject(k, strings.NewReader("x")); err != nil {
					t.Fatal(err)
				}
			}
			imur, err := b.InitiateMultipartUpload(s.name + "/upload")
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(5 * 24 * time.Hour)
			rep, err := cl.RunLifecycle(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.ExpiredObjects) != 2 || rep.ExpiredObjects[0].Key != s.name+"/one/x" || rep.ExpiredObjects[1].Key != key ||
				len(rep.AbortedUploads) != 1 || rep.AbortedUploads[0].UploadID != imur.UploadID {
				t.Fatalf("lifecycle run: %+v", rep)
			}
			if ok, err := b.IsObjectExist(key); err != nil || ok {
				t.Fatalf("IsObjectExist(%s) after expiry: %v %v", key, ok, err)
			}

			overlap := []oss.LifecycleRule{byDays, oss.BuildLifecycleRuleByDays("rule4", s.name+"/two/deeper/", true, 5)}
			serviceErr(t, "overlapping prefixes", c.SetBucketLifecycle(localcloud.DevBucket, overlap), http.StatusBadRequest, "InvalidArgument")
			if err := c.SetBucketLifecycle(localcloud.DevBucket, overlap, oss.AllowSameActionOverLap(true)); err != nil {
				t.Fatalf("overlap allowed: %v", err)
			}
			if err := c.DeleteBucketLifecycle(localcloud.DevBucket); err != nil {
				t.Fatal(err)
			}
			_, err = c.GetBucketLifecycle(localcloud.DevBucket)
			serviceErr(t, "GetBucketLifecycle after delete", err, http.StatusNotFound, "NoSuchLifecycle")
		})
	}
}

// TestSDKv1Callback: SDK v1's Callback, CallbackVar and CallbackResult
// options on PutObject and CompleteMultipartUpload (V1 and V4): the callback
// server verifies the signature, its answer reaches the SDK, and a failing
// callback is a 203 CallbackFailed ServiceError with the object stored.
func TestSDKv1Callback(t *testing.T) {
	cl := startCloud(t)
	srv := callbacktest.New()
	defer srv.Close()
	b64 := func(m map[string]string) string {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(buf.Bytes())
	}
	for _, s := range signings(cl) {
		t.Run(s.name, func(t *testing.T) {
			b := bucketFor(t, cl, rootCreds(cl), s)
			srv.SetAnswer(func(r callbacktest.Received) callbacktest.Answer {
				if !r.Verified {
					return callbacktest.Answer{Status: 400, Body: `{}`}
				}
				return callbacktest.Answer{Status: 200, Body: `{"got":"` + string(r.Body) + `"}`}
			})
			before := len(srv.Received())
			cb := oss.Callback(b64(map[string]string{
				"callbackUrl":      srv.URL + "/v1",
				"callbackBody":     "filename=${object}&size=${size}&mimeType=${mimeType}&v=${x:v}",
				"callbackBodyType": "application/x-www-form-urlencoded",
			}))
			vars := oss.CallbackVar(b64(map[string]string{"x:v": s.name}))
			key := "v1cb/" + s.name + "/put.txt"
			var body []byte
			if err := b.PutObject(key, strings.NewReader("hello"), oss.ContentType("text/plain"), cb, vars, oss.CallbackResult(&body)); err != nil {
				t.Fatal(err)
			}
			want := `{"got":"filename=` + url.QueryEscape(key) + `&size=5&mimeType=text%2Fplain&v=` + s.name + `"}`
			if string(body) != want {
				t.Errorf("PutObject callback result %s, want %s", body, want)
			}

			key = "v1cb/" + s.name + "/multi.bin"
			imur, err := b.InitiateMultipartUpload(key)
			if err != nil {
				t.Fatal(err)
			}
			part, err := b.UploadPart(imur, strings.NewReader("part one"), 8, 1)
			if err != nil {
				t.Fatal(err)
			}
			body = nil
			if _, err := b.CompleteMultipartUpload(imur, []oss.UploadPart{part}, cb, vars, oss.CallbackResult(&body)); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(body), "size=8") {
				t.Errorf("Complete callback result %s", body)
			}
			got := srv.Received()[before:]
			if len(got) != 2 || !got[0].Verified || !got[1].Verified {
				t.Fatalf("callbacks received %d, verified: %+v", len(got), got)
			}

			srv.SetAnswer(func(callbacktest.Received) callbacktest.Answer { return callbacktest.Answer{Status: 502, Body: `{}`} })
			key = "v1cb/" + s.name + "/failed.txt"
			err = b.PutObject(key, strings.NewReader("kept"), cb)
			serviceErr(t, "PutObject with a failing callback", err, http.StatusNonAuthoritativeInfo, "CallbackFailed")
			if data := readAll(t, b, key); string(data) != "kept" {
				t.Errorf("object after a failed callback: %q", data)
			}
		})
	}
}
