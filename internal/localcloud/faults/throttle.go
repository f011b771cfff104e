package faults

import (
	"context"
	"errors"
	"net"
	"sync"

	"golang.org/x/time/rate"
)

// maxBurst bounds the bytes moved in one throttled read or write, so the
// limit is felt as a steady rate rather than in large jumps.
const maxBurst = 64 << 10

// Listener wraps l so that every accepted connection is limited to the
// current Config.BandwidthBytesPerSec, and all of them together to
// Config.LinkBytesPerSec, separately for reading and writing. The limits are
// looked up on every read and write, so a change made with Set applies to
// connections already open. A nil Injector returns l.
func (i *Injector) Listener(l net.Listener) net.Listener {
	if i == nil {
		return l
	}
	return &listener{Listener: l, inj: i}
}

type listener struct {
	net.Listener
	inj *Injector
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &throttledConn{Conn: c, inj: l.inj, ctx: ctx, cancel: cancel}, nil
}

// throttledConn limits a connection's throughput. Only the net.Conn methods
// are exposed, so net/http cannot bypass the limit with sendfile.
type throttledConn struct {
	net.Conn
	inj    *Injector
	ctx    context.Context // cancelled by Close, to end pending waits
	cancel context.CancelFunc
	rd, wr direction
}

// limiters returns the limiters that apply to one direction (0 read,
// 1 write): the connection's own and the shared link's, and the largest
// chunk all of them allow at once; none when unlimited.
func (c *throttledConn) limiters(dir int) ([]*rate.Limiter, int) {
	own := &c.rd
	if dir == 1 {
		own = &c.wr
	}
	var lims []*rate.Limiter
	burst := 0
	for _, d := range []struct {
		d   *direction
		bps int64
	}{{own, c.inj.bps.Load()}, {&c.inj.link[dir], c.inj.linkBps.Load()}} {
		if lim, b := d.d.limiter(d.bps); lim != nil {
			lims = append(lims, lim)
			if burst == 0 || b < burst {
				burst = b
			}
		}
	}
	return lims, burst
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
	lims, burst := c.limiters(0)
	if lims == nil {
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
		for _, lim := range lims {
			_ = lim.WaitN(c.ctx, n)
		}
	}
	return n, err
}

func (c *throttledConn) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		lims, burst := c.limiters(1)
		if lims == nil {
			n, err := c.Conn.Write(p)
			return written + n, err
		}
		chunk := min(len(p), burst)
		for _, lim := range lims {
			if err := lim.WaitN(c.ctx, chunk); err != nil && c.ctx.Err() != nil {
				return written, net.ErrClosed
			}
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
