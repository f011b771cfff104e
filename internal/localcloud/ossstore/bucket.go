package ossstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// CORSRule is one bucket CORS rule.
type CORSRule struct {
	AllowedOrigins, AllowedMethods, AllowedHeaders, ExposeHeaders []string
	MaxAgeSeconds                                                 int
}

// OverwriteRule is one rule of a bucket's overwrite configuration
// (PutBucketOverwriteConfig): writes that would replace an existing object
// whose key has Prefix and Suffix, made by one of Principals (everyone when
// empty), are refused.
type OverwriteRule struct {
	ID, Prefix, Suffix string
	Principals         []string
}

// Bucket is a bucket and its configuration.
type Bucket struct {
	Name    string
	Created time.Time
	CORS    []CORSRule
	// ResponseVary is the CORS configuration's ResponseVary: always send
	// Vary: Origin.
	ResponseVary bool `json:",omitempty"`
	// ACL is the bucket ACL: private (the default, ""), public-read or
	// public-read-write.
	ACL       string          `json:",omitempty"`
	Overwrite []OverwriteRule `json:",omitempty"`
	Lifecycle []LifecycleRule `json:",omitempty"`
}

func (b *Bucket) clone() *Bucket {
	c := *b
	c.Overwrite = nil
	for _, r := range b.Overwrite {
		r.Principals = slices.Clone(r.Principals)
		c.Overwrite = append(c.Overwrite, r)
	}
	c.Lifecycle = cloneLifecycle(b.Lifecycle)
	c.CORS = make([]CORSRule, len(b.CORS))
	for i, r := range b.CORS {
		c.CORS[i] = CORSRule{
			AllowedOrigins: slices.Clone(r.AllowedOrigins),
			AllowedMethods: slices.Clone(r.AllowedMethods),
			AllowedHeaders: slices.Clone(r.AllowedHeaders),
			ExposeHeaders:  slices.Clone(r.ExposeHeaders),
			MaxAgeSeconds:  r.MaxAgeSeconds,
		}
	}
	if b.CORS == nil {
		c.CORS = nil
	}
	return &c
}

// ValidBucketName reports whether name follows OSS's rules: 3 to 63
// characters of [a-z0-9-], not starting or ending with '-'. Bucket names
// become path elements, so the store enforces this itself.
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 || name[0] == '-' || name[len(name)-1] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// CreateBucket creates an empty bucket. It fails with BucketAlreadyExists
// (409) if the bucket exists and InvalidBucketName (400) for a bad name.
func (s *Store) CreateBucket(name string) error {
	if !ValidBucketName(name) {
		return errInvalidBucketName(name)
	}
	s.bucketMu.Lock()
	defer s.bucketMu.Unlock()
	s.mu.Lock()
	_, exists := s.buckets[name]
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return errClosed
	}
	if exists {
		return errBucketAlreadyExists(name)
	}
	b := &Bucket{Name: name, Created: s.stamp(time.Millisecond)}

	// The bucket is built under tmp/ and renamed into place whole, so a crash
	// never leaves a bucket without its record or subdirectories.
	staging := filepath.Join(s.tmpDir(), "bucket-"+randomHex(8))
	if err := os.Mkdir(staging, 0o755); err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	defer os.RemoveAll(staging) // no-op once renamed
	for _, sub := range []string{"objects", "blobs", "uploads"} {
		if err := os.Mkdir(filepath.Join(staging, sub), 0o755); err != nil {
			return fmt.Errorf("create bucket: %w", err)
		}
	}
	if err := writeJSONAtomic(s.tmpDir(), filepath.Join(staging, "bucket.json"), b); err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	if err := os.Rename(staging, s.bucketDir(name)); err != nil {
		if errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
			return errBucketAlreadyExists(name)
		}
		return fmt.Errorf("create bucket: %w", err)
	}
	if err := syncDir(s.bucketsDir()); err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	s.mu.Lock()
	s.buckets[name] = b
	s.mu.Unlock()
	return nil
}

// Bucket returns a copy of the bucket's configuration, or NoSuchBucket (404).
func (s *Store) Bucket(name string) (*Bucket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	b, ok := s.buckets[name]
	if !ok {
		return nil, osserr.NoSuchBucket(name)
	}
	return b.clone(), nil
}

// PutBucketCORS replaces the bucket's CORS rules; nil or empty removes them.
func (s *Store) PutBucketCORS(name string, rules []CORSRule) error {
	return s.UpdateBucket(name, func(b *Bucket) error {
		b.CORS = rules
		if len(rules) == 0 {
			b.CORS = nil
		}
		return nil
	})
}

// UpdateBucket changes the bucket's configuration: fn gets a copy to edit,
// and the result is written durably before it takes effect. An error from
// fn is returned and nothing changes.
func (s *Store) UpdateBucket(name string, fn func(*Bucket) error) error {
	s.bucketMu.Lock()
	defer s.bucketMu.Unlock()
	cur, err := s.Bucket(name)
	if err != nil {
		return err
	}
	if err := fn(cur); err != nil {
		return err
	}
	cur.Name = name
	nb := cur.clone()
	if err := writeJSONAtomic(s.tmpDir(), filepath.Join(s.bucketDir(name), "bucket.json"), nb); err != nil {
		return fmt.Errorf("update bucket %s: %w", name, err)
	}
	s.mu.Lock()
	s.buckets[name] = nb
	s.mu.Unlock()
	return nil
}

// Buckets lists the buckets, sorted by name.
func (s *Store) Buckets() []*Bucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Bucket, 0, len(s.buckets))
	for _, b := range s.buckets {
		out = append(out, b.clone())
	}
	slices.SortFunc(out, func(a, b *Bucket) int { return strings.Compare(a.Name, b.Name) })
	return out
}
