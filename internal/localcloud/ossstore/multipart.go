package ossstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// Upload is a multipart upload in progress.
type Upload struct {
	Bucket, Key, UploadID string
	Initiated             time.Time
	Meta                  Meta
	Attrs
}

// Part is an uploaded part. ETag is unquoted upper-case hex MD5.
type Part struct {
	Number       int
	Size         int64
	ETag         string
	CRC64        uint64
	LastModified time.Time
}

// CompletePart is one entry of a CompleteMultipartUpload body.
type CompletePart struct {
	Number int
	// ETag is compared case-insensitively, with or without quotes.
	ETag string
}

// CompleteOptions are the options of CompleteUpload.
type CompleteOptions struct {
	// All is x-oss-complete-all: yes: use every uploaded part, sorted.
	All bool
	// ForbidOverwrite refuses to replace an existing object
	// (x-oss-forbid-overwrite: true, or a bucket overwrite rule).
	ForbidOverwrite bool
}

// uploadRecord is uploads/<id>/upload.json.
type uploadRecord struct {
	Key       string    `json:"key"`
	UploadID  string    `json:"uploadId"`
	Initiated time.Time `json:"initiated"`
	Meta      Meta      `json:"meta,omitempty"`
	Attrs
}

func (u *uploadRecord) upload(bucket string) *Upload {
	return &Upload{Bucket: bucket, Key: u.Key, UploadID: u.UploadID, Initiated: u.Initiated, Meta: maps.Clone(u.Meta), Attrs: u.Attrs.clone()}
}

// partRecord is uploads/<id>/pNNNNN.json, the current version of a part;
// replacing it is the commit point of UploadPart.
type partRecord struct {
	Number       int       `json:"number"`
	File         string    `json:"file"` // data file in the upload dir
	Size         int64     `json:"size"`
	ETag         string    `json:"etag"`
	CRC64        uint64    `json:"crc64"`
	LastModified time.Time `json:"lastModified"`
}

func (p *partRecord) part() Part {
	return Part{Number: p.Number, Size: p.Size, ETag: p.ETag, CRC64: p.CRC64, LastModified: p.LastModified}
}

func partRecordName(n int) string { return fmt.Sprintf("p%05d.json", n) }

// parsePartRecordName returns the part number of a "pNNNNN.json" name.
func parsePartRecordName(name string) (int, bool) {
	if len(name) != len("p00000.json") || name[0] != 'p' || !strings.HasSuffix(name, ".json") {
		return 0, false
	}
	n, err := strconv.Atoi(name[1:6])
	if err != nil || n < 1 || n > MaxPartNumber {
		return 0, false
	}
	return n, true
}

func upLockName(bucket, id string) string { return bucket + "\x00" + id }

// readUpload returns the upload record, or NoSuchUpload unless the upload
// exists in this bucket for this key.
func (s *Store) readUpload(bucket, key, id string) (*uploadRecord, error) {
	if !validUploadID(id) {
		return nil, osserr.NoSuchUpload(id)
	}
	var u uploadRecord
	if err := readJSON(filepath.Join(s.uploadDir(bucket, id), "upload.json"), &u); err != nil {
		if isNotExist(err) {
			return nil, osserr.NoSuchUpload(id)
		}
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if u.Key != key {
		return nil, osserr.NoSuchUpload(id)
	}
	return &u, nil
}

// readPart returns the current record of part n, or nil if it has none.
func (s *Store) readPart(dir string, n int) (*partRecord, error) {
	var p partRecord
	if err := readJSON(filepath.Join(dir, partRecordName(n)), &p); err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read part %d: %w", n, err)
	}
	return &p, nil
}

// partNumbers lists the numbers of the parts of an upload, ascending.
func partNumbers(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var nums []int
	for _, e := range entries {
		if n, ok := parsePartRecordName(e.Name()); ok {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	return nums, nil
}

// InitiateUpload starts a multipart upload of key; meta and attrs become the
// object's metadata and attributes at Complete.
func (s *Store) InitiateUpload(bucket, key string, meta Meta, attrs Attrs) (*Upload, error) {
	if err := s.checkBucketKey(bucket, key); err != nil {
		return nil, err
	}
	u := &uploadRecord{
		Key:       key,
		UploadID:  newUploadID(),
		Initiated: s.stamp(time.Millisecond),
		Meta:      meta.canonical(),
		Attrs:     attrs.clone(),
	}
	// Built under tmp/ and renamed into place whole: an upload exists exactly
	// when its directory with its record does.
	staging := filepath.Join(s.tmpDir(), "upload-"+randomHex(8))
	if err := os.Mkdir(staging, 0o755); err != nil {
		return nil, fmt.Errorf("initiate upload: %w", err)
	}
	defer os.RemoveAll(staging) // no-op once renamed
	if err := writeJSONAtomic(s.tmpDir(), filepath.Join(staging, "upload.json"), u); err != nil {
		return nil, fmt.Errorf("initiate upload: %w", err)
	}
	if err := os.Rename(staging, s.uploadDir(bucket, u.UploadID)); err != nil {
		return nil, fmt.Errorf("initiate upload: %w", err)
	}
	if err := syncDir(s.uploadsDir(bucket)); err != nil {
		return nil, fmt.Errorf("initiate upload: %w", err)
	}
	s.step("initiate:committed")
	return u.upload(bucket), nil
}

// UploadPart stores body as part n of the upload, replacing any previous
// part n (the last writer to finish wins). size is the expected length or -1;
// contentMD5 is the decoded Content-MD5, nil when absent.
func (s *Store) UploadPart(bucket, key, uploadID string, n int, body io.Reader, size int64, contentMD5 []byte) (*Part, error) {
	if err := s.checkBucketKey(bucket, key); err != nil {
		return nil, err
	}
	if n < 1 || n > MaxPartNumber {
		return nil, errInvalidPartNumber(n)
	}
	if _, err := s.readUpload(bucket, key, uploadID); err != nil {
		return nil, err
	}
	// The body is received without any lock, so parts of one upload (even
	// the same part) stream in parallel; only the commit below is serialised
	// with Complete and Abort.
	r, err := s.receive(body, size, MaxPartSize, contentMD5)
	if err != nil {
		return nil, err
	}
	s.step("part:written")
	p, err := s.commitPart(bucket, key, uploadID, n, r)
	if err != nil {
		os.Remove(r.path)
		return nil, err
	}
	return p, nil
}

func (s *Store) commitPart(bucket, key, uploadID string, n int, r *received) (*Part, error) {
	dir := s.uploadDir(bucket, uploadID)
	rec := &partRecord{
		Number:       n,
		File:         fmt.Sprintf("p%05d.%s.data", n, randomHex(8)),
		Size:         r.size,
		ETag:         r.etag(),
		CRC64:        r.crc64,
		LastModified: s.stamp(time.Millisecond),
	}
	// Everything up to the record's rename happens outside the upload's lock,
	// so parallel parts of one upload overlap their fsyncs: the data file is
	// unreferenced until the record names it (Open collects it if nothing
	// ever does), and the record is still a temp file.
	dataPath := filepath.Join(dir, rec.File)
	if err := os.Rename(r.path, dataPath); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, uerr := s.readUpload(bucket, key, uploadID); uerr != nil {
				return nil, uerr // aborted or completed meanwhile
			}
		}
		return nil, fmt.Errorf("upload part: %w", err)
	}
	// The data's directory entry must be durable before a record names it.
	if err := syncDir(dir); err != nil {
		os.Remove(dataPath)
		return nil, fmt.Errorf("upload part: %w", err)
	}
	s.step("part:linked")
	tmpRec, err := writeJSONTemp(s.tmpDir(), rec)
	if err != nil {
		os.Remove(dataPath)
		return nil, fmt.Errorf("upload part: %w", err)
	}

	unlock := s.upLocks.lock(upLockName(bucket, uploadID))
	defer unlock()
	fail := func(err error) (*Part, error) {
		os.Remove(dataPath)
		os.Remove(tmpRec)
		return nil, err
	}
	if _, err := s.readUpload(bucket, key, uploadID); err != nil {
		return fail(err) // completed or aborted while the body was streaming
	}
	old, err := s.readPart(dir, n)
	if err != nil {
		return fail(err)
	}
	if err := os.Rename(tmpRec, filepath.Join(dir, partRecordName(n))); err != nil {
		return fail(fmt.Errorf("upload part: %w", err))
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("upload part: %w", err)
	}
	s.step("part:committed")
	if old != nil {
		_ = os.Remove(filepath.Join(dir, old.File)) // a leftover is collected by Open
	}
	p := rec.part()
	return &p, nil
}

// ListParts returns the parts numbered above marker, at most max (default
// and limit 1000), and whether more remain.
func (s *Store) ListParts(bucket, key, uploadID string, marker, max int) ([]Part, bool, error) {
	if err := s.checkBucketKey(bucket, key); err != nil {
		return nil, false, err
	}
	if _, err := s.readUpload(bucket, key, uploadID); err != nil {
		return nil, false, err
	}
	if max <= 0 || max > MaxListUploads {
		max = MaxListUploads
	}
	dir := s.uploadDir(bucket, uploadID)
	nums, err := partNumbers(dir)
	if err != nil {
		if isNotExist(err) {
			return nil, false, osserr.NoSuchUpload(uploadID)
		}
		return nil, false, fmt.Errorf("list parts: %w", err)
	}
	i, _ := slices.BinarySearch(nums, marker+1)
	nums = nums[i:]
	truncated := len(nums) > max
	if truncated {
		nums = nums[:max]
	}
	parts := make([]Part, 0, len(nums))
	for _, n := range nums {
		p, err := s.readPart(dir, n)
		if err != nil {
			return nil, false, err
		}
		if p == nil { // the upload went away under us
			return nil, false, osserr.NoSuchUpload(uploadID)
		}
		parts = append(parts, p.part())
	}
	return parts, truncated, nil
}
