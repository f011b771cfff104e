package ossserver

import (
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// DefaultBodyIdleTimeout is how long the endpoint waits for the next bytes
// of a request body before it gives up on the request.
const DefaultBodyIdleTimeout = 60 * time.Second

// idleBody bounds the wait for each read of a request body with a read
// deadline on the connection, moved forward before every read: a body that
// keeps arriving, however slowly, is fine (a multi-GB part on a thin link);
// one that stops arriving ends the request instead of holding a goroutine,
// a temp file and a connection forever. The deadline is cleared once the
// body has been read to its end, so it cannot touch the server's background
// read; after a timeout it stays expired, so that net/http's attempt to
// drain the rest of the body fails at once and the connection is closed.
type idleBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	idle     time.Duration
	timedOut bool
	done     bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	if !b.timedOut {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.idle)) // ErrNotSupported: no deadline, as before
	}
	n, err := b.ReadCloser.Read(p)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		b.timedOut = true
	case err == io.EOF:
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// finish bounds what net/http reads of a body the handler left unread (it
// drains up to 256 KiB to reuse the connection): a stalled client must not
// hold the connection then either.
func (b *idleBody) finish() {
	if !b.done && !b.timedOut {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
}

// errRequestTimeout is OSS's answer to a client that stopped sending.
func errRequestTimeout() *osserr.Error {
	return osserr.New(http.StatusBadRequest, "RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period.")
}
