package faults

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// maxBurst bounds the bytes moved in one throttled read or write, so the
// limit is felt as a steady rate rather than in large jumps.
const maxBurst = 64 << 10

// Listener wraps l so that every accepted connection is limited to the
// current Config.BandwidthBytesPerSec, separately for reading and writing.
// The limit is looked up on every read and write, so a change made with Set
// applies to connections already open. A nil Injector returns l.
func (i *Injector) Listener(l net.Listener) net.Listener {
	if i == nil {
		return l
	}
	return &listener{Listener: l, bps: &i.bps}
}

type listener struct {
	net.Listener
	bps *atomic.Int64
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &throttledConn{Conn: c, bps: l.bps, ctx: ctx, cancel: cancel}, nil
}

// throttledConn limits a connection's throughput. Only the net.Conn methods
// are exposed, so net/http cannot bypass the limit with sendfile.
type throttledConn struct {
	net.Conn
	bps    *atomic.Int64
	ctx    context.Context // cancelled by Close, to end pending waits
	cancel context.CancelFunc
	rd, wr direction
}

// direction holds the limiter of one direction of a connection.
type direction struct {
	mu  sync.Mutex
	bps int64
	lim *rate.Limiter
}

// limiter returns the limiter for bps, adjusting it if the limit changed
// since the last I/O, or nil when unlimited.
func (d *direction) limiter(bps int64) (*rate.Limiter, int) {
	if bps <= 0 {
		return nil, 0
	}
	burst := burstFor(bps)
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.lim == nil:
		d.lim = rate.NewLimiter(rate.Limit(bps), burst)
	case d.bps != bps:
		d.lim.SetLimit(rate.Limit(bps))
		d.lim.SetBurst(burst)
	}
	d.bps = bps
	return d.lim, burst
}

// burstFor is the largest chunk moved at once: a sixteenth of a second's
// worth, within [min(bps, 4 KiB), 64 KiB].
func burstFor(bps int64) int {
	b := bps / 16
	if b < 4096 {
		b = min(bps, 4096)
	}
	return int(min(b, maxBurst))
}

func (c *throttledConn) Read(p []byte) (int, error) {
	lim, burst := c.rd.limiter(c.bps.Load())
	if lim == nil {
		return c.Conn.Read(p)
	}
	if len(p) > burst {
		p = p[:burst]
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		// Paying after the read keeps a blocked Read from holding tokens.
		// An error means the connection closed or the burst shrank under a
		// concurrent Set; either way the bytes are already here.
		_ = lim.WaitN(c.ctx, n)
	}
	return n, err
}

func (c *throttledConn) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		lim, burst := c.wr.limiter(c.bps.Load())
		if lim == nil {
			n, err := c.Conn.Write(p)
			return written + n, err
		}
		chunk := min(len(p), burst)
		if err := lim.WaitN(c.ctx, chunk); err != nil && c.ctx.Err() != nil {
			return written, net.ErrClosed
		}
		n, err := c.Conn.Write(p[:chunk])
		written += n
		if err != nil {
			return written, err
		}
		p = p[chunk:]
	}
	return written, nil
}

func (c *throttledConn) Close() error {
	c.cancel()
	return c.Conn.Close()
}

// SetLinger forwards to the wrapped connection so that a fault can reset a
// throttled connection with RST.
func (c *throttledConn) SetLinger(sec int) error {
	if l, ok := c.Conn.(interface{ SetLinger(sec int) error }); ok {
		return l.SetLinger(sec)
	}
	return errors.ErrUnsupported
}

// NetConn returns the wrapped connection, as tls.Conn does.
func (c *throttledConn) NetConn() net.Conn { return c.Conn }
