package ossstore

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

func TestPutHeadOpenDelete(t *testing.T) {
	s, _ := newStore(t)
	data := gen(1, 300_000)
	meta := Meta{"content-type": "text/plain", "X-Oss-Meta-Color": "blue"}
	sum := md5.Sum(data)
	info, err := s.PutObject("bkt", "dir/file.txt", bytes.NewReader(data), int64(len(data)), meta, PutOptions{ContentMD5: sum[:]})
	if err != nil {
		t.Fatal(err)
	}
	if info.ETag != md5Hex(data) || info.CRC64 != crcOf(data) || info.Size != int64(len(data)) ||
		info.Type != "Normal" || info.Bucket != "bkt" || info.Key != "dir/file.txt" || info.LastModified.IsZero() {
		t.Fatalf("info = %+v", info)
	}
	if info.Meta["Content-Type"] != "text/plain" || info.Meta["X-Oss-Meta-Color"] != "blue" || len(info.Meta) != 2 {
		t.Fatalf("meta = %v, want canonical names", info.Meta)
	}
	head, err := s.HeadObject("bkt", "dir/file.txt")
	if err != nil {
		t.Fatal(err)
	}
	if head.ETag != info.ETag || head.CRC64 != info.CRC64 || !head.LastModified.Equal(info.LastModified) || head.Meta["Content-Type"] != "text/plain" {
		t.Fatalf("head = %+v, put = %+v", head, info)
	}
	got, _ := readObject(t, s, "dir/file.txt")
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}

	if err := s.DeleteObject("bkt", "dir/file.txt"); err != nil {
		t.Fatal(err)
	}
	_, err = s.HeadObject("bkt", "dir/file.txt")
	wantErr(t, err, 404, "NoSuchKey")
	_, err = s.OpenObject("bkt", "dir/file.txt")
	wantErr(t, err, 404, "NoSuchKey")
	if err := s.DeleteObject("bkt", "dir/file.txt"); err != nil {
		t.Fatalf("deleting an absent key: %v", err)
	}
	if n := countEntries(t, s.blobsDir("bkt")); n != 0 {
		t.Fatalf("%d blobs left after delete", n)
	}
	assertClean(t, s, "bkt")
}

func TestPutObjectEmptyAndUnknownSize(t *testing.T) {
	s, _ := newStore(t)
	info := put(t, s, "empty", nil)
	if info.Size != 0 || info.CRC64 != 0 || info.ETag != "D41D8CD98F00B204E9800998ECF8427E" {
		t.Fatalf("empty object info = %+v", info)
	}
	if b, _ := readObject(t, s, "empty"); len(b) != 0 {
		t.Fatalf("empty object read %d bytes", len(b))
	}
	data := gen(2, 70_001)
	// -1: length unknown; the reader hands out odd-sized chunks.
	info, err := s.PutObject("bkt", "unknown", iotest.HalfReader(bytes.NewReader(data)), -1, nil, PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(data)) || info.CRC64 != crcOf(data) {
		t.Fatalf("info = %+v", info)
	}
}

func TestPutObjectErrors(t *testing.T) {
	s, _ := newStore(t)
	old := gen(3, 1000)
	put(t, s, "k", old)

	// A body shorter than announced stores nothing.
	_, err := s.PutObject("bkt", "k", bytes.NewReader(gen(4, 10)), 20, nil, PutOptions{})
	wantErr(t, err, 400, "IncompleteBody")
	_, err = s.PutObject("bkt", "k", io.MultiReader(bytes.NewReader(gen(4, 10)), iotest.ErrReader(io.ErrUnexpectedEOF)), 20, nil, PutOptions{})
	wantErr(t, err, 400, "IncompleteBody")
	// A failing body reader is reported as such.
	boom := errors.New("boom")
	if _, err = s.PutObject("bkt", "k", iotest.ErrReader(boom), 20, nil, PutOptions{}); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the reader's error", err)
	}
	// A wrong Content-MD5 stores nothing either.
	bad := md5.Sum([]byte("other"))
	_, err = s.PutObject("bkt", "k", bytes.NewReader(gen(5, 100)), 100, nil, PutOptions{ContentMD5: bad[:]})
	e := wantErr(t, err, 400, "InvalidDigest")
	if e.Message != "The Content-MD5 you specified was invalid." {
		t.Fatalf("message = %q", e.Message)
	}
	_, err = s.PutObject("bkt", "k", bytes.NewReader(gen(5, 100)), 100, nil, PutOptions{ContentMD5: []byte{1, 2, 3}})
	wantErr(t, err, 400, "InvalidDigest")
	if got, _ := readObject(t, s, "k"); !bytes.Equal(got, old) {
		t.Fatal("failed puts changed the object")
	}

	// Only the announced length is read: trailing bytes belong to nobody.
	info, err := s.PutObject("bkt", "short", bytes.NewReader(gen(6, 50)), 10, nil, PutOptions{})
	if err != nil || info.Size != 10 {
		t.Fatalf("info %+v err %v", info, err)
	}

	_, err = s.PutObject("bkt", "k", bytes.NewReader(nil), 0, nil, PutOptions{ForbidOverwrite: true})
	wantErr(t, err, 409, "FileAlreadyExists")
	if _, err := s.PutObject("bkt", "new", bytes.NewReader(nil), 0, nil, PutOptions{ForbidOverwrite: true}); err != nil {
		t.Fatalf("ForbidOverwrite on a new key: %v", err)
	}

	_, err = s.PutObject("nobkt", "k", bytes.NewReader(nil), 0, nil, PutOptions{})
	wantErr(t, err, 404, "NoSuchBucket")
	_, err = s.PutObject("bkt", strings.Repeat("a", 1024), bytes.NewReader(nil), 0, nil, PutOptions{})
	wantErr(t, err, 400, "InvalidObjectName")
	_, err = s.PutObject("bkt", "", bytes.NewReader(nil), 0, nil, PutOptions{})
	wantErr(t, err, 400, "InvalidObjectName")
	_, err = s.PutObject("bkt", "bad\xff", bytes.NewReader(nil), 0, nil, PutOptions{})
	wantErr(t, err, 400, "InvalidObjectName")
	_, err = s.PutObject("bkt", "big", bytes.NewReader(nil), MaxObjectSize+1, nil, PutOptions{})
	wantErr(t, err, 400, "EntityTooLarge")
	_, err = s.HeadObject("nobkt", "k")
	wantErr(t, err, 404, "NoSuchBucket")
	assertClean(t, s, "bkt")
}

// TestKeysAreNotPaths stores keys that would be dangerous as paths and checks
// each reads back as itself and nothing lands outside the store.
func TestKeysAreNotPaths(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	s := openStore(t, dir)
	if err := s.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	keys := []string{
		"../../escape", "..", ".", "/abs/path", "a/b/c/", "a//b", " spaces and\ttabs ",
		"日本語/ключ/🙂", "back\\slash", "nul\x00byte", strings.Repeat("é", 511) + "x", // 1023 bytes
		"LOCK", "tmp", "bucket.json",
	}
	for i, k := range keys {
		put(t, s, k, gen(uint64(i), i*7))
	}
	for i, k := range keys {
		got, info := readObject(t, s, k)
		if info.Key != k || !bytes.Equal(got, gen(uint64(i), i*7)) {
			t.Fatalf("key %q read back as %q with wrong content", k, info.Key)
		}
		up, err := s.InitiateUpload("bkt", k, nil, Attrs{})
		if err != nil {
			t.Fatal(err)
		}
		if up.Key != k {
			t.Fatalf("upload key %q", up.Key)
		}
	}
	res, err := s.ListUploads("bkt", ListUploadsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Uploads) != len(keys) {
		t.Fatalf("%d uploads listed, want %d", len(res.Uploads), len(keys))
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Fatalf("something was written next to the store: %v", entries)
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if strings.Contains(d.Name(), "escape") || strings.Contains(d.Name(), "spaces") {
			t.Errorf("a key became a path: %s", p)
		}
		return nil
	})
}

// TestOpenObjectSeesOneVersion reads an object while it is overwritten and
// deleted: the open version stays whole, and its blob goes when it is closed.
func TestOpenObjectSeesOneVersion(t *testing.T) {
	s, _ := newStore(t)
	v1 := gen(10, 200_000)
	put(t, s, "k", v1)
	o, err := s.OpenObject("bkt", "k")
	if err != nil {
		t.Fatal(err)
	}
	v2 := gen(11, 100)
	put(t, s, "k", v2)
	if err := s.DeleteObject("bkt", "k"); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(o, 0, o.Info().Size))
	if err != nil || !bytes.Equal(got, v1) {
		t.Fatalf("open version changed: err %v, equal %v", err, bytes.Equal(got, v1))
	}
	if n := countEntries(t, s.blobsDir("bkt")); n != 1 {
		t.Fatalf("%d blobs while the old version is open, want 1", n)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countEntries(t, s.blobsDir("bkt")); n != 0 {
		t.Fatalf("%d blobs after close, want 0", n)
	}
	if _, err := o.ReadAt(make([]byte, 1), 0); err == nil {
		t.Fatal("ReadAt after Close succeeded")
	}
}

// TestConcurrentOverwriteAndRead races writers and readers on one key: every
// read sees exactly one whole version with matching info.
func TestConcurrentOverwriteAndRead(t *testing.T) {
	s, _ := newStore(t)
	versions := make(map[uint64][]byte)
	for i := range 8 {
		versions[crcOf(gen(uint64(100+i), 50_000+i))] = gen(uint64(100+i), 50_000+i)
	}
	put(t, s, "k", gen(100, 50_000))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				d := gen(uint64(100+i), 50_000+i)
				if _, err := s.PutObject("bkt", "k", bytes.NewReader(d), int64(len(d)), nil, PutOptions{}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				o, err := s.OpenObject("bkt", "k")
				if err != nil {
					t.Error(err)
					return
				}
				info := o.Info()
				b, err := io.ReadAll(io.NewSectionReader(o, 0, info.Size))
				o.Close()
				if err != nil {
					t.Error(err)
					return
				}
				want, ok := versions[info.CRC64]
				if !ok || !bytes.Equal(b, want) || info.ETag != md5Hex(want) {
					t.Error("read a torn or mismatched version")
					return
				}
			}
		}()
	}
	wg.Wait()
	assertClean(t, s, "bkt")
}
