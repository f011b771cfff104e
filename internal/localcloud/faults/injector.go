package faults

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// pcgStream is the second PCG seed word; any constant works, it only has to
// stay the same so that a seed keeps producing the same decisions.
const pcgStream = 0x6f73737570666c74 // "ossupflt"

// FaultStats counts the requests of one operation that received each fault.
type FaultStats struct {
	Errors     int64 `json:"errors"`
	Resets     int64 `json:"resets"`
	Stalls     int64 `json:"stalls"`
	CorruptCRC int64 `json:"corruptCrc"`
}

// Injector decides, per request, which faults to inject, and throttles the
// connections of listeners it wraps. It is safe for concurrent use. A nil
// *Injector injects nothing.
type Injector struct {
	mu        sync.Mutex
	cfg       Config
	remaining []int // per rule: uses left when Count > 0, otherwise -1
	rng       *rand.Rand
	errors    uint64 // 5xx answers so far, to alternate 500 and 503
	stats     map[string]*FaultStats

	// bps and linkBps are read on every I/O of every throttled
	// connection, so they live outside mu.
	bps, linkBps atomic.Int64
	// link is the limiter shared by all connections, per direction (read,
	// write): a link of LinkBytesPerSec.
	link [2]direction
}

// New returns an Injector running cfg. It panics if cfg is invalid; use
// ParseConfig or Config.Validate first for configuration from outside.
func New(cfg Config) *Injector {
	i := &Injector{}
	if err := i.Set(cfg); err != nil {
		panic(fmt.Sprintf("faults.New: %v", err))
	}
	return i
}

// Set replaces the configuration. It reseeds the random source, restores
// every rule's Count and clears the statistics, so each configuration starts
// a fresh, repeatable experiment. Open connections pick up the new bandwidth
// limit on their next read or write.
func (i *Injector) Set(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	cfg = cfg.clone()
	remaining := make([]int, len(cfg.Rules))
	for n, r := range cfg.Rules {
		remaining[n] = -1
		if r.Count > 0 {
			remaining[n] = r.Count
		}
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.cfg = cfg
	i.remaining = remaining
	i.rng = rand.New(rand.NewPCG(uint64(cfg.Seed), pcgStream))
	i.errors = 0
	i.stats = map[string]*FaultStats{}
	i.bps.Store(cfg.BandwidthBytesPerSec)
	i.linkBps.Store(cfg.LinkBytesPerSec)
	return nil
}

// Config returns a copy of the current configuration.
func (i *Injector) Config() Config {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.cfg.clone()
}

// Stats returns, per operation name passed to Apply, how many requests
// received each fault since the last Set. A fault is counted when it is
// decided, so a stall cut short by the client and a CRC corruption of a
// response that carried no CRC header still count.
func (i *Injector) Stats() map[string]FaultStats {
	i.mu.Lock()
	defer i.mu.Unlock()
	out := make(map[string]FaultStats, len(i.stats))
	for op, s := range i.stats {
		out[op] = *s
	}
	return out
}

// decision is what happens to one request.
type decision struct {
	stall   time.Duration
	reset   bool
	err     *osserr.Error
	corrupt bool
}

func (d decision) terminal() bool { return d.reset || d.err != nil }

// Apply injects the faults decided for one request of operation op. The OSS
// handler calls it once it knows the operation and has set the request id
// and CORS headers on w.
//
// When it returns handled=true the request is finished (answered with a 5xx
// error written by osserr.Write, reset, or abandoned by the client during a
// stall) and the handler must stop. Otherwise the handler continues with the
// returned ResponseWriter, which is w itself unless the CRC header is to be
// corrupted.
//
// A stalled request with an unread body only notices that its client went
// away once the stall is over, because net/http watches for disconnects only
// after the body has been read.
func (i *Injector) Apply(op string, w http.ResponseWriter, r *http.Request, requestID string) (http.ResponseWriter, bool) {
	if i == nil {
		return w, false
	}
	d := i.decide(op)
	if d.stall > 0 {
		t := time.NewTimer(d.stall)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return w, true
		}
	}
	switch {
	case d.reset:
		reset(w, r)
		return w, true
	case d.err != nil:
		// Reading the whole body first means the client sees the 5xx
		// answer rather than a write error, which is what a server-side
		// failure after upload looks like.
		_, _ = io.Copy(io.Discard, r.Body)
		osserr.Write(w, r, d.err, requestID, r.Host, time.Now())
		return w, true
	case d.corrupt:
		return corruptCRC(w), false
	}
	return w, false
}

// decide draws the faults for one request of op. Matching rules are taken in
// configuration order, one draw per non-zero rate (stall, reset, error, CRC);
// a reset or an error ends the evaluation. A rule with a Count uses one of
// its uses whenever at least one of its faults fires.
func (i *Injector) decide(op string) decision {
	i.mu.Lock()
	defer i.mu.Unlock()
	var d decision
	for n, r := range i.cfg.Rules {
		if i.remaining[n] == 0 || (r.Op != Wildcard && !strings.EqualFold(r.Op, op)) {
			continue
		}
		hit := false
		if i.draw(r.StallRate) {
			d.stall += time.Duration(r.Stall)
			hit = true
		}
		if i.draw(r.ResetRate) {
			d.reset = true
			hit = true
		} else if i.draw(r.ErrorRate) {
			d.err = i.nextError()
			hit = true
		}
		if !d.terminal() && i.draw(r.CorruptCRCRate) {
			d.corrupt = true
			hit = true
		}
		if hit && i.remaining[n] > 0 {
			i.remaining[n]--
		}
		if d.terminal() {
			break
		}
	}
	if d == (decision{}) {
		return d
	}
	s := i.stats[op]
	if s == nil {
		s = &FaultStats{}
		i.stats[op] = s
	}
	if d.stall > 0 {
		s.Stalls++
	}
	switch {
	case d.reset:
		s.Resets++
	case d.err != nil:
		s.Errors++
	case d.corrupt:
		s.CorruptCRC++
	}
	return d
}

// draw reports whether a fault with the given rate fires. Called with mu held.
func (i *Injector) draw(rate float64) bool {
	return rate > 0 && i.rng.Float64() < rate
}

// nextError alternates the two 5xx answers OSS gives for transient failures.
// Called with mu held.
func (i *Injector) nextError() *osserr.Error {
	i.errors++
	if i.errors%2 == 1 {
		return osserr.InternalError("We encountered an internal error. Please try again.")
	}
	return osserr.New(http.StatusServiceUnavailable, "ServiceUnavailable", "Service is temporarily unavailable. Please try again later.")
}
