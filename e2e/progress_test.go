package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud/faults"
	"github.com/ossup/ossup/server"
)

// progressSampleJS reads what the page shows for its first upload: the
// handle's state and confirmed bytes, and the width of its bar.
const progressSampleJS = `(() => {
  const h = (window.ossupDemo || { handles: [] }).handles[0];
  if (!h) return '';
  const bar = document.querySelector('#uploads li .bar>div');
  return JSON.stringify({ state: h.state, confirmed: h.progress.bytesConfirmed,
    bar: bar ? bar.style.width : '', key: (h.progress.result || {}).key || '' });
})()`

type progressSample struct {
	State     string  `json:"state"`
	Confirmed float64 `json:"confirmed"`
	Bar       string  `json:"bar"`
	Key       string  `json:"key"`
}

// uploadKey is the key of the (only) multipart upload in progress, or "".
func uploadKey(t testing.TB, srv *server.Server) string {
	t.Helper()
	res, err := rootOSS(srv).ListMultipartUploads(context.Background(), &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(srv.Cloud().Config.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Uploads) == 0 {
		return ""
	}
	return oss.ToString(res.Uploads[0].Key)
}

// objectExists reports whether HeadObject finds key.
func objectExists(t testing.TB, srv *server.Server, key string) bool {
	t.Helper()
	if key == "" {
		return false
	}
	_, err := rootOSS(srv).HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(srv.Cloud().Config.Bucket), Key: oss.Ptr(key)})
	var se *oss.ServiceError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// TestProgressIsReal samples, every 100 ms during a throttled multipart
// upload, what the page shows and what the local OSS received: the page
// never confirms bytes the server has not received (in UploadPart requests
// it finished), its progress events keep coming while bytes move (no gap
// over four progress intervals, where parts of 1 MiB at 256 KiB/s shared
// by four take seconds each, so progress that moved only per part fails), a distinct completing state comes before done, and the bar reaches
// 100 % only once the object exists.
func TestProgressIsReal(t *testing.T) {
	inEngines(t, browser.Engines, testProgressIsReal)
}

// maxProgressGap is four progress intervals (250 ms each). It was two, and
// WebKit under CI load took 523 ms for its first tick once: the assertion
// is about progress that comes per part (seconds apart here), not about
// the ticker's jitter on a loaded machine.
const maxProgressGap = 1000

func testProgressIsReal(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20), "OSSUP_CONCURRENCY": "4"})
	if err := srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: 256 << 10}); err != nil {
		t.Fatal(err)
	}
	pg := openDemo(t, e, base)
	instrument(pg, t)
	startHeartbeat(pg, t)
	path, data := writeFile(t, t.TempDir(), "progress.bin", 6<<20+1234)
	pickFiles(pg, t, path)

	var (
		samples   int
		last      progressSample
		prev      float64
		sawMiddle bool   // a sample with some, not all, bytes confirmed
		key       string // the object's key, from ListMultipartUploads
	)
	deadline := time.Now().Add(2 * time.Minute)
	for ; ; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("upload did not finish; last sample %+v", last)
		}
		raw, err := evalAs[string](pg, progressSampleJS)
		if err != nil {
			t.Fatal(err)
		}
		if raw == "" {
			continue
		}
		var s progressSample
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			t.Fatal(err)
		}
		// Read the server after the page: its counters only grow, so a
		// page value above them was above them when the page showed it.
		received := uploadPartBytes(srv)
		if key == "" {
			key = uploadKey(t, srv)
		}
		if key == "" {
			key = s.Key
		}
		exists := objectExists(t, srv, key)
		samples++
		last = s
		if s.Confirmed > float64(received) {
			t.Fatalf("the page confirms %.0f bytes, the server has received %d in finished UploadParts", s.Confirmed, received)
		}
		if s.Confirmed < prev {
			t.Fatalf("confirmed bytes went back from %.0f to %.0f", prev, s.Confirmed)
		}
		prev = s.Confirmed
		if s.Confirmed > 0 && s.Confirmed < float64(len(data)) {
			sawMiddle = true
		}
		if s.State != "done" && s.Bar == "100%" {
			t.Fatalf("the bar shows 100%% in state %s", s.State)
		}
		if (s.State == "done" || s.Bar == "100%") && !exists {
			t.Fatalf("the page shows done (bar %s) but the object does not exist", s.Bar)
		}
		if s.State == "failed" {
			t.Fatalf("upload failed: %v", pageErrors(pg, t))
		}
		if s.State == "done" {
			if s.Key != key {
				t.Fatalf("the page reports key %q, the multipart upload was for %q", s.Key, key)
			}
			break
		}
	}
	if !sawMiddle {
		t.Fatalf("in %d samples the page never showed partial progress", samples)
	}
	results := waitResults(pg, t, 1, time.Minute)
	unthrottle(t, srv)
	checkStored(t, srv, results[0], data)

	var states []string
	var ticks []recEvent // progress events before completing
	var sending bool
	for _, ev := range recorded(pg, t) {
		switch ev.Type {
		case "state":
			states = append(states, ev.State)
		case "progress":
			if !contains(states, "completing") {
				ticks = append(ticks, ev)
			}
			sending = sending || ev.BytesSending > 0
		}
	}
	t.Logf("%d samples; states %v; %d progress events while uploading", samples, states, len(ticks))
	ci, di := index(states, "completing"), index(states, "done")
	if ci < 0 || di < 0 || ci > di {
		t.Fatalf("states %v: want completing before done", states)
	}
	if len(ticks) < 10 {
		t.Fatalf("only %d progress events during a multi-second upload", len(ticks))
	}
	st := stalls(pg, t)
	var maxGap float64
	var gaps []int
	for i := 1; i < len(ticks); i++ {
		a, b := ticks[i-1].T, ticks[i].T
		gaps = append(gaps, int(b-a))
		if b-a > maxProgressGap && starved(st, a, b) {
			t.Logf("a %.0f ms gap between progress events is not counted: the machine starved the browser of CPU around it (the heartbeat paused)", b-a)
			continue
		}
		maxGap = max(maxGap, b-a)
	}
	t.Logf("longest gap between progress events: %.0f ms (%d heartbeat pauses)", maxGap, len(st))
	if maxGap > maxProgressGap {
		t.Fatalf("%.0f ms without a progress event while bytes were moving (gaps in ms: %v)", maxGap, gaps)
	}
	if !sending {
		t.Fatal("no progress event reported bytes in flight: progress only moved per part")
	}
}

// heartbeatJS starts a tiny worker that ticks every 10 ms and reports, in
// the page's clock, every pause of over 60 ms between its ticks. A thread
// that does nothing pauses only when the machine starves the browser of
// CPU (other processes), which stretches any timing measured near it.
const heartbeatJS = `(() => {
  window.ossupStalls = [];
  const src = 'let last = performance.timeOrigin + performance.now();' +
    'setInterval(() => { const now = performance.timeOrigin + performance.now();' +
    ' if (now - last > 60) postMessage([last, now]); last = now; }, 10);';
  const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
  w.onmessage = (e) => window.ossupStalls.push([e.data[0] - performance.timeOrigin, e.data[1] - performance.timeOrigin]);
  window.ossupHeartbeat = w;
  return true;
})()`

// startHeartbeat installs the starvation detector of heartbeatJS.
func startHeartbeat(pg *tab, t testing.TB) {
	t.Helper()
	if _, err := evalAs[bool](pg, heartbeatJS); err != nil {
		t.Fatalf("start the heartbeat worker: %v", err)
	}
}

// stalls returns the heartbeat's pauses so far, as [from, to] in the
// page's clock (ms).
func stalls(pg *tab, t testing.TB) [][2]float64 {
	t.Helper()
	raw, err := evalAs[string](pg, `JSON.stringify(window.ossupStalls)`)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]float64
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// starved reports whether the browser was starved of CPU between from and
// to (page clock, ms), or within half a second of it: a time measured over
// that span says nothing about our code. On a machine with CPU to spare
// the heartbeat never pauses and every measurement counts.
func starved(st [][2]float64, from, to float64) bool {
	const margin = 500
	for _, s := range st {
		if s[0] < to+margin && s[1] > from-margin {
			return true
		}
	}
	return false
}

func index(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func contains(list []string, s string) bool { return index(list, s) >= 0 }

// TestPageResponsiveDuringLargeUpload uploads 64 MiB in 1 MiB parts (many
// parts) while a PerformanceObserver in the page records main-thread long
// tasks: the engine works in its worker, so none lasts over 100 ms. The
// object is read back and compared by SHA-256 and CRC-64.
func TestPageResponsiveDuringLargeUpload(t *testing.T) {
	inEngines(t, chromiumOnly, testPageResponsiveDuringLargeUpload)
}

func testPageResponsiveDuringLargeUpload(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20)})
	pg := openDemo(t, e, base)
	const observe = `(() => {
  window.ossupLong = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.ossupLong.push({ start: e.startTime, duration: e.duration,
      what: JSON.stringify((e.attribution || []).map(a => [a.name, a.containerType, a.containerSrc, a.containerName])) });
  }).observe({ type: 'longtask' });
  return true;
})()`
	if _, err := evalAs[bool](pg, observe); err != nil {
		t.Fatal(err)
	}
	// The observer must see a long task when there is one, or the test
	// below could never fail. (A task DevTools runs through
	// Runtime.evaluate is not reported, so the busy loop is a timer task
	// of the page.)
	if _, err := evalAs[bool](pg, `(setTimeout(() => { const end = performance.now() + 150; while (performance.now() < end); }, 0), true)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pollAs[bool](pg, `window.ossupLong.some(e => e.duration >= 140)`, 10*time.Second); err != nil {
		t.Fatalf("the long-task observer did not see a 150 ms busy loop: %v", err)
	}
	startHeartbeat(pg, t)
	start := pageNow(pg, t)

	path, data := writeFile(t, t.TempDir(), "large.bin", 64<<20)
	pickFiles(pg, t, path)
	results := waitResults(pg, t, 1, 2*time.Minute)
	end := pageNow(pg, t)
	raw, err := evalAs[string](pg, `JSON.stringify(window.ossupLong)`)
	if err != nil {
		t.Fatal(err)
	}
	var long []struct {
		Start, Duration float64
		What            string
	}
	if err := json.Unmarshal([]byte(raw), &long); err != nil {
		t.Fatal(err)
	}
	st := stalls(pg, t)
	var n int
	var worst float64
	for _, e := range long {
		if e.Start < start {
			continue
		}
		n++
		t.Logf("long task at +%.0f ms: %.0f ms %s", e.Start-start, e.Duration, e.What)
		if e.Duration > 100 && starved(st, e.Start, e.Start+e.Duration) {
			t.Logf("not counted: the machine starved the browser of CPU around it (the heartbeat paused)")
			continue
		}
		worst = max(worst, e.Duration)
	}
	t.Logf("64 MiB in %.1f s; %d long tasks on the main thread, the longest counted %.0f ms; %d heartbeat pauses", (end-start)/1000, n, worst, len(st))
	if worst > 100 {
		t.Errorf("a main-thread long task of %.0f ms during the upload", worst)
	}
	checkStored(t, srv, results[0], data)
	if st := srv.Cloud().OSS.Stats().Snapshot()["UploadPart"]; st.Requests < 64 {
		t.Errorf("64 MiB in 1 MiB parts took %d UploadPart requests", st.Requests)
	}
}
