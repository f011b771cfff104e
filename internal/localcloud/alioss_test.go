package localcloud

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/localcloud/callbacktest"
)

// aliOSSVersion is the ali-oss release tests/alioss/package.json pins.
const aliOSSVersion = "6.23.0"

// Sizes of the content the script uploads: the big file makes four 1 MiB
// parts, the last one short.
const (
	aliSmallSize = 1500
	aliBigSize   = 3<<20 + 12345
)

// aliManualParts mirror manualParts in tests/alioss/alioss.mjs: the byte
// ranges of the big file its explicit UploadPart calls send.
var aliManualParts = [][2]int{{0, 262144}, {262144, 462144}}

// aliRun is the JSON line tests/alioss/alioss.mjs prints.
type aliRun struct {
	Version string             `json:"version"`
	Steps   map[string]aliStep `json:"steps"`
}

type aliStep struct {
	Value json.RawMessage `json:"value"`
	Error *aliError       `json:"error"`
}

// aliError is an ali-oss error as the script records it.
type aliError struct {
	Name      string `json:"name"`
	Code      string `json:"code"`
	Status    int    `json:"status"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

// aliEnv is what one run of the script needs.
type aliEnv struct {
	scenario, signature, prefix string
	ak, sk, token               string
	callbackURL                 string
}

// aliContent holds the files the script uploads.
type aliContent struct {
	small, big         []byte
	smallPath, bigPath string
}

func newAliContent(t *testing.T) *aliContent {
	dir := t.TempDir()
	c := &aliContent{
		small: randomBytes(aliSmallSize, 11), big: randomBytes(aliBigSize, 12),
		smallPath: filepath.Join(dir, "small.bin"), bigPath: filepath.Join(dir, "big.bin"),
	}
	for path, b := range map[string][]byte{c.smallPath: c.small, c.bigPath: c.big} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// aliScript locates node and the installed ali-oss. Missing pieces fail
// the test: the compatibility proof must not silently vanish.
func aliScript(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node (>= 20) is not on PATH; install it and run make deps: %v", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatalf("no go.mod above %s", wd)
		}
		root = parent
	}
	dir = filepath.Join(root, "tests", "alioss")
	pkg, err := os.ReadFile(filepath.Join(dir, "node_modules", "ali-oss", "package.json"))
	if err != nil {
		t.Fatalf("ali-oss is not installed in %s; run make deps (npm ci --prefix tests/alioss): %v", dir, err)
	}
	var meta struct{ Version string }
	if err := json.Unmarshal(pkg, &meta); err != nil || meta.Version != aliOSSVersion {
		t.Fatalf("installed ali-oss is %q (err %v), want %s; run make deps", meta.Version, err, aliOSSVersion)
	}
	return node, dir
}

// runAliOSS runs one scenario of the script against cl.
func runAliOSS(t *testing.T, cl *Cloud, content *aliContent, e aliEnv) *aliRun {
	t.Helper()
	node, dir := aliScript(t)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "alioss.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"ALIOSS_SCENARIO="+e.scenario,
		"ALIOSS_ENDPOINT="+cl.OSSEndpoint,
		"ALIOSS_BUCKET="+cl.Config.Bucket,
		"ALIOSS_REGION=oss-"+cl.Config.Region,
		"ALIOSS_SIGNATURE="+e.signature,
		"ALIOSS_AK="+e.ak,
		"ALIOSS_SK="+e.sk,
		"ALIOSS_TOKEN="+e.token,
		"ALIOSS_PREFIX="+e.prefix,
		"ALIOSS_SMALL="+content.smallPath,
		"ALIOSS_BIG="+content.bigPath,
		"ALIOSS_CALLBACK_URL="+e.callbackURL,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node alioss.mjs (%s %s): %v\nstderr:\n%s\nstdout:\n%s", e.scenario, e.signature, err, stderr.String(), stdout.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var run aliRun
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &run); err != nil {
		t.Fatalf("script output is not the JSON result: %v\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if run.Version != aliOSSVersion {
		t.Fatalf("script ran ali-oss %q, want %s", run.Version, aliOSSVersion)
	}
	return &run
}

// value decodes a step that must have succeeded; false means the failure
// has been reported.
func (r *aliRun) value(t *testing.T, step string, v any) bool {
	t.Helper()
	s, ok := r.Steps[step]
	switch {
	case !ok:
		t.Errorf("%s: step missing from the script's output", step)
		return false
	case s.Error != nil:
		t.Errorf("%s: ali-oss failed: %+v", step, *s.Error)
		return false
	}
	if err := json.Unmarshal(s.Value, v); err != nil {
		t.Errorf("%s: decode %s: %v", step, s.Value, err)
		return false
	}
	return true
}

// wantError checks a step whose value is the ali-oss error it expected.
func (r *aliRun) wantError(t *testing.T, step string, status int, code string) {
	t.Helper()
	var e aliError
	if !r.value(t, step, &e) {
		return
	}
	checkAliError(t, step, e, status, code)
}

func checkAliError(t *testing.T, what string, e aliError, status int, code string) {
	t.Helper()
	if e.Status != status || e.Code != code {
		t.Errorf("%s: ali-oss error %d %q (%s: %s), want %d %s", what, e.Status, e.Code, e.Name, e.Message, status, code)
	}
	if e.RequestID == "" {
		t.Errorf("%s: ali-oss error without a request id", what)
	}
}

func aliQuotedMD5(b []byte) string {
	s := md5.Sum(b)
	return `"` + strings.ToUpper(hex.EncodeToString(s[:])) + `"`
}

func aliCRC(b []byte) string { return strconv.FormatUint(crcOf(b), 10) }

func aliSHA(b []byte) string { s := sha(b); return hex.EncodeToString(s[:]) }

// TestAliOSS drives the official ali-oss SDK, unchanged, with both
// signature versions and both kinds of credentials, and reads everything it
// uploaded back with the Go SDK.
func TestAliOSS(t *testing.T) {
	aliScript(t)
	cl := startCloud(t, nil)
	content := newAliContent(t)
	root := rootClient(cl)
	for _, sig := range []string{"v1", "v4"} {
		for _, who := range []string{"root", "sts"} {
			e := aliEnv{scenario: "objects", signature: sig, prefix: "alioss/" + sig + "-" + who + "/",
				ak: cl.Config.AccessKeyID, sk: cl.Config.AccessKeySecret}
			if who == "sts" {
				// Before the parallel subtests: concurrent AssumeRole calls
				// race inside tea v1.3.13's pooled HTTP client.
				c := assumeRole(t, cl, "", 900)
				e.ak, e.sk, e.token = *c.AccessKeyId, *c.AccessKeySecret, *c.SecurityToken
			}
			t.Run(sig+"/"+who, func(t *testing.T) {
				t.Parallel()
				run := runAliOSS(t, cl, content, e)
				checkAliObjects(t, cl, root, content, e.prefix, run)
				checkAliMultipart(t, cl, root, content, e.prefix, run)
				checkAliPresign(t, cl, root, content, e.prefix, run)
			})
		}
	}
}

func checkAliObjects(t *testing.T, cl *Cloud, root *oss.Client, content *aliContent, prefix string, run *aliRun) {
	small := content.small
	var put struct {
		Status    int
		ETag, CRC string
	}
	if run.value(t, "put", &put) && (put.Status != 200 || put.ETag != aliQuotedMD5(small) || put.CRC != aliCRC(small)) {
		t.Errorf("put: %+v, want 200 etag %s crc %s", put, aliQuotedMD5(small), aliCRC(small))
	}
	var get struct {
		Status      int
		SHA256, CRC string
	}
	if run.value(t, "get", &get) && (get.Status != 200 || get.SHA256 != aliSHA(small) || get.CRC != aliCRC(small)) {
		t.Errorf("get: %+v, want the %d bytes put", get, len(small))
	}
	var head struct {
		Status                                            int
		Meta                                              map[string]string
		ContentType, ContentLength, ETag, CRC, ObjectType string
	}
	if run.value(t, "head", &head) {
		if head.Status != 200 || head.Meta["seed"] != "42" || head.ContentType != "text/plain" ||
			head.ContentLength != strconv.Itoa(len(small)) || head.ETag != aliQuotedMD5(small) || head.CRC != aliCRC(small) || head.ObjectType != "Normal" {
			t.Errorf("head: %+v", head)
		}
	}
	got, res := readObject(t, root, cl.Config.Bucket, prefix+"small.txt")
	mustEqual(t, "Go read of ali-oss put", got, small)
	if oss.ToString(res.ContentType) != "text/plain" || res.Metadata["seed"] != "42" || oss.ToString(res.ObjectType) != "Normal" {
		t.Errorf("Go read of ali-oss put: type %q meta %v object type %q", oss.ToString(res.ContentType), res.Metadata, oss.ToString(res.ObjectType))
	}

	for step, key := range map[string]string{"putStreamChunked": "chunked.bin", "putFile": "from-file.bin"} {
		var r struct {
			Status int
			CRC    string
		}
		if run.value(t, step, &r) && (r.Status != 200 || r.CRC != aliCRC(small)) {
			t.Errorf("%s: %+v, want 200 crc %s", step, r, aliCRC(small))
		}
		got, _ := readObject(t, root, cl.Config.Bucket, prefix+key)
		mustEqual(t, "Go read of ali-oss "+step, got, small)
	}

	var del struct{ Status int }
	if run.value(t, "delete", &del) && del.Status != http.StatusNoContent {
		t.Errorf("delete: status %d, want 204", del.Status)
	}
	_, err := root.HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(cl.Config.Bucket), Key: oss.Ptr(prefix + "deleted.txt")})
	serviceError(t, err, http.StatusNotFound, "NoSuchKey")
	run.wantError(t, "headDeleted", http.StatusNotFound, "NoSuchKey")
	run.wantError(t, "getMissing", http.StatusNotFound, "NoSuchKey")
	// Only the x-oss-err header carries this code: a HEAD response has no body.
	run.wantError(t, "headBadSecret", http.StatusForbidden, "SignatureDoesNotMatch")
}

// aliMultipart is what the script records of a multipartUpload call,
// including every value its progress callback received.
type aliMultipart struct {
	Status    int
	ETag, CRC string
	Progress  []float64
}

func checkAliMultipart(t *testing.T, cl *Cloud, root *oss.Client, content *aliContent, prefix string, run *aliRun) {
	big := content.big
	const parts = (aliBigSize + 1<<20 - 1) >> 20
	for step, key := range map[string]string{"multipartUpload1MiB": "mpu-1mib.bin", "multipartUploadDefaults": "mpu-defaults.bin"} {
		var m aliMultipart
		if run.value(t, step, &m) {
			// ali-oss reports 0 after Initiate, i/(parts+1) after each part
			// and 1 after Complete.
			if m.Status != 200 || m.CRC != aliCRC(big) ||
				len(m.Progress) != parts+2 || m.Progress[0] != 0 || m.Progress[len(m.Progress)-1] != 1 || !slices.IsSorted(m.Progress) {
				t.Errorf("%s: %+v, want 200, crc %s and %d progress calls from 0 to 1", step, m, aliCRC(big), parts+2)
			}
		}
		got, res := readObject(t, root, cl.Config.Bucket, prefix+key)
		mustEqual(t, "Go read of ali-oss "+step, got, big)
		if oss.ToString(res.ObjectType) != "Multipart" || oss.ToString(res.HashCRC64) != aliCRC(big) {
			t.Errorf("%s read back: object type %q crc %q", step, oss.ToString(res.ObjectType), oss.ToString(res.HashCRC64))
		}
		checkCompleteETag(t, step, m.ETag, res)
	}

	var rs struct {
		FirstAttempt     string
		UploadID         string `json:"uploadId"`
		PartsAfterCancel []int
		Progress         []struct {
			P    float64
			Done *int
		}
		Status    int
		ETag, CRC string
	}
	if run.value(t, "multipartResume", &rs) {
		var done []int
		for _, p := range rs.Progress {
			if p.Done != nil {
				done = append(done, *p.Done)
			}
		}
		if rs.FirstAttempt != "cancel" || !slices.Equal(rs.PartsAfterCancel, []int{1}) ||
			!slices.Equal(done, []int{2, 3, 4}) || rs.Status != 200 || rs.CRC != aliCRC(big) {
			t.Errorf("multipartResume: %+v (parts done per progress call %v), want cancel after part 1, resume with parts 2-4", rs, done)
		}
	}
	got, res := readObject(t, root, cl.Config.Bucket, prefix+"mpu-resume.bin")
	mustEqual(t, "Go read of the resumed ali-oss upload", got, big)
	checkCompleteETag(t, "multipartResume", rs.ETag, res)

	checkAliManual(t, cl, root, content, prefix, run)

	var ab struct {
		UploadID   string `json:"uploadId"`
		Before     []struct{ Name, UploadID string }
		After      []struct{ Name, UploadID string }
		ListParts  aliError
		UploadPart aliError
	}
	if run.value(t, "multipartAbort", &ab) {
		listed := func(ups []struct{ Name, UploadID string }) bool {
			return slices.ContainsFunc(ups, func(u struct{ Name, UploadID string }) bool {
				return u.Name == prefix+"aborted.bin" && u.UploadID == ab.UploadID
			})
		}
		if !listed(ab.Before) || listed(ab.After) || len(ab.After) != 0 {
			t.Errorf("listUploads before abort %+v, after %+v; want %s only before", ab.Before, ab.After, ab.UploadID)
		}
		checkAliError(t, "listParts after abort", ab.ListParts, http.StatusNotFound, "NoSuchUpload")
		checkAliError(t, "uploadPart after abort", ab.UploadPart, http.StatusNotFound, "NoSuchUpload")
	}
}

func checkAliManual(t *testing.T, cl *Cloud, root *oss.Client, content *aliContent, prefix string, run *aliRun) {
	var want []byte
	for _, r := range aliManualParts {
		want = append(want, content.big[r[0]:r[1]]...)
	}
	type part struct {
		PartNumber, ETag, HashCrc64ecma, Size, LastModified string
	}
	var m struct {
		Init  struct{ Bucket, Name, UploadID string }
		Parts []struct {
			Number    int
			ETag, CRC string
		}
		Page1 struct {
			IsTruncated, NextPartNumberMarker, MaxParts string
			Parts                                       []part
		}
		Page2 struct {
			IsTruncated string
			Parts       []part
		}
		Complete struct {
			Status    int
			ETag, CRC string
		}
		AfterComplete aliError
	}
	if run.value(t, "multipartManual", &m) {
		if m.Init.Bucket != cl.Config.Bucket || m.Init.Name != prefix+"manual.bin" || m.Init.UploadID == "" {
			t.Errorf("initMultipartUpload: %+v", m.Init)
		}
		listed := append(m.Page1.Parts, m.Page2.Parts...)
		if m.Page1.IsTruncated != "true" || m.Page1.NextPartNumberMarker != "1" || m.Page1.MaxParts != "1" ||
			m.Page2.IsTruncated != "false" || len(m.Parts) != len(aliManualParts) || len(listed) != len(aliManualParts) {
			t.Errorf("listParts pages: %+v / %+v, want one part per page", m.Page1, m.Page2)
		} else {
			for i, r := range aliManualParts {
				b := content.big[r[0]:r[1]]
				up, lp := m.Parts[i], listed[i]
				if up.ETag != aliQuotedMD5(b) || up.CRC != aliCRC(b) || lp.PartNumber != strconv.Itoa(i+1) ||
					lp.ETag != up.ETag || lp.HashCrc64ecma != aliCRC(b) || lp.Size != strconv.Itoa(len(b)) || lp.LastModified == "" {
					t.Errorf("part %d: uploadPart %+v, listParts %+v; want etag %s crc %s size %d", i+1, up, lp, aliQuotedMD5(b), aliCRC(b), len(b))
				}
			}
		}
		if m.Complete.Status != 200 || m.Complete.CRC != aliCRC(want) {
			t.Errorf("completeMultipartUpload: %+v, want crc %s", m.Complete, aliCRC(want))
		}
		checkAliError(t, "listParts after complete", m.AfterComplete, http.StatusNotFound, "NoSuchUpload")
	}
	got, res := readObject(t, root, cl.Config.Bucket, prefix+"manual.bin")
	mustEqual(t, "Go read of the ali-oss explicit multipart upload", got, want)
	checkCompleteETag(t, "completeMultipartUpload", m.Complete.ETag, res)
}

// checkCompleteETag compares the etag ali-oss returns from Complete with the
// object's. ali-oss (like oss2) takes it from the response's ETag header,
// not from the XML body.
func checkCompleteETag(t *testing.T, step, aliETag string, res *oss.GetObjectResult) {
	t.Helper()
	if want := oss.ToString(res.ETag); aliETag != want || want == "" {
		t.Errorf("%s: ali-oss result etag %q, want the object's %q (CompleteMultipartUpload must send an ETag header)", step, aliETag, want)
	}
}

type aliFetch struct {
	Status      int
	CRC, SHA256 string
	Body        string
}

func checkAliPresign(t *testing.T, cl *Cloud, root *oss.Client, content *aliContent, prefix string, run *aliRun) {
	for _, c := range []struct {
		step, key, bad string
		body           []byte
	}{
		{"presignV1", "presign-v1.bin", "tampered", content.big[:300000]},
		{"presignV4", "presign-v4.bin", "wrongType", content.big[300000:700000]},
	} {
		var p map[string]json.RawMessage
		if !run.value(t, c.step, &p) {
			continue
		}
		var put, get, bad aliFetch
		for name, v := range map[string]*aliFetch{"put": &put, "get": &get, c.bad: &bad} {
			if err := json.Unmarshal(p[name], v); err != nil {
				t.Errorf("%s.%s: %v", c.step, name, err)
			}
		}
		if put.Status != 200 || put.CRC != aliCRC(c.body) {
			t.Errorf("%s PUT with fetch (%s): %+v", c.step, p["putURL"], put)
		}
		if get.Status != 200 || get.SHA256 != aliSHA(c.body) || get.CRC != aliCRC(c.body) {
			t.Errorf("%s GET with fetch: %+v", c.step, get)
		}
		if bad.Status != http.StatusForbidden || !strings.Contains(bad.Body, "<Code>SignatureDoesNotMatch</Code>") {
			t.Errorf("%s %s request: %+v, want 403 SignatureDoesNotMatch", c.step, c.bad, bad)
		}
		got, res := readObject(t, root, cl.Config.Bucket, prefix+c.key)
		mustEqual(t, "Go read of the "+c.step+" upload", got, c.body)
		if oss.ToString(res.ContentType) != "application/octet-stream" {
			t.Errorf("%s upload stored Content-Type %q", c.step, oss.ToString(res.ContentType))
		}
	}
}

// TestAliOSSDenied shows a session policy for uploads/a/* confining ali-oss:
// writes elsewhere are refused with AccessDenied, and nothing is stored.
func TestAliOSSDenied(t *testing.T) {
	aliScript(t)
	cl := startCloud(t, nil)
	content := newAliContent(t)
	root := rootClient(cl)
	policy := fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:PutObject","oss:GetObject","oss:AbortMultipartUpload","oss:ListParts"],"Resource":["acs:oss:*:*:%s/uploads/a/*"]}]}`, cl.Config.Bucket)
	for _, sig := range []string{"v1", "v4"} {
		t.Run(sig, func(t *testing.T) {
			c := assumeRole(t, cl, policy, 900)
			run := runAliOSS(t, cl, content, aliEnv{scenario: "deny", signature: sig, prefix: "uploads/",
				ak: *c.AccessKeyId, sk: *c.AccessKeySecret, token: *c.SecurityToken})
			var ok struct {
				Status int
				CRC    string
			}
			if run.value(t, "allowedPut", &ok) && (ok.Status != 200 || ok.CRC != aliCRC(content.small)) {
				t.Errorf("put inside the policy: %+v", ok)
			}
			got, _ := readObject(t, root, cl.Config.Bucket, "uploads/a/ok.txt")
			mustEqual(t, "Go read of the allowed put", got, content.small)
			run.wantError(t, "deniedPut", http.StatusForbidden, "AccessDenied")
			// HEAD has no body: ali-oss takes the code from x-oss-err.
			run.wantError(t, "deniedHead", http.StatusForbidden, "AccessDenied")
			run.wantError(t, "deniedMultipart", http.StatusForbidden, "AccessDenied")
			for _, key := range []string{"uploads/b/x", "uploads/b/big.bin"} {
				_, err := root.HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(cl.Config.Bucket), Key: oss.Ptr(key)})
				serviceError(t, err, http.StatusNotFound, "NoSuchKey")
			}
			ups, err := root.ListMultipartUploads(context.Background(), &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(cl.Config.Bucket), Prefix: oss.Ptr("uploads/")})
			if err != nil {
				t.Fatal(err)
			}
			if len(ups.Uploads) != 0 {
				t.Errorf("denied multipartUpload left %d uploads", len(ups.Uploads))
			}
		})
	}
}

// TestAliOSSCallback: ali-oss's callback option on put and multipartUpload,
// V1 and V4: the callback server verifies the signature, its answer is
// ali-oss's result.data, and a failing callback is thrown as a 203
// CallbackFailed with the object kept.
func TestAliOSSCallback(t *testing.T) {
	aliScript(t)
	cl := startCloud(t, nil)
	content := newAliContent(t)
	root := rootClient(cl)
	srv := callbacktest.New()
	defer srv.Close()
	srv.SetAnswer(func(r callbacktest.Received) callbacktest.Answer {
		if r.Path == "/fail" || !r.Verified {
			return callbacktest.Answer{Status: http.StatusInternalServerError, Body: `{}`}
		}
		b, _ := json.Marshal(map[string]string{"path": r.Path, "type": r.ContentType, "body": string(r.Body)})
		return callbacktest.Answer{Status: http.StatusOK, Body: string(b)}
	})
	for _, sig := range []string{"v1", "v4"} {
		t.Run(sig, func(t *testing.T) {
			prefix := "alicb/" + sig + "/"
			run := runAliOSS(t, cl, content, aliEnv{scenario: "callback", signature: sig, prefix: prefix,
				ak: cl.Config.AccessKeyID, sk: cl.Config.AccessKeySecret, callbackURL: srv.URL})
			type answer struct {
				Status int
				Data   struct{ Path, Type, Body string }
			}
			var put, multi answer
			wantPut := "object=" + url.QueryEscape(prefix+"cb-put.bin") + "&size=" + strconv.Itoa(aliSmallSize) + "&v=ali+oss"
			if run.value(t, "putCallback", &put) && (put.Status != 200 || put.Data.Path != "/put" || put.Data.Body != wantPut) {
				t.Errorf("put with a callback: %+v, want body %s", put, wantPut)
			}
			wantMulti := `{"object":"` + prefix + `cb-big.bin","size":` + strconv.Itoa(aliBigSize) + `}`
			if run.value(t, "multipartCallback", &multi) && (multi.Status != 200 || multi.Data.Type != "application/json" || multi.Data.Body != wantMulti) {
				t.Errorf("multipartUpload with a callback: %+v, want body %s", multi, wantMulti)
			}
			run.wantError(t, "failedCallback", http.StatusNonAuthoritativeInfo, "CallbackFailed")
			got, _ := readObject(t, root, cl.Config.Bucket, prefix+"cb-fail.bin")
			mustEqual(t, "object kept after a failed callback", got, content.small)
			big, _ := readObject(t, root, cl.Config.Bucket, prefix+"cb-big.bin")
			mustEqual(t, "multipart object with a callback", big, content.big)
		})
	}
	for _, r := range srv.Received() {
		if !r.Verified {
			t.Errorf("a callback to %s did not verify: %v", r.Path, r.VerifyErr)
		}
	}
}
