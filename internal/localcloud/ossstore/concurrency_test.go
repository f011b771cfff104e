package ossstore

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// TestConcurrentSamePart uploads one part number from many goroutines: the
// survivor is one whole body, and only its data stays on disk.
func TestConcurrentSamePart(t *testing.T) {
	s, _ := newStore(t)
	up, _ := s.InitiateUpload("bkt", "k", nil, Attrs{})
	bodies := map[string][]byte{}
	for i := range 16 {
		d := gen(uint64(i), 50_000+i)
		bodies[md5Hex(d)] = d
	}
	var wg sync.WaitGroup
	for _, d := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if _, err := s.UploadPart("bkt", "k", up.UploadID, 1, bytes.NewReader(d), int64(len(d)), nil); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	parts, _, err := s.ListParts("bkt", "k", up.UploadID, 0, 0)
	if err != nil || len(parts) != 1 {
		t.Fatalf("parts = %+v %v", parts, err)
	}
	want, ok := bodies[parts[0].ETag]
	if !ok || parts[0].Size != int64(len(want)) || parts[0].CRC64 != crcOf(want) {
		t.Fatalf("surviving part %+v matches no body", parts[0])
	}
	if n := countEntries(t, s.uploadDir("bkt", up.UploadID)); n != 3 {
		t.Fatalf("%d entries in the upload dir, want 3", n)
	}
	if _, err := s.CompleteUpload("bkt", "k", up.UploadID, []CompletePart{{1, parts[0].ETag}}, CompleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := readObject(t, s, "k"); !bytes.Equal(got, want) {
		t.Fatal("object differs from the surviving part")
	}
	assertClean(t, s, "bkt")
}

func TestConcurrentDifferentParts(t *testing.T) {
	s, _ := newStore(t)
	up, _ := s.InitiateUpload("bkt", "k", nil, Attrs{})
	const n = 40
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := gen(uint64(i), 102400+i)
			if _, err := s.UploadPart("bkt", "k", up.UploadID, i, bytes.NewReader(d), int64(len(d)), nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	info, err := s.CompleteUpload("bkt", "k", up.UploadID, nil, CompleteOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i := 1; i <= n; i++ {
		want = append(want, gen(uint64(i), 102400+i)...)
	}
	got, _ := readObject(t, s, "k")
	if !bytes.Equal(got, want) || info.CRC64 != crcOf(want) {
		t.Fatal("object is not the ordered concatenation")
	}
}

func isNoSuchUpload(err error) bool {
	var e *osserr.Error
	return errors.As(err, &e) && e.Code == "NoSuchUpload"
}

// TestCompleteRacesUploadAndAbort runs Complete(All), Abort and an UploadPart
// of a new part at once, many times. Exactly one of Complete and Abort wins;
// the part is in the object exactly when its upload reported success.
func TestCompleteRacesUploadAndAbort(t *testing.T) {
	s, _ := newStore(t)
	p1, p2, p3 := gen(1, 102400), gen(2, 102400), gen(3, 3000)
	for iter := range 30 {
		up, _ := s.InitiateUpload("bkt", "k", nil, Attrs{})
		uploadPart(t, s, "k", up.UploadID, 1, p1)
		uploadPart(t, s, "k", up.UploadID, 2, p2)
		var wg sync.WaitGroup
		var completeErr, abortErr, partErr error
		var info *ObjectInfo
		wg.Add(3)
		go func() {
			defer wg.Done()
			info, completeErr = s.CompleteUpload("bkt", "k", up.UploadID, nil, CompleteOptions{All: true})
		}()
		go func() {
			defer wg.Done()
			if iter%3 != 0 { // sometimes let Complete race UploadPart alone
				abortErr = s.AbortUpload("bkt", "k", up.UploadID)
			} else {
				abortErr = errors.New("not run")
			}
		}()
		go func() {
			defer wg.Done()
			_, partErr = s.UploadPart("bkt", "k", up.UploadID, 3, bytes.NewReader(p3), int64(len(p3)), nil)
		}()
		wg.Wait()
		if partErr != nil && !isNoSuchUpload(partErr) {
			t.Fatalf("UploadPart: %v", partErr)
		}
		if (completeErr == nil) == (abortErr == nil) {
			t.Fatalf("complete err %v, abort err %v: exactly one must win", completeErr, abortErr)
		}
		if completeErr != nil {
			if !isNoSuchUpload(completeErr) {
				t.Fatalf("Complete: %v", completeErr)
			}
			continue
		}
		if abortErr.Error() != "not run" && !isNoSuchUpload(abortErr) {
			t.Fatalf("Abort: %v", abortErr)
		}
		want := append(append([]byte(nil), p1...), p2...)
		if partErr == nil {
			want = append(want, p3...)
		}
		got, head := readObject(t, s, "k")
		if !bytes.Equal(got, want) || head.ETag != info.ETag {
			t.Fatalf("iteration %d: object has %d bytes, want %d (part 3 uploaded: %v)", iter, len(got), len(want), partErr == nil)
		}
	}
	if res, _ := s.ListUploads("bkt", ListUploadsQuery{}); len(res.Uploads) != 0 {
		t.Fatalf("uploads left: %d", len(res.Uploads))
	}
	assertClean(t, s, "bkt")
}
