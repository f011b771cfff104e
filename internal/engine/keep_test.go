//go:build !js

package engine

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/localcloud/faults"
)

// keepingSource is a FileSource that keeps what it reads for a part's CRC,
// as the browser build does in WebKit, and counts what it keeps, releases
// and slices afresh from the file.
type keepingSource struct {
	*FileSource
	kept, released atomic.Int64
	sentReleased   atomic.Int64 // bodies read after their release
	sliced         atomic.Int64 // bytes sent from fresh slices
	mu             sync.Mutex
	live           map[*keptBytes]bool
}

func newKeepingSource(t *testing.T, path string) *keepingSource {
	return &keepingSource{FileSource: openSource(t, path), live: map[*keptBytes]bool{}}
}

func (s *keepingSource) ReadChunks(ctx context.Context, off, n int64, buf []byte, fn func(p []byte) error) error {
	for done := int64(0); done < n; {
		p := buf[:min(int64(len(buf)), n-done)]
		if err := readFull(ctx, s.FileSource, p, off+done); err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		done += int64(len(p))
	}
	return nil
}

func (s *keepingSource) ReadChunksKept(ctx context.Context, off, n int64, buf []byte, fn func(p []byte) error) (KeptBody, error) {
	b := make([]byte, n)
	if err := readFull(ctx, s.FileSource, b, off); err != nil {
		return nil, err
	}
	for i := int64(0); i < n; i += int64(len(buf)) {
		p := buf[:copy(buf, b[i:])]
		if err := fn(p); err != nil {
			return nil, err
		}
	}
	k := &keptBytes{src: s, b: b}
	s.kept.Add(1)
	s.mu.Lock()
	s.live[k] = true
	s.mu.Unlock()
	return k, nil
}

func (s *keepingSource) Slice(off, n int64) Body {
	s.sliced.Add(n)
	return s.FileSource.Slice(off, n)
}

// liveBodies is how many kept bodies are not released.
func (s *keepingSource) liveBodies() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

type keptBytes struct {
	src      *keepingSource
	b        []byte
	released atomic.Bool
}

func (k *keptBytes) Len() int64 { return int64(len(k.b)) }

func (k *keptBytes) Release() {
	if k.released.CompareAndSwap(false, true) {
		k.src.released.Add(1)
		k.src.mu.Lock()
		delete(k.src.live, k)
		k.src.mu.Unlock()
	}
}

// NewReader is how HTTPTransport sends it; a released body must never be
// sent.
func (k *keptBytes) NewReader() io.Reader {
	if k.released.Load() {
		k.src.sentReleased.Add(1)
		return errReader{}
	}
	return bytes.NewReader(k.b)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("a released kept body was sent") }

// The bytes read for a part's CRC are the bytes sent: on a clean run the
// file is read once (nothing is sliced afresh); a part sent again after a
// failure is sliced from the file; every kept body is released once,
// none is sent after its release.
func TestKeptReadsAreSentOnceAndReleased(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	eng := env.engine(fastOptions(checkpoint.NewMemoryStore()))
	path, data := writeFile(t, "kept.bin", 10<<20+123, 11)

	src := newKeepingSource(t, path)
	res, err := wait(t, eng.start(context.Background(), src))
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	if src.kept.Load() != 11 || src.sliced.Load() != 0 {
		t.Errorf("clean run: %d parts kept (want 11), %d B sliced afresh (want 0)", src.kept.Load(), src.sliced.Load())
	}
	if n := src.liveBodies(); n != 0 || src.sentReleased.Load() != 0 {
		t.Errorf("clean run: %d kept bodies never released, %d sent after release", n, src.sentReleased.Load())
	}

	env.setFaults(faults.Config{Rules: []faults.Rule{
		{Op: "UploadPart", ErrorRate: 1, Count: 2},
		{Op: "UploadPart", ResetRate: 1, Count: 2},
		{Op: "UploadPart", CorruptCRCRate: 1, Count: 2},
	}})
	src = newKeepingSource(t, path)
	res, err = wait(t, eng.start(context.Background(), src))
	if err != nil {
		t.Fatal(err)
	}
	env.setFaults(faults.Config{})
	env.checkObject(res, data)
	if sl := src.sliced.Load(); sl != 6<<20 {
		t.Errorf("with 6 failed attempts: %d B sliced afresh, want the 6 retried parts' 6 MiB", sl)
	}
	if n := src.liveBodies(); n != 0 || src.sentReleased.Load() != 0 {
		t.Errorf("with faults: %d kept bodies never released, %d sent after release", n, src.sentReleased.Load())
	}
}

// A kept body is released however its part ends: here the upload is
// canceled while one part is in flight and others, hashed, wait for the
// bytes-in-flight budget (one part), so they were never sent.
func TestKeptReadsReleasedOnCancel(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	env.setFaults(faults.Config{BandwidthBytesPerSec: 1 << 20})
	o := fastOptions(checkpoint.NewMemoryStore())
	o.MaxBytesInFlight = 1 << 20
	eng := env.engine(o)
	path, _ := writeFile(t, "cancel.bin", 12<<20, 12)
	src := newKeepingSource(t, path)
	u := eng.start(context.Background(), src)
	waitFor(t, "a part in flight and others kept", func() bool { return u.Progress().BytesSending > 0 && src.kept.Load() >= 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := u.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if src.kept.Load() == 0 {
		t.Fatal("no part was kept before the cancel")
	}
	if n := src.liveBodies(); n != 0 {
		t.Errorf("%d of %d kept bodies never released after cancel", n, src.kept.Load())
	}
}
