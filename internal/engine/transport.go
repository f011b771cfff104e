package engine

import (
	"context"

	"github.com/ossup/ossup/internal/checkpoint"
)

// Source is the file being uploaded: a browser File (Blob) in wasm, an
// *os.File natively ([FileSource]).
type Source interface {
	// Identity describes the file, without Fingerprint: the engine computes
	// it through ReadAt.
	Identity() checkpoint.FileIdentity
	// ReadAt reads len(p) bytes at off, for hashing and fingerprinting. The
	// engine keeps reads bounded (at most 1 MiB).
	ReadAt(ctx context.Context, p []byte, off int64) (int, error)
	// Slice returns a zero-copy body for bytes [off, off+n), for the
	// transport (a Blob slice in wasm).
	Slice(off, n int64) Body
}

// MetaSource is a Source that carries application metadata for the
// backend's create call (upload(file, { meta }) in the browser); the
// backend decides what is stored.
type MetaSource interface {
	Source
	Meta() map[string]string
}

// ChunkedSource is a Source for which one large read costs much less than
// several small ones (a browser File: every read is a round trip to the
// browser's file thread). The engine then hashes a range through
// ReadChunks instead of ReadAt.
type ChunkedSource interface {
	Source
	// ReadChunks reads [off, off+n) in as few reads as its own memory bound
	// allows and hands it to fn in order, piece by piece, each piece copied
	// into buf (which bounds a piece). fn must not keep the piece. An error
	// from fn ends the read and is returned.
	ReadChunks(ctx context.Context, off, n int64, buf []byte, fn func(p []byte) error) error
}

// KeepingSource is a ChunkedSource that can keep the bytes it read to hash
// a range and hand them to the transport as that range's body, so each byte
// is read from the file once. Whether that is cheaper than sending a fresh
// zero-copy Slice depends on the browser engine (bench/browser): the source
// decides, and keeps nothing where it is not.
type KeepingSource interface {
	ChunkedSource
	// ReadChunksKept is ReadChunks that also returns the bytes read as a
	// body for [off, off+n), or nil when it keeps none (the range is larger
	// than one read, or keeping does not pay on this engine). The caller
	// owns the body and must Release it.
	ReadChunksKept(ctx context.Context, off, n int64, buf []byte, fn func(p []byte) error) (KeptBody, error)
}

// KeptBody is a Body holding the range's bytes in memory. Release frees
// them; it is idempotent and safe from any goroutine, and the transport
// may call it as soon as the body is handed to the network (a browser copies
// an ArrayBuffer body in send()), so memory is held no longer than needed.
// A released body must not be sent.
type KeptBody interface {
	Body
	Release()
}

// Body is a request body the engine passes through to the Transport without
// reading it.
type Body interface {
	Len() int64
}

// Transport sends one HTTP request (to OSS or to the backend). It must abort
// the request when ctx ends. A non-nil error means no HTTP response was
// received (network failure, abort, CORS refusal).
type Transport interface {
	Do(ctx context.Context, r *Request) (*Response, error)
}

// Request is one HTTP request. At most one of Body (streamed part data) and
// Bytes (a small XML or JSON document) is set. Header never holds a header
// browsers forbid: the transport derives Content-Length from the body.
type Request struct {
	Method, URL string
	Header      Header
	Body        Body
	Bytes       []byte
	// OnProgress, if set, is called with the number of body bytes sent so
	// far; calls may come from another goroutine.
	OnProgress func(sent int64)
	// Credentials sends the browser's cookies with a cross-origin request
	// (XHR withCredentials). Only backend calls ever set it, and only when
	// the backend's authentication needs cookies: OSS requests never carry
	// them, since a bucket's wildcard CORS rule is answered without
	// Access-Control-Allow-Credentials and the browser would then refuse
	// the answer.
	Credentials bool
}

// Response is an HTTP response. Body holds small responses only (XML,
// JSON); the transport caps its size.
type Response struct {
	Status int
	Header Header
	Body   []byte
}

// bodyLen is the length of whichever body r carries.
func (r *Request) bodyLen() int64 {
	if r.Body != nil {
		return r.Body.Len()
	}
	return int64(len(r.Bytes))
}
