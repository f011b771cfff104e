package engine

import (
	"testing"
	"time"
)

// TestLearnAdaptsConcurrency: a finished transfer's measured throughput sets
// the concurrency of later uploads (partplan.Suggest): a thin link backs
// off, a fast one with headroom grows, a tiny transfer teaches nothing, and
// an explicit Options.Concurrency always wins.
func TestLearnAdaptsConcurrency(t *testing.T) {
	e := New(nil, &Backend{}, Options{})
	u := &Upload{e: e}
	if got := u.concurrency(4); got != 4 {
		t.Fatalf("before any measurement: %d, want the session's 4", got)
	}
	e.learn(1<<20, time.Second, 4) // below learnMin: ignored
	if got := u.concurrency(4); got != 4 {
		t.Fatalf("a tiny transfer changed concurrency to %d", got)
	}
	e.learn(8<<20, 64*time.Second, 4) // 128 KiB/s over 4 streams: congested
	slow := u.concurrency(4)
	if slow >= 4 {
		t.Fatalf("thin link: concurrency %d, want fewer than 4", slow)
	}
	e.learn(512<<20, 4*time.Second, slow) // 128 MiB/s: headroom
	if fast := u.concurrency(4); fast <= slow {
		t.Fatalf("fast link: concurrency %d, want more than %d", fast, slow)
	}
	fixed := &Upload{e: New(nil, &Backend{}, Options{Concurrency: 3})}
	fixed.e.learn(512<<20, 4*time.Second, 3)
	if got := fixed.concurrency(4); got != 3 {
		t.Fatalf("explicit Concurrency overridden: %d", got)
	}
}
