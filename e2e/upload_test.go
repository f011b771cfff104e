package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/server"
)

type pageResult struct {
	ID, Name, Bucket, Key, CRC64, ETag string
	Size                               int64
}

// writeFile writes n reproducible pseudo-random bytes to dir/name.
func writeFile(t testing.TB, dir, name string, n int) (string, []byte) {
	t.Helper()
	b := make([]byte, n)
	x := uint64(len(name)*7919 + n)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

// readBack fetches an object with the local cloud's account keys.
func readBack(t testing.TB, srv *server.Server, key string) []byte {
	t.Helper()
	cl := srv.Cloud()
	c := oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
	res, err := c.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(cl.Config.Bucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatalf("read back %s: %v", key, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pickFiles gives the page's file input real files from disk, as a person
// picking them would.
func pickFiles(pg *tab, t testing.TB, paths ...string) {
	t.Helper()
	if err := pg.p.SetFiles(pg.ctx, "#files", paths...); err != nil {
		t.Fatalf("pick files: %v", err)
	}
}

// waitResults polls window.ossupDemo until n uploads finished or one failed.
func waitResults(pg *tab, t testing.TB, n int, timeout time.Duration) []pageResult {
	t.Helper()
	raw, err := pollAs[string](pg, `(d => d && (d.errors.length || d.results.length >= `+strconv.Itoa(n)+`) ? JSON.stringify(d) : null)(window.ossupDemo)`, timeout)
	if err != nil {
		t.Fatalf("uploads did not finish: %v", err)
	}
	var d struct {
		Results []pageResult
		Errors  []map[string]any
	}
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Errors) > 0 {
		t.Fatalf("upload failed in the page: %v", d.Errors)
	}
	return d.Results
}

// openDemo opens the demo page in a new browser of engine e and waits for
// the engine to be ready. The test's page steps share a 4 min deadline.
// labPage is the page most browser tests drive: web/lab.html, the page
// module's plain API with a file input (#files) and window.ossupDemo. The
// page a user sees at / is the widget (web/index.html).
const labPage = "/lab.html"

func openDemo(t testing.TB, e browser.Engine, base string) *tab {
	t.Helper()
	return openDemoWith(t, e, base, browser.Options{})
}

func openDemoWith(t testing.TB, e browser.Engine, base string, opts browser.Options) *tab {
	t.Helper()
	pg := launch(t, e, opts, 4*time.Minute)
	if err := pg.navigate(base + labPage); err != nil {
		t.Fatal(err)
	}
	if _, err := pollAs[bool](pg, `document.getElementById('engine-status').textContent.startsWith('engine ready')`, 45*time.Second); err != nil {
		t.Fatalf("engine not ready: %v", err)
	}
	return pg
}

// TestUploadFromPage uploads files picked in the demo page through the wasm
// engine (Blob-slice parts over XHR, signed V4 with STS credentials from the
// backend) and reads them back from the local OSS byte for byte.
func TestUploadFromPage(t *testing.T) {
	inEngines(t, browser.Engines, testUploadFromPage)
}

func testUploadFromPage(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20)})
	pg := openDemo(t, e, base)
	dir := t.TempDir()
	sizes := map[string]int{"empty.bin": 0, "one.bin": 1, "small.bin": 100*1000 - 1, "multi.bin": 3<<20 + 12345}
	var paths []string
	want := map[string][]byte{}
	for name, n := range sizes {
		p, b := writeFile(t, dir, name, n)
		paths = append(paths, p)
		want[name] = b
	}
	pickFiles(pg, t, paths...)
	results := waitResults(pg, t, len(paths), 2*time.Minute)
	if len(results) != len(paths) {
		t.Fatalf("%d results for %d files", len(results), len(paths))
	}
	table := crc64.MakeTable(crc64.ECMA)
	for _, r := range results {
		got := readBack(t, srv, r.Key)
		exp := want[r.Name]
		if sha256.Sum256(got) != sha256.Sum256(exp) {
			t.Errorf("%s: stored bytes differ (%d stored, %d sent)", r.Name, len(got), len(exp))
		}
		if r.CRC64 != strconv.FormatUint(crc64.Checksum(exp, table), 10) || r.Size != int64(len(exp)) {
			t.Errorf("%s: page reported size %d crc %s", r.Name, r.Size, r.CRC64)
		}
	}
}
