package ossstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// Options configures a Store.
type Options struct {
	// OnStep, if set, is called at the named points of each mutating call
	// (listed in the package documentation) so that crash tests can kill the
	// process exactly there.
	OnStep func(step string)
	// Now is the clock stored data is stamped with: objects' Last-Modified,
	// uploads' initiation time, parts' and buckets' creation times. Lifecycle
	// rules age data against the same clock, so a test can move it to age
	// data without waiting. Default time.Now.
	Now func() time.Time
}

// Store is the on-disk storage of the local OSS. It is safe for concurrent
// use. Only one Store may have a directory open at a time.
type Store struct {
	dir      string
	opts     Options
	lockFile *os.File

	// bucketMu serialises bucket creation and configuration writes.
	bucketMu sync.Mutex

	mu      sync.Mutex // guards the fields below
	closed  bool
	buckets map[string]*Bucket
	// readers counts open Objects per blob ("bucket/blob"); doomed marks
	// blobs no longer referenced by a record, removed when the last reader
	// closes.
	readers map[string]int
	doomed  map[string]bool
	// indexes are the buckets' sorted object keys.
	indexes map[string]*keyIndex

	objLocks lockTable // "bucket\x00key": commits of an object record
	upLocks  lockTable // "bucket\x00uploadID": part commits, Complete, Abort
}

var errClosed = errors.New("ossstore: store is closed")

// Open opens (creating if needed) the store in dir, recovering from any
// crash: temp files are removed, uploads whose Complete had committed are
// deleted, and blobs and part data that no record references are collected.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create store dir: %w", err)
	}
	lf, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{
		dir:      dir,
		opts:     opts,
		lockFile: lf,
		buckets:  make(map[string]*Bucket),
		readers:  make(map[string]int),
		doomed:   make(map[string]bool),
		indexes:  make(map[string]*keyIndex),
	}
	if err := s.recover(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("recover store %s: %w", dir, err)
	}
	return s, nil
}

// Close releases the directory. Objects still open stay readable.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.lockFile.Close()
}

// stamp is the current time of the store's clock, in UTC, at the precision
// a record keeps.
func (s *Store) stamp(precision time.Duration) time.Time {
	return s.opts.Now().UTC().Truncate(precision)
}

func (s *Store) step(name string) {
	if s.opts.OnStep != nil {
		s.opts.OnStep(name)
	}
}

func (s *Store) tmpDir() string                { return filepath.Join(s.dir, "tmp") }
func (s *Store) trashDir() string              { return filepath.Join(s.dir, "trash") }
func (s *Store) bucketsDir() string            { return filepath.Join(s.dir, "buckets") }
func (s *Store) bucketDir(b string) string     { return filepath.Join(s.dir, "buckets", b) }
func (s *Store) objectsDir(b string) string    { return filepath.Join(s.bucketDir(b), "objects") }
func (s *Store) blobsDir(b string) string      { return filepath.Join(s.bucketDir(b), "blobs") }
func (s *Store) uploadsDir(b string) string    { return filepath.Join(s.bucketDir(b), "uploads") }
func (s *Store) uploadDir(b, id string) string { return filepath.Join(s.uploadsDir(b), id) }

// objectPath names an object's record by the hash of its key, since keys are
// arbitrary bytes ("..", "/", 1023 bytes) and must never become paths.
func (s *Store) objectPath(b, key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(s.objectsDir(b), h[:2], h+".json")
}

// checkBucket returns NoSuchBucket unless the bucket exists.
func (s *Store) checkBucket(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if _, ok := s.buckets[name]; !ok {
		return osserr.NoSuchBucket(name)
	}
	return nil
}

// checkKey enforces OSS's object-name rules: 1 to 1023 bytes of UTF-8.
func checkKey(key string) error {
	if key == "" || len(key) > MaxKeyLen || !utf8.ValidString(key) {
		return errInvalidObjectName()
	}
	return nil
}

func (s *Store) checkBucketKey(bucket, key string) error {
	if err := s.checkBucket(bucket); err != nil {
		return err
	}
	return checkKey(key)
}
