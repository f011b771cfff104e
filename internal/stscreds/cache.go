package stscreds

import (
	"context"
	"fmt"
	"log/slog"
)

// minSweep is the cache size below which expired entries are not swept.
const minSweep = 64

// cacheKey identifies cached prefix-scope credentials. The session name is
// part of the key so that every credential's AssumedRoleUser (what audit
// logs show) names the caller it was minted for.
type cacheKey struct{ session, prefix string }

type cacheEntry struct {
	creds Credentials
	// refreshAt is when 80 % of the lifetime has passed.
	refreshAt int64 // Unix nanoseconds by m.now
}

// flight is one AssumeRole call shared by every concurrent caller for a key.
type flight struct {
	done  chan struct{}
	creds Credentials
	err   error
}

// cached returns prefix-scope credentials from the cache, from a call
// already in flight, or from a new AssumeRole call.
func (m *Minter) cached(ctx context.Context, k cacheKey) (Credentials, error) {
	m.mu.Lock()
	if e, ok := m.cache[k]; ok && m.now().UnixNano() < e.refreshAt {
		m.mu.Unlock()
		m.hits.Add(1)
		return e.creds, nil
	}
	f, joined := m.inflight[k]
	if !joined {
		f = &flight{done: make(chan struct{})}
		m.inflight[k] = f
		// Detached from ctx: other callers share this call, and one caller
		// giving up must not fail the rest. assumeRole bounds it in time.
		go m.fly(context.WithoutCancel(ctx), k, f)
	}
	m.mu.Unlock()
	if joined {
		m.hits.Add(1)
	}
	select {
	case <-f.done:
		return f.creds, f.err
	case <-ctx.Done():
		return Credentials{}, fmt.Errorf("stscreds: waiting for credentials: %w", context.Cause(ctx))
	}
}

func (m *Minter) fly(ctx context.Context, k cacheKey, f *flight) {
	issued := m.now()
	f.creds, f.err = m.assumeRole(ctx, k.session, PrefixPolicy(m.cfg.Bucket, k.prefix), k.prefix+"*")
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.inflight, k)
	close(f.done)
	if f.err != nil {
		return
	}
	lifetime := f.creds.Expiration.Sub(issued)
	// STS's clock may run ahead of ours; never trust more than was asked for.
	lifetime = min(lifetime, m.cfg.Duration)
	if lifetime <= 0 {
		m.log.LogAttrs(ctx, slog.LevelWarn, "stscreds: credentials already expired by the local clock; not cached",
			slog.Time("expiration", f.creds.Expiration), slog.Time("now", issued))
		return
	}
	m.cache[k] = cacheEntry{creds: f.creds, refreshAt: issued.Add(lifetime * refreshNum / refreshDen).UnixNano()}
	if len(m.cache) >= m.sweepAt {
		m.sweep()
	}
}

// sweep drops entries past their refresh time. It runs when the cache has
// doubled since the last sweep, so its cost is amortised over inserts.
func (m *Minter) sweep() {
	now := m.now().UnixNano()
	for k, e := range m.cache {
		if now >= e.refreshAt {
			delete(m.cache, k)
		}
	}
	m.sweepAt = max(minSweep, 2*len(m.cache))
}
