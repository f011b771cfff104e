package partplan

import (
	"math"
	"testing"
	"time"
)

func TestSuggest(t *testing.T) {
	const mibps = float64(mib) // 1 MiB/s
	tests := []struct {
		name    string
		m       Measure
		current Prefs
		want    Prefs
	}{
		// Invalid measurements normalise current and change nothing else.
		{"zero rate keeps defaults", Measure{0, 4, 0}, Prefs{}, Prefs{PartSize: DefaultPartSize, Concurrency: DefaultConcurrency}},
		{"NaN rate", Measure{math.NaN(), 4, 0}, Prefs{PartSize: 16 * mib, Concurrency: 3, PutThreshold: 5}, Prefs{PartSize: 16 * mib, Concurrency: 3, PutThreshold: 5}},
		{"infinite rate", Measure{math.Inf(1), 4, 0}, Prefs{}, Prefs{PartSize: DefaultPartSize, Concurrency: DefaultConcurrency}},
		{"negative rate", Measure{-1, 4, 0}, Prefs{}, Prefs{PartSize: DefaultPartSize, Concurrency: DefaultConcurrency}},
		{"zero concurrency measured", Measure{10 * mibps, 0, 0}, Prefs{}, Prefs{PartSize: DefaultPartSize, Concurrency: DefaultConcurrency}},
		{"invalid current normalised", Measure{}, Prefs{PartSize: -5, Concurrency: 50, PutThreshold: -1}, Prefs{PartSize: DefaultPartSize, Concurrency: MaxConcurrency}},
		{"tiny current raised to min", Measure{}, Prefs{PartSize: 1, Concurrency: 1}, Prefs{PartSize: MinPartSize, Concurrency: 1}},
		{"oversized current to default", Measure{}, Prefs{PartSize: MaxPartSize + 1}, Prefs{PartSize: DefaultPartSize, Concurrency: DefaultConcurrency}},

		// 12 MiB/s over 4 streams = 3 MiB/s each ≥ 1 MiB/s: grow to 5,
		// part = 12/5*4 s = 9.6 → 10 MiB.
		{"fast link grows", Measure{12 * mibps, 4, 0}, Prefs{}, Prefs{PartSize: 10 * mib, Concurrency: 5}},
		// Same link one step later: 12/5 = 2.4 MiB/s each, grow to 6, 8 MiB.
		{"fast link keeps growing", Measure{12 * mibps, 5, 0}, Prefs{PartSize: 10 * mib, Concurrency: 5}, Prefs{PartSize: 8 * mib, Concurrency: 6}},
		{"growth capped at 8", Measure{100 * mibps, 8, 0}, Prefs{PartSize: 48 * mib, Concurrency: 8}, Prefs{PartSize: 50 * mib, Concurrency: 8}},
		{"very fast link capped at max part", Measure{1000 * mibps, 8, 0}, Prefs{PartSize: 64 * mib, Concurrency: 8}, Prefs{PartSize: MaxSuggestedPartSize, Concurrency: 8}},
		// 1.2 MiB/s over 4 = 0.3 MiB/s each: in the band, hold 4;
		// part = 1.2 MiB → 1 MiB, within ÷4 of 8 MiB? 8/4 = 2 MiB floor.
		{"middle band holds, step limited", Measure{1.2 * mibps, 4, 0}, Prefs{}, Prefs{PartSize: 2 * mib, Concurrency: 4}},
		{"middle band holds at small part", Measure{1.2 * mibps, 4, 0}, Prefs{PartSize: 2 * mib, Concurrency: 4}, Prefs{PartSize: 1 * mib, Concurrency: 4}},
		// 0.25 MiB/s over 4 = 1/16 MiB/s each < 1/4: halve to 2.
		{"congested link halves", Measure{0.25 * mibps, 4, 0}, Prefs{}, Prefs{PartSize: 2 * mib, Concurrency: 2}},
		{"congested at one stream stays one", Measure{0.1 * mibps, 1, 0}, Prefs{PartSize: mib, Concurrency: 1}, Prefs{PartSize: mib, Concurrency: 1}},
		{"congested from 8 halves to 4", Measure{1 * mibps, 8, 0}, Prefs{PartSize: 4 * mib, Concurrency: 8}, Prefs{PartSize: 1 * mib, Concurrency: 4}},
		// A 2-part file ran 2 streams; high per-stream rate must not
		// lower the preferred 6.
		{"small file does not shrink preference on growth", Measure{20 * mibps, 2, 0}, Prefs{PartSize: 8 * mib, Concurrency: 6}, Prefs{PartSize: 13 * mib, Concurrency: 6}},
		// Congested with 2 streams: decrease never raises above current.
		{"decrease never raises", Measure{0.1 * mibps, 4, 0}, Prefs{PartSize: mib, Concurrency: 1}, Prefs{PartSize: mib, Concurrency: 1}},
		{"measured above max concurrency", Measure{80 * mibps, 16, 0}, Prefs{PartSize: 8 * mib, Concurrency: 8}, Prefs{PartSize: 32 * mib, Concurrency: 8}},
		{"step up limited to x4", Measure{400 * mibps, 4, 0}, Prefs{PartSize: 2 * mib, Concurrency: 4}, Prefs{PartSize: 8 * mib, Concurrency: 5}},
		{"put threshold kept", Measure{12 * mibps, 4, 0}, Prefs{PutThreshold: 32 * mib}, Prefs{PartSize: 10 * mib, Concurrency: 5, PutThreshold: 32 * mib}},
		// Custom target: 2 MiB/s each at 1 s is 2 MiB per target: middle
		// band; part = 8/4*1 = 2 MiB.
		{"custom target", Measure{8 * mibps, 4, time.Second}, Prefs{}, Prefs{PartSize: 2 * mib, Concurrency: 4}},
		{"negative target is default", Measure{12 * mibps, 4, -time.Second}, Prefs{}, Prefs{PartSize: 10 * mib, Concurrency: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Suggest(tc.m, tc.current)
			if got != tc.want {
				t.Fatalf("Suggest(%+v, %+v) = %+v, want %+v", tc.m, tc.current, got, tc.want)
			}
			checkSuggestion(t, got)
		})
	}
}

// TestSuggestConverges runs the controller against simulated links: a link
// with a fixed capacity shared by the streams and a per-stream cap (what
// latency allows one connection). It settles, and within the limits.
func TestSuggestConverges(t *testing.T) {
	const mibps = float64(mib)
	tests := []struct {
		name              string
		capacity, stream  float64 // bytes/s
		wantConc          int
		wantPartMin, wMax int64
	}{
		// Per-stream cap 2 MiB/s, link 100 MiB/s: more streams always help.
		{"latency bound", 100 * mibps, 2 * mibps, MaxConcurrency, 8 * mib, 8 * mib},
		// Thin link 0.2 MiB/s: one stream, smallest parts.
		{"thin link", 0.2 * mibps, 10 * mibps, 1, mib, mib},
		// 2.4 MiB/s link, no per-stream cap: 0.6 MiB/s per default stream
		// is in the hold band, so 4 streams of 2.4 → 2 MiB parts.
		{"mid link", 2.4 * mibps, 100 * mibps, 4, 2 * mib, 2 * mib},
		// 40 MiB/s link: grows while each stream gets ≥ 1 MiB/s, i.e. to
		// the cap; parts 40/8*4 = 20 MiB.
		{"fast link", 40 * mibps, 100 * mibps, MaxConcurrency, 20 * mib, 20 * mib},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Prefs{}
			for range 30 {
				n := normalize(p).Concurrency
				rate := min(tc.capacity, tc.stream*float64(n))
				p = Suggest(Measure{BytesPerSec: rate, Concurrency: n}, p)
				checkSuggestion(t, p)
			}
			next := Suggest(Measure{BytesPerSec: min(tc.capacity, tc.stream*float64(p.Concurrency)), Concurrency: p.Concurrency}, p)
			if next != p {
				t.Fatalf("not settled: %+v then %+v", p, next)
			}
			if p.Concurrency != tc.wantConc || p.PartSize < tc.wantPartMin || p.PartSize > tc.wMax {
				t.Fatalf("settled at %+v, want concurrency %d and part %d..%d", p, tc.wantConc, tc.wantPartMin, tc.wMax)
			}
		})
	}
}

func checkSuggestion(t *testing.T, p Prefs) {
	t.Helper()
	if p.PartSize < MinPartSize || p.PartSize > MaxPartSize {
		t.Fatalf("%+v: part size outside %d..%d", p, MinPartSize, int64(MaxPartSize))
	}
	if p.Concurrency < 1 || p.Concurrency > MaxConcurrency {
		t.Fatalf("%+v: concurrency outside 1..%d", p, MaxConcurrency)
	}
	if p.PutThreshold < 0 {
		t.Fatalf("%+v: negative put threshold", p)
	}
	if _, err := New(1<<30, p); err != nil {
		t.Fatalf("New refuses suggestion %+v: %v", p, err)
	}
}

func FuzzSuggest(f *testing.F) {
	f.Add(0.0, 0, int64(0), int64(0), 0, int64(0))
	f.Add(12e6, 4, int64(0), int64(8<<20), 4, int64(0))
	f.Add(1e300, 8, int64(time.Hour), int64(MaxPartSize), 8, int64(1))
	f.Add(1e-300, 1, int64(1), int64(1), 1, int64(-1))
	f.Add(math.Inf(1), -1, int64(-1), int64(-1), -1, int64(0))
	f.Fuzz(func(t *testing.T, bps float64, mconc int, target, partSize int64, conc int, threshold int64) {
		m := Measure{BytesPerSec: bps, Concurrency: mconc, Target: time.Duration(target)}
		cur := Prefs{PartSize: partSize, Concurrency: conc, PutThreshold: threshold}
		got := Suggest(m, cur)
		checkSuggestion(t, got)
		if got.PutThreshold != max(threshold, 0) {
			t.Fatalf("Suggest(%+v, %+v) = %+v: put threshold changed", m, cur, got)
		}
		valid := bps > 0 && !math.IsInf(bps, 0) && mconc >= 1
		if valid && (got.PartSize%MinSuggestedPartSize != 0 || got.PartSize > MaxSuggestedPartSize) {
			t.Fatalf("Suggest(%+v, %+v) = %+v: part size not whole MiB within suggested limits", m, cur, got)
		}
		if got != Suggest(m, cur) {
			t.Fatalf("Suggest is not deterministic for %+v, %+v", m, cur)
		}
	})
}
