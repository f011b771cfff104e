package ossstore

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// normalizeETag strips the quotes a client may send (verbatim from the
// UploadPart response) and folds case.
func normalizeETag(etag string) string {
	etag = strings.TrimSpace(etag)
	etag = strings.TrimPrefix(strings.TrimSuffix(etag, `"`), `"`)
	return strings.ToUpper(etag)
}

// CompleteUpload assembles the listed parts (or, with All, every part) into
// the object key, replacing any current version, and ends the upload. No
// data is copied: the object is made of links to the part files, and its
// CRC64 is combined from the parts' CRCs.
func (s *Store) CompleteUpload(bucket, key, uploadID string, parts []CompletePart, o CompleteOptions) (*ObjectInfo, error) {
	if err := s.checkBucketKey(bucket, key); err != nil {
		return nil, err
	}
	if o.All && len(parts) > 0 {
		return nil, errCompleteAllWithBody()
	}
	if !o.All {
		if len(parts) == 0 {
			return nil, errMalformedXML()
		}
		for i, p := range parts {
			if p.Number < 1 || p.Number > MaxPartNumber {
				return nil, errInvalidPartNumber(p.Number)
			}
			if i > 0 && p.Number <= parts[i-1].Number {
				return nil, errInvalidPartOrder()
			}
		}
	}

	unlock := s.upLocks.lock(upLockName(bucket, uploadID))
	defer unlock()
	up, err := s.readUpload(bucket, key, uploadID)
	if err != nil {
		return nil, err
	}
	dir := s.uploadDir(bucket, uploadID)
	chosen, err := s.chooseParts(dir, uploadID, parts, o.All)
	if err != nil {
		return nil, err
	}
	for _, p := range chosen[:len(chosen)-1] {
		if p.Size < MinPartSize {
			return nil, errEntityTooSmall(p.Number, p.Size)
		}
	}
	if o.ForbidOverwrite {
		// Checked again at commit; this spares linking for nothing.
		if cur, err := s.readObject(bucket, key); err != nil {
			return nil, err
		} else if cur != nil {
			return nil, errFileAlreadyExists()
		}
	}

	rec := &objectRecord{
		Key:          key,
		LastModified: s.stamp(time.Second),
		Type:         TypeMultipart,
		Meta:         up.Meta,
		Attrs:        up.Attrs,
		Blob:         randomHex(16),
		Parts:        make([]int64, len(chosen)),
		SourceUpload: uploadID,
	}
	md := md5.New()
	for i, p := range chosen {
		sum, err := hex.DecodeString(p.ETag)
		if err != nil {
			return nil, fmt.Errorf("part %d has a malformed etag %q: %w", p.Number, p.ETag, err)
		}
		md.Write(sum)
		rec.CRC64 = oss.CRC64Combine(rec.CRC64, p.CRC64, uint64(p.Size))
		rec.Size += p.Size
		rec.Parts[i] = p.Size
	}
	rec.ETag = fmt.Sprintf("%X-%d", md.Sum(nil), len(chosen))

	blobPath, err := s.linkParts(bucket, dir, rec.Blob, chosen)
	if err != nil {
		return nil, err
	}
	s.step("complete:linked")
	old, err := s.commitObject(bucket, rec, o.ForbidOverwrite)
	if err != nil {
		os.RemoveAll(blobPath)
		return nil, err
	}
	s.step("complete:committed")
	// The object is committed, so Complete has succeeded whatever happens
	// next; an upload left behind is removed by the next Open because the
	// object names it as its source.
	_ = s.removeUpload(bucket, uploadID, "")
	s.step("complete:done")
	if old != nil {
		s.dropBlob(bucket, old.Blob)
	}
	return rec.info(bucket), nil
}

// chooseParts returns the part records Complete assembles.
func (s *Store) chooseParts(dir, uploadID string, parts []CompletePart, all bool) ([]*partRecord, error) {
	if all {
		nums, err := partNumbers(dir)
		if err != nil {
			return nil, fmt.Errorf("list parts: %w", err)
		}
		if len(nums) == 0 {
			return nil, errNoParts()
		}
		parts = make([]CompletePart, len(nums))
		for i, n := range nums {
			parts[i].Number = n
		}
	}
	chosen := make([]*partRecord, len(parts))
	for i, cp := range parts {
		p, err := s.readPart(dir, cp.Number)
		if err != nil {
			return nil, err
		}
		if p == nil || !all && normalizeETag(cp.ETag) != p.ETag {
			return nil, errInvalidPart(cp.Number, cp.ETag)
		}
		chosen[i] = p
	}
	return chosen, nil
}

// linkParts builds the blob of a Multipart object from hard links to the
// part files, under tmp/ first so that blobs/ only ever holds whole blobs,
// and returns its path.
func (s *Store) linkParts(bucket, dir, blob string, parts []*partRecord) (string, error) {
	staging := filepath.Join(s.tmpDir(), "blob-"+blob)
	if err := os.Mkdir(staging, 0o755); err != nil {
		return "", fmt.Errorf("complete upload: %w", err)
	}
	for i, p := range parts {
		if err := os.Link(filepath.Join(dir, p.File), filepath.Join(staging, partFileName(i))); err != nil {
			os.RemoveAll(staging)
			return "", fmt.Errorf("complete upload: link part %d: %w", p.Number, err)
		}
	}
	if err := syncDir(staging); err != nil {
		os.RemoveAll(staging)
		return "", fmt.Errorf("complete upload: %w", err)
	}
	path := filepath.Join(s.blobsDir(bucket), blob)
	if err := os.Rename(staging, path); err != nil {
		os.RemoveAll(staging)
		return "", fmt.Errorf("complete upload: %w", err)
	}
	if err := syncDir(s.blobsDir(bucket)); err != nil {
		os.RemoveAll(path)
		return "", fmt.Errorf("complete upload: %w", err)
	}
	return path, nil
}

// removeUpload ends an upload atomically by moving its directory to trash/,
// then deletes it; step, if set, is reported in between. The caller holds the
// upload's lock.
func (s *Store) removeUpload(bucket, uploadID, step string) error {
	trash := filepath.Join(s.trashDir(), uploadID+"-"+randomHex(4))
	if err := os.Rename(s.uploadDir(bucket, uploadID), trash); err != nil {
		return fmt.Errorf("remove upload: %w", err)
	}
	if err := syncDir(s.uploadsDir(bucket)); err != nil {
		return fmt.Errorf("remove upload: %w", err)
	}
	if step != "" {
		s.step(step)
	}
	_ = os.RemoveAll(trash) // trash/ is emptied by Open anyway
	return nil
}

// AbortUpload ends the upload and deletes its parts.
func (s *Store) AbortUpload(bucket, key, uploadID string) error {
	if err := s.checkBucketKey(bucket, key); err != nil {
		return err
	}
	unlock := s.upLocks.lock(upLockName(bucket, uploadID))
	defer unlock()
	if _, err := s.readUpload(bucket, key, uploadID); err != nil {
		return err
	}
	return s.removeUpload(bucket, uploadID, "abort:removed")
}
