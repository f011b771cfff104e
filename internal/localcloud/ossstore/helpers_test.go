package ossstore

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// genReader yields n deterministic pseudo-random bytes for seed, without
// allocating, whatever the size of the reads.
type genReader struct {
	seed uint64
	off  int64
	n    int64
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	if rest := g.n - g.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	var w [8]byte
	for i := 0; i < len(p); {
		pos := g.off + int64(i)
		v := splitmix(g.seed ^ uint64(pos/8)*0x100000001B3)
		if pos%8 == 0 && len(p)-i >= 8 {
			binary.LittleEndian.PutUint64(p[i:], v)
			i += 8
			continue
		}
		binary.LittleEndian.PutUint64(w[:], v)
		i += copy(p[i:], w[pos%8:])
	}
	g.off += int64(len(p))
	return len(p), nil
}

func gen(seed uint64, n int) []byte {
	b, _ := io.ReadAll(&genReader{seed: seed, n: int64(n)})
	return b
}

var ecma = crc64.MakeTable(crc64.ECMA)

func crcOf(b []byte) uint64 { return crc64.Checksum(b, ecma) }

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

// multipartETag computes the expected ETag of an object made of parts.
func multipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		s := md5.Sum(p)
		h.Write(s[:])
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil))) + "-" + strconv.Itoa(len(parts))
}

func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newStore opens a fresh store with bucket "bkt".
func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s := openStore(t, dir)
	if err := s.CreateBucket("bkt"); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return s, dir
}

func wantErr(t *testing.T, err error, status int, code string) *osserr.Error {
	t.Helper()
	var e *osserr.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want %d %s", err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	return e
}

func put(t *testing.T, s *Store, key string, data []byte) *ObjectInfo {
	t.Helper()
	info, err := s.PutObject("bkt", key, bytes.NewReader(data), int64(len(data)), nil, PutOptions{})
	if err != nil {
		t.Fatalf("PutObject %q: %v", key, err)
	}
	return info
}

func uploadPart(t *testing.T, s *Store, key, id string, n int, data []byte) *Part {
	t.Helper()
	p, err := s.UploadPart("bkt", key, id, n, bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatalf("UploadPart %d: %v", n, err)
	}
	return p
}

// readObject returns the whole current content of key and its info, checking
// that the stored CRC64 and size match the bytes.
func readObject(t *testing.T, s *Store, key string) ([]byte, *ObjectInfo) {
	t.Helper()
	o, err := s.OpenObject("bkt", key)
	if err != nil {
		t.Fatalf("OpenObject %q: %v", key, err)
	}
	defer o.Close()
	info := o.Info()
	b, err := io.ReadAll(io.NewSectionReader(o, 0, info.Size))
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	if int64(len(b)) != info.Size || crcOf(b) != info.CRC64 {
		t.Fatalf("object %q: read %d bytes crc %d, info says %d bytes crc %d", key, len(b), crcOf(b), info.Size, info.CRC64)
	}
	return b, info
}

// countEntries returns the number of entries directly under dir.
func countEntries(t *testing.T, dir string) int {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	return len(es)
}

// assertClean checks that the store holds nothing unreferenced: tmp/ and
// trash/ are empty, every blob is referenced by one object, and every part
// data file by a part record.
func assertClean(t *testing.T, s *Store, bucket string) {
	t.Helper()
	for _, d := range []string{s.tmpDir(), s.trashDir()} {
		if n := countEntries(t, d); n != 0 {
			t.Errorf("%s has %d entries", d, n)
		}
	}
	refs := map[string]bool{}
	_ = filepath.WalkDir(s.objectsDir(bucket), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			var rec objectRecord
			if err := readJSON(p, &rec); err != nil {
				t.Errorf("read %s: %v", p, err)
			}
			refs[rec.Blob] = true
		}
		return nil
	})
	es, _ := os.ReadDir(s.blobsDir(bucket))
	if len(es) != len(refs) {
		t.Errorf("%d blobs on disk, %d referenced", len(es), len(refs))
	}
	for _, e := range es {
		if !refs[e.Name()] {
			t.Errorf("blob %s is not referenced", e.Name())
		}
	}
	ups, _ := os.ReadDir(s.uploadsDir(bucket))
	for _, u := range ups {
		dir := filepath.Join(s.uploadsDir(bucket), u.Name())
		fs, _ := os.ReadDir(dir)
		used := map[string]bool{}
		for _, f := range fs {
			if _, ok := parsePartRecordName(f.Name()); ok {
				var p partRecord
				if err := readJSON(filepath.Join(dir, f.Name()), &p); err != nil {
					t.Errorf("read part record: %v", err)
				}
				used[p.File] = true
			}
		}
		for _, f := range fs {
			if strings.HasSuffix(f.Name(), ".data") && !used[f.Name()] {
				t.Errorf("upload %s: part data %s is not referenced", u.Name(), f.Name())
			}
		}
	}
}
