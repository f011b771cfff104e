package ossstore

import (
	"fmt"
	"io"
	"maps"
	"net/textproto"
	"os"
	"path/filepath"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// Object types, as reported in x-oss-object-type.
const (
	TypeNormal    = "Normal"
	TypeMultipart = "Multipart"
	// TypeAppendable objects are made by AppendObject; like Multipart ones
	// their blob is a directory of segment files, one per append.
	TypeAppendable = "Appendable"
)

// Meta is the stored object metadata, as HTTP headers (Content-Type,
// Content-Disposition, Content-Encoding, Cache-Control, Expires, x-oss-meta-*)
// with canonical header names.
type Meta map[string]string

// canonical returns a copy of m with canonical header names.
func (m Meta) canonical() Meta {
	if len(m) == 0 {
		return nil
	}
	c := make(Meta, len(m))
	for k, v := range m {
		c[textproto.CanonicalMIMEHeaderKey(k)] = v
	}
	return c
}

// ObjectInfo describes one object version. ETag is unquoted.
type ObjectInfo struct {
	Bucket, Key  string
	Size         int64
	ETag         string
	CRC64        uint64
	LastModified time.Time
	Type         string // TypeNormal, TypeMultipart or TypeAppendable
	Meta         Meta
	Attrs
}

// PutOptions are the options of PutObject.
type PutOptions struct {
	// ContentMD5 is the decoded Content-MD5 header; nil when absent.
	ContentMD5 []byte
	// ForbidOverwrite refuses to replace an existing object
	// (x-oss-forbid-overwrite: true, or a bucket overwrite rule).
	ForbidOverwrite bool
	Attrs           Attrs
}

// objectRecord is the committed state of an object, stored as JSON at
// objectPath. Replacing it is the commit point of Put, Complete and Delete.
type objectRecord struct {
	Key          string    `json:"key"`
	Size         int64     `json:"size"`
	ETag         string    `json:"etag"`
	CRC64        uint64    `json:"crc64"`
	LastModified time.Time `json:"lastModified"`
	Type         string    `json:"type"`
	Meta         Meta      `json:"meta,omitempty"`
	Attrs
	// Blob is the entry under blobs/ holding the data: the data file itself
	// for a Normal object, a directory of part files 00000, 00001, … for a
	// Multipart one.
	Blob string `json:"blob"`
	// Parts are the sizes of a Multipart object's part files, in order.
	Parts []int64 `json:"parts,omitempty"`
	// SourceUpload is the upload a Multipart object was completed from; Open
	// uses it to finish a Complete interrupted after its commit.
	SourceUpload string `json:"sourceUpload,omitempty"`
}

func (r *objectRecord) info(bucket string) *ObjectInfo {
	return &ObjectInfo{
		Bucket:       bucket,
		Key:          r.Key,
		Size:         r.Size,
		ETag:         r.ETag,
		CRC64:        r.CRC64,
		LastModified: r.LastModified,
		Type:         r.Type,
		Meta:         maps.Clone(r.Meta),
		Attrs:        r.Attrs.clone(),
	}
}

// segments lists the files holding the object's bytes, in order.
func (r *objectRecord) segments(blobsDir string) []segment {
	if r.Type != TypeMultipart && r.Type != TypeAppendable {
		return []segment{{path: filepath.Join(blobsDir, r.Blob), size: r.Size}}
	}
	segs := make([]segment, len(r.Parts))
	var off int64
	for i, size := range r.Parts {
		segs[i] = segment{path: filepath.Join(blobsDir, r.Blob, partFileName(i)), off: off, size: size}
		off += size
	}
	return segs
}

func partFileName(i int) string { return fmt.Sprintf("%05d", i) }

func objLockName(bucket, key string) string { return bucket + "\x00" + key }

// readObject returns the committed record of key, or nil if there is none.
func (s *Store) readObject(bucket, key string) (*objectRecord, error) {
	var rec objectRecord
	if err := readJSON(s.objectPath(bucket, key), &rec); err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read object record: %w", err)
	}
	if rec.Key != key {
		// Two keys with one SHA-256 would be news; refuse rather than mix them.
		return nil, fmt.Errorf("object record %s holds key %q, not %q", s.objectPath(bucket, key), rec.Key, key)
	}
	return &rec, nil
}

// commitObject makes rec the current version of its key and returns the
// version it replaced, if any. The caller has made rec's blob durable.
func (s *Store) commitObject(bucket string, rec *objectRecord, forbidOverwrite bool) (*objectRecord, error) {
	unlock := s.objLocks.lock(objLockName(bucket, rec.Key))
	defer unlock()
	old, err := s.readObject(bucket, rec.Key)
	if err != nil {
		return nil, err
	}
	if old != nil && forbidOverwrite {
		return nil, errFileAlreadyExists()
	}
	path := s.objectPath(bucket, rec.Key)
	if err := mkdirDurable(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("commit object: %w", err)
	}
	if err := writeJSONAtomic(s.tmpDir(), path, rec); err != nil {
		return nil, fmt.Errorf("commit object: %w", err)
	}
	if old == nil {
		s.keyIndex(bucket).add(rec.Key)
	}
	return old, nil
}

// dropBlob removes a blob no record references any more, or defers that
// until its last open reader closes. A failed removal only leaks space until
// the next Open collects it, so errors are not reported.
func (s *Store) dropBlob(bucket, blob string) {
	id := bucket + "/" + blob
	s.mu.Lock()
	if s.readers[id] > 0 {
		s.doomed[id] = true
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	_ = os.RemoveAll(filepath.Join(s.blobsDir(bucket), blob))
}

// PutObject stores body as the new version of key. size is the expected
// length, or -1 when unknown. A body shorter than size fails with
// IncompleteBody and a Content-MD5 mismatch with InvalidDigest; either way
// nothing is stored and the previous version stays.
func (s *Store) PutObject(bucket, key string, body io.Reader, size int64, meta Meta, o PutOptions) (*ObjectInfo, error) {
	if err := s.checkBucketKey(bucket, key); err != nil {
		return nil, err
	}
	if o.ForbidOverwrite {
		// Checked again at commit; this spares reading a body that is bound to fail.
		if cur, err := s.readObject(bucket, key); err != nil {
			return nil, err
		} else if cur != nil {
			return nil, errFileAlreadyExists()
		}
	}
	r, err := s.receive(body, size, MaxObjectSize, o.ContentMD5)
	if err != nil {
		return nil, err
	}
	s.step("put:written")

	blob := randomHex(16)
	blobPath := filepath.Join(s.blobsDir(bucket), blob)
	if err := os.Rename(r.path, blobPath); err != nil {
		os.Remove(r.path)
		return nil, fmt.Errorf("put object: %w", err)
	}
	if err := syncDir(s.blobsDir(bucket)); err != nil {
		os.Remove(blobPath)
		return nil, fmt.Errorf("put object: %w", err)
	}
	s.step("put:linked")

	rec := &objectRecord{
		Key:          key,
		Size:         r.size,
		ETag:         r.etag(),
		CRC64:        r.crc64,
		LastModified: s.stamp(time.Second),
		Type:         TypeNormal,
		Meta:         meta.canonical(),
		Attrs:        o.Attrs.clone(),
		Blob:         blob,
	}
	old, err := s.commitObject(bucket, rec, o.ForbidOverwrite)
	if err != nil {
		os.Remove(blobPath)
		return nil, err
	}
	s.step("put:committed")
	if old != nil {
		s.dropBlob(bucket, old.Blob)
	}
	return rec.info(bucket), nil
}

// HeadObject returns the current version's info, or NoSuchKey (404).
func (s *Store) HeadObject(bucket, key string) (*ObjectInfo, error) {
	if err := s.checkBucketKey(bucket, key); err != nil {
		return nil, err
	}
	rec, err := s.readObject(bucket, key)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, osserr.NoSuchKey(key)
	}
	return rec.info(bucket), nil
}

// DeleteObject removes key. Deleting an absent key is not an error.
func (s *Store) DeleteObject(bucket, key string) error {
	if err := s.checkBucketKey(bucket, key); err != nil {
		return err
	}
	unlock := s.objLocks.lock(objLockName(bucket, key))
	rec, err := s.readObject(bucket, key)
	if err != nil || rec == nil {
		unlock()
		return err
	}
	return s.removeRecord(bucket, rec, unlock)
}
