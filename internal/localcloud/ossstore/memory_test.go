package ossstore

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// TestLargePartMemoryBounded uploads a 64 MiB part and a 64 MiB object from
// a generated reader and checks the heap barely notices: bodies are streamed,
// never held whole.
func TestLargePartMemoryBounded(t *testing.T) {
	const size = 64 << 20
	s, _ := newStore(t)
	up, _ := s.InitiateUpload("bkt", "k", nil, Attrs{})

	// Expected hashes, computed up front so that their cost is not measured.
	md, crc := md5.New(), oss.NewCRC64(0)
	if _, err := io.Copy(io.MultiWriter(md, crc), &genReader{seed: 64, n: size}); err != nil {
		t.Fatal(err)
	}
	wantETag, wantCRC := strings.ToUpper(hex.EncodeToString(md.Sum(nil))), crc.Sum64()

	measure := func(name string, f func()) {
		t.Helper()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		inuse := int64(after.HeapInuse) - int64(before.HeapInuse)
		t.Logf("%s: TotalAlloc +%d KiB, HeapInuse %+d KiB", name, alloc>>10, inuse>>10)
		if alloc > 8<<20 || inuse > 8<<20 {
			t.Fatalf("%s allocated %d bytes (heap in use %+d) for a %d-byte body", name, alloc, inuse, size)
		}
	}
	measure("UploadPart", func() {
		p, err := s.UploadPart("bkt", "k", up.UploadID, 1, &genReader{seed: 64, n: size}, size, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.ETag != wantETag || p.CRC64 != wantCRC || p.Size != size {
			t.Fatalf("part = %+v", p)
		}
	})
	measure("PutObject", func() {
		info, err := s.PutObject("bkt", "obj", &genReader{seed: 64, n: size}, -1, nil, PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if info.ETag != wantETag || info.CRC64 != wantCRC || info.Size != size {
			t.Fatalf("info = %+v", info)
		}
	})
	measure("CompleteUpload", func() {
		info, err := s.CompleteUpload("bkt", "k", up.UploadID, []CompletePart{{1, wantETag}}, CompleteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if info.CRC64 != wantCRC || info.Size != size {
			t.Fatalf("info = %+v", info)
		}
	})
}

func BenchmarkUploadPart(b *testing.B) {
	const size = 8 << 20
	dir := b.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateBucket("bkt"); err != nil {
		b.Fatal(err)
	}
	up, err := s.InitiateUpload("bkt", "k", nil, Attrs{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	for i := 0; b.Loop(); i++ {
		if _, err := s.UploadPart("bkt", "k", up.UploadID, i%MaxPartNumber+1, &genReader{seed: 1, n: size}, size, nil); err != nil {
			b.Fatal(err)
		}
	}
}
