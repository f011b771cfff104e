package ossstore

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// LifecycleRule is one rule of a bucket's lifecycle configuration
// (PutBucketLifecycle). The handler validates rules; the lifecycle runner
// applies them; the store keeps them with the bucket.
type LifecycleRule struct {
	ID string
	// Prefix selects the keys the rule applies to ("" = every key).
	Prefix  string
	Enabled bool
	// Tags must all be on an object for the rule to apply to it.
	Tags []Tag `json:",omitempty"`
	// Not excludes the objects that match any of its entries.
	Not []LifecycleNot `json:",omitempty"`
	// SizeGreaterThan and SizeLessThan, when set, bound the object sizes the
	// rule applies to (Filter/ObjectSizeGreaterThan, ObjectSizeLessThan).
	SizeGreaterThan *int64 `json:",omitempty"`
	SizeLessThan    *int64 `json:",omitempty"`
	// Expiration deletes objects; AbortMultipartUpload aborts uploads.
	Expiration           *LifecycleAction `json:",omitempty"`
	AbortMultipartUpload *LifecycleAction `json:",omitempty"`
}

// LifecycleNot is one Filter/Not entry: objects under Prefix that also carry
// Tag (when set) are left alone.
type LifecycleNot struct {
	Prefix string
	Tag    *Tag `json:",omitempty"`
}

// LifecycleAction says when an action of a rule is due: Days after the
// object was last modified (the upload initiated), for anything last
// modified before CreatedBefore, or for everything from Date on (the
// deprecated form SDK v1's BuildLifecycleRuleByDate still sends). Exactly
// one is set.
type LifecycleAction struct {
	Days          int       `json:",omitempty"`
	CreatedBefore time.Time `json:",omitzero"`
	Date          time.Time `json:",omitzero"`
}

func cloneLifecycle(rules []LifecycleRule) []LifecycleRule {
	if rules == nil {
		return nil
	}
	out := make([]LifecycleRule, len(rules))
	for i, r := range rules {
		r.Tags = slices.Clone(r.Tags)
		r.Not = slices.Clone(r.Not)
		for j, n := range r.Not {
			if n.Tag != nil {
				t := *n.Tag
				r.Not[j].Tag = &t
			}
		}
		r.SizeGreaterThan = clonePtr(r.SizeGreaterThan)
		r.SizeLessThan = clonePtr(r.SizeLessThan)
		r.Expiration = clonePtr(r.Expiration)
		r.AbortMultipartUpload = clonePtr(r.AbortMultipartUpload)
		out[i] = r
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// ExpireObject deletes the current version of key if due says it is due,
// deciding under the object's lock: a version written after the caller last
// looked is judged afresh, never deleted on the strength of an older one.
// It reports whether it deleted the object; an absent key is not an error.
func (s *Store) ExpireObject(bucket, key string, due func(*ObjectInfo) bool) (bool, error) {
	if err := s.checkBucketKey(bucket, key); err != nil {
		return false, err
	}
	unlock := s.objLocks.lock(objLockName(bucket, key))
	rec, err := s.readObject(bucket, key)
	if err != nil || rec == nil || !due(rec.info(bucket)) {
		unlock()
		return false, err
	}
	if err := s.removeRecord(bucket, rec, unlock); err != nil {
		return false, err
	}
	return true, nil
}

// removeRecord deletes the record of rec's key and then its blob. The caller
// holds the object's lock; removeRecord releases it with unlock once the
// record is gone, before removing the blob.
func (s *Store) removeRecord(bucket string, rec *objectRecord, unlock func()) error {
	path := s.objectPath(bucket, rec.Key)
	if err := os.Remove(path); err != nil {
		unlock()
		return fmt.Errorf("delete object: %w", err)
	}
	s.keyIndex(bucket).remove(rec.Key)
	err := syncDir(filepath.Dir(path))
	unlock()
	if err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	s.step("delete:committed")
	s.dropBlob(bucket, rec.Blob)
	return nil
}
