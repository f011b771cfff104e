package ossstore

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// recover brings the directory back to a committed state after a crash and
// loads the buckets. It runs before the Store is shared, so it takes no locks.
func (s *Store) recover() error {
	// Everything under tmp/ and trash/ is either uncommitted or already
	// removed from the namespace.
	for _, d := range []string{s.tmpDir(), s.trashDir()} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("clear %s: %w", d, err)
		}
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	if err := mkdirDurable(s.bucketsDir()); err != nil {
		return fmt.Errorf("create buckets dir: %w", err)
	}
	entries, err := os.ReadDir(s.bucketsDir())
	if err != nil {
		return fmt.Errorf("list buckets: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || !ValidBucketName(e.Name()) {
			continue
		}
		var b Bucket
		if err := readJSON(filepath.Join(s.bucketsDir(), e.Name(), "bucket.json"), &b); err != nil {
			if isNotExist(err) {
				continue // not made by CreateBucket, which renames buckets in whole
			}
			return err
		}
		if err := s.recoverBucket(e.Name()); err != nil {
			return fmt.Errorf("bucket %s: %w", e.Name(), err)
		}
		b.Name = e.Name()
		s.buckets[b.Name] = &b
	}
	return nil
}

// recoverBucket finishes interrupted Completes and collects unreferenced data.
func (s *Store) recoverBucket(bucket string) error {
	blobs := make(map[string]bool)   // blobs referenced by object records
	sources := make(map[string]bool) // uploads whose Complete committed
	var keys []string
	shards, err := os.ReadDir(s.objectsDir(bucket))
	if err != nil {
		return fmt.Errorf("list objects: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		dir := filepath.Join(s.objectsDir(bucket), sh.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("list objects: %w", err)
		}
		for _, f := range files {
			if !strings.HasSuffix(f.Name(), ".json") {
				continue
			}
			var rec objectRecord
			if err := readJSON(filepath.Join(dir, f.Name()), &rec); err != nil {
				return err
			}
			blobs[rec.Blob] = true
			keys = append(keys, rec.Key)
			if rec.SourceUpload != "" {
				sources[rec.SourceUpload] = true
			}
		}
	}

	slices.Sort(keys)
	s.indexes[bucket] = &keyIndex{keys: keys}

	ups, err := os.ReadDir(s.uploadsDir(bucket))
	if err != nil {
		return fmt.Errorf("list uploads: %w", err)
	}
	for _, u := range ups {
		dir := filepath.Join(s.uploadsDir(bucket), u.Name())
		_, statErr := os.Stat(filepath.Join(dir, "upload.json"))
		if sources[u.Name()] || !validUploadID(u.Name()) || isNotExist(statErr) {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("remove completed upload: %w", err)
			}
			continue
		}
		if err := collectPartData(dir); err != nil {
			return err
		}
	}

	bl, err := os.ReadDir(s.blobsDir(bucket))
	if err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	for _, b := range bl {
		if !blobs[b.Name()] {
			if err := os.RemoveAll(filepath.Join(s.blobsDir(bucket), b.Name())); err != nil {
				return fmt.Errorf("remove unreferenced blob: %w", err)
			}
		}
	}
	return nil
}

// collectPartData removes part data files that no part record references:
// uploads interrupted before their commit, or replaced parts whose removal
// was interrupted.
func collectPartData(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list upload: %w", err)
	}
	used := make(map[string]bool)
	for _, e := range entries {
		if _, ok := parsePartRecordName(e.Name()); !ok {
			continue
		}
		var p partRecord
		if err := readJSON(filepath.Join(dir, e.Name()), &p); err != nil {
			return err
		}
		used[p.File] = true
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".data") && !used[e.Name()] {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove unreferenced part data: %w", err)
			}
		}
	}
	return nil
}
