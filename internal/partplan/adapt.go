package partplan

import (
	"math"
	"time"
)

// Limits of Suggest.
const (
	// DefaultTarget is how long one part should take on the measured link.
	// Long enough that per-request costs (signing, a round trip, a
	// checkpoint write) stay small against the transfer, short enough that
	// an interruption loses little and progress moves visibly.
	DefaultTarget = 4 * time.Second
	// MaxConcurrency is the most parts Suggest keeps in flight. Browsers
	// open about six HTTP/1.1 connections per host; beyond eight streams
	// the gain on any link is small and the memory cost is not.
	MaxConcurrency = 8
	// MinSuggestedPartSize is the smallest part Suggest proposes, and its
	// rounding step. Below 1 MiB a part's fixed request cost dominates even
	// on slow links.
	MinSuggestedPartSize = 1 << 20
	// MaxSuggestedPartSize is the largest part Suggest proposes. The engine
	// holds every in-flight part in (32-bit wasm) memory to checksum and
	// retry it: 8 × 64 MiB is already half a GiB, and a link fast enough to
	// want bigger parts loses nothing but a few requests by not getting them.
	MaxSuggestedPartSize = 64 << 20
	// maxStepFactor bounds how far one suggestion moves the part size
	// (×4 or ÷4): a single upload's throughput is noisy (a backgrounded tab,
	// a burst of other traffic), and the next upload measures again.
	maxStepFactor = 4
	// lowPart and highPart define congestion and headroom per stream: a
	// stream that cannot move lowPart bytes in Target is starved by its
	// siblings, one that moves highPart has room for another beside it.
	lowPart  = 1 << 20
	highPart = 4 << 20
)

// Measure is the throughput observed on a finished (or running) upload.
type Measure struct {
	// BytesPerSec is the aggregate rate of all parts together: bytes
	// acknowledged by OSS over the wall time parts were in flight.
	BytesPerSec float64
	// Concurrency is the number of parts that were in flight while
	// measuring (the plan's, which may be below the Prefs for small files).
	Concurrency int
	// Target is how long one part should take; zero or negative means
	// DefaultTarget.
	Target time.Duration
}

// Suggest returns the Prefs for the next upload given the throughput
// measured on the last one. It never changes a plan already in use: the
// parts of one multipart upload must keep one size for resume to work, so
// the engine feeds the result only into the next upload's New.
//
// Heuristics (an additive-increase, multiplicative-decrease controller run
// across uploads, with s = BytesPerSec/Concurrency the per-stream rate):
//   - s < 1 MiB per Target (256 KiB/s at 4 s): the streams are congested,
//     fewer would each go faster; concurrency halves (at least 1).
//   - s ≥ 4 MiB per Target (1 MiB/s at 4 s): each stream has headroom;
//     concurrency grows by one, up to MaxConcurrency.
//   - otherwise concurrency stays at current's.
//
// Growth starts from the measured concurrency but never goes below
// current's, and decrease never goes above it, so a small file that ran
// fewer streams than preferred does not drag the preference down.
// The part size is then what one stream moves in Target when the measured
// aggregate is shared by the new concurrency, moved at most ×4 or ÷4 from
// current's, rounded to the nearest MiB and kept within
// [MinSuggestedPartSize, MaxSuggestedPartSize] (inside [MinPartSize,
// MaxPartSize]). PutThreshold is kept (a negative one becomes 0, the default).
//
// A measurement without a positive, finite rate and a positive concurrency
// says nothing: Suggest then returns current with its zero or invalid fields
// replaced by the defaults, concurrency clamped to 1..MaxConcurrency and
// part size to [MinPartSize, MaxPartSize] like New does. Every result has
// an explicit PartSize and Concurrency.
func Suggest(m Measure, current Prefs) Prefs {
	cur := normalize(current)
	if !(m.BytesPerSec > 0) || math.IsInf(m.BytesPerSec, 0) || m.Concurrency < 1 {
		return cur
	}
	target := m.Target
	if target <= 0 {
		target = DefaultTarget
	}
	secs := target.Seconds()

	perStream := m.BytesPerSec / float64(m.Concurrency)
	conc := cur.Concurrency
	switch {
	case perStream*secs < lowPart:
		conc = min(cur.Concurrency, max(1, m.Concurrency/2))
	case perStream*secs >= highPart:
		conc = max(cur.Concurrency, m.Concurrency+1)
	}
	conc = min(max(conc, 1), MaxConcurrency)

	want := m.BytesPerSec / float64(conc) * secs
	curSize := float64(cur.PartSize)
	want = min(max(want, curSize/maxStepFactor), curSize*maxStepFactor)
	size := int64(math.Round(want/MinSuggestedPartSize)) * MinSuggestedPartSize
	size = min(max(size, MinSuggestedPartSize), MaxSuggestedPartSize)

	return Prefs{PartSize: size, Concurrency: conc, PutThreshold: cur.PutThreshold}
}

// normalize makes every field of p explicit and within Suggest's limits.
func normalize(p Prefs) Prefs {
	switch {
	case p.PartSize <= 0 || p.PartSize > MaxPartSize:
		p.PartSize = DefaultPartSize
	case p.PartSize < MinPartSize:
		p.PartSize = MinPartSize
	}
	switch {
	case p.Concurrency <= 0:
		p.Concurrency = DefaultConcurrency
	case p.Concurrency > MaxConcurrency:
		p.Concurrency = MaxConcurrency
	}
	p.PutThreshold = max(p.PutThreshold, 0)
	return p
}
