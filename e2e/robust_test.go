package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"hash/crc64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud/faults"
	"github.com/ossup/ossup/server"
)

// recEvent is one upload event as the page's handle dispatched it, with
// the page's clock (performance.now(), in ms).
type recEvent struct {
	T              float64 `json:"t"`
	Name           string  `json:"name"`
	Type           string  `json:"type"` // state, progress, retry, error, done
	State          string  `json:"state"`
	BytesConfirmed float64 `json:"bytesConfirmed"`
	BytesSending   float64 `json:"bytesSending"`
	Op             string  `json:"op"`
	Code           string  `json:"code"`
	Message        string  `json:"message"`
}

// instrumentJS wraps the demo's uploader.upload so that every handle the
// page creates gets listeners from the very first event on: the events are
// dispatched asynchronously (worker messages), after upload() returned.
const instrumentJS = `(() => {
  const d = window.ossupDemo;
  if (!d || !d.uploader) return false;
  const rec = window.ossupRec = { events: [] };
  const up = d.uploader, upload = up.upload.bind(up);
  up.upload = (file) => {
    const h = upload(file);
    for (const type of ['state', 'progress', 'retry', 'error', 'done']) {
      h.addEventListener(type, (e) => {
        const x = e.detail || {};
        const err = type === 'error' ? x : (x.error || {});
        rec.events.push({ t: performance.now(), name: file.name, type, state: h.state,
          bytesConfirmed: h.progress.bytesConfirmed || 0, bytesSending: h.progress.bytesSending || 0,
          op: x.op || err.op || '', code: err.code || '', message: err.message || '' });
      });
    }
    return h;
  };
  return true;
})()`

// instrument installs the event recorder; call it before picking files.
func instrument(pg *tab, t testing.TB) {
	t.Helper()
	ok, err := evalAs[bool](pg, instrumentJS)
	if err != nil || !ok {
		t.Fatalf("instrument the page: %v %v", ok, err)
	}
}

// recorded returns the events the recorder saw so far.
func recorded(pg *tab, t testing.TB) []recEvent {
	t.Helper()
	raw, err := evalAs[string](pg, `JSON.stringify(window.ossupRec.events)`)
	if err != nil {
		t.Fatalf("read the recorded events: %v", err)
	}
	var evs []recEvent
	if err := json.Unmarshal([]byte(raw), &evs); err != nil {
		t.Fatal(err)
	}
	return evs
}

// rootOSS is an OSS client with the local cloud's account keys.
func rootOSS(srv *server.Server) *oss.Client {
	cl := srv.Cloud()
	return oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
}

// checkStored reads the object back and compares it with want by SHA-256
// and CRC-64 (the stored object's x-oss-hash-crc64ecma and the one the page
// reported).
func checkStored(t testing.TB, srv *server.Server, r pageResult, want []byte) {
	t.Helper()
	got := readBack(t, srv, r.Key)
	if sha256.Sum256(got) != sha256.Sum256(want) {
		t.Errorf("%s: stored bytes differ (%d stored, %d sent)", r.Name, len(got), len(want))
	}
	crc := strconv.FormatUint(crc64.Checksum(want, crc64.MakeTable(crc64.ECMA)), 10)
	head, err := rootOSS(srv).HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(srv.Cloud().Config.Bucket), Key: oss.Ptr(r.Key)})
	if err != nil {
		t.Fatalf("%s: head: %v", r.Name, err)
	}
	if oss.ToString(head.HashCRC64) != crc || r.CRC64 != crc || r.Size != int64(len(want)) {
		t.Errorf("%s: crc64 stored %s, page %s, want %s (size %d, want %d)", r.Name, oss.ToString(head.HashCRC64), r.CRC64, crc, r.Size, len(want))
	}
}

// unthrottle lifts the bandwidth limit (and any fault) of the local OSS,
// so that reading objects back does not crawl.
func unthrottle(t testing.TB, srv *server.Server) {
	t.Helper()
	if err := srv.Cloud().Faults.Set(faults.Config{}); err != nil {
		t.Fatal(err)
	}
}

// pageErrors returns window.ossupDemo.errors.
func pageErrors(pg *tab, t testing.TB) []map[string]any {
	t.Helper()
	raw, err := evalAs[string](pg, `JSON.stringify(window.ossupDemo.errors)`)
	if err != nil {
		t.Fatal(err)
	}
	var errs []map[string]any
	if err := json.Unmarshal([]byte(raw), &errs); err != nil {
		t.Fatal(err)
	}
	return errs
}

// TestShortLivedCredentials: with STS credentials that live 3 s (a dev-only
// lifetime), an upload lasting several lifetimes keeps getting fresh ones
// from the backend (each one an AssumeRole at the local STS) and never
// surfaces an error.
func TestShortLivedCredentials(t *testing.T) {
	inEngines(t, browser.Engines, testShortLivedCredentials)
}

func testShortLivedCredentials(t *testing.T, e browser.Engine) {
	const lifetime = 3 * time.Second
	srv, base := backend(t, map[string]string{
		"OSSUP_STS_DURATION": lifetime.String(), "OSSUP_STS_MIN_DURATION": lifetime.String(),
		"OSSUP_PART_SIZE": strconv.Itoa(1 << 20), "OSSUP_CONCURRENCY": "4",
	})
	// Four connections at 256 KiB/s each: about 10 s for 10 MiB.
	if err := srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: 256 << 10}); err != nil {
		t.Fatal(err)
	}
	pg := openDemo(t, e, base)
	instrument(pg, t)
	callsBefore, _ := srv.Minter().Stats()
	path, data := writeFile(t, t.TempDir(), "sts.bin", 10<<20+4321)
	pickFiles(pg, t, path)
	results := waitResults(pg, t, 1, 2*time.Minute)
	unthrottle(t, srv)
	checkStored(t, srv, results[0], data)
	if errs := pageErrors(pg, t); len(errs) != 0 {
		t.Fatalf("errors surfaced in the page: %v", errs)
	}

	var start, end float64
	for _, ev := range recorded(pg, t) {
		if ev.Type == "state" && ev.State == "uploading" && start == 0 {
			start = ev.T
		}
		if ev.Type == "state" && ev.State == "done" {
			end = ev.T
		}
		if ev.Type == "retry" {
			t.Logf("retry: %s %s", ev.Op, ev.Message)
		}
	}
	took := time.Duration((end - start) * float64(time.Millisecond))
	calls, _ := srv.Minter().Stats()
	calls -= callsBefore
	st := srv.Cloud().OSS.Stats().Snapshot()
	t.Logf("upload took %v; %d AssumeRole calls; UploadPart %d requests, %d refused", took, calls, st["UploadPart"].Requests, st["UploadPart"].Errors)
	// The test only proves something if the upload outlived the
	// credentials several times.
	if took < 2*lifetime {
		t.Fatalf("the upload took %v, not long enough to outlive %v credentials twice", took, lifetime)
	}
	if calls < 3 {
		t.Fatalf("%d AssumeRole calls during a %v upload with %v credentials: they were not refreshed", calls, took, lifetime)
	}
}

// TestFaultInjection: 5xx answers, connections reset mid-body, stalls and
// corrupted CRC-64 headers on every OSS operation the engine uses; a
// multipart file and a single-PutObject file still arrive identical, and
// every injected 5xx and corrupted CRC was noticed and retried.
func TestFaultInjection(t *testing.T) {
	inEngines(t, chromiumOnly, testFaultInjection)
}

func testFaultInjection(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(256 << 10), "OSSUP_CONCURRENCY": "4"})
	stall := faults.Duration(time.Second)
	cfg := faults.Config{Seed: 20261122, Rules: []faults.Rule{
		// The first four UploadParts get one fault of each kind, whatever
		// the random draws do; then random faults at modest rates (a part
		// fails for good only after 6 attempts in a row).
		{Op: "UploadPart", ResetRate: 1, Count: 1},
		{Op: "UploadPart", ErrorRate: 1, Count: 1},
		{Op: "UploadPart", CorruptCRCRate: 1, Count: 1},
		{Op: "UploadPart", StallRate: 1, Stall: stall, Count: 1},
		{Op: "UploadPart", ErrorRate: 0.07, ResetRate: 0.07, StallRate: 0.05, Stall: stall, CorruptCRCRate: 0.06},
		{Op: "InitiateMultipartUpload", ErrorRate: 1, Count: 1},
		{Op: "InitiateMultipartUpload", ErrorRate: 0.05, ResetRate: 0.05},
		{Op: "CompleteMultipartUpload", ResetRate: 1, Count: 1},
		{Op: "CompleteMultipartUpload", CorruptCRCRate: 1, Count: 1},
		{Op: "CompleteMultipartUpload", ErrorRate: 0.05},
		// Terminal faults first: a corrupted CRC drawn for a request that
		// a later rule resets would never reach the engine.
		{Op: "PutObject", ErrorRate: 1, Count: 1},
		{Op: "PutObject", ResetRate: 1, Count: 1},
		{Op: "PutObject", CorruptCRCRate: 1, Count: 1},
		{Op: "PutObject", ErrorRate: 0.05, CorruptCRCRate: 0.05},
	}}
	if err := srv.Cloud().Faults.Set(cfg); err != nil {
		t.Fatal(err)
	}
	pg := openDemo(t, e, base)
	instrument(pg, t)
	dir := t.TempDir()
	multi, multiData := writeFile(t, dir, "faulty-multi.bin", 4<<20+777)
	small, smallData := writeFile(t, dir, "faulty-small.bin", 200_000)
	want := map[string][]byte{"faulty-multi.bin": multiData, "faulty-small.bin": smallData}
	pickFiles(pg, t, multi, small)
	results := waitResults(pg, t, 2, 2*time.Minute)
	for _, r := range results {
		checkStored(t, srv, r, want[r.Name])
	}

	stats := srv.Cloud().Faults.Stats()
	t.Logf("faults injected: %+v", stats)
	type counts struct{ errors, crc, network int64 }
	seen := map[string]*counts{}
	for _, ev := range recorded(pg, t) {
		if ev.Type != "retry" {
			continue
		}
		c := seen[ev.Op]
		if c == nil {
			c = &counts{}
			seen[ev.Op] = c
		}
		switch {
		case strings.Contains(ev.Message, "InternalError") || strings.Contains(ev.Message, "ServiceUnavailable"):
			c.errors++
		case strings.Contains(ev.Message, "crc64 mismatch"):
			c.crc++
		case strings.HasPrefix(ev.Message, "network"):
			c.network++
		default:
			t.Errorf("retry of %s for an unexpected reason: %s", ev.Op, ev.Message)
		}
	}
	for op, c := range seen {
		t.Logf("retries seen by the page for %s: %+v", op, *c)
	}
	must := func(op, what string, got int64) {
		if got < 1 {
			t.Errorf("no %s was injected into %s: the test did not exercise it", what, op)
		}
	}
	must("UploadPart", "5xx", stats["UploadPart"].Errors)
	must("UploadPart", "reset", stats["UploadPart"].Resets)
	must("UploadPart", "stall", stats["UploadPart"].Stalls)
	must("UploadPart", "corrupted CRC", stats["UploadPart"].CorruptCRC)
	must("InitiateMultipartUpload", "5xx", stats["InitiateMultipartUpload"].Errors)
	must("CompleteMultipartUpload", "reset", stats["CompleteMultipartUpload"].Resets)
	must("CompleteMultipartUpload", "corrupted CRC", stats["CompleteMultipartUpload"].CorruptCRC)
	must("PutObject", "5xx", stats["PutObject"].Errors)
	must("PutObject", "corrupted CRC", stats["PutObject"].CorruptCRC)
	must("PutObject", "reset", stats["PutObject"].Resets)
	for _, op := range []string{"UploadPart", "InitiateMultipartUpload", "CompleteMultipartUpload", "PutObject"} {
		c := seen[op]
		if c == nil {
			c = &counts{}
		}
		// Every 5xx reaches the engine and is retried.
		if c.errors != stats[op].Errors {
			t.Errorf("%s: %d 5xx injected, %d retried by the engine", op, stats[op].Errors, c.errors)
		}
		// A corrupted CRC on a data request means the engine cannot trust
		// the part: it must send it again. (Complete's CRC is checked by
		// the backend's verification instead.)
		if op == "UploadPart" || op == "PutObject" {
			if c.crc != stats[op].CorruptCRC {
				t.Errorf("%s: %d corrupted CRC headers injected, %d noticed and retried", op, stats[op].CorruptCRC, c.crc)
			}
		}
		// A reset surfaces as a network error, unless Chromium resent the
		// request on its own (it may, on a reused connection).
		if c.network > stats[op].Resets {
			t.Errorf("%s: %d network retries for %d resets: failures nobody injected", op, c.network, stats[op].Resets)
		}
	}
}

// TestOffline: the browser is offline (requests fail, navigator.onLine is
// false) when a file is picked, and again for several seconds in the middle
// of its upload. The engine waits for the network instead of failing or
// spending its attempts, and the upload completes identical without a
// terminal error. In WebKit, whose driver cannot emulate an outage, the
// network is cut at a loopback proxy all its requests go through, and
// navigator.onLine stays true, as when a network drops without the OS
// noticing: the engine must ride it out on its retries alone.
func TestOffline(t *testing.T) {
	inEngines(t, browser.Engines, testOffline)
}

func testOffline(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20), "OSSUP_CONCURRENCY": "4"})
	if err := srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: 256 << 10}); err != nil {
		t.Fatal(err)
	}
	pg := openDemoWith(t, e, base, browser.Options{NetworkSwitch: true})
	instrument(pg, t)
	path, data := writeFile(t, t.TempDir(), "offline.bin", 8<<20+99)

	// Picked while offline: the session cannot be created yet.
	pg.setOffline(true)
	pickFiles(pg, t, path)
	time.Sleep(3 * time.Second)
	if errs := pageErrors(pg, t); len(errs) != 0 {
		t.Fatalf("a file picked while offline failed instead of waiting: %v", errs)
	}
	pg.setOffline(false)

	if _, err := pollAs[bool](pg, `(h => h && h.progress.bytesConfirmed >= 1048576)((window.ossupDemo||{handles:[]}).handles[0])`, 60*time.Second); err != nil {
		t.Fatalf("upload never got going after the network came back: %v (errors %v)", err, pageErrors(pg, t))
	}
	offlineAt := pageNow(pg, t)
	pg.setOffline(true)
	// Offline long enough that a backoff which ignored the network state
	// would spend all six attempts (at most 0.2+0.4+0.8+1.6+3.2 s).
	time.Sleep(7 * time.Second)
	state, err := evalAs[string](pg, `window.ossupDemo.handles[0].state`)
	if err != nil {
		t.Fatal(err)
	}
	onlineAt := pageNow(pg, t)
	pg.setOffline(false)
	if errs := pageErrors(pg, t); len(errs) != 0 || state == "failed" {
		t.Fatalf("going offline mid-upload surfaced an error (state %s): %v", state, errs)
	}
	results := waitResults(pg, t, 1, 2*time.Minute)
	unthrottle(t, srv)
	checkStored(t, srv, results[0], data)

	// The emulation really cut the engine off: requests in flight failed
	// while offline, and were retried.
	var offlineRetries int
	for _, ev := range recorded(pg, t) {
		if ev.Type == "retry" && ev.T >= offlineAt && ev.T <= onlineAt {
			offlineRetries++
		}
	}
	t.Logf("%d requests failed and were retried during the mid-upload outage", offlineRetries)
	if offlineRetries == 0 {
		t.Fatal("no request failed while offline: the emulation did not reach the engine")
	}
}

// pageNow is the page's performance.now(), the clock of recEvent.T.
func pageNow(pg *tab, t testing.TB) float64 {
	t.Helper()
	v, err := evalAs[float64](pg, `performance.now()`)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
