package ossstore

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
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

	md := md5.New()
	crc := oss.NewCRC64(0)
	w := io.MultiWriter(f, md, crc)
	max := size
	if size < 0 {
		max = limit + 1 // one byte more than allowed reveals an oversized body
	}
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	buf := *bufp
	var n int64
	for n < max {
		chunk := buf
		if rest := max - n; rest < int64(len(chunk)) {
			chunk = chunk[:rest]
		}
		m, rerr := body.Read(chunk)
		if m > 0 {
			if _, werr := w.Write(chunk[:m]); werr != nil {
				return nil, fmt.Errorf("write body: %w", werr)
			}
			n += int64(m)
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
	r := &received{path: f.Name(), size: n, crc64: crc.Sum64()}
	md.Sum(r.md5[:0])
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
