package e2e

import (
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
)

// openDemoIn opens the demo page in a new browser of engine e on the given
// profile.
func openDemoIn(t *testing.T, e browser.Engine, base, profile string) *tab {
	t.Helper()
	pg := launch(t, e, browser.Options{Profile: profile}, 2*time.Minute)
	if err := pg.navigate(base + labPage); err != nil {
		t.Fatal(err)
	}
	waitEngine(pg, t)
	return pg
}

// TestBrowserRestartResumes: the browser is shut down entirely in the middle
// of an upload; a new one on the same profile lists the upload as
// resumable (from IndexedDB, with the dev identity's cookie kept), and the
// file picked again resumes the same multipart upload: only the parts that
// were in flight are sent again, and the object arrives identical.
func TestBrowserRestartResumes(t *testing.T) {
	t.Parallel()
	inEngines(t, chromiumOnly, testBrowserRestartResumes)
}

func testBrowserRestartResumes(t *testing.T, e browser.Engine) {
	srv, base := rpBackend(t)
	profile := t.TempDir()
	data := noise(8, rpSize)
	path := filepath.Join(t.TempDir(), "restart.bin")
	writeWithTime(t, path, data, time.Now().Add(-time.Hour))

	pg := openDemoIn(t, e, base, profile)
	pickFiles(pg, t, path)
	waitConfirmed(pg, t, 0, 2*rpPart)
	open := uploadIDs(t, srv)
	if len(open) != 1 {
		t.Fatalf("%d multipart uploads open mid-upload, want 1", len(open))
	}
	// Close waits for the browser to exit (then kills what is left).
	if err := pg.b.Close(); err != nil {
		t.Fatalf("stop the browser: %v", err)
	}
	throttle(t, srv, false)

	pg = openDemoIn(t, e, base, profile)
	pending := pendingNow(pg, t)
	if len(pending) != 1 || pending[0].Name != "restart.bin" || pending[0].Size != rpSize {
		t.Fatalf("after the restart the page lists %+v, want restart.bin", pending)
	}
	t.Logf("resumable after the restart: %d of %d bytes", pending[0].BytesDone, pending[0].Size)
	pickFiles(pg, t, path)
	res := waitResults(pg, t, 1, time.Minute)
	if got := readBack(t, srv, res[0].Key); sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("resumed object differs (%d bytes stored)", len(got))
	}
	if n := opRequests(srv, "InitiateMultipartUpload"); n != 1 {
		t.Errorf("%d uploads initiated, want 1 (resumed)", n)
	}
	if ids := uploadIDs(t, srv); len(ids) != 0 {
		t.Fatalf("multipart uploads left: %v", ids)
	}
	resent := uploadPartBytes(srv) - rpSize
	t.Logf("UploadPart bytes re-sent after the restart: %d", resent)
	if resent < 0 || resent > rpConc*rpPart {
		t.Fatalf("re-sent %d bytes, more than the %d parts that can be in flight (%d bytes)", resent, rpConc, rpConc*rpPart)
	}
}
