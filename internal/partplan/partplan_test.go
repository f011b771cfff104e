package partplan

import (
	"errors"
	"testing"
)

const (
	kib = int64(1) << 10
	mib = int64(1) << 20
	gib = int64(1) << 30
)

func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		size     int64
		prefs    Prefs
		partSize int64
		parts    int
		single   bool
		conc     int
	}{
		{"empty file is single", 0, Prefs{}, 0, 1, true, 1},
		{"one byte", 1, Prefs{}, 1, 1, true, 1},
		{"just under min part", MinPartSize - 1, Prefs{}, MinPartSize - 1, 1, true, 1},
		{"just under threshold", 8*mib - 1, Prefs{}, 8*mib - 1, 1, true, 1},
		{"exactly part size is multipart", 8 * mib, Prefs{}, 8 * mib, 1, false, 1},
		{"part size plus one", 8*mib + 1, Prefs{}, 8 * mib, 2, false, 2},
		{"concurrency capped by parts", 24 * mib, Prefs{Concurrency: 10}, 8 * mib, 3, false, 3},
		{"default concurrency", 100 * mib, Prefs{}, 8 * mib, 13, false, 4},
		{"small preferred part raised to min", 1 * mib, Prefs{PartSize: 1000, PutThreshold: 1}, MinPartSize, 11, false, 4},
		{"threshold 1 forces multipart", 1, Prefs{PutThreshold: 1}, 8 * mib, 1, false, 1},
		{"large threshold", 50 * mib, Prefs{PutThreshold: 64 * mib}, 50 * mib, 1, true, 1},
		{"threshold never makes over 5 GiB single", 5*gib + 1, Prefs{PutThreshold: 6 * gib}, 8 * mib, 641, false, 4},
		{"5 GiB may be single", 5 * gib, Prefs{PutThreshold: 6 * gib}, 5 * gib, 1, true, 1},
		{"exactly 10000 parts", 10000 * 8 * mib, Prefs{}, 8 * mib, 10000, false, 4},
		{"10000 parts plus one byte raises to 9 MiB", 10000*8*mib + 1, Prefs{}, 9 * mib, 8889, false, 4},
		{"100 KB parts at 10000", 10000 * MinPartSize, Prefs{PartSize: MinPartSize}, MinPartSize, 10000, false, 4},
		{"100 KB parts overflow", 10000*MinPartSize + 1, Prefs{PartSize: MinPartSize}, 1 * mib, 977, false, 4},
		{"1 TiB", 1 << 40, Prefs{}, 105 * mib, 9987, false, 4},
		{"max object size", MaxObjectSize, Prefs{}, MaxPartSize, MaxParts, false, 4},
		{"max object size minus one", MaxObjectSize - 1, Prefs{}, MaxPartSize, MaxParts, false, 4},
		{"max part size preferred", 6 * gib, Prefs{PartSize: MaxPartSize}, MaxPartSize, 2, false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.size, tc.prefs)
			if err != nil {
				t.Fatalf("New(%d, %+v): %v", tc.size, tc.prefs, err)
			}
			want := Plan{Size: tc.size, PartSize: tc.partSize, Parts: tc.parts, Single: tc.single, Concurrency: tc.conc}
			if p != want {
				t.Fatalf("New(%d, %+v) = %+v, want %+v", tc.size, tc.prefs, p, want)
			}
			checkPlan(t, p)
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name  string
		size  int64
		prefs Prefs
		want  error
	}{
		{"negative size", -1, Prefs{}, ErrInvalid},
		{"over max object size", MaxObjectSize + 1, Prefs{}, ErrTooLarge},
		{"negative part size", 10, Prefs{PartSize: -1}, ErrInvalid},
		{"part size over 5 GiB", 10, Prefs{PartSize: MaxPartSize + 1}, ErrInvalid},
		{"negative concurrency", 10, Prefs{Concurrency: -1}, ErrInvalid},
		{"negative threshold", 10, Prefs{PutThreshold: -1}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.size, tc.prefs)
			if !errors.Is(err, tc.want) {
				t.Fatalf("New(%d, %+v) = %+v, %v; want %v", tc.size, tc.prefs, p, err, tc.want)
			}
		})
	}
}

func TestPart(t *testing.T) {
	p, err := New(20*mib+5, Prefs{})
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]int64{{0, 8 * mib}, {8 * mib, 8 * mib}, {16 * mib, 4*mib + 5}}
	if p.Parts != len(want) {
		t.Fatalf("parts = %d, want %d", p.Parts, len(want))
	}
	for i, w := range want {
		off, n := p.Part(i + 1)
		if off != w[0] || n != w[1] {
			t.Errorf("Part(%d) = %d, %d; want %d, %d", i+1, off, n, w[0], w[1])
		}
	}
}

func TestPartOutOfRangePanics(t *testing.T) {
	p, err := New(3*mib, Prefs{PartSize: mib, PutThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, -1, 4} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Part(%d) did not panic", n)
				}
			}()
			p.Part(n)
		}()
	}
}

// checkPlan asserts the OSS invariants of an accepted plan.
func checkPlan(t *testing.T, p Plan) {
	t.Helper()
	if p.Parts < 1 || p.Parts > MaxParts {
		t.Fatalf("%+v: parts outside 1..%d", p, MaxParts)
	}
	if p.Concurrency < 1 || p.Concurrency > p.Parts {
		t.Fatalf("%+v: concurrency outside 1..parts", p)
	}
	if p.Single && (p.Parts != 1 || p.Size > MaxPartSize) {
		t.Fatalf("%+v: invalid single plan", p)
	}
	var next int64
	for n := 1; n <= p.Parts; n++ {
		off, l := p.Part(n)
		if off != next {
			t.Fatalf("%+v: part %d at %d, want %d", p, n, off, next)
		}
		if l > MaxPartSize || l < 0 {
			t.Fatalf("%+v: part %d length %d", p, n, l)
		}
		if n < p.Parts && l < MinPartSize {
			t.Fatalf("%+v: part %d length %d below minimum", p, n, l)
		}
		if n < p.Parts && l == 0 || n == p.Parts && l == 0 && p.Size != 0 {
			t.Fatalf("%+v: empty part %d", p, n)
		}
		next += l
		// Only the first, second and last parts are interesting for huge plans.
		if p.Parts > 3 && n == 2 {
			n = p.Parts - 1
			next = int64(n) * p.PartSize
		}
	}
	if next != p.Size {
		t.Fatalf("%+v: parts sum to %d", p, next)
	}
}

func FuzzNew(f *testing.F) {
	f.Add(int64(0), int64(0), 0, int64(0))
	f.Add(int64(1), int64(0), 0, int64(1))
	f.Add(int64(MaxObjectSize), int64(MinPartSize), 100, int64(0))
	f.Add(int64(10000*8<<20+1), int64(8<<20), 4, int64(0))
	f.Add(int64(5<<30+1), int64(0), 0, int64(6<<30))
	f.Fuzz(func(t *testing.T, size, partSize int64, conc int, threshold int64) {
		prefs := Prefs{PartSize: partSize, Concurrency: conc, PutThreshold: threshold}
		p, err := New(size, prefs)
		if err != nil {
			if size >= 0 && size <= MaxObjectSize && partSize >= 0 && partSize <= MaxPartSize && conc >= 0 && threshold >= 0 {
				t.Fatalf("New(%d, %+v) refused valid input: %v", size, prefs, err)
			}
			return
		}
		if p.Size != size {
			t.Fatalf("size %d, plan %+v", size, p)
		}
		// Unlike checkPlan, walk every part: at most 10000, cheap.
		var next int64
		for n := 1; n <= p.Parts; n++ {
			off, l := p.Part(n)
			if off != next || l < 0 || l > MaxPartSize || (n < p.Parts && l < MinPartSize) {
				t.Fatalf("%+v: bad part %d: %d+%d", p, n, off, l)
			}
			next += l
		}
		if next != size {
			t.Fatalf("%+v: parts sum to %d", p, next)
		}
		checkPlan(t, p)
	})
}
