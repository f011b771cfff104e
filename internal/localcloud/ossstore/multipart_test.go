package ossstore

import (
	"bytes"
	"crypto/md5"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestMultipartUpload(t *testing.T) {
	s, _ := newStore(t)
	up, err := s.InitiateUpload("bkt", "big/file", Meta{"Content-Type": "video/mp4", "x-oss-meta-a": "1"}, Attrs{})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9A-F]{32}$`).MatchString(up.UploadID) || up.Key != "big/file" || up.Bucket != "bkt" || up.Initiated.IsZero() {
		t.Fatalf("upload = %+v", up)
	}
	p1, p2, p3 := gen(21, 102400), gen(22, 150_001), gen(23, 5)
	sum := md5.Sum(p2)
	for i, d := range [][]byte{p1, p2, p3} {
		var part *Part
		if i == 1 {
			part, err = s.UploadPart("bkt", "big/file", up.UploadID, 2, bytes.NewReader(d), -1, sum[:])
			if err != nil {
				t.Fatal(err)
			}
		} else {
			part = uploadPart(t, s, "big/file", up.UploadID, i+1, d)
		}
		if part.Number != i+1 || part.Size != int64(len(d)) || part.ETag != md5Hex(d) || part.CRC64 != crcOf(d) || part.LastModified.IsZero() {
			t.Fatalf("part %d = %+v", i+1, part)
		}
	}

	parts, truncated, err := s.ListParts("bkt", "big/file", up.UploadID, 0, 0)
	if err != nil || truncated || len(parts) != 3 {
		t.Fatalf("ListParts = %v %v %v", parts, truncated, err)
	}
	for i, p := range parts {
		if p.Number != i+1 {
			t.Fatalf("parts out of order: %+v", parts)
		}
	}
	parts, truncated, _ = s.ListParts("bkt", "big/file", up.UploadID, 0, 2)
	if !truncated || len(parts) != 2 || parts[1].Number != 2 {
		t.Fatalf("first page = %+v %v", parts, truncated)
	}
	parts, truncated, _ = s.ListParts("bkt", "big/file", up.UploadID, 2, 2)
	if truncated || len(parts) != 1 || parts[0].Number != 3 {
		t.Fatalf("second page = %+v %v", parts, truncated)
	}

	info, err := s.CompleteUpload("bkt", "big/file", up.UploadID, []CompletePart{
		{1, `"` + md5Hex(p1) + `"`}, {2, strings.ToLower(md5Hex(p2))}, {3, md5Hex(p3)},
	}, CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	whole := bytes.Join([][]byte{p1, p2, p3}, nil)
	if info.Type != "Multipart" || info.Size != int64(len(whole)) || info.ETag != multipartETag(p1, p2, p3) ||
		info.CRC64 != crcOf(whole) || info.Meta["Content-Type"] != "video/mp4" || info.Meta["X-Oss-Meta-A"] != "1" {
		t.Fatalf("complete info = %+v, want crc %d etag %s", info, crcOf(whole), multipartETag(p1, p2, p3))
	}
	got, head := readObject(t, s, "big/file")
	if !bytes.Equal(got, whole) || head.ETag != info.ETag || head.Type != "Multipart" {
		t.Fatalf("object differs; head %+v", head)
	}

	// The upload is gone for every operation.
	_, err = s.UploadPart("bkt", "big/file", up.UploadID, 4, bytes.NewReader(nil), 0, nil)
	wantErr(t, err, 404, "NoSuchUpload")
	_, _, err = s.ListParts("bkt", "big/file", up.UploadID, 0, 0)
	wantErr(t, err, 404, "NoSuchUpload")
	_, err = s.CompleteUpload("bkt", "big/file", up.UploadID, []CompletePart{{1, md5Hex(p1)}}, CompleteOptions{})
	wantErr(t, err, 404, "NoSuchUpload")
	wantErr(t, s.AbortUpload("bkt", "big/file", up.UploadID), 404, "NoSuchUpload")
	if res, _ := s.ListUploads("bkt", ListUploadsQuery{}); len(res.Uploads) != 0 {
		t.Fatalf("uploads after complete: %+v", res.Uploads)
	}
	assertClean(t, s, "bkt")
}

// TestCompleteCRCOfManyParts checks the combined CRC64 and ETag against a
// direct hash/crc64 of the concatenation for parts of assorted sizes.
func TestCompleteCRCOfManyParts(t *testing.T) {
	s, _ := newStore(t)
	up, _ := s.InitiateUpload("bkt", "k", nil, Attrs{})
	var parts [][]byte
	var list []CompletePart
	for i := range 12 {
		d := gen(uint64(300+i), 102400+i*3331)
		if i == 11 {
			d = gen(999, 1)
		}
		parts = append(parts, d)
		p := uploadPart(t, s, "k", up.UploadID, i+1, d)
		list = append(list, CompletePart{i + 1, p.ETag})
	}
	info, err := s.CompleteUpload("bkt", "k", up.UploadID, list, CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	whole := bytes.Join(parts, nil)
	if info.CRC64 != crcOf(whole) || info.ETag != multipartETag(parts...) {
		t.Fatalf("crc %d etag %s, want %d %s", info.CRC64, info.ETag, crcOf(whole), multipartETag(parts...))
	}
}

func TestCompleteSubsetWithGaps(t *testing.T) {
	s, _ := newStore(t)
	up, _ := s.InitiateUpload("bkt", "k", nil, Attrs{})
	d := map[int][]byte{}
	for _, n := range []int{1, 2, 5, 7, 9} {
		d[n] = gen(uint64(n), 102400+n)
		uploadPart(t, s, "k", up.UploadID, n, d[n])
	}
	info, err := s.CompleteUpload("bkt", "k", up.UploadID,
		[]CompletePart{{2, md5Hex(d[2])}, {5, md5Hex(d[5])}, {9, md5Hex(d[9])}}, CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Join([][]byte{d[2], d[5], d[9]}, nil)
	got, _ := readObject(t, s, "k")
	if !bytes.Equal(got, want) || info.ETag != multipartETag(d[2], d[5], d[9]) {
		t.Fatal("object is not the concatenation of the listed parts only")
	}
	assertClean(t, s, "bkt")
}

func TestCompleteAll(t *testing.T) {
	s, _ := newStore(t)
	up, _ := s.InitiateUpload("bkt", "k", nil, Attrs{})
	_, err := s.CompleteUpload("bkt", "k", up.UploadID, nil, CompleteOptions{All: true})
	wantErr(t, err, 400, "InvalidPart")
	a, b, c := gen(1, 102400), gen(2, 200_000), gen(3, 10)
	uploadPart(t, s, "k", up.UploadID, 8, c)
	uploadPart(t, s, "k", up.UploadID, 3, b)
	uploadPart(t, s, "k", up.UploadID, 1, a)
	_, err = s.CompleteUpload("bkt", "k", up.UploadID, []CompletePart{{1, md5Hex(a)}}, CompleteOptions{All: true})
	wantErr(t, err, 400, "InvalidArgument")
	info, err := s.CompleteUpload("bkt", "k", up.UploadID, nil, CompleteOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Join([][]byte{a, b, c}, nil)
	if got, _ := readObject(t, s, "k"); !bytes.Equal(got, want) || info.ETag != multipartETag(a, b, c) {
		t.Fatal("complete-all did not assemble every part in order")
	}
}

func TestCompleteErrors(t *testing.T) {
	s, _ := newStore(t)
	up, _ := s.InitiateUpload("bkt", "k", nil, Attrs{})
	small, big, last := gen(1, 102399), gen(2, 102400), gen(3, 1)
	uploadPart(t, s, "k", up.UploadID, 1, big)
	uploadPart(t, s, "k", up.UploadID, 2, small)
	uploadPart(t, s, "k", up.UploadID, 3, last)
	complete := func(parts ...CompletePart) error {
		_, err := s.CompleteUpload("bkt", "k", up.UploadID, parts, CompleteOptions{})
		return err
	}
	wantErr(t, complete(), 400, "MalformedXML")
	e := wantErr(t, complete(CompletePart{2, md5Hex(small)}, CompletePart{1, md5Hex(big)}), 400, "InvalidPartOrder")
	if e.Message != "The list of parts was not in ascending order. Parts list must be specified in order by part number." {
		t.Fatalf("message = %q", e.Message)
	}
	wantErr(t, complete(CompletePart{1, md5Hex(big)}, CompletePart{1, md5Hex(big)}), 400, "InvalidPartOrder")
	wantErr(t, complete(CompletePart{1, md5Hex(big)}, CompletePart{4, md5Hex(big)}), 400, "InvalidPart")
	wantErr(t, complete(CompletePart{1, md5Hex(small)}), 400, "InvalidPart")
	wantErr(t, complete(CompletePart{0, md5Hex(big)}), 400, "InvalidArgument")
	wantErr(t, complete(CompletePart{10001, md5Hex(big)}), 400, "InvalidArgument")
	wantErr(t, complete(CompletePart{1, md5Hex(big)}, CompletePart{2, md5Hex(small)}, CompletePart{3, md5Hex(last)}), 400, "EntityTooSmall")
	_, err := s.CompleteUpload("bkt", "other-key", up.UploadID, []CompletePart{{1, md5Hex(big)}}, CompleteOptions{})
	wantErr(t, err, 404, "NoSuchUpload")

	// A part under 100 KB is fine as the last one.
	put(t, s, "k", []byte("old"))
	_, err = s.CompleteUpload("bkt", "k", up.UploadID, []CompletePart{{1, md5Hex(big)}, {2, md5Hex(small)}}, CompleteOptions{ForbidOverwrite: true})
	wantErr(t, err, 409, "FileAlreadyExists")
	if got, _ := readObject(t, s, "k"); string(got) != "old" {
		t.Fatal("a refused Complete replaced the object")
	}
	if err := complete(CompletePart{1, md5Hex(big)}, CompletePart{2, md5Hex(small)}); err != nil {
		t.Fatalf("the upload did not survive the refused Complete: %v", err)
	}
	if got, _ := readObject(t, s, "k"); !bytes.Equal(got, append(append([]byte(nil), big...), small...)) {
		t.Fatal("wrong content")
	}
	assertClean(t, s, "bkt")
}

func TestUploadErrors(t *testing.T) {
	s, _ := newStore(t)
	if err := s.CreateBucket("other"); err != nil {
		t.Fatal(err)
	}
	up, _ := s.InitiateUpload("bkt", "k", nil, Attrs{})
	for _, id := range []string{"", "../../x", strings.ToLower(up.UploadID), "0123456789ABCDEF0123456789ABCDEF"} {
		_, err := s.UploadPart("bkt", "k", id, 1, bytes.NewReader(nil), 0, nil)
		wantErr(t, err, 404, "NoSuchUpload")
	}
	_, err := s.UploadPart("bkt", "other-key", up.UploadID, 1, bytes.NewReader(nil), 0, nil)
	wantErr(t, err, 404, "NoSuchUpload")
	_, err = s.UploadPart("other", "k", up.UploadID, 1, bytes.NewReader(nil), 0, nil)
	wantErr(t, err, 404, "NoSuchUpload")
	_, err = s.UploadPart("nobkt", "k", up.UploadID, 1, bytes.NewReader(nil), 0, nil)
	wantErr(t, err, 404, "NoSuchBucket")
	for _, n := range []int{0, -1, 10001} {
		_, err = s.UploadPart("bkt", "k", up.UploadID, n, bytes.NewReader(nil), 0, nil)
		wantErr(t, err, 400, "InvalidArgument")
	}
	_, err = s.UploadPart("bkt", "k", up.UploadID, 1, bytes.NewReader(gen(1, 5)), 6, nil)
	wantErr(t, err, 400, "IncompleteBody")
	bad := md5.Sum(nil)
	_, err = s.UploadPart("bkt", "k", up.UploadID, 1, bytes.NewReader(gen(1, 5)), 5, bad[:])
	wantErr(t, err, 400, "InvalidDigest")
	_, err = s.UploadPart("bkt", "k", up.UploadID, 1, bytes.NewReader(nil), MaxPartSize+1, nil)
	wantErr(t, err, 400, "EntityTooLarge")
	if parts, _, _ := s.ListParts("bkt", "k", up.UploadID, 0, 0); len(parts) != 0 {
		t.Fatalf("failed uploads left parts: %+v", parts)
	}
	uploadPart(t, s, "k", up.UploadID, 10000, []byte("x"))

	wantErr(t, s.AbortUpload("bkt", "other-key", up.UploadID), 404, "NoSuchUpload")
	if err := s.AbortUpload("bkt", "k", up.UploadID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.AbortUpload("bkt", "k", up.UploadID), 404, "NoSuchUpload")
	_, err = s.UploadPart("bkt", "k", up.UploadID, 1, bytes.NewReader(nil), 0, nil)
	wantErr(t, err, 404, "NoSuchUpload")
	_, _, err = s.ListParts("bkt", "k", up.UploadID, 0, 0)
	wantErr(t, err, 404, "NoSuchUpload")
	if n := countEntries(t, s.uploadsDir("bkt")); n != 0 {
		t.Fatalf("%d upload dirs after abort", n)
	}
	assertClean(t, s, "bkt")
}

func TestUploadPartOverwrite(t *testing.T) {
	s, _ := newStore(t)
	up, _ := s.InitiateUpload("bkt", "k", nil, Attrs{})
	uploadPart(t, s, "k", up.UploadID, 1, gen(1, 1000))
	second := gen(2, 2000)
	uploadPart(t, s, "k", up.UploadID, 1, second)
	parts, _, _ := s.ListParts("bkt", "k", up.UploadID, 0, 0)
	if len(parts) != 1 || parts[0].ETag != md5Hex(second) || parts[0].Size != 2000 {
		t.Fatalf("parts = %+v", parts)
	}
	// The replaced part's data is gone: upload.json, one record, one data file.
	if n := countEntries(t, s.uploadDir("bkt", up.UploadID)); n != 3 {
		t.Fatalf("%d entries in the upload dir, want 3", n)
	}
	if _, err := s.CompleteUpload("bkt", "k", up.UploadID, []CompletePart{{1, md5Hex(second)}}, CompleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := readObject(t, s, "k"); !bytes.Equal(got, second) {
		t.Fatal("wrong content")
	}
}

// TestReadAtAcrossParts reads random ranges of a multipart object, many of
// them spanning part boundaries, and compares with the concatenation.
func TestReadAtAcrossParts(t *testing.T) {
	s, _ := newStore(t)
	up, _ := s.InitiateUpload("bkt", "k", nil, Attrs{})
	var whole []byte
	for i, n := range []int{102400, 102401, 150_000, 102400} {
		d := gen(uint64(i), n)
		whole = append(whole, d...)
		uploadPart(t, s, "k", up.UploadID, i+1, d)
	}
	uploadPart(t, s, "k", up.UploadID, 5, gen(9, 7))
	whole = append(whole, gen(9, 7)...)
	if _, err := s.CompleteUpload("bkt", "k", up.UploadID, nil, CompleteOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	o, err := s.OpenObject("bkt", "k")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	size := int64(len(whole))
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(off int64, n int) {
		buf := make([]byte, n)
		m, err := o.ReadAt(buf, off)
		end := min(off+int64(n), size)
		want := whole[min(off, size):end]
		if m != len(want) || !bytes.Equal(buf[:m], want) {
			t.Fatalf("ReadAt(%d, %d) = %d bytes, want %d", n, off, m, len(want))
		}
		if m < n && err != io.EOF || m == n && err != nil {
			t.Fatalf("ReadAt(%d, %d) err = %v", n, off, err)
		}
	}
	boundaries := []int64{102400, 204801, 354801, 457201}
	for _, b := range boundaries {
		for _, d := range []int64{-1, 0, 1} {
			check(b+d, 1)
			check(b+d-5000, 10_000)
		}
	}
	check(0, int(size))
	check(0, int(size)+10)
	check(size-3, 10)
	check(size, 1)
	check(size+100, 1)
	check(5, 0)
	for range 200 {
		off := rng.Int64N(size)
		check(off, rng.IntN(300_000))
	}
	if _, err := o.ReadAt(make([]byte, 1), -1); err == nil {
		t.Fatal("negative offset accepted")
	}
}
