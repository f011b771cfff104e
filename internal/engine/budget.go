package engine

import (
	"container/list"
	"context"
	"sync"
)

// budget is a FIFO weighted semaphore over bytes in flight, shared by every
// upload of an Engine: a part waits until its size fits, so a queue of
// uploads never holds more than the budget in request bodies (which a
// browser's fetch may buffer).
type budget struct {
	mu      sync.Mutex
	size    int64
	cur     int64
	waiters list.List // of *budgetWaiter
}

type budgetWaiter struct {
	n     int64
	ready chan struct{}
}

func newBudget(size int64) *budget { return &budget{size: size} }

// clamp bounds a request to the whole budget, so a part larger than the
// budget runs alone instead of waiting forever.
func (b *budget) clamp(n int64) int64 { return max(min(n, b.size), 0) }

// acquire waits until n bytes (as clamped) are free or ctx ends. It returns
// the amount actually held, to pass to release.
func (b *budget) acquire(ctx context.Context, n int64) (int64, error) {
	n = b.clamp(n)
	b.mu.Lock()
	if b.size-b.cur >= n && b.waiters.Len() == 0 {
		b.cur += n
		b.mu.Unlock()
		return n, nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	elem := b.waiters.PushBack(w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return n, nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready:
			// Granted while giving up: hand it back.
			b.cur -= n
			b.notifyLocked()
		default:
			front := b.waiters.Front() == elem
			b.waiters.Remove(elem)
			// The head leaving may let the next waiters in.
			if front {
				b.notifyLocked()
			}
		}
		b.mu.Unlock()
		return 0, ctx.Err()
	}
}

// release returns n bytes.
func (b *budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.cur -= n
	if b.cur < 0 {
		b.mu.Unlock()
		panic("engine: budget released more than held")
	}
	b.notifyLocked()
	b.mu.Unlock()
}

// notifyLocked admits waiters in order while they fit.
func (b *budget) notifyLocked() {
	for {
		e := b.waiters.Front()
		if e == nil {
			return
		}
		w := e.Value.(*budgetWaiter)
		if b.size-b.cur < w.n {
			return
		}
		b.cur += w.n
		b.waiters.Remove(e)
		close(w.ready)
	}
}
