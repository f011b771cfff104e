package ossstore

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// Object is an open object version. Reads see that one version even if the
// key is overwritten or deleted meanwhile. Close it when done: its blob is
// kept on disk until then.
type Object interface {
	io.ReaderAt
	io.Closer
	Info() *ObjectInfo
}

// segment is one file of an object's data, at offset off in the object.
type segment struct {
	path      string
	off, size int64
}

// maxIdleFiles bounds the descriptors an open Multipart object keeps, since
// it may have up to 10000 part files.
const maxIdleFiles = 8

type objectReader struct {
	s      *Store
	bucket string
	blob   string
	blobID string // bucket + "/" + blob, the key of s.readers
	info   *ObjectInfo
	segs   []segment

	mu     sync.Mutex
	closed bool
	files  map[int]*openFile
}

type openFile struct {
	f     *os.File
	users int
}

// OpenObject opens the current version of key for reading, or returns
// NoSuchKey (404).
func (s *Store) OpenObject(bucket, key string) (Object, error) {
	if err := s.checkBucketKey(bucket, key); err != nil {
		return nil, err
	}
	// The shared lock orders this against commits: either the record read
	// here is still current when the blob is pinned below, or a commit
	// after it finds the reader count and defers the removal.
	unlock := s.objLocks.rlock(objLockName(bucket, key))
	defer unlock()
	rec, err := s.readObject(bucket, key)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, osserr.NoSuchKey(key)
	}
	r := &objectReader{
		s:      s,
		bucket: bucket,
		blob:   rec.Blob,
		blobID: bucket + "/" + rec.Blob,
		info:   rec.info(bucket),
		segs:   rec.segments(s.blobsDir(bucket)),
		files:  make(map[int]*openFile),
	}
	s.mu.Lock()
	s.readers[r.blobID]++
	s.mu.Unlock()
	return r, nil
}

func (r *objectReader) Info() *ObjectInfo {
	c := *r.info
	c.Meta = maps.Clone(r.info.Meta)
	return &c
}

// ReadAt reads len(p) bytes at off, crossing part boundaries as needed.
func (r *objectReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("ossstore: negative offset")
	}
	size := r.info.Size
	n := 0
	for n < len(p) && off < size {
		i := sort.Search(len(r.segs), func(i int) bool { return r.segs[i].off+r.segs[i].size > off })
		seg := r.segs[i]
		want := min(int64(len(p)-n), seg.off+seg.size-off)
		f, err := r.acquire(i)
		if err != nil {
			return n, err
		}
		m, err := f.ReadAt(p[n:n+int(want)], off-seg.off)
		r.release(i)
		n += m
		off += int64(m)
		if int64(m) < want {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("ossstore: %s is shorter than recorded: %w", seg.path, io.ErrUnexpectedEOF)
			}
			return n, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *objectReader) acquire(i int) (*os.File, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, os.ErrClosed
	}
	if of := r.files[i]; of != nil {
		of.users++
		return of.f, nil
	}
	f, err := os.Open(r.segs[i].path)
	if err != nil {
		return nil, fmt.Errorf("open object data: %w", err)
	}
	r.files[i] = &openFile{f: f, users: 1}
	if len(r.files) > maxIdleFiles {
		for j, of := range r.files {
			if of.users == 0 {
				of.f.Close()
				delete(r.files, j)
			}
		}
	}
	return f, nil
}

func (r *objectReader) release(i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	of := r.files[i]
	of.users--
	if r.closed && of.users == 0 {
		of.f.Close()
		delete(r.files, i)
	}
}

// Close closes the object's files and unpins its blob.
func (r *objectReader) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	for i, of := range r.files {
		if of.users == 0 {
			of.f.Close()
			delete(r.files, i)
		}
	}
	r.mu.Unlock()

	s := r.s
	s.mu.Lock()
	s.readers[r.blobID]--
	remove := s.readers[r.blobID] == 0 && s.doomed[r.blobID] && !s.closed
	if s.readers[r.blobID] == 0 {
		delete(s.readers, r.blobID)
		delete(s.doomed, r.blobID)
	}
	s.mu.Unlock()
	if remove {
		_ = os.RemoveAll(filepath.Join(s.blobsDir(r.bucket), r.blob)) // leftovers are collected by Open
	}
	return nil
}
