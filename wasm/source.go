//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"syscall/js"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/engine"
)

// blobSource is an engine.Source over a browser File. The reads for CRC-64
// and the fingerprint come into Go bounded: one read per 8 MiB window,
// copied into the engine's 1 MiB buffer piece by piece. A part's body is
// either that read's ArrayBuffer (where keepReads: one read per byte) or a
// Blob slice the browser streams from disk, never copied into JS or wasm
// memory.
type blobSource struct {
	file js.Value
	id   checkpoint.FileIdentity
	// meta is upload(file, { meta }): application metadata for create.
	meta map[string]string
	// sinceGC counts bytes read since the last collection. Each read's
	// ArrayBuffer stays alive until Go collects the js.Value naming it, and
	// the Go heap barely grows while uploading, so without a nudge the
	// worker's memory grew with the file (880 MiB at 4 GiB).
	sinceGC atomic.Int64
}

// gcEvery bounds the JS memory held by read buffers awaiting collection.
const gcEvery = 16 << 20

// newBlobSource describes file, which must be a File (a Blob with a name):
// anything else (a plain object from a page's own bookkeeping) is refused
// here, before the engine could call methods it lacks.
func newBlobSource(file js.Value, path string) (src *blobSource, err error) {
	defer recoverJS("read the file's description", &err)
	if file.Type() != js.TypeObject || !file.InstanceOf(js.Global().Get("Blob")) || file.Get("name").Type() != js.TypeString {
		return nil, coded("not_a_file", "not a File: upload() and resume() take a File, a FileSystemFileHandle or a pending entry with a kept handle")
	}
	typ := ""
	if t := file.Get("type"); t.Type() == js.TypeString {
		typ = t.String()
	}
	var modified int64
	if m := file.Get("lastModified"); m.Type() == js.TypeNumber {
		modified = int64(m.Float())
	}
	return &blobSource{file: file, id: checkpoint.FileIdentity{
		Name: file.Get("name").String(), Size: int64(file.Get("size").Float()), LastModified: modified, Type: typ, Path: path,
	}}, nil
}

func (s *blobSource) Identity() checkpoint.FileIdentity { return s.id }

// Meta is the application metadata the page gave with the file.
func (s *blobSource) Meta() map[string]string { return s.meta }

func (s *blobSource) ReadAt(ctx context.Context, p []byte, off int64) (n int, err error) {
	defer recoverJS("read the file", &err)
	if off >= s.id.Size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), s.id.Size)
	ab, err := s.read(ctx, off, end)
	if err != nil {
		// A File whose disk content changed or vanished fails to read
		// (NotReadableError): the engine treats it as the file changing.
		return 0, err
	}
	n = js.CopyBytesToGo(p, js.Global().Get("Uint8Array").New(ab))
	s.release(ab, int64(n))
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// readWindow is the largest single read of the file: one arrayBuffer() per
// 8 MiB part instead of one per 1 MiB piece took the upload from 0.44× to
// 0.57× the browser's limit and cut the CPU per GiB by a quarter
// (bench/browser), while the wasm heap still holds only the engine's small
// buffers. 4 MiB reads were slower and saved no memory: the read buffers
// wait for V8's collector either way.
const readWindow = 8 << 20

// ReadChunks reads [off, off+n) in windows of readWindow, each with one
// arrayBuffer() call, and copies each window into buf piece by piece.
func (s *blobSource) ReadChunks(ctx context.Context, off, n int64, buf []byte, fn func(p []byte) error) error {
	_, err := s.readChunks(ctx, off, n, buf, fn, false)
	return err
}

// ReadChunksKept is ReadChunks for a part about to be sent: where keeping
// pays (keepReads) and the part is one read, the read's ArrayBuffer becomes
// the part's body instead of being released.
func (s *blobSource) ReadChunksKept(ctx context.Context, off, n int64, buf []byte, fn func(p []byte) error) (engine.KeptBody, error) {
	return s.readChunks(ctx, off, n, buf, fn, keepReads && n <= readWindow)
}

// readChunks is ReadChunks; with keep (a range of one window), that
// window's buffer is returned as the range's body, not released.
func (s *blobSource) readChunks(ctx context.Context, off, n int64, buf []byte, fn func(p []byte) error, keep bool) (body engine.KeptBody, err error) {
	defer recoverJS("read the file", &err)
	if off+n > s.id.Size {
		return nil, fmt.Errorf("range [%d, %d) past the end of the file (%d B): %w", off, off+n, s.id.Size, io.ErrUnexpectedEOF)
	}
	for done := int64(0); done < n; {
		w := min(readWindow, n-done)
		at := off + done
		ab, err := s.read(ctx, at, at+w)
		if err != nil {
			return nil, err
		}
		if got := int64(ab.Get("byteLength").Float()); got != w {
			// The file shrank since its identity was taken.
			s.release(ab, w)
			return nil, fmt.Errorf("read %d B at %d, want %d: %w", got, at, w, io.ErrUnexpectedEOF)
		}
		if err := s.feed(ab, w, buf, fn); err != nil {
			s.release(ab, w)
			return nil, err
		}
		if keep {
			return &keptBody{ab: ab, n: w, src: s}, nil
		}
		s.release(ab, w)
		done += w
	}
	return nil, nil
}

// feed copies the n bytes of ab into buf piece by piece, calling fn on each.
func (s *blobSource) feed(ab js.Value, n int64, buf []byte, fn func(p []byte) error) error {
	whole := js.Global().Get("Uint8Array").New(ab)
	for i := int64(0); i < n; {
		p := buf[:min(int64(len(buf)), n-i)]
		js.CopyBytesToGo(p, whole.Call("subarray", float64(i), float64(i+int64(len(p)))))
		if err := fn(p); err != nil {
			return err
		}
		i += int64(len(p))
	}
	return nil
}

// keepReads says whether this browser sends a part's CRC read as its body:
// engine.KeepsReads has the per-engine figures.
var keepReads = func() bool {
	nav := js.Global().Get("navigator")
	if nav.Type() != js.TypeObject || nav.Get("userAgent").Type() != js.TypeString {
		return false
	}
	return engine.KeepsReads(nav.Get("userAgent").String())
}()

// keptBody is a part's bytes read for its CRC, sent as they are: an
// ArrayBuffer the transport hands to XMLHttpRequest.send, which copies it.
type keptBody struct {
	ab       js.Value
	n        int64
	src      *blobSource
	released atomic.Bool
}

func (b *keptBody) Len() int64 { return b.n }

// Release detaches the buffer (or leaves it to the collector); only the
// first call does anything.
func (b *keptBody) Release() {
	if b.released.CompareAndSwap(false, true) {
		b.src.release(b.ab, b.n)
	}
}

var _ engine.KeepingSource = (*blobSource)(nil)

// read is file.slice(from, to).arrayBuffer(), with JS exceptions as
// errors.
func (s *blobSource) read(ctx context.Context, from, to int64) (js.Value, error) {
	blob, err := call(s.file, "slice", float64(from), float64(to))
	if err != nil {
		return js.Undefined(), err
	}
	return awaitCall(ctx, blob, "arrayBuffer")
}

// release frees a read's ArrayBuffer once its bytes are in Go memory. A
// buffer detached with transfer(0) gives its memory back at once (Chromium
// 114+, Firefox 122+, Safari 17.4+: every engine the tests run); otherwise
// it waits for the JS collector, which Go's collection nudges. Measured in
// Chromium (bench/browser, 128-512 MiB, 2026-12-02): peak page+worker memory 74-118 MiB
// with the nudge alone, 21-23 MiB with transfer(0).
func (s *blobSource) release(ab js.Value, n int64) {
	if t := ab.Get("transfer"); t.Type() == js.TypeFunction {
		ab.Call("transfer", 0)
		return
	}
	s.collect(n)
}

// collect counts bytes read and runs the collector every gcEvery.
func (s *blobSource) collect(n int64) {
	if s.sinceGC.Add(n) >= gcEvery {
		s.sinceGC.Store(0)
		runtime.GC()
	}
}

func (s *blobSource) Slice(off, n int64) engine.Body {
	blob, err := call(s.file, "slice", float64(off), float64(off+n))
	return &blobBody{blob: blob, n: n, err: err}
}

// blobBody is a zero-copy request body: a Blob slice of the File. err is
// the exception slicing threw, if it did: the transport fails the request
// with it (Slice cannot return an error).
type blobBody struct {
	blob js.Value
	n    int64
	err  error
}

func (b *blobBody) Len() int64 { return b.n }

// The engine hashes through ReadChunks only if the signature matches.
var _ engine.ChunkedSource = (*blobSource)(nil)
