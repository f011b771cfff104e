package checkpoint

import (
	"os"
	"reflect"
	"testing"
)

// FuzzDecode: whatever the bytes under a record's key, decoding never
// panics, fails only with a *DamagedError, and what it accepts encodes and
// decodes back to itself. The same for the first format's decoder and for
// part entries.
func FuzzDecode(f *testing.F) {
	r := normalised(testRecord())
	b, err := encodeRecord(r)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, file := range []string{"testdata/v1-record.json", "testdata/v1-anchor.json"} {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add(encodePart("U", Part{Number: 1, ETag: `"E"`, Size: 1}))
	f.Add([]byte(`{"format":"ossup-checkpoint","v":1,"bv":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for name, decode := range map[string]func(string, []byte) (*Record, error){"current": decodeRecord, "first": decodeLegacy} {
			got, err := decode("id", b)
			if err != nil {
				if AsDamaged(err) == nil || got != nil {
					t.Fatalf("%s: %v, %+v: not a *DamagedError", name, err, got)
				}
				continue
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("%s: accepted an invalid record: %v", name, err)
			}
			again, err := encodeRecord(got)
			if err != nil {
				t.Fatal(err)
			}
			back, err := decodeRecord("id", again)
			if err != nil {
				t.Fatal(err)
			}
			back.Parts, back.Legacy = got.Parts, got.Legacy
			if !reflect.DeepEqual(back, got) {
				t.Fatalf("%s: re-encoding changed the record:\n%+v\n%+v", name, got, back)
			}
		}
		if u, p, ok := decodePart(b); ok {
			if u2, p2, ok2 := decodePart(encodePart(u, p)); !ok2 || u2 != u || p2 != p {
				t.Fatalf("part %q %+v does not round-trip", u, p)
			}
		}
	})
}
