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

// TestResumeAfterReload: a reload in the middle of an upload loses only
// the parts that were in flight. The page lists the upload as resumable,
// the same file picked again continues from the IndexedDB checkpoint
// (reconciled with ListParts), and the object arrives identical.
func TestResumeAfterReload(t *testing.T) {
	inEngines(t, browser.Engines, testResumeAfterReload)
}

func testResumeAfterReload(t *testing.T, e browser.Engine) {
	const partSize, concurrency = 1 << 20, 4
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(partSize), "OSSUP_CONCURRENCY": strconv.Itoa(concurrency)})
	cloud := srv.Cloud()
	// Slow links so the reload lands mid-upload.
	if err := cloud.Faults.Set(faults.Config{BandwidthBytesPerSec: 256 << 10}); err != nil {
		t.Fatal(err)
	}
	pg := openDemo(t, e, base)
	path, data := writeFile(t, t.TempDir(), "big.bin", 12<<20+777)
	pickFiles(pg, t, path)

	confirmed, err := pollAs[float64](pg, `(h => h && h.progress.bytesConfirmed >= 3*1048576 ? h.progress.bytesConfirmed : null)((window.ossupDemo||{handles:[]}).handles[0])`, 90*time.Second)
	if err != nil {
		t.Fatalf("upload never got going: %v", err)
	}
	if err := pg.reload(); err != nil {
		t.Fatal(err)
	}
	if err := cloud.Faults.Set(faults.Config{}); err != nil {
		t.Fatal(err)
	}
	pending, err := pollAs[float64](pg, `(d => d && d.pending ? d.pending.length : null)(window.ossupDemo)`, 45*time.Second)
	if err != nil || pending != 1 {
		t.Fatalf("after the reload the page lists %v resumable uploads (err %v), want 1", pending, err)
	}
	// Picked from a file input, the upload kept no handle: the page asks
	// for the file again instead of offering a Resume that cannot work
	// (Discard, which needs no file, is offered).
	row, err := evalAs[string](pg, `(li => li ? li.textContent + [...li.querySelectorAll('button')].map(b => ' [' + b.textContent + (typeof b.onclick === 'function' ? '' : ' dead') + ']').join('') : '')(document.querySelector('#pending li'))`)
	if err != nil || !strings.Contains(row, "pick the same file again") || strings.Contains(row, "[Resume") || strings.Contains(row, " dead]") {
		t.Errorf("the resumable row shows %q (%v), want the re-pick advice and no Resume button", row, err)
	}
	pickFiles(pg, t, path)
	results := waitResults(pg, t, 1, 2*time.Minute)
	got := readBack(t, srv, results[0].Key)
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("resumed object differs: %d bytes stored, %d sent", len(got), len(data))
	}
	sent := cloud.OSS.Stats().Snapshot()["UploadPart"].BytesIn
	resent := sent - int64(len(data))
	t.Logf("confirmed before reload %.0f bytes; UploadPart bytes received in all %d; re-sent %d", confirmed, sent, resent)
	if resent > concurrency*partSize {
		t.Fatalf("re-sent %d bytes, more than the %d parts that can be in flight (%d bytes)", resent, concurrency, concurrency*partSize)
	}
}
