//go:build js && wasm

package main

import (
	"context"
	"io"
	"runtime"
	"sync/atomic"
	"syscall/js"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/engine"
)

// blobSource is an engine.Source over a browser File. Part bodies are Blob
// slices handed to the transport as they are, so the browser streams them
// from disk: the bytes are never copied into JS or wasm memory. Only the
// bounded reads for CRC-64 and the fingerprint come into Go.
type blobSource struct {
	file js.Value
	id   checkpoint.FileIdentity
	// sinceGC counts bytes read since the last collection. Each read's
	// ArrayBuffer stays alive until Go collects the js.Value naming it, and
	// the Go heap barely grows while uploading, so without a nudge the
	// worker's memory grew with the file (880 MiB at 4 GiB).
	sinceGC atomic.Int64
}

// gcEvery bounds the JS memory held by read buffers awaiting collection.
const gcEvery = 32 << 20

func newBlobSource(file js.Value) *blobSource {
	typ := ""
	if t := file.Get("type"); t.Type() == js.TypeString {
		typ = t.String()
	}
	var modified int64
	if m := file.Get("lastModified"); m.Type() == js.TypeNumber {
		modified = int64(m.Float())
	}
	return &blobSource{file: file, id: checkpoint.FileIdentity{
		Name: file.Get("name").String(), Size: int64(file.Get("size").Float()), LastModified: modified, Type: typ,
	}}
}

func (s *blobSource) Identity() checkpoint.FileIdentity { return s.id }

func (s *blobSource) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if off >= s.id.Size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), s.id.Size)
	ab, err := await(ctx, s.file.Call("slice", float64(off), float64(end)).Call("arrayBuffer"))
	if err != nil {
		// A File whose disk content changed or vanished fails to read
		// (NotReadableError): the engine treats it as the file changing.
		return 0, err
	}
	n := js.CopyBytesToGo(p, js.Global().Get("Uint8Array").New(ab))
	if s.sinceGC.Add(int64(n)) >= gcEvery {
		s.sinceGC.Store(0)
		runtime.GC()
	}
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

func (s *blobSource) Slice(off, n int64) engine.Body {
	return &blobBody{blob: s.file.Call("slice", float64(off), float64(off+n)), n: n}
}

// blobBody is a zero-copy request body: a Blob slice of the File.
type blobBody struct {
	blob js.Value
	n    int64
}

func (b *blobBody) Len() int64 { return b.n }
