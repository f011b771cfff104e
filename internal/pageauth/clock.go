package pageauth

import (
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/ossup/ossup/internal/engine"
)

// Clock is the engine's clock corrected to the backend's: every session
// and credentials answer carries the backend's time (serverTime), and a
// browser clock minutes off would otherwise sign requests OSS still
// accepts (it allows 15 min) while scheduling every credentials refresh
// too late, so that each lifetime ends in SecurityTokenExpired refusals.
type Clock struct {
	// Base is the browser's clock.
	Base   engine.Clock
	offset atomic.Int64 // backend minus Base, nanoseconds
}

// minCorrection is the smallest difference Learn corrects: below it, the
// answer's transit time (serverTime is taken before the answer travels)
// would be most of what it measures.
const minCorrection = 2 * time.Second

// Now is Base's time plus the learnt offset.
func (c *Clock) Now() time.Time { return c.Base.Now().Add(time.Duration(c.offset.Load())) }

// After waits on Base: durations need no correction.
func (c *Clock) After(d time.Duration) <-chan time.Time { return c.Base.After(d) }

// Learn takes the backend's time from one of its answers.
func (c *Clock) Learn(server time.Time) {
	if server.IsZero() {
		return
	}
	off := server.Sub(c.Base.Now())
	if d := off - time.Duration(c.offset.Load()); d > minCorrection || d < -minCorrection {
		c.offset.Store(int64(off))
	}
}

// Offset is the correction in use.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// serverTime is the serverTime field of a backend answer, if any.
func serverTime(body []byte) time.Time {
	var v struct {
		ServerTime time.Time `json:"serverTime"`
	}
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &v) != nil {
		return time.Time{}
	}
	return v.ServerTime
}
