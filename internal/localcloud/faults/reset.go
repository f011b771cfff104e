package faults

import (
	"io"
	"net/http"
)

// unknownLengthPrefix is how much of a body of unknown length (chunked) is
// read before a reset.
const unknownLengthPrefix = 64 << 10

// reset reads about half of the request body, then drops the connection with
// a TCP RST, so the client fails while still sending, as it would when a
// load balancer or the network gives up mid-upload.
func reset(w http.ResponseWriter, r *http.Request) {
	if n := resetPrefix(r.ContentLength); n > 0 {
		_, _ = io.CopyN(io.Discard, r.Body, n)
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2 or a recorder): aborting the handler is the
		// only way net/http offers to break the stream without an answer.
		panic(http.ErrAbortHandler)
	}
	// SO_LINGER 0 makes Close send RST instead of FIN. Throttled connections
	// forward SetLinger to the TCP connection they wrap.
	if l, ok := conn.(interface{ SetLinger(sec int) error }); ok {
		_ = l.SetLinger(0)
	}
	_ = conn.Close()
}

// resetPrefix is how many body bytes to read before a reset: about half of
// a known length, at least one byte of a non-empty body.
func resetPrefix(contentLength int64) int64 {
	switch {
	case contentLength < 0:
		return unknownLengthPrefix
	case contentLength == 0:
		return 0
	}
	return max(contentLength/2, 1)
}
