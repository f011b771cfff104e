package ossstore

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// copyBufSize bounds the memory one streaming body uses.
const copyBufSize = 256 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// received describes a body stored in a temp file.
type received struct {
	path  string // temp file under tmp/, fsynced and closed
	size  int64
	md5   [md5.Size]byte
	crc64 uint64
}

// etag is the OSS ETag of a single body: upper-case hex MD5, unquoted.
func (r *received) etag() string { return strings.ToUpper(hex.EncodeToString(r.md5[:])) }

// receive streams body into a new temp file while hashing it, never holding
// more than one buffer of it in memory. size is the announced length or -1;
// limit is the largest length allowed. The body must match contentMD5 when it
// is non-nil. On error nothing is left on disk.
func (s *Store) receive(body io.Reader, size, limit int64, contentMD5 []byte) (_ *received, err error) {
	if size > limit {
		return nil, errEntityTooLarge()
	}
	f, err := os.CreateTemp(s.tmpDir(), "body-*")
	if err != nil {
		return nil, fmt.Errorf("create temp file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()

	h := newHasher()
	defer h.stop()
	max := size
	if size < 0 {
		max = limit + 1 // one byte more than allowed reveals an oversized body
	}
	var n int64
	for n < max {
		buf := h.buffer()
		chunk := buf
		if rest := max - n; rest < int64(len(chunk)) {
			chunk = chunk[:rest]
		}
		m, rerr := body.Read(chunk)
		if m > 0 {
			if _, werr := f.Write(chunk[:m]); werr != nil {
				h.release()
				return nil, fmt.Errorf("write body: %w", werr)
			}
			h.hash(m)
			n += int64(m)
		} else {
			h.release()
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if errors.Is(rerr, io.ErrUnexpectedEOF) {
				return nil, errIncompleteBody()
			}
			return nil, fmt.Errorf("read body: %w", rerr)
		}
	}
	if size >= 0 && n < size {
		return nil, errIncompleteBody()
	}
	if n > limit {
		return nil, errEntityTooLarge()
	}
	r := &received{path: f.Name(), size: n}
	r.crc64 = h.sums(r.md5[:0])
	if contentMD5 != nil && !bytes.Equal(contentMD5, r.md5[:]) {
		return nil, errInvalidDigest()
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("sync body: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close body: %w", err)
	}
	return r, nil
}

// hashBuffers is how many buffers one body cycles through: enough for the
// hashing goroutine to lag the network and disk by a few reads.
const hashBuffers = 4

// hasher computes a body's MD5 and CRC64 on a goroutine of its own, so
// hashing overlaps the reads from the network and the writes to disk
// instead of adding to them. Memory stays bounded by hashBuffers buffers.
type hasher struct {
	work    chan hashJob
	free    chan *[]byte
	done    chan struct{}
	md      hash.Hash
	crc     hash.Hash64
	bufs    []*[]byte
	pending *[]byte
}

type hashJob struct {
	buf *[]byte
	n   int
}

func newHasher() *hasher {
	h := &hasher{
		work: make(chan hashJob, hashBuffers),
		free: make(chan *[]byte, hashBuffers),
		done: make(chan struct{}),
		md:   md5.New(),
		crc:  oss.NewCRC64(0),
	}
	for i := 0; i < hashBuffers; i++ {
		b := copyBufs.Get().(*[]byte)
		h.bufs = append(h.bufs, b)
		h.free <- b
	}
	go func() {
		defer close(h.done)
		for j := range h.work {
			p := (*j.buf)[:j.n]
			h.md.Write(p)
			h.crc.Write(p)
			h.free <- j.buf
		}
	}()
	return h
}

// buffer returns a buffer to read into, waiting for the hasher if all are
// in use.
func (h *hasher) buffer() []byte {
	b := <-h.free
	h.pending = b
	return *b
}

// hash queues the first n bytes of the buffer last returned by buffer.
func (h *hasher) hash(n int) { h.work <- hashJob{h.pending, n} }

// release gives back the buffer last returned by buffer, unused.
func (h *hasher) release() { h.free <- h.pending }

// sums waits for all queued bytes and returns the CRC64, appending the MD5
// to md5sum.
func (h *hasher) sums(md5sum []byte) uint64 {
	close(h.work)
	<-h.done
	h.work = nil
	h.md.Sum(md5sum)
	return h.crc.Sum64()
}

// stop ends the goroutine (if sums has not) and returns the buffers.
func (h *hasher) stop() {
	if h.work != nil {
		close(h.work)
		<-h.done
	}
	for _, b := range h.bufs {
		copyBufs.Put(b)
	}
}
