package ossutil

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/internal/localcloud/faults"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// ossutilBinary builds ossutil 1.7.19 from tool/go.mod into a temp dir
// (once per test binary; the Go build cache makes later runs quick).
func ossutilBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ossup-ossutil-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "ossutil")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", binary, "github.com/aliyun/ossutil")
		cmd.Dir = "tool"
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build ossutil 1.7.19: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// tool runs ossutil against the local OSS with one signature version.
type tool struct {
	t       testing.TB
	bin     string
	cl      *localcloud.Cloud
	cfgFile string
	sign    string // "v1" or "v4"
}

func newTool(t testing.TB, cl *localcloud.Cloud, sign string) *tool {
	return &tool{t: t, bin: ossutilBinary(t), cl: cl, cfgFile: filepath.Join(t.TempDir(), "ossutilconfig"), sign: sign}
}

func (u *tool) args(args ...string) []string {
	common := []string{"-e", u.cl.OSSEndpoint, "-i", u.cl.Config.AccessKeyID, "-k", u.cl.Config.AccessKeySecret,
		"-c", u.cfgFile}
	if u.sign == "v4" {
		common = append(common, "--sign-version", "v4", "--region", u.cl.Config.Region)
	}
	return append(args, common...)
}

func (u *tool) command(args ...string) *exec.Cmd {
	cmd := exec.Command(u.bin, u.args(args...)...)
	cmd.Dir = u.t.TempDir()
	return cmd
}

// run runs ossutil and fails the test unless it succeeds.
func (u *tool) run(args ...string) string {
	u.t.Helper()
	out, err := u.command(args...).CombinedOutput()
	if err != nil {
		u.t.Fatalf("ossutil %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func startCloud(t testing.TB) *localcloud.Cloud {
	t.Helper()
	cl, err := localcloud.Start(localcloud.Config{DataDir: t.TempDir(), OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func sdk(cl *localcloud.Cloud) *oss.Client {
	return oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
}

func object(t testing.TB, cl *localcloud.Cloud, key string) ([]byte, error) {
	res, err := sdk(cl).GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(localcloud.DevBucket), Key: oss.Ptr(key)})
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	return io.ReadAll(res.Body)
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*13 + i/1000)
	}
	return b
}

const bucketURL = "oss://" + localcloud.DevBucket

// TestOssutil runs the everyday commands with V1 and --sign-version v4.
func TestOssutil(t *testing.T) {
	cl := startCloud(t)
	for _, sign := range []string{"v1", "v4"} {
		t.Run(sign, func(t *testing.T) {
			u := newTool(t, cl, sign)
			p := sign + "/"
			dir := t.TempDir()
			small := filepath.Join(dir, "small.txt")
			os.WriteFile(small, []byte("hello ossutil "+sign), 0o600)

			u.run("cp", small, bucketURL+"/"+p+"small.txt")
			if got := u.run("cat", bucketURL+"/"+p+"small.txt"); !strings.Contains(got, "hello ossutil "+sign) {
				t.Fatalf("cat: %q", got)
			}
			// stat, object and bucket.
			if got := u.run("stat", bucketURL+"/"+p+"small.txt"); !strings.Contains(got, "Content-Length") || !strings.Contains(got, "ACL") {
				t.Fatalf("stat object: %s", got)
			}
			if got := u.run("stat", bucketURL); !strings.Contains(got, localcloud.DevBucket) || !strings.Contains(got, "oss-"+cl.Config.Region) {
				t.Fatalf("stat bucket: %s", got)
			}
			// cp -r and ls.
			tree := filepath.Join(dir, "tree")
			os.MkdirAll(filepath.Join(tree, "sub"), 0o700)
			os.WriteFile(filepath.Join(tree, "a.txt"), []byte("a"), 0o600)
			os.WriteFile(filepath.Join(tree, "sub", "b.txt"), []byte("bb"), 0o600)
			u.run("cp", "-r", tree, bucketURL+"/"+p+"tree/")
			ls := u.run("ls", bucketURL+"/"+p+"tree/")
			// cp -r also makes a directory object for sub/, as on OSS.
			for _, k := range []string{p + "tree/a.txt", p + "tree/sub/", p + "tree/sub/b.txt", "Object Number is: 3"} {
				if !strings.Contains(ls, k) {
					t.Fatalf("ls lacks %q:\n%s", k, ls)
				}
			}
			// cp oss:// oss://.
			u.run("cp", bucketURL+"/"+p+"small.txt", bucketURL+"/"+p+"copied.txt")
			if got, err := object(t, cl, p+"copied.txt"); err != nil || string(got) != "hello ossutil "+sign {
				t.Fatalf("server-side copy: %q %v", got, err)
			}
			// sign: a presigned URL that works.
			out := u.run("sign", bucketURL+"/"+p+"small.txt", "--timeout", "60")
			m := regexp.MustCompile(`https?://\S+`).FindString(out)
			resp, err := http.Get(m)
			if err != nil {
				t.Fatalf("signed URL %q: %v", m, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "hello ossutil "+sign {
				t.Fatalf("signed URL: %d %q", resp.StatusCode, body)
			}
			// ls -m and rm -m: an upload in progress, listed then removed.
			init, err := sdk(cl).InitiateMultipartUpload(context.Background(), &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(localcloud.DevBucket), Key: oss.Ptr(p + "pending.bin")})
			if err != nil {
				t.Fatal(err)
			}
			if got := u.run("ls", "-m", bucketURL+"/"+p); !strings.Contains(got, *init.UploadId) {
				t.Fatalf("ls -m lacks the upload:\n%s", got)
			}
			u.run("rm", "-m", bucketURL+"/"+p+"pending.bin", "-f")
			if got := u.run("ls", "-m", bucketURL+"/"+p); strings.Contains(got, *init.UploadId) {
				t.Fatalf("upload still listed after rm -m:\n%s", got)
			}
			// rm.
			u.run("rm", bucketURL+"/"+p+"small.txt", "-f")
			if _, err := object(t, cl, p+"small.txt"); err == nil {
				t.Fatal("rm left the object")
			}
		})
	}
}

// TestOssutilResume: cp up with a checkpoint dir, killed (SIGKILL) at about
// half of its parts, then resumed: only the missing parts are sent; then cp
// down with a checkpoint dir.
func TestOssutilResume(t *testing.T) {
	cl := startCloud(t)
	const parts = 10
	data := pattern(parts * 100 << 10)
	for _, sign := range []string{"v1", "v4"} {
		t.Run(sign, func(t *testing.T) {
			u := newTool(t, cl, sign)
			dir := t.TempDir()
			file := filepath.Join(dir, "big.bin")
			os.WriteFile(file, data, 0o600)
			cp := filepath.Join(dir, "cp")
			key := bucketURL + "/resume/" + sign + ".bin"
			big := []string{"--bigfile-threshold", "204800", "--part-size", "102400", "--parallel", "1", "--checkpoint-dir", cp}

			if err := cl.Faults.Set(faults.Config{Rules: []faults.Rule{{Op: "UploadPart", StallRate: 1, Stall: faults.Duration(150 * time.Millisecond)}}}); err != nil {
				t.Fatal(err)
			}
			cl.OSS.Stats().Reset()
			cmd := u.command(append([]string{"cp", file, key}, big...)...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for cl.OSS.Stats().Snapshot()["UploadPart"].Requests < parts/2 {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("the first cp never reached half:\n%s", out.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond) // mid-part, not mid-checkpoint-write
			cmd.Process.Kill()
			cmd.Wait()
			before := cl.OSS.Stats().Snapshot()["UploadPart"].Requests
			cl.Faults.Set(faults.Config{})
			cl.OSS.Stats().Reset()
			u.run(append([]string{"cp", file, key, "-f"}, big...)...)
			after := cl.OSS.Stats().Snapshot()
			if after["InitiateMultipartUpload"].Requests != 0 {
				t.Errorf("the resumed cp started a new upload")
			}
			if sent := after["UploadPart"].Requests; sent >= parts || before+sent > parts+1 {
				t.Errorf("parts: %d before the kill, %d after; %d in all", before, sent, parts)
			}
			got, err := object(t, cl, "resume/"+sign+".bin")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("uploaded object: %d bytes, %v", len(got), err)
			}
			// cp down with a checkpoint dir, in ranges.
			down := filepath.Join(dir, "down.bin")
			u.run(append([]string{"cp", key, down}, big...)...)
			if got, _ := os.ReadFile(down); !bytes.Equal(got, data) {
				t.Fatalf("downloaded %d bytes differ", len(got))
			}
		})
	}
}
