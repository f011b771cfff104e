package ossserver

import (
	"fmt"
	"testing"
)

func TestParseRange(t *testing.T) {
	const size = 1000
	for _, tc := range []struct {
		v          string
		standard   bool
		start, end int64
		partial    bool
		err        bool
	}{
		{"", false, 0, size, false, false},
		{"bytes=0-99", false, 0, 100, true, false},
		{"bytes=100-", false, 100, size, true, false},
		{"bytes=-10", false, 990, size, true, false},
		{"bytes=-5000", false, 0, size, true, false},
		{"bytes=990-5000", false, 990, size, true, false},
		{"bytes=999-999", false, 999, size, true, false},
		// OSS's default: whatever it cannot satisfy, it ignores.
		{"bytes=1000-", false, 0, size, false, false},
		{"bytes=5000-6000", false, 0, size, false, false},
		{"bytes=-0", false, 0, size, false, false},
		{"bytes=10-5", false, 0, size, false, false},
		{"bytes=0-1,5-6", false, 0, size, false, false},
		{"items=0-1", false, 0, size, false, false},
		{"bytes=x-1", false, 0, size, false, false},
		// x-oss-range-behavior: standard answers 416 to an unsatisfiable range.
		{"bytes=1000-", true, 0, 0, false, true},
		{"bytes=5000-6000", true, 0, 0, false, true},
		{"bytes=990-5000", true, 990, size, true, false},
		{"bytes=10-5", true, 0, size, false, false},
	} {
		start, end, partial, err := parseRange(tc.v, size, tc.standard)
		got := fmt.Sprint(start, end, partial, err != nil)
		want := fmt.Sprint(tc.start, tc.end, tc.partial, tc.err)
		if got != want {
			t.Errorf("parseRange(%q, standard=%v) = %s, want %s", tc.v, tc.standard, got, want)
		}
	}
}

func TestParseRangeEmptyObject(t *testing.T) {
	for _, v := range []string{"bytes=-10", "bytes=0-", "bytes=0-0"} {
		if start, end, partial, err := parseRange(v, 0, false); err != nil || partial || start != 0 || end != 0 {
			t.Errorf("%q on an empty object: %d %d %v %v, want the whole (empty) object", v, start, end, partial, err)
		}
		if _, _, _, err := parseRange(v, 0, true); err == nil {
			t.Errorf("%q on an empty object in standard mode: no 416", v)
		}
	}
}

// FuzzParseRange checks that any Range header yields a window inside the
// object, or a 416 only in standard mode.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-10", "bytes=5-", "bytes=9-1", "bytes=0-1,2-3", ""} {
		f.Add(s, int64(100), false)
		f.Add(s, int64(0), true)
	}
	f.Fuzz(func(t *testing.T, v string, size int64, standard bool) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		start, end, partial, err := parseRange(v, size, standard)
		if err != nil {
			if !standard {
				t.Fatalf("%q: error %v without standard behaviour", v, err)
			}
			return
		}
		if start < 0 || end > size || start > end || (!partial && (start != 0 || end != size)) || (partial && start == end) {
			t.Fatalf("%q size %d: window [%d,%d) partial %v", v, size, start, end, partial)
		}
	})
}

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"*", "https://a.example", true},
		{"https://*.example", "https://app.example", true},
		{"https://*.example", "https://app.example.evil", false},
		{"x-oss-*", "x-oss-date", true},
		{"x-oss-*", "x-os", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	} {
		if got := wildcard(tc.p, tc.s); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}
