package e2e

import (
	"crypto/sha256"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud/faults"
)

// TestJSExceptionsFailOneRequest: JS exceptions the browser throws into the
// engine (setRequestHeader refusing a value, open a URL, Blob.slice, a
// plain object where a File belongs) fail the request (retried) or the
// upload they hit, with a code, never the engine: the other uploads go on
// and complete, later ones too.
// Before, syscall/js's panic ended the Go program and every upload of the
// page stayed "queued" forever, silently.
func TestJSExceptionsFailOneRequest(t *testing.T) {
	inEngines(t, browser.Engines, testJSExceptionsFailOneRequest)
}

func testJSExceptionsFailOneRequest(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(256 << 10), "OSSUP_CONCURRENCY": "2",
		"OSSUP_WEB_DIR": webWith(t, map[string]string{"test-worker.js": faultWorkerJS})})
	pg := openLab(t, e, base, browser.Options{})

	// The repro: resume() of a pending entry without a kept handle
	// (a plain object) used to reach the engine as if it were a File.
	labEval[int](pg, t, `lab.make()`)
	labEval[string](pg, t, `lab.track('entry', lab.ups[0].resume({ id: 'x', name: 'gone.bin', size: 5, bytesDone: 0 }))`)
	if s := labWait(pg, t, "entry", 30*time.Second); s.State != "failed" || s.Err == nil || s.Err.Code != "file_needed" {
		t.Fatalf("resume of an entry without a handle: %+v, want failed with file_needed", s)
	}
	// A plain object given to upload() reaches the engine, which refuses it.
	labEval[string](pg, t, `lab.track('plain', lab.ups[0].upload({ name: 'plain.bin', size: 10 }))`)
	if s := labWait(pg, t, "plain", 30*time.Second); s.State != "failed" || s.Err == nil || s.Err.Code != "not_a_file" {
		t.Fatalf("upload of a plain object: %+v, want failed with not_a_file", s)
	}
	// The engine still works.
	const n = 700 << 10
	labEval[string](pg, t, `lab.upload(0, 'after', 'after.bin', `+strconv.Itoa(n)+`)`)
	if s := labWait(pg, t, "after", time.Minute); s.State != "done" {
		t.Fatalf("upload after the refused ones: %+v", s)
	}

	// Exceptions inside the engine's own calls, through the fault worker.
	labEval[int](pg, t, `lab.make({ assets: { worker: '/test-worker.js' } })`)
	labEval[string](pg, t, `lab.ups[1].ready`)
	// A file that cannot be read fails its upload, with the exception's
	// message and code.
	labEval[bool](pg, t, `(lab.ups[1]._worker.postMessage({ type: 'test.throw', faults: { slice: 1 } }), true)`)
	labEval[string](pg, t, `lab.upload(1, 'unreadable', 'unreadable.bin', 5000)`)
	if s := labWait(pg, t, "unreadable", time.Minute); s.State != "failed" || s.Err == nil || s.Err.Code != "js_exception" || !strings.Contains(s.Err.Message, "injected: slice refused") {
		t.Fatalf("upload whose Blob.slice threw: %v, want failed with js_exception naming the exception", s)
	}
	// A request the browser refuses to build is retried like a network
	// failure.
	labEval[bool](pg, t, `(lab.ups[1]._worker.postMessage({ type: 'test.throw', faults: { setRequestHeader: 2, open: 2 } }), true)`)
	const m = 2<<20 + 4321
	labEval[string](pg, t, `lab.upload(1, 'faulty', 'faulty.bin', `+strconv.Itoa(m)+`)`)
	labEval[string](pg, t, `lab.upload(1, 'second', 'second.bin', `+strconv.Itoa(n)+`)`)
	for _, k := range []string{"faulty", "second"} {
		s := labWait(pg, t, k, 2*time.Minute)
		if s.State != "done" {
			t.Fatalf("%s with injected JS exceptions: %+v", k, s)
		}
		retries := 0
		for _, ev := range s.Events {
			if ev.Type == "retry" {
				retries++
				t.Logf("%s retry: %s", k, ev.Message)
			}
		}
		t.Logf("%s: done after %d retries", k, retries)
	}
	for key, size := range map[string]int{"faulty": m, "second": n, "after": n} {
		s := labNow(pg, t, key)
		got := readBack(t, srv, s.Res.Key)
		if sha256.Sum256(got) != sha256.Sum256(labFile(size)) {
			t.Errorf("%s: stored object differs from the file", key)
		}
	}
}

// TestEngineCrashFailsOpenUploads: when the engine worker crashes (an
// exception nothing caught, or the Go program exiting), every open upload
// fails with engine_crashed at once instead of staying in its state
// forever, new calls are refused with the same code, and a new uploader
// resumes the uploads from their checkpoints.
func TestEngineCrashFailsOpenUploads(t *testing.T) {
	inEngines(t, browser.Engines, testEngineCrashFailsOpenUploads)
}

func testEngineCrashFailsOpenUploads(t *testing.T, e browser.Engine) {
	const partSize = 256 << 10
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(partSize), "OSSUP_CONCURRENCY": "2",
		"OSSUP_WEB_DIR": webWith(t, map[string]string{"test-worker.js": faultWorkerJS})})
	throttle(t, srv, true)
	pg := openLab(t, e, base, browser.Options{})
	const n = 6 << 20
	for round, how := range []string{"throw", "exit"} {
		u := labEval[int](pg, t, `lab.make({ assets: { worker: '/test-worker.js' } })`)
		us := strconv.Itoa(u)
		labEval[string](pg, t, `lab.ups[`+us+`].ready`)
		keys := []string{"a" + us, "b" + us}
		for i, k := range keys {
			labEval[string](pg, t, `lab.upload(`+us+`, '`+k+`', 'crash`+strconv.Itoa(i)+`.bin', `+strconv.Itoa(n)+`)`)
		}
		for _, k := range keys {
			if _, err := pollAs[bool](pg, `lab.h['`+k+`'].progress.bytesConfirmed >= `+strconv.Itoa(partSize*(round+1)), time.Minute); err != nil {
				t.Fatalf("round %d: %s never got going: %v (%+v)", round, k, err, labNow(pg, t, k))
			}
		}
		at := labEval[float64](pg, t, `(lab.ups[`+us+`]._worker.postMessage({ type: 'test.crash', how: '`+how+`' }), performance.now())`)
		for _, k := range keys {
			s := labWait(pg, t, k, 30*time.Second)
			if s.State != "failed" || s.Err == nil || s.Err.Code != "engine_crashed" {
				t.Fatalf("crash by %s: %s is %+v, want failed with engine_crashed", how, k, s)
			}
			t.Logf("crash by %s: %s failed %.0f ms after the crash: %s", how, k, s.Err.T-at, s.Err.Message)
		}
		code := labEval[string](pg, t, `lab.ups[`+us+`].pending().then(() => 'answered', (e) => e.code)`)
		if code != "engine_crashed" {
			t.Fatalf("pending() on the crashed uploader: %q, want engine_crashed", code)
		}
	}
	// A new uploader with the real worker resumes both files.
	throttle(t, srv, false)
	before := uploadPartBytes(srv)
	u := labEval[int](pg, t, `lab.make()`)
	for i := 0; i < 2; i++ {
		k := "resumed" + strconv.Itoa(i)
		labEval[string](pg, t, `lab.upload(`+strconv.Itoa(u)+`, '`+k+`', 'crash`+strconv.Itoa(i)+`.bin', `+strconv.Itoa(n)+`)`)
		s := labWait(pg, t, k, 2*time.Minute)
		if s.State != "done" {
			t.Fatalf("%s after the crashes: %+v", k, s)
		}
		if got := readBack(t, srv, s.Res.Key); sha256.Sum256(got) != sha256.Sum256(labFile(n)) {
			t.Fatalf("%s: stored object differs from the file", k)
		}
	}
	sent := uploadPartBytes(srv) - before
	t.Logf("the new uploader sent %d of %d bytes", sent, 2*n)
	if sent >= 2*n-2*partSize {
		t.Fatalf("the new uploader sent %d bytes of %d: it did not resume", sent, 2*n)
	}
}

// TestControlRightAfterUpload: cancel() and pause() called in the same
// tick as upload(), before the worker has the upload, are applied: the
// canceled upload leaves nothing (no object, no multipart upload, no
// checkpoint), the paused one sends nothing until resumed, then completes.
// Before, both were posted for an id the worker did not know yet and were
// dropped: the "canceled" upload completed.
func TestControlRightAfterUpload(t *testing.T) {
	inEngines(t, browser.Engines, testControlRightAfterUpload)
}

func testControlRightAfterUpload(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(256 << 10)})
	pg := openLab(t, e, base, browser.Options{})
	labEval[int](pg, t, `lab.make()`)
	const n = 3 << 20
	labEval[string](pg, t, `(k => (lab.h[k].cancel(), k))(lab.upload(0, 'canceled', 'canceled.bin', `+strconv.Itoa(n)+`))`)
	if s := labWait(pg, t, "canceled", time.Minute); s.State != "canceled" {
		t.Fatalf("canceled right after upload(): %+v", s)
	}
	labEval[string](pg, t, `(k => (lab.h[k].pause(), k))(lab.upload(0, 'paused', 'paused.bin', `+strconv.Itoa(n)+`))`)
	labWait(pg, t, "paused", time.Minute, "paused", "done", "failed", "canceled")
	before := uploadPartBytes(srv)
	time.Sleep(2 * time.Second)
	if s := labNow(pg, t, "paused"); s.State != "paused" || uploadPartBytes(srv) != before {
		t.Fatalf("paused right after upload(): %s, %d bytes sent meanwhile", s.State, uploadPartBytes(srv)-before)
	}
	labEval[bool](pg, t, `(lab.h.paused.resume(), true)`)
	if s := labWait(pg, t, "paused", time.Minute); s.State != "done" {
		t.Fatalf("resumed: %+v", s)
	}
	if k := openUploads(t, srv); k != 0 {
		t.Fatalf("%d multipart uploads left", k)
	}
	if p := labEval[int](pg, t, `lab.ups[0].pending().then(p => p.length)`); p != 0 {
		t.Fatalf("%d pending uploads left", p)
	}
	st := srv.Cloud().OSS.Stats().Snapshot()
	if c := st["CompleteMultipartUpload"].Requests; c != 1 {
		t.Fatalf("%d CompleteMultipartUpload requests, want 1 (the canceled upload must not complete)", c)
	}
}

// TestCancelAfterFailureDiscards: cancel() on a failed upload discards
// what the failure left (the checkpoint, the multipart upload); discard()
// does the same for a pending entry of an earlier page.
func TestCancelAfterFailureDiscards(t *testing.T) {
	inEngines(t, chromiumOnly, testCancelAfterFailureDiscards)
}

func testCancelAfterFailureDiscards(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(256 << 10), "OSSUP_CONCURRENCY": "2"})
	throttle(t, srv, true)
	pg := openLab(t, e, base, browser.Options{})
	labEval[int](pg, t, `lab.make({ patienceSeconds: 3 })`)
	const n = 4 << 20
	labEval[string](pg, t, `lab.upload(0, 'doomed', 'doomed.bin', `+strconv.Itoa(n)+`)`)
	if _, err := pollAs[bool](pg, `lab.h.doomed.progress.bytesConfirmed >= 262144`, time.Minute); err != nil {
		t.Fatal(err)
	}
	// Every UploadPart answers 503 from now on: the upload fails once its
	// attempts run out, keeping its checkpoint and its multipart upload.
	if err := srv.Cloud().Faults.Set(faults.Config{Rules: []faults.Rule{{Op: "UploadPart", ErrorRate: 1}}}); err != nil {
		t.Fatal(err)
	}
	if s := labWait(pg, t, "doomed", 3*time.Minute); s.State != "failed" {
		t.Fatalf("doomed: %+v", s)
	}
	if k := openUploads(t, srv); k != 1 {
		t.Fatalf("%d multipart uploads after the failure, want 1", k)
	}
	unthrottle(t, srv)
	labEval[bool](pg, t, `lab.h.doomed.cancel().then(() => true)`)
	if k := openUploads(t, srv); k != 0 {
		t.Fatalf("cancel after the failure left %d multipart uploads", k)
	}
	if p := labEval[int](pg, t, `lab.ups[0].pending().then(p => p.length)`); p != 0 {
		t.Fatalf("cancel after the failure left %d pending uploads", p)
	}

	// A pending entry from an earlier uploader (the page was closed
	// mid-upload): discard() aborts and forgets it.
	throttle(t, srv, true)
	labEval[string](pg, t, `lab.upload(0, 'left', 'left.bin', `+strconv.Itoa(n)+`)`)
	if _, err := pollAs[bool](pg, `lab.h.left.progress.bytesConfirmed >= 262144`, time.Minute); err != nil {
		t.Fatal(err)
	}
	labEval[bool](pg, t, `(lab.ups[0].terminate(), true)`)
	unthrottle(t, srv)
	u := strconv.Itoa(labEval[int](pg, t, `lab.make()`))
	if p := labEval[int](pg, t, `lab.ups[`+u+`].pending().then(p => p.length)`); p != 1 {
		t.Fatalf("%d pending uploads after the first uploader ended, want 1", p)
	}
	// resume() of the entry, which has no kept handle, says what it needs.
	labEval[string](pg, t, `lab.ups[`+u+`].pending().then(p => lab.track('noFile', lab.ups[`+u+`].resume(p[0])))`)
	if s := labWait(pg, t, "noFile", 30*time.Second); s.Err == nil || s.Err.Code != "file_needed" {
		t.Fatalf("resume of an entry without a handle: %+v, want file_needed", s)
	}
	labEval[bool](pg, t, `lab.ups[`+u+`].pending().then(p => lab.ups[`+u+`].discard(p[0])).then(() => true)`)
	if k := openUploads(t, srv); k != 0 {
		t.Fatalf("discard left %d multipart uploads", k)
	}
	if p := labEval[int](pg, t, `lab.ups[`+u+`].pending().then(p => p.length)`); p != 0 {
		t.Fatalf("discard left %d pending uploads", p)
	}
	// cancel() of the handle that failed before the worker had it settles
	// (the entry is gone already).
	if _, err := pollAs[bool](pg, `lab.h.noFile.cancel().then(() => true)`, 30*time.Second); err != nil {
		t.Fatalf("cancel of the unstarted handle: %v", err)
	}
	// cancel() called right after upload() of a handle whose file is gone:
	// it waits behind the start message that never comes, and settles when
	// the handle fails.
	got, err := pollAs[string](pg, `(async () => {
  const root = await navigator.storage.getDirectory();
  const fh = await root.getFileHandle('vanished.bin', { create: true });
  await root.removeEntry('vanished.bin');
  const h = lab.ups[`+u+`].upload(fh);
  const c = h.cancel().then(() => 'settled', (e) => 'rejected ' + e.code);
  const timeout = new Promise((r) => setTimeout(() => r('hung'), 10000));
  const d = await h.done.then(() => 'done', (e) => e.code || e.name);
  return d + ' / ' + await Promise.race([c, timeout]);
})()`, 30*time.Second)
	if err != nil || got != "NotFoundError / settled" {
		t.Fatalf("cancel() right after upload() of a vanished file: %q (%v), want NotFoundError / settled", got, err)
	}
	t.Logf("upload of a vanished handle, cancel() at once: %s", got)
}
