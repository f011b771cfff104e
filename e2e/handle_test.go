package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud/faults"
)

// writeOPFSFile creates a file in the origin-private file system (a real
// FileSystemFileHandle, the same type showOpenFilePicker and drops give,
// which tests can create without a user gesture), fills it with n
// pseudo-random bytes and returns their SHA-256.
const writeOPFSFile = `(async (name, n) => {
  const root = await navigator.storage.getDirectory();
  const fh = await root.getFileHandle(name, { create: true });
  const w = await fh.createWritable();
  const chunk = new Uint8Array(1 << 20);
  let x = 2463534242 | 0, left = n;
  while (left > 0) {
    const m = Math.min(left, chunk.length);
    for (let i = 0; i < m; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; chunk[i] = x & 255; }
    await w.write(chunk.subarray(0, m));
    left -= m;
  }
  await w.close();
  const f = await fh.getFile();
  const d = await crypto.subtle.digest('SHA-256', await f.arrayBuffer());
  window.opfsHandle = fh;
  return [...new Uint8Array(d)].map(b => b.toString(16).padStart(2, '0')).join('');
})`

// TestResumeFromFileHandle: an upload started from a FileSystemFileHandle
// keeps the handle in IndexedDB; after a reload the page resumes it from
// the resumable list with one call, without the file being picked again.
func TestResumeFromFileHandle(t *testing.T) {
	inEngines(t, opfsEngines, testResumeFromFileHandle)
}

func testResumeFromFileHandle(t *testing.T, e browser.Engine) {
	const partSize, concurrency = 1 << 20, 4
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(partSize), "OSSUP_CONCURRENCY": strconv.Itoa(concurrency)})
	pg := openDemo(t, e, base)
	const size = 10<<20 + 333
	sum, err := evalAs[string](pg, writeOPFSFile+`('handle.bin', `+strconv.Itoa(size)+`)`)
	if err != nil {
		t.Fatalf("create the OPFS file: %v", err)
	}
	if err := srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: 256 << 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := evalAs[bool](pg, `(window.ossupDemo.add(window.opfsHandle), true)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pollAs[bool](pg, `(h => h && h.progress.bytesConfirmed >= 2*1048576)(window.ossupDemo.handles[0])`, 90*time.Second); err != nil {
		t.Fatalf("upload never got going: %v", err)
	}
	if err := pg.reload(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Cloud().Faults.Set(faults.Config{}); err != nil {
		t.Fatal(err)
	}
	hasHandle, err := pollAs[bool](pg, `(d => d && d.pending ? (d.pending.length === 1 && !!d.pending[0].handle) : null)(window.ossupDemo)`, 45*time.Second)
	if err != nil || !hasHandle {
		t.Fatalf("after the reload the pending upload has no kept handle (%v)", err)
	}
	// No picker: the kept handle is enough.
	if _, err := evalAs[bool](pg, `(window.ossupDemo.resume(window.ossupDemo.pending[0]), true)`); err != nil {
		t.Fatal(err)
	}
	results := waitResults(pg, t, 1, 2*time.Minute)
	got := readBack(t, srv, results[0].Key)
	gs := sha256.Sum256(got)
	if hex.EncodeToString(gs[:]) != sum || len(got) != size {
		t.Fatalf("resumed object differs from the file: %d bytes", len(got))
	}
	resent := uploadPartBytes(srv) - size
	if resent > concurrency*partSize {
		t.Fatalf("re-sent %d bytes, more than the parts in flight", resent)
	}
	// A finished upload forgets its handle.
	left, err := evalAs[int](pg, `window.ossupDemo.uploader.pending().then(p => p.length)`)
	if err != nil || left != 0 {
		t.Fatalf("pending after completion: %d (%v)", left, err)
	}
}

// TestKeptHandleUnreadableAsksForRepick: when the file behind a kept handle
// can no longer be read (here it was deleted after the reload), Resume
// fails with code repick_needed and a message that says to pick the file
// again, the row shows real sizes (not "undefined B"), and the upload stays
// resumable by a re-pick: its checkpoint and its multipart upload are kept.
func TestKeptHandleUnreadableAsksForRepick(t *testing.T) {
	inEngines(t, opfsEngines, testKeptHandleUnreadableAsksForRepick)
}

func testKeptHandleUnreadableAsksForRepick(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20), "OSSUP_CONCURRENCY": "2"})
	pg := openDemo(t, e, base)
	if _, err := evalAs[string](pg, writeOPFSFile+`('gone.bin', `+strconv.Itoa(4<<20)+`)`); err != nil {
		t.Fatalf("create the OPFS file: %v", err)
	}
	if err := srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: 256 << 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := evalAs[bool](pg, `(window.ossupDemo.add(window.opfsHandle), true)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pollAs[bool](pg, `(h => h && h.progress.bytesConfirmed >= 1048576)(window.ossupDemo.handles[0])`, 90*time.Second); err != nil {
		t.Fatalf("upload never got going: %v", err)
	}
	if err := pg.reload(); err != nil {
		t.Fatal(err)
	}
	unthrottle(t, srv)
	if _, err := pollAs[bool](pg, `(d => d && d.pending && d.pending.length === 1 && !!d.pending[0].handle)(window.ossupDemo)`, 45*time.Second); err != nil {
		t.Fatalf("after the reload the upload is not listed with its kept handle: %v", err)
	}
	if _, err := evalAs[bool](pg, `navigator.storage.getDirectory().then(r => r.removeEntry('gone.bin')).then(() => true)`); err != nil {
		t.Fatalf("delete the file: %v", err)
	}
	if _, err := evalAs[bool](pg, `(window.ossupDemo.resume(window.ossupDemo.pending[0]), true)`); err != nil {
		t.Fatal(err)
	}
	type shown struct {
		Code, Message, Meta string
	}
	got, err := pollAs[shown](pg, `(d => d.errors.length ? { Code: d.errors[0].code, Message: d.errors[0].message,
	  Meta: document.querySelector('#uploads li .meta').textContent } : null)(window.ossupDemo)`, 30*time.Second)
	if err != nil {
		t.Fatalf("resume from the unreadable handle did not fail: %v", err)
	}
	t.Logf("the page says: %+v", got)
	if got.Code != "repick_needed" || !strings.Contains(got.Message, "pick the file again") || !strings.Contains(got.Message, "gone.bin") {
		t.Errorf("error %q %q: want repick_needed, naming the file and asking to pick it again", got.Code, got.Message)
	}
	if strings.Contains(got.Meta, "undefined") || strings.Contains(got.Meta, "NaN") {
		t.Errorf("the row shows %q", got.Meta)
	}
	if p := pendingNow(pg, t); len(p) != 1 || p[0].Name != "gone.bin" {
		t.Errorf("the upload is no longer resumable: %+v", p)
	}
	if n := len(uploadIDs(t, srv)); n != 1 {
		t.Errorf("%d multipart uploads open, want the interrupted one", n)
	}
}
