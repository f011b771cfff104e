package ossstore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestRestartPersistence(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	normal := gen(1, 123_456)
	put(t, s, "normal", normal)
	mpUp, _ := s.InitiateUpload("bkt", "multi", Meta{"Content-Type": "a/b"}, Attrs{})
	a, b := gen(2, 102400), gen(3, 99)
	uploadPart(t, s, "multi", mpUp.UploadID, 1, a)
	uploadPart(t, s, "multi", mpUp.UploadID, 2, b)
	mpInfo, err := s.CompleteUpload("bkt", "multi", mpUp.UploadID, nil, CompleteOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	pending, _ := s.InitiateUpload("bkt", "pending", Meta{"X-Oss-Meta-K": "v"}, Attrs{})
	c := gen(4, 102400)
	pc := uploadPart(t, s, "pending", pending.UploadID, 1, c)
	normalInfo, _ := s.HeadObject("bkt", "normal")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir)
	got, info := readObject(t, s, "normal")
	if !bytes.Equal(got, normal) || info.ETag != normalInfo.ETag || !info.LastModified.Equal(normalInfo.LastModified) {
		t.Fatalf("normal object after restart: %+v", info)
	}
	got, info = readObject(t, s, "multi")
	if !bytes.Equal(got, append(append([]byte(nil), a...), b...)) || info.ETag != mpInfo.ETag || info.CRC64 != mpInfo.CRC64 ||
		info.Type != "Multipart" || info.Meta["Content-Type"] != "a/b" {
		t.Fatalf("multipart object after restart: %+v", info)
	}
	res, _ := s.ListUploads("bkt", ListUploadsQuery{})
	if len(res.Uploads) != 1 || res.Uploads[0].UploadID != pending.UploadID || res.Uploads[0].Meta["X-Oss-Meta-K"] != "v" ||
		!res.Uploads[0].Initiated.Equal(pending.Initiated) {
		t.Fatalf("uploads after restart: %+v", res.Uploads)
	}
	parts, _, _ := s.ListParts("bkt", "pending", pending.UploadID, 0, 0)
	if len(parts) != 1 || parts[0] != *pc {
		t.Fatalf("parts after restart: %+v, want %+v", parts, *pc)
	}
	d := gen(5, 10)
	uploadPart(t, s, "pending", pending.UploadID, 2, d)
	if _, err := s.CompleteUpload("bkt", "pending", pending.UploadID, []CompletePart{{1, pc.ETag}, {2, md5Hex(d)}}, CompleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := readObject(t, s, "pending"); !bytes.Equal(got, append(append([]byte(nil), c...), d...)) {
		t.Fatal("upload resumed after restart completed to wrong bytes")
	}
	assertClean(t, s, "bkt")
}

// TestOpenCollectsGarbage plants the leftovers a crash can leave and checks
// Open removes exactly those.
func TestOpenCollectsGarbage(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	keep := gen(1, 1000)
	put(t, s, "keep", keep)
	up, _ := s.InitiateUpload("bkt", "up", nil, Attrs{})
	p := gen(2, 500)
	uploadPart(t, s, "up", up.UploadID, 1, p)
	s.Close()

	write := func(path string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := filepath.Join(dir, "buckets", "bkt")
	write(filepath.Join(dir, "tmp", "body-123"))
	write(filepath.Join(dir, "tmp", "blob-x", "00000"))
	write(filepath.Join(dir, "trash", up.UploadID+"-1", "upload.json"))
	write(filepath.Join(b, "blobs", "orphanfile"))
	write(filepath.Join(b, "blobs", "orphandir", "00000"))
	write(filepath.Join(b, "uploads", up.UploadID, "p00001.deadbeef.data"))
	write(filepath.Join(b, "uploads", up.UploadID, "p00002.deadbeef.data"))

	s = openStore(t, dir)
	assertClean(t, s, "bkt")
	if got, _ := readObject(t, s, "keep"); !bytes.Equal(got, keep) {
		t.Fatal("live object lost")
	}
	parts, _, err := s.ListParts("bkt", "up", up.UploadID, 0, 0)
	if err != nil || len(parts) != 1 || parts[0].ETag != md5Hex(p) {
		t.Fatalf("live part lost: %+v %v", parts, err)
	}
	if n := countEntries(t, filepath.Join(b, "uploads", up.UploadID)); n != 3 {
		t.Fatalf("%d entries in the upload dir, want 3", n)
	}
}
