package e2e

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// openDemoIn opens the demo page in a new Chromium on the given profile
// and returns the browser's first tab (closing it closes the browser) and a
// bounded context for the test's steps.
func openDemoIn(t *testing.T, base, profile string) (tab, ctx context.Context) {
	t.Helper()
	tab = browser(t, profile)
	ctx, cancel := within(tab, 2*time.Minute)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	waitEngine(ctx, t)
	return tab, ctx
}

// TestBrowserRestartResumes: Chromium is shut down entirely in the middle
// of an upload; a new Chromium on the same profile lists the upload as
// resumable (from IndexedDB, with the dev identity's cookie kept), and the
// file picked again resumes the same multipart upload: only the parts that
// were in flight are sent again, and the object arrives identical.
func TestBrowserRestartResumes(t *testing.T) {
	t.Parallel()
	srv, base := rpBackend(t)
	profile := t.TempDir()
	data := noise(8, rpSize)
	path := filepath.Join(t.TempDir(), "restart.bin")
	writeWithTime(t, path, data, time.Now().Add(-time.Hour))

	first, ctx := openDemoIn(t, base, profile)
	pickFiles(ctx, t, path)
	waitConfirmed(ctx, t, 0, 2*rpPart)
	open := uploadIDs(t, srv)
	if len(open) != 1 {
		t.Fatalf("%d multipart uploads open mid-upload, want 1", len(open))
	}
	stop, cancel := context.WithTimeout(first, 30*time.Second)
	defer cancel()
	// Cancelling the first tab's context closes the browser and waits for
	// the process to exit.
	if err := chromedp.Cancel(stop); err != nil {
		t.Fatalf("stop chromium: %v", err)
	}
	throttle(t, srv, false)

	_, ctx = openDemoIn(t, base, profile)
	pending := pendingNow(ctx, t)
	if len(pending) != 1 || pending[0].Name != "restart.bin" || pending[0].Size != rpSize {
		t.Fatalf("after the restart the page lists %+v, want restart.bin", pending)
	}
	t.Logf("resumable after the restart: %d of %d bytes", pending[0].BytesDone, pending[0].Size)
	pickFiles(ctx, t, path)
	res := waitResults(ctx, t, 1, time.Minute)
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
