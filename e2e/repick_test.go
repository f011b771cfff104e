package e2e

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
)

// TestRepickRefusesImpostor: after a reload mid-upload, a different file
// picked under the same name, with the same size and lastModified (so the
// same checkpoint id) but other bytes, is told apart by its sampled
// fingerprint. The engine does not resume with it: it aborts the old
// multipart upload and uploads the new file from scratch, and the object
// holds the new file's bytes only, never a mix of the two.
func TestRepickRefusesImpostor(t *testing.T) {
	t.Parallel()
	inEngines(t, chromiumOnly, testRepickRefusesImpostor)
}

func testRepickRefusesImpostor(t *testing.T, e browser.Engine) {
	srv, base := rpBackend(t)
	pg := openDemo(t, e, base)
	mtime := time.Now().Add(-time.Hour).Truncate(time.Second)
	original := filepath.Join(t.TempDir(), "photo.bin")
	origData := noise(1, rpSize)
	writeWithTime(t, original, origData, mtime)
	pickFiles(pg, t, original)
	waitConfirmed(pg, t, 0, 2*rpPart)
	origModified := pickedLastModified(pg, t, 0)
	old := uploadIDs(t, srv)
	if len(old) != 1 {
		t.Fatalf("%d multipart uploads open mid-upload, want 1", len(old))
	}

	pending := reloadMidUpload(pg, t, srv)
	if len(pending) != 1 || pending[0].Name != "photo.bin" {
		t.Fatalf("after the reload the page lists %+v, want photo.bin", pending)
	}
	impostor := filepath.Join(t.TempDir(), "photo.bin")
	newData := noise(2, rpSize)
	writeWithTime(t, impostor, newData, mtime)
	pickFiles(pg, t, impostor)
	// The test is only meaningful if the browser sees the same identity.
	if m := pickedLastModified(pg, t, 0); m != origModified || m != pending[0].LastModified {
		t.Fatalf("impostor lastModified %d, original %d, checkpoint %d: not the same identity", m, origModified, pending[0].LastModified)
	}
	res := waitResults(pg, t, 1, time.Minute)
	got := readBack(t, srv, res[0].Key)
	if sha256.Sum256(got) != sha256.Sum256(newData) {
		t.Fatalf("object is not the picked file: %d bytes, %d of its %d-byte parts match the original's",
			len(got), sameParts(got, origData), rpPart)
	}
	if n := opRequests(srv, "InitiateMultipartUpload"); n != 2 {
		t.Errorf("%d uploads initiated, want 2 (the impostor starts afresh)", n)
	}
	if n := opRequests(srv, "AbortMultipartUpload"); n != 1 {
		t.Errorf("%d aborts, want 1 (the old upload)", n)
	}
	if ids := uploadIDs(t, srv); len(ids) != 0 {
		t.Fatalf("multipart uploads left %v (old one %v)", ids, old)
	}
	if p := pendingNow(pg, t); len(p) != 0 {
		t.Fatalf("checkpoints left: %+v", p)
	}
}

// sameParts counts the parts of a that are byte-identical in b.
func sameParts(a, b []byte) int {
	n := 0
	for off := 0; off < len(a) && off < len(b); off += rpPart {
		end := min(off+rpPart, len(a), len(b))
		if bytes.Equal(a[off:end], b[off:end]) {
			n++
		}
	}
	return n
}

// TestRepickMatchesRightFile: two files are interrupted by a reload; each
// file picked again resumes its own multipart upload (no new upload is
// initiated), the other one stays resumable meanwhile, only the parts that
// were in flight are sent again, and both objects arrive identical.
func TestRepickMatchesRightFile(t *testing.T) {
	t.Parallel()
	inEngines(t, chromiumOnly, testRepickMatchesRightFile)
}

func testRepickMatchesRightFile(t *testing.T, e browser.Engine) {
	srv, base := rpBackend(t)
	pg := openDemo(t, e, base)
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "a.bin"), filepath.Join(dir, "b.bin")}
	data := [][]byte{noise(3, rpSize), noise(4, rpSize)}
	for i, p := range paths {
		if err := os.WriteFile(p, data[i], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pickFiles(pg, t, paths...)
	waitConfirmed(pg, t, 0, 2*rpPart)
	waitConfirmed(pg, t, 1, 2*rpPart)
	open := uploadIDs(t, srv)
	if len(open) != 2 {
		t.Fatalf("%d multipart uploads open mid-upload, want 2", len(open))
	}
	if pending := reloadMidUpload(pg, t, srv); len(pending) != 2 {
		t.Fatalf("after the reload the page lists %+v, want a.bin and b.bin", pending)
	}

	// b.bin first: it must continue b's upload, and leave a's alone.
	pickFiles(pg, t, paths[1])
	res := waitResults(pg, t, 1, time.Minute)
	if got := readBack(t, srv, res[0].Key); sha256.Sum256(got) != sha256.Sum256(data[1]) {
		t.Fatalf("b.bin resumed to other bytes (%d stored)", len(got))
	}
	left := uploadIDs(t, srv)
	if len(left) != 1 || !slices.Contains(open, left[0]) {
		t.Fatalf("after b.bin, open uploads %v, want one of %v (a.bin's)", left, open)
	}
	if p := pendingNow(pg, t); len(p) != 1 || p[0].Name != "a.bin" {
		t.Fatalf("after b.bin, resumable %+v, want a.bin", p)
	}

	pickFiles(pg, t, paths[0])
	results := waitResults(pg, t, 2, time.Minute)
	if got := readBack(t, srv, results[1].Key); results[1].Name != "a.bin" || sha256.Sum256(got) != sha256.Sum256(data[0]) {
		t.Fatalf("a.bin resumed to other bytes (%s, %d stored)", results[1].Name, len(got))
	}
	if n := opRequests(srv, "InitiateMultipartUpload"); n != 2 {
		t.Errorf("%d uploads initiated, want 2 (both resumed)", n)
	}
	if ids := uploadIDs(t, srv); len(ids) != 0 {
		t.Fatalf("multipart uploads left: %v", ids)
	}
	resent := uploadPartBytes(srv) - 2*rpSize
	t.Logf("UploadPart bytes re-sent after the reload: %d", resent)
	if resent < 0 || resent > 2*rpConc*rpPart {
		t.Fatalf("re-sent %d bytes, more than the parts two uploads can have in flight (%d)", resent, 2*rpConc*rpPart)
	}
}
