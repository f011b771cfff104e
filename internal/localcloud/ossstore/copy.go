package ossstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// CopyOptions are the options of CopyObject.
type CopyOptions struct {
	// Meta is the destination's metadata (the source's, or the request's
	// under x-oss-metadata-directive: REPLACE).
	Meta Meta
	// Attrs are the destination's attributes.
	Attrs Attrs
	// ForbidOverwrite refuses to replace an existing destination object.
	ForbidOverwrite bool
}

// CopyObject makes dstKey in dstBucket a copy of the open object src: the
// same bytes, ETag, CRC-64 and object type, with the given metadata and
// attributes. No data is copied: the destination's blob is made of hard
// links to the source's files, which never change once written. Copying an
// object onto itself replaces its metadata.
func (s *Store) CopyObject(src Object, dstBucket, dstKey string, o CopyOptions) (*ObjectInfo, error) {
	r, ok := src.(*objectReader)
	if !ok || r.s != s {
		return nil, errors.New("ossstore: CopyObject needs an Object opened from this store")
	}
	if err := s.checkBucketKey(dstBucket, dstKey); err != nil {
		return nil, err
	}
	if o.ForbidOverwrite {
		// Checked again at commit; this spares linking for nothing.
		if cur, err := s.readObject(dstBucket, dstKey); err != nil {
			return nil, err
		} else if cur != nil {
			return nil, errFileAlreadyExists()
		}
	}
	info := r.info
	rec := &objectRecord{
		Key:          dstKey,
		Size:         info.Size,
		ETag:         info.ETag,
		CRC64:        info.CRC64,
		LastModified: s.stamp(time.Second),
		Type:         info.Type,
		Meta:         o.Meta.canonical(),
		Attrs:        o.Attrs.clone(),
		Blob:         randomHex(16),
	}
	multi := info.Type == TypeMultipart || info.Type == TypeAppendable
	if multi {
		for _, seg := range r.segs {
			rec.Parts = append(rec.Parts, seg.size)
		}
	}
	blobPath, err := s.linkBlob(dstBucket, rec.Blob, r.segs, multi)
	if err != nil {
		return nil, err
	}
	old, err := s.commitObject(dstBucket, rec, o.ForbidOverwrite)
	if err != nil {
		os.RemoveAll(blobPath)
		return nil, err
	}
	if old != nil {
		s.dropBlob(dstBucket, old.Blob)
	}
	return rec.info(dstBucket), nil
}

// linkBlob builds a blob in bucket from hard links to the files of segs:
// one file, or (multi) a directory of part files. It is staged under tmp/
// so that blobs/ only ever holds whole blobs.
func (s *Store) linkBlob(bucket, blob string, segs []segment, multi bool) (string, error) {
	staging := filepath.Join(s.tmpDir(), "blob-"+blob)
	if !multi {
		if err := os.Link(segs[0].path, staging); err != nil {
			return "", fmt.Errorf("copy object: %w", err)
		}
	} else {
		if err := os.Mkdir(staging, 0o755); err != nil {
			return "", fmt.Errorf("copy object: %w", err)
		}
		for i, seg := range segs {
			if err := os.Link(seg.path, filepath.Join(staging, partFileName(i))); err != nil {
				os.RemoveAll(staging)
				return "", fmt.Errorf("copy object: link part %d: %w", i, err)
			}
		}
		if err := syncDir(staging); err != nil {
			os.RemoveAll(staging)
			return "", fmt.Errorf("copy object: %w", err)
		}
	}
	path := filepath.Join(s.blobsDir(bucket), blob)
	if err := os.Rename(staging, path); err != nil {
		os.RemoveAll(staging)
		return "", fmt.Errorf("copy object: %w", err)
	}
	if err := syncDir(s.blobsDir(bucket)); err != nil {
		os.RemoveAll(path)
		return "", fmt.Errorf("copy object: %w", err)
	}
	return path, nil
}
