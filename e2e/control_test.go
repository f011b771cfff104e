package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/chromedp/chromedp"

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
func startSlow(t *testing.T, env map[string]string) (*server.Server, context.Context) {
	t.Helper()
	srv, base := backend(t, env)
	if err := srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: 256 << 10}); err != nil {
		t.Fatal(err)
	}
	ctx := openDemo(t, base)
	path, _ := writeFile(t, t.TempDir(), "slow.bin", 12<<20)
	pickFiles(ctx, t, path)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`(h => h && h.progress.bytesConfirmed >= 1048576)((window.ossupDemo||{handles:[]}).handles[0])`,
		chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("upload never got going: %v", err)
	}
	return srv, ctx
}

// TestCancelLeavesNothing: cancel aborts the requests in flight, aborts the
// multipart upload through the backend and removes the checkpoint.
func TestCancelLeavesNothing(t *testing.T) {
	srv, ctx := startSlow(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20)})
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.ossupDemo.handles[0].cancel().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.ossupDemo.handles[0].state`))
	if state != "canceled" {
		t.Errorf("state after cancel: %q", state)
	}
	if n := openUploads(t, srv); n != 0 {
		t.Fatalf("%d multipart uploads left after cancel", n)
	}
	// No request stays in flight: the server stops receiving bytes.
	waitQuiet(t, srv, "after cancel")
	pending, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.ossupDemo.uploader.pending().then(p => p.length)`, chromedp.EvalAwaitPromise))
	if err != nil || pending != 0 {
		t.Fatalf("checkpoints left after cancel: %d (%v)", pending, err)
	}
}

// TestPauseStopsTraffic: pause aborts the requests in flight (traffic
// stops) and resume finishes the upload.
func TestPauseStopsTraffic(t *testing.T) {
	srv, ctx := startSlow(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20)})
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.ossupDemo.handles[0].pause(), true)`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.ossupDemo.handles[0].state === 'paused'`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("never paused: %v", err)
	}
	waitQuiet(t, srv, "while paused")
	if err := srv.Cloud().Faults.Set(faults.Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.ossupDemo.handles[0].resume(), true)`)); err != nil {
		t.Fatal(err)
	}
	if r := waitResults(ctx, t, 1, time.Minute); len(r) != 1 {
		t.Fatalf("resume did not finish: %v", r)
	}
}

// TestSecondTabCannotDrive: while one tab uploads a file, the same file
// started in a second tab is refused, never raced.
func TestSecondTabCannotDrive(t *testing.T) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20)})
	if err := srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: 256 << 10}); err != nil {
		t.Fatal(err)
	}
	first := openDemo(t, base)
	path, _ := writeFile(t, t.TempDir(), "shared.bin", 8<<20)
	pickFiles(first, t, path)
	if _, err := chromedp.Run(first, chromedp.Poll[bool](`(h => h && h.state === 'uploading')((window.ossupDemo||{handles:[]}).handles[0])`,
		chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		t.Fatal(err)
	}
	// A second tab of the same browser (same profile, same locks).
	second, cancel := chromedp.NewContext(first)
	defer cancel()
	ctx2, cancel2 := within(second, 2*time.Minute)
	defer cancel2()
	if err := chromedp.Do(ctx2, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#engine-status"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx2, chromedp.Poll[bool](`document.getElementById('engine-status').textContent.startsWith('engine ready')`,
		chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		t.Fatal(err)
	}
	pickFiles(ctx2, t, path)
	code, err := chromedp.Run(ctx2, chromedp.Poll[string](`(d => d && d.errors.length ? d.errors[0].code : null)(window.ossupDemo)`,
		chromedp.WithPollingTimeout(30*time.Second)))
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
	srv, base := backend(t, nil)
	ctx := openDemo(t, base)
	dir := t.TempDir()
	var paths []string
	want := map[string][]byte{}
	for i := 0; i < 20; i++ {
		name := "f" + strconv.Itoa(i) + ".txt"
		p, b := writeFile(t, dir, name, 1000+i*4099)
		paths = append(paths, p)
		want[name] = b
	}
	pickFiles(ctx, t, paths...)
	results := waitResults(ctx, t, 20, 2*time.Minute)
	if len(results) != 20 {
		t.Fatalf("%d of 20 finished", len(results))
	}
	for _, r := range results {
		if got := readBack(t, srv, r.Key); string(got) != string(want[r.Name]) {
			t.Fatalf("%s differs", r.Name)
		}
	}
}
