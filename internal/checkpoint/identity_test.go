package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc64"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestFingerprintRanges(t *testing.T) {
	const c = 64 * kib
	tests := []struct {
		size int64
		want [][2]int64
	}{
		{-1, nil},
		{0, nil},
		{1, [][2]int64{{0, 1}}},
		{c - 1, [][2]int64{{0, c - 1}}},
		{c, [][2]int64{{0, c}}},
		{c + 1, [][2]int64{{0, c + 1}}},
		{128 * kib, [][2]int64{{0, 128 * kib}}},
		{192 * kib, [][2]int64{{0, 192 * kib}}},
		// Middle starts at size/2-32 KiB = 64 KiB: touches the first range;
		// the last starts one byte after the middle ends.
		{192*kib + 1, [][2]int64{{0, 128 * kib}, {128*kib + 1, 192*kib + 1}}},
		// Middle starts at 64 KiB + 1: three ranges, one byte apart.
		{192*kib + 2, [][2]int64{{0, c}, {c + 1, 128*kib + 1}, {128*kib + 2, 192*kib + 2}}},
		{1 * mib, [][2]int64{{0, c}, {512*kib - 32*kib, 512*kib + 32*kib}, {mib - c, mib}}},
		{10 * gib, [][2]int64{{0, c}, {5*gib - 32*kib, 5*gib + 32*kib}, {10*gib - c, 10 * gib}}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			got := FingerprintRanges(tc.size)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("FingerprintRanges(%d) = %v, want %v", tc.size, got, tc.want)
			}
			checkRanges(t, tc.size, got)
		})
	}
}

// checkRanges asserts the invariants: in order, disjoint and not touching,
// inside the file, at most 192 KiB in all, whole file when ≤ 192 KiB.
func checkRanges(t *testing.T, size int64, rs [][2]int64) {
	t.Helper()
	var total, prevEnd int64 = 0, -1
	for _, r := range rs {
		if r[0] < 0 || r[1] > size || r[0] >= r[1] || r[0] <= prevEnd {
			t.Fatalf("size %d: bad ranges %v", size, rs)
		}
		total += r[1] - r[0]
		prevEnd = r[1]
	}
	if total > 192*kib || (size <= 192*kib && total != max(size, 0)) {
		t.Fatalf("size %d: ranges %v cover %d bytes", size, rs, total)
	}
}

func TestFingerprintRangesProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		size := rng.Int64N(1 * mib)
		if rng.IntN(4) == 0 {
			size = rng.Int64N(1 << 50)
		}
		checkRanges(t, size, FingerprintRanges(size))
	}
}

// sliceReader reads from data, failing on reads outside it as a Blob slice
// would return short data.
func sliceReader(data []byte) func(off int64, p []byte) error {
	return func(off int64, p []byte) error {
		if off < 0 || off+int64(len(p)) > int64(len(data)) {
			return fmt.Errorf("read %d at %d outside %d bytes", len(p), off, len(data))
		}
		copy(p, data[off:])
		return nil
	}
}

func TestFingerprintMatchesIndependentCRC(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	table := crc64.MakeTable(crc64.ECMA)
	for _, size := range []int64{0, 1, 100, 64 * kib, 192 * kib, 192*kib + 1, 300 * kib, 3*mib + 7} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		// Independent computation: concatenate the sampled bytes by hand.
		var sample []byte
		if size <= 192*kib {
			sample = data
		} else {
			mid := size/2 - 32*kib
			sample = append(append(append([]byte{}, data[:64*kib]...), data[mid:mid+64*kib]...), data[size-64*kib:]...)
		}
		want := crc64.Checksum(sample, table)
		got, err := Fingerprint(size, sliceReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("size %d: Fingerprint = %016x, want %016x", size, got, want)
		}
	}
}

func TestFingerprintSensitivity(t *testing.T) {
	const size = 1 * mib
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	base, err := Fingerprint(size, sliceReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range FingerprintRanges(size) {
		for _, off := range []int64{r[0], (r[0] + r[1]) / 2, r[1] - 1} {
			data[off] ^= 0x40
			got, err := Fingerprint(size, sliceReader(data))
			data[off] ^= 0x40
			if err != nil {
				t.Fatal(err)
			}
			if got == base {
				t.Fatalf("changing sampled byte %d did not change the fingerprint", off)
			}
		}
	}
	// A byte between the samples is not read: documented behaviour, which
	// size and lastModified are there to back up.
	off := int64(200 * kib)
	data[off] ^= 0x40
	got, err := Fingerprint(size, sliceReader(data))
	if err != nil || got != base {
		t.Fatalf("unsampled byte changed the fingerprint (%v)", err)
	}
}

func TestFingerprintErrors(t *testing.T) {
	boom := errors.New("NotReadableError")
	_, err := Fingerprint(1*mib, func(int64, []byte) error { return boom })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "at 0") {
		t.Fatalf("Fingerprint = %v, want wrapped read error", err)
	}
	if _, err := Fingerprint(-1, sliceReader(nil)); err == nil {
		t.Fatal("negative size accepted")
	}
	calls := 0
	crc, err := Fingerprint(0, func(int64, []byte) error { calls++; return nil })
	if err != nil || crc != 0 || calls != 0 {
		t.Fatalf("empty file: %016x, %v, %d reads", crc, err, calls)
	}
}

func TestID(t *testing.T) {
	f := FileIdentity{Name: "a.txt", Size: 10, LastModified: 1700000000000, Type: "text/plain", Fingerprint: 1}
	id := ID(f)
	if !strings.HasPrefix(id, IDPrefix) || len(id) != len(IDPrefix)+64 {
		t.Fatalf("ID = %q", id)
	}
	// IDs of files outside folders are those of the releases before paths.
	if id != "ossup:"+sha256Hex(`["a.txt",10,1700000000000,"text/plain"]`) {
		t.Fatalf("ID = %q changed for a file without a path", id)
	}
	g := f
	g.Fingerprint = 2
	if ID(g) != id {
		t.Fatal("ID depends on the fingerprint")
	}
	variants := []FileIdentity{
		{Name: "a.txt ", Size: 10, LastModified: 1700000000000, Type: "text/plain"},
		{Name: "a.txt", Size: 11, LastModified: 1700000000000, Type: "text/plain"},
		{Name: "a.txt", Size: 10, LastModified: 1700000000001, Type: "text/plain"},
		{Name: "a.txt", Size: 10, LastModified: 1700000000000, Type: "text/html"},
		// Field boundaries cannot be shifted.
		{Name: "a.txt\",10", Size: 10, LastModified: 1700000000000, Type: "text/plain"},
		// The same file in two folders is two uploads.
		{Name: "a.txt", Size: 10, LastModified: 1700000000000, Type: "text/plain", Path: "x/a.txt"},
		{Name: "a.txt", Size: 10, LastModified: 1700000000000, Type: "text/plain", Path: "y/a.txt"},
	}
	seen := map[string]bool{id: true}
	for _, v := range variants {
		vid := ID(v)
		if seen[vid] {
			t.Fatalf("ID collision for %+v", v)
		}
		seen[vid] = true
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
