package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud/faults"
)

// TestEditedFileSupersedesItsUpload: an upload from a file handle is
// interrupted, the file is edited (new content, size and time: a new
// checkpoint id), and uploaded again through the same handle. The kept
// handle of the interrupted upload is the same entry — proof that it was
// an earlier version — so its multipart upload is aborted and its
// checkpoint removed; nothing is left pending. (A picked File carries no
// such proof: TestModifiedFileRestarts.)
func TestEditedFileSupersedesItsUpload(t *testing.T) {
	inEngines(t, chromiumOnly, testEditedFileSupersedesItsUpload)
}

func testEditedFileSupersedesItsUpload(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20), "OSSUP_CONCURRENCY": "2"})
	pg := openDemo(t, e, base)
	if _, err := evalAs[string](pg, writeOPFSFile+`('edited.bin', `+strconv.Itoa(6<<20)+`)`); err != nil {
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
	old := uploadIDs(t, srv)
	if err := pg.reload(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Cloud().Faults.Set(faults.Config{}); err != nil {
		t.Fatal(err)
	}
	waitEngine(pg, t)
	sum, err := evalAs[string](pg, writeOPFSFile+`('edited.bin', `+strconv.Itoa(3<<20+5)+`)`)
	if err != nil {
		t.Fatalf("edit the OPFS file: %v", err)
	}
	if _, err := evalAs[bool](pg, `(window.ossupDemo.add(window.opfsHandle), true)`); err != nil {
		t.Fatal(err)
	}
	res := waitResults(pg, t, 1, 2*time.Minute)
	got := readBack(t, srv, res[0].Key)
	if gs := sha256.Sum256(got); hex.EncodeToString(gs[:]) != sum {
		t.Fatalf("object is not the edited file (%d bytes)", len(got))
	}
	if ids, n := uploadIDs(t, srv), opRequests(srv, "AbortMultipartUpload"); len(ids) != 0 || n != 1 {
		t.Fatalf("multipart uploads %v after %d aborts: the proven earlier version %v was not discarded", ids, n, old)
	}
	if p := pendingNow(pg, t); len(p) != 0 {
		t.Fatalf("pending after the edited file's upload: %+v", p)
	}
}
