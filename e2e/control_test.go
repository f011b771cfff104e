package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud/faults"
	"github.com/ossup/ossup/server"
)

// openUploads lists the multipart uploads left in the dev bucket.
func openUploads(t testing.TB, srv *server.Server) int {
	t.Helper()
	cl := srv.Cloud()
	c := oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
	res, err := c.ListMultipartUploads(context.Background(), &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(cl.Config.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Uploads)
}

func uploadPartBytes(srv *server.Server) int64 {
	return srv.Cloud().OSS.Stats().Snapshot()["UploadPart"].BytesIn
}

// waitQuiet waits until the server stops receiving UploadPart bytes (bodies
// of aborted requests already in its socket buffers drain at the throttled
// rate first), then checks that no new traffic starts.
func waitQuiet(t *testing.T, srv *server.Server, what string) {
	t.Helper()
	settled := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		before := uploadPartBytes(srv)
		time.Sleep(1500 * time.Millisecond)
		if uploadPartBytes(srv) == before {
			settled = true
			break
		}
	}
	if !settled {
		t.Fatalf("bytes kept arriving %s", what)
	}
	before := uploadPartBytes(srv)
	time.Sleep(2 * time.Second)
	if after := uploadPartBytes(srv); after != before {
		t.Fatalf("traffic started again %s: %d then %d", what, before, after)
	}
}

// startSlow picks a 12 MiB file on a throttled link and waits until parts
// are moving.
func startSlow(t *testing.T, e browser.Engine, env map[string]string) (*server.Server, *tab) {
	t.Helper()
	srv, base := backend(t, env)
	if err := srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: 256 << 10}); err != nil {
		t.Fatal(err)
	}
	pg := openDemo(t, e, base)
	path, _ := writeFile(t, t.TempDir(), "slow.bin", 12<<20)
	pickFiles(pg, t, path)
	if _, err := pollAs[bool](pg, `(h => h && h.progress.bytesConfirmed >= 1048576)((window.ossupDemo||{handles:[]}).handles[0])`, 60*time.Second); err != nil {
		t.Fatalf("upload never got going: %v", err)
	}
	return srv, pg
}

// TestCancelLeavesNothing: cancel aborts the requests in flight, aborts the
// multipart upload through the backend and removes the checkpoint.
func TestCancelLeavesNothing(t *testing.T) {
	inEngines(t, browser.Engines, testCancelLeavesNothing)
}

func testCancelLeavesNothing(t *testing.T, e browser.Engine) {
	srv, pg := startSlow(t, e, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20)})
	if _, err := evalAs[bool](pg, `window.ossupDemo.handles[0].cancel().then(() => true)`); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	state, _ := evalAs[string](pg, `window.ossupDemo.handles[0].state`)
	if state != "canceled" {
		t.Errorf("state after cancel: %q", state)
	}
	if n := openUploads(t, srv); n != 0 {
		t.Fatalf("%d multipart uploads left after cancel", n)
	}
	// No request stays in flight: the server stops receiving bytes.
	waitQuiet(t, srv, "after cancel")
	pending, err := evalAs[int](pg, `window.ossupDemo.uploader.pending().then(p => p.length)`)
	if err != nil || pending != 0 {
		t.Fatalf("checkpoints left after cancel: %d (%v)", pending, err)
	}
}

// TestPauseStopsTraffic: pause aborts the requests in flight (traffic
// stops) and resume finishes the upload.
func TestPauseStopsTraffic(t *testing.T) {
	inEngines(t, browser.Engines, testPauseStopsTraffic)
}

func testPauseStopsTraffic(t *testing.T, e browser.Engine) {
	srv, pg := startSlow(t, e, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20)})
	if _, err := evalAs[bool](pg, `(window.ossupDemo.handles[0].pause(), true)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pollAs[bool](pg, `window.ossupDemo.handles[0].state === 'paused'`, 10*time.Second); err != nil {
		t.Fatalf("never paused: %v", err)
	}
	waitQuiet(t, srv, "while paused")
	if err := srv.Cloud().Faults.Set(faults.Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := evalAs[bool](pg, `(window.ossupDemo.handles[0].resume(), true)`); err != nil {
		t.Fatal(err)
	}
	if r := waitResults(pg, t, 1, time.Minute); len(r) != 1 {
		t.Fatalf("resume did not finish: %v", r)
	}
}

// TestSecondTabCannotDrive: while one tab uploads a file, the same file
// started in a second tab is refused, never raced.
func TestSecondTabCannotDrive(t *testing.T) {
	inEngines(t, browser.Engines, testSecondTabCannotDrive)
}

func testSecondTabCannotDrive(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20)})
	if err := srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: 256 << 10}); err != nil {
		t.Fatal(err)
	}
	first := openDemo(t, e, base)
	path, _ := writeFile(t, t.TempDir(), "shared.bin", 8<<20)
	pickFiles(first, t, path)
	if _, err := pollAs[bool](first, `(h => h && h.state === 'uploading')((window.ossupDemo||{handles:[]}).handles[0])`, 45*time.Second); err != nil {
		t.Fatal(err)
	}
	// A second tab of the same browser (same profile, same locks).
	second := first.newTab()
	if err := second.navigate(base + labPage); err != nil {
		t.Fatal(err)
	}
	if _, err := pollAs[bool](second, `document.getElementById('engine-status').textContent.startsWith('engine ready')`, 45*time.Second); err != nil {
		t.Fatal(err)
	}
	pickFiles(second, t, path)
	code, err := pollAs[string](second, `(d => d && d.errors.length ? d.errors[0].code : null)(window.ossupDemo)`, 30*time.Second)
	if err != nil || code != "locked" {
		t.Fatalf("second tab: error code %q (%v), want locked", code, err)
	}
	// The first tab is unaffected and finishes.
	if err := srv.Cloud().Faults.Set(faults.Config{}); err != nil {
		t.Fatal(err)
	}
	if r := waitResults(first, t, 1, time.Minute); len(r) != 1 {
		t.Fatalf("first tab did not finish: %v", r)
	}
}

// TestQueueOfTwentyFiles uploads twenty small files picked at once.
func TestQueueOfTwentyFiles(t *testing.T) {
	inEngines(t, chromiumOnly, testQueueOfTwentyFiles)
}

func testQueueOfTwentyFiles(t *testing.T, e browser.Engine) {
	srv, base := backend(t, nil)
	pg := openDemo(t, e, base)
	dir := t.TempDir()
	var paths []string
	want := map[string][]byte{}
	for i := 0; i < 20; i++ {
		name := "f" + strconv.Itoa(i) + ".txt"
		p, b := writeFile(t, dir, name, 1000+i*4099)
		paths = append(paths, p)
		want[name] = b
	}
	pickFiles(pg, t, paths...)
	results := waitResults(pg, t, 20, 2*time.Minute)
	if len(results) != 20 {
		t.Fatalf("%d of 20 finished", len(results))
	}
	for _, r := range results {
		if got := readBack(t, srv, r.Key); string(got) != string(want[r.Name]) {
			t.Fatalf("%s differs", r.Name)
		}
	}
}
