package ossstore

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ListUploadsQuery is a ListMultipartUploads request.
type ListUploadsQuery struct {
	Prefix, Delimiter, KeyMarker, UploadIDMarker string
	// MaxUploads is the page size; 0 or more than 1000 means 1000.
	MaxUploads int
}

// ListUploadsResult is a page of uploads in key order, then upload-id order.
type ListUploadsResult struct {
	Uploads        []Upload
	CommonPrefixes []string
	IsTruncated    bool
	// NextKeyMarker and NextUploadIDMarker name the last entry returned (a
	// common prefix has no upload id); they are empty when the page is empty.
	NextKeyMarker, NextUploadIDMarker string
}

// ListUploads lists the bucket's uploads in progress, S3/OSS style: without
// UploadIDMarker, KeyMarker selects keys strictly after it; with it, uploads
// of KeyMarker with a larger id come first. With a Delimiter, keys sharing
// the part of the key after Prefix up to the delimiter are rolled up into one
// common prefix, which counts as one entry.
func (s *Store) ListUploads(bucket string, q ListUploadsQuery) (*ListUploadsResult, error) {
	if err := s.checkBucket(bucket); err != nil {
		return nil, err
	}
	ups, err := s.scanUploads(bucket, q.Prefix)
	if err != nil {
		return nil, err
	}
	max := q.MaxUploads
	if max <= 0 || max > MaxListUploads {
		max = MaxListUploads
	}
	res := &ListUploadsResult{}
	count := 0
	lastPrefix := ""
	for _, u := range ups {
		if q.KeyMarker != "" {
			if u.Key < q.KeyMarker {
				continue
			}
			if u.Key == q.KeyMarker && (q.UploadIDMarker == "" || u.UploadID <= q.UploadIDMarker) {
				continue
			}
		}
		if q.Delimiter != "" {
			rest := u.Key[len(q.Prefix):]
			if i := strings.Index(rest, q.Delimiter); i >= 0 {
				cp := q.Prefix + rest[:i+len(q.Delimiter)]
				// A marker inside the group means an earlier page reported it.
				if cp == lastPrefix || q.KeyMarker != "" && strings.HasPrefix(q.KeyMarker, cp) {
					continue
				}
				if count == max {
					res.IsTruncated = true
					break
				}
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
				lastPrefix = cp
				count++
				continue
			}
		}
		if count == max {
			res.IsTruncated = true
			break
		}
		res.Uploads = append(res.Uploads, *u.upload(bucket))
		res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.UploadID
		count++
	}
	return res, nil
}

// scanUploads reads the records of the bucket's uploads whose key has the
// prefix, sorted by key then id. Uploads are few, so a scan replaces an index.
func (s *Store) scanUploads(bucket, prefix string) ([]*uploadRecord, error) {
	entries, err := os.ReadDir(s.uploadsDir(bucket))
	if err != nil {
		return nil, fmt.Errorf("list uploads: %w", err)
	}
	var ups []*uploadRecord
	for _, e := range entries {
		if !validUploadID(e.Name()) {
			continue
		}
		var u uploadRecord
		if err := readJSON(filepath.Join(s.uploadsDir(bucket), e.Name(), "upload.json"), &u); err != nil {
			if isNotExist(err) {
				continue // completed or aborted since ReadDir
			}
			return nil, err
		}
		if strings.HasPrefix(u.Key, prefix) {
			ups = append(ups, &u)
		}
	}
	slices.SortFunc(ups, func(a, b *uploadRecord) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.UploadID, b.UploadID))
	})
	return ups, nil
}
