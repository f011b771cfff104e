package ossstore

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// AppendOptions are the options of AppendObject.
type AppendOptions struct {
	// Position is where the body goes: the object's current length (0 to
	// create it).
	Position int64
	// Meta and Attrs are the object's, taken from the append that creates it
	// and ignored afterwards, as on OSS.
	Meta  Meta
	Attrs Attrs
	// ContentMD5 is the decoded Content-MD5 of this append's body.
	ContentMD5 []byte
	// NoOverwrite refuses to change an existing object (a bucket overwrite
	// rule matches it).
	NoOverwrite bool
}

// AppendError is the 409 of an append at the wrong position or to an object
// that is not appendable; Next is the object's length, which OSS sends as
// x-oss-next-append-position.
type AppendError struct {
	Err  *osserr.Error
	Next int64
}

func (e *AppendError) Error() string { return e.Err.Error() }

// Unwrap gives the OSS error, for osserr.As.
func (e *AppendError) Unwrap() error { return e.Err }

// AppendObject adds body at o.Position of key, creating an Appendable object
// at position 0 (AppendObject,
// https://www.alibabacloud.com/help/en/oss/developer-reference/appendobject).
// The body is received before the object is locked, so appends never block
// readers for long; the position is checked at the commit. Each append is a
// new segment file; the new version's blob links the old segments, so open
// readers of the previous version are unaffected.
func (s *Store) AppendObject(bucket, key string, body io.Reader, size int64, o AppendOptions) (*ObjectInfo, error) {
	if err := s.checkBucketKey(bucket, key); err != nil {
		return nil, err
	}
	if cur, err := s.readObject(bucket, key); err != nil {
		return nil, err
	} else if err := checkAppend(cur, o); err != nil {
		return nil, err // spares reading a body bound to fail; checked again below
	}
	r, err := s.receive(body, size, MaxObjectSize-o.Position, o.ContentMD5)
	if err != nil {
		return nil, err
	}
	defer os.Remove(r.path) // linked into the blob on success

	unlock := s.objLocks.lock(objLockName(bucket, key))
	defer unlock()
	cur, err := s.readObject(bucket, key)
	if err != nil {
		return nil, err
	}
	if err := checkAppend(cur, o); err != nil {
		return nil, err
	}
	rec := &objectRecord{Key: key, Type: TypeAppendable, Blob: randomHex(16), LastModified: s.stamp(time.Second)}
	var segs []segment
	var prevETag string
	if cur != nil {
		rec.Meta, rec.Attrs, rec.Size, rec.CRC64, rec.Parts = cur.Meta, cur.Attrs, cur.Size, cur.CRC64, append([]int64(nil), cur.Parts...)
		segs = cur.segments(s.blobsDir(bucket))
		prevETag = cur.ETag
	} else {
		rec.Meta, rec.Attrs = o.Meta.canonical(), o.Attrs.clone()
	}
	segs = append(segs, segment{path: r.path, size: r.size})
	rec.Parts = append(rec.Parts, r.size)
	rec.CRC64 = oss.CRC64Combine(rec.CRC64, r.crc64, uint64(r.size))
	rec.Size += r.size
	// The ETag of an appendable object is opaque on OSS (not the MD5 of its
	// bytes); here it chains the appends' MD5s so each version has its own.
	md := md5.New()
	md.Write([]byte(prevETag))
	md.Write(r.md5[:])
	rec.ETag = strings.ToUpper(hex.EncodeToString(md.Sum(nil)))

	blobPath, err := s.linkBlob(bucket, rec.Blob, segs, true)
	if err != nil {
		return nil, err
	}
	path := s.objectPath(bucket, key)
	if err := mkdirDurable(filepath.Dir(path)); err != nil {
		os.RemoveAll(blobPath)
		return nil, fmt.Errorf("append object: %w", err)
	}
	if err := writeJSONAtomic(s.tmpDir(), path, rec); err != nil {
		os.RemoveAll(blobPath)
		return nil, fmt.Errorf("append object: %w", err)
	}
	if cur == nil {
		s.keyIndex(bucket).add(key)
	} else {
		s.dropBlob(bucket, cur.Blob)
	}
	return rec.info(bucket), nil
}

func checkAppend(cur *objectRecord, o AppendOptions) error {
	var length int64
	if cur != nil {
		length = cur.Size
		if cur.Type != TypeAppendable {
			return &AppendError{Err: osserr.New(http.StatusConflict, "ObjectNotAppendable", "The object is not appendable."), Next: length}
		}
		if o.NoOverwrite {
			return errFileAlreadyExists()
		}
	}
	if o.Position != length {
		return &AppendError{Err: osserr.New(http.StatusConflict, "PositionNotEqualToLength", "Position is not equal to file length.").
			With("Position", strconv.FormatInt(o.Position, 10)), Next: length}
	}
	return nil
}
