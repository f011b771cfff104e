package ossstore

import "strings"

// ListObjectsQuery is a ListObjects (V1 or V2) request.
type ListObjectsQuery struct {
	Prefix, Delimiter string
	// Marker selects keys strictly after it (V1 marker, V2 start-after or
	// the key a continuation token stands for).
	Marker string
	// MaxKeys is the page size, 1 to 1000.
	MaxKeys int
}

// ListObjectsResult is a page of objects and common prefixes in key order.
type ListObjectsResult struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	IsTruncated    bool
	// NextMarker is the last key or common prefix of the page when it is
	// truncated.
	NextMarker string
}

// ListObjects lists the bucket's objects whose keys start with Prefix, after
// Marker. With a Delimiter, keys that share the part after Prefix up to the
// delimiter are rolled up into one common prefix, which counts as one entry
// (as OSS and S3 do).
func (s *Store) ListObjects(bucket string, q ListObjectsQuery) (*ListObjectsResult, error) {
	if err := s.checkBucket(bucket); err != nil {
		return nil, err
	}
	limit := q.MaxKeys
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	type entry struct {
		key    string
		prefix bool
	}
	var page []entry
	res := &ListObjectsResult{}
	lastPrefix := ""
	// Keys sort before their extensions, so the matching keys are one run
	// starting at the prefix.
	s.keyIndex(bucket).from(max(q.Prefix, q.Marker), func(key string) bool {
		if key <= q.Marker {
			return true
		}
		if !strings.HasPrefix(key, q.Prefix) {
			return false
		}
		e := entry{key: key}
		if q.Delimiter != "" {
			rest := key[len(q.Prefix):]
			if i := strings.Index(rest, q.Delimiter); i >= 0 {
				cp := q.Prefix + rest[:i+len(q.Delimiter)]
				// A marker inside the group means an earlier page reported it.
				if cp == lastPrefix || strings.HasPrefix(q.Marker, cp) {
					return true
				}
				e = entry{key: cp, prefix: true}
				lastPrefix = cp
			}
		}
		if len(page) == limit {
			res.IsTruncated = true
			return false
		}
		page = append(page, e)
		return true
	})
	for _, e := range page {
		if e.prefix {
			res.CommonPrefixes = append(res.CommonPrefixes, e.key)
			continue
		}
		rec, err := s.readObject(bucket, e.key)
		if err != nil {
			return nil, err
		}
		if rec != nil { // else deleted since the index was read
			res.Objects = append(res.Objects, *rec.info(bucket))
		}
	}
	if res.IsTruncated && len(page) > 0 {
		res.NextMarker = page[len(page)-1].key
	}
	return res, nil
}
