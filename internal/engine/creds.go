package engine

import (
	"context"
	"errors"
	"sync"
	"time"
)

// credSource hands out an upload's STS credentials. It refreshes them
// through the backend once refreshAt of their lifetime has passed, or at
// once after OSS rejected them, with one refresh in flight at a time: every
// part that needs credentials meanwhile waits for that same call.
type credSource struct {
	fetch     func(ctx context.Context) (*Credentials, error)
	now       func() time.Time // the server's time as best known
	refreshAt float64

	mu    sync.Mutex
	cur   *Credentials
	due   time.Time // proactive refresh deadline of cur
	stale bool      // OSS rejected cur
	call  *credCall
}

type credCall struct {
	done  chan struct{}
	creds *Credentials
	err   error
}

func newCredSource(initial *Credentials, fetch func(context.Context) (*Credentials, error), now func() time.Time, refreshAt float64) *credSource {
	c := &credSource{fetch: fetch, now: now, refreshAt: refreshAt}
	if initial != nil {
		c.setLocked(initial)
	}
	return c
}

// setLocked installs fresh credentials and computes when to refresh them.
func (c *credSource) setLocked(cr *Credentials) {
	now := c.now()
	c.cur, c.stale = cr, false
	life := cr.Expiration.Sub(now)
	if cr.Expiration.IsZero() || life <= 0 {
		// No usable expiry (or a clock far off): rely on OSS telling us,
		// but still refresh now and then.
		life = 5 * time.Minute
	}
	c.due = now.Add(time.Duration(float64(life) * c.refreshAt))
}

// get returns credentials to sign with.
func (c *credSource) get(ctx context.Context) (*Credentials, error) {
	for {
		c.mu.Lock()
		if c.cur != nil && !c.stale && c.now().Before(c.due) {
			cr := c.cur
			c.mu.Unlock()
			return cr, nil
		}
		// A proactive refresh can fall back on credentials that still work.
		fallback := c.cur
		if c.stale || (fallback != nil && !c.now().Before(fallback.Expiration)) {
			fallback = nil
		}
		call := c.call
		if call == nil {
			call = &credCall{done: make(chan struct{})}
			c.call = call
			go c.run(ctx, call)
		}
		c.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		switch {
		case call.err == nil:
			return call.creds, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(call.err, context.Canceled) || errors.Is(call.err, context.DeadlineExceeded):
			// The caller that started the refresh went away; ours is
			// still here, so refresh again.
			continue
		case fallback != nil:
			return fallback, nil
		}
		return nil, call.err
	}
}

// run performs one refresh. It runs under the context of the caller that
// started it: the parts of an upload share one run context, so a pause
// stops them and the refresh together.
func (c *credSource) run(ctx context.Context, call *credCall) {
	cr, err := c.fetch(ctx)
	c.mu.Lock()
	if err == nil {
		c.setLocked(cr)
	}
	call.creds, call.err = cr, err
	c.call = nil
	c.mu.Unlock()
	close(call.done)
}

// reject marks used as refused by OSS; the next get refreshes unless
// another part already replaced it.
func (c *credSource) reject(used *Credentials) {
	c.mu.Lock()
	if c.cur == used {
		c.stale = true
	}
	c.mu.Unlock()
}
