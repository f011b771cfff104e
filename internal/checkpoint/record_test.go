package checkpoint

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/partplan"
)

const (
	kib = int64(1) << 10
	mib = int64(1) << 20
	gib = int64(1) << 30
)

// testRecord is a sealed record of a 20 MiB + 5 file in 8 MiB parts (3
// parts: 8 MiB, 8 MiB, 4 MiB + 5) with parts 1 and 3 done.
func testRecord() *Record {
	created := time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	r := &Record{
		Version: Version,
		File: FileIdentity{
			Name: "holiday <video> & \"notes\".mp4", Size: 20*mib + 5, LastModified: 1740800000123,
			Type: "video/mp4", Fingerprint: 0xfedcba9876543210,
		},
		Bucket: "ossup-test", Key: "users/u1/2025/holiday.mp4", Ticket: "tkt.abc.def", UploadID: "0004B9894A22E5B1888A1E29F823",
		Endpoint: "https://oss-cn-hangzhou.aliyuncs.com", Region: "cn-hangzhou", PathStyle: true,
		PartSize: 8 * mib,
		Parts: []Part{
			{Number: 3, ETag: `"C3"`, CRC64: 18446744073709551615, Size: 4*mib + 5},
			{Number: 1, ETag: `"A1"`, CRC64: 1, Size: 8 * mib},
		},
		Created: created,
		Updated: created.Add(time.Minute),
	}
	r.Seal()
	return r
}

func TestSealNormalises(t *testing.T) {
	r := testRecord()
	if got := partNumbers(r); !reflect.DeepEqual(got, []int{1, 3}) {
		t.Fatalf("parts %v, want sorted [1 3]", got)
	}
	if r.Created.Location() != time.UTC || r.Updated.Location() != time.UTC {
		t.Fatalf("times not UTC: %v %v", r.Created, r.Updated)
	}
	if len(r.Checksum) != 64 || strings.ToLower(r.Checksum) != r.Checksum {
		t.Fatalf("checksum %q is not lowercase hex SHA-256", r.Checksum)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("sealed record invalid: %v", err)
	}

	// Duplicates: the last in slice order wins.
	r.Parts = append(r.Parts, Part{Number: 1, ETag: `"A2"`, CRC64: 2, Size: 8 * mib}, Part{Number: 1, ETag: `"A3"`, CRC64: 3, Size: 8 * mib})
	r.Seal()
	if got := partNumbers(r); !reflect.DeepEqual(got, []int{1, 3}) {
		t.Fatalf("parts %v after dedup, want [1 3]", got)
	}
	if r.Parts[0].ETag != `"A3"` {
		t.Fatalf("duplicate kept %q, want the last one", r.Parts[0].ETag)
	}

	// Zero version becomes Version; empty parts become nil.
	r.Version = 0
	r.Parts = []Part{}
	r.Seal()
	if r.Version != Version || r.Parts != nil {
		t.Fatalf("version %d parts %#v", r.Version, r.Parts)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSealUnencodableTime(t *testing.T) {
	r := testRecord()
	r.Updated = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	r.Seal()
	if r.Checksum != "" {
		t.Fatalf("checksum %q for an unencodable record", r.Checksum)
	}
	if err := r.Validate(); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Validate = %v, want ErrDamaged", err)
	}
	if _, err := Marshal(r); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Marshal = %v, want ErrDamaged", err)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, r := range []*Record{testRecord(), emptyPartsRecord()} {
		b, err := Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
		}
		again, err := Marshal(got)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-marshal differs (%v):\n%s\n%s", err, again, b)
		}
	}
}

func emptyPartsRecord() *Record {
	r := testRecord()
	r.Parts = nil
	r.File.Size = 0
	r.Created, r.Updated = time.Time{}, time.Time{}
	r.Seal()
	return r
}

func TestMarshalRefusesInvalid(t *testing.T) {
	r := testRecord()
	r.Bucket = ""
	r.Seal()
	if _, err := Marshal(r); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Marshal = %v, want ErrDamaged", err)
	}
	r = testRecord()
	r.Key = "changed after sealing"
	if _, err := Marshal(r); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("Marshal = %v, want a checksum ErrDamaged", err)
	}
}

// TestEverySingleByteChangeDetected flips every byte of a marshalled record
// to several other values; none may unmarshal.
func TestEverySingleByteChangeDetected(t *testing.T) {
	b, err := Marshal(testRecord())
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		orig := b[i]
		alts := []byte{orig ^ 0x01, orig ^ 0x20, orig ^ 0x80, ' ', '0', '"', 'a', 'A', '}', '\\'}
		for _, c := range alts {
			if c == orig {
				continue
			}
			m := bytes.Clone(b)
			m[i] = c
			if r, err := Unmarshal(m); !errors.Is(err, ErrDamaged) {
				t.Fatalf("byte %d %q→%q: Unmarshal = %+v, %v; want ErrDamaged\n%s", i, orig, c, r, err, m)
			}
		}
	}
	// Insertions and deletions too.
	for i := 0; i <= len(b); i++ {
		ins := append(append(bytes.Clone(b[:i]), ' '), b[i:]...)
		if _, err := Unmarshal(ins); !errors.Is(err, ErrDamaged) {
			t.Fatalf("space inserted at %d accepted", i)
		}
		if i < len(b) {
			del := append(bytes.Clone(b[:i]), b[i+1:]...)
			if _, err := Unmarshal(del); !errors.Is(err, ErrDamaged) {
				t.Fatalf("byte %d deleted accepted", i)
			}
		}
	}
}

func TestUnmarshalRejectsEquivalentEncodings(t *testing.T) {
	b, err := Marshal(testRecord())
	if err != nil {
		t.Fatal(err)
	}
	variants := map[string][]byte{
		"key case":       bytes.Replace(b, []byte(`"bucket"`), []byte(`"BUCKET"`), 1),
		"unknown field":  bytes.Replace(b, []byte(`{"version"`), []byte(`{"extra":1,"version"`), 1),
		"escaped char":   bytes.Replace(b, []byte(`ossup-test`), []byte(`\u006fssup-test`), 1),
		"trailing space": append(bytes.Clone(b), '\n'),
		"empty parts":    bytes.Replace(emptyPartsJSON(t), []byte(`"partSize":8388608,`), []byte(`"partSize":8388608,"parts":[],`), 1),
		"null":           []byte("null"),
		"not json":       []byte("{"),
		"empty":          nil,
	}
	for name, v := range variants {
		if bytes.Equal(v, b) {
			t.Fatalf("%s: variant did not change anything", name)
		}
		if _, err := Unmarshal(v); !errors.Is(err, ErrDamaged) {
			t.Errorf("%s: Unmarshal = %v, want ErrDamaged", name, err)
		}
	}
}

func emptyPartsJSON(t *testing.T) []byte {
	b, err := Marshal(emptyPartsRecord())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"partSize":8388608,"created"`)) {
		t.Fatalf("unexpected encoding %s", b)
	}
	return b
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *Record)
		reason string // substring of the error; "" means valid
	}{
		{"valid", func(r *Record) {}, ""},
		{"no parts", func(r *Record) { r.Parts = nil }, ""},
		{"all parts", func(r *Record) { r.AddPart(Part{Number: 2, ETag: "e", Size: 8 * mib}) }, ""},
		{"empty endpoint and region", func(r *Record) { r.Endpoint, r.Region = "", "" }, ""},
		{"empty file", func(r *Record) { r.File.Size, r.Parts = 0, nil }, ""},
		{"min part size", func(r *Record) { r.PartSize, r.Parts = partplan.MinPartSize, nil }, ""},
		{"max part size", func(r *Record) { r.PartSize, r.Parts = partplan.MaxPartSize, []Part{{1, "e", 0, 20*mib + 5}} }, ""},
		{"exactly max parts", func(r *Record) {
			r.File.Size, r.PartSize = 10000*partplan.MinPartSize, partplan.MinPartSize
			r.Parts = []Part{{10000, "e", 0, partplan.MinPartSize}}
		}, ""},
		{"max object size", func(r *Record) {
			r.File.Size, r.PartSize, r.Parts = partplan.MaxObjectSize, partplan.MaxPartSize, nil
		}, ""},

		{"version 0", func(r *Record) { r.Version = 0 }, "unsupported version 0"},
		{"version 2", func(r *Record) { r.Version = 2 }, "unsupported version 2"},
		{"unsealed", func(r *Record) { r.Checksum = "" }, "not sealed"},
		{"checksum uppercase", func(r *Record) { r.Checksum = strings.ToUpper(r.Checksum) }, "checksum mismatch"},
		{"empty bucket", func(r *Record) { r.Bucket = "" }, "empty bucket"},
		{"empty key", func(r *Record) { r.Key = "" }, "empty key"},
		{"empty ticket", func(r *Record) { r.Ticket = "" }, "empty ticket"},
		{"empty upload id", func(r *Record) { r.UploadID = "" }, "empty uploadId"},
		{"non-UTF-8 key", func(r *Record) { r.Key = "a\xffb" }, "key is not UTF-8"},
		{"non-UTF-8 file name", func(r *Record) { r.File.Name = "\xc3" }, "file name is not UTF-8"},
		{"non-UTF-8 etag", func(r *Record) { r.Parts[0].ETag = "\xff" }, "ETag is not UTF-8"},
		{"negative file size", func(r *Record) { r.File.Size, r.Parts = -1, nil }, "file size -1"},
		{"file too large", func(r *Record) { r.File.Size, r.Parts = partplan.MaxObjectSize+1, nil }, "file size"},
		{"part size 0", func(r *Record) { r.PartSize = 0 }, "part size 0 outside"},
		{"part size below min", func(r *Record) { r.PartSize, r.Parts = partplan.MinPartSize-1, nil }, "outside"},
		{"part size above max", func(r *Record) { r.PartSize, r.Parts = partplan.MaxPartSize+1, nil }, "outside"},
		{"too many parts", func(r *Record) {
			r.File.Size, r.PartSize, r.Parts = 10000*partplan.MinPartSize+1, partplan.MinPartSize, nil
		}, "needs 10001 parts"},
		{"part 0", func(r *Record) { r.Parts[0].Number = 0 }, "part number 0 outside"},
		{"part 10001", func(r *Record) { r.Parts[1].Number = 10001 }, "part number 10001 outside"},
		{"part beyond plan", func(r *Record) { r.Parts = append(r.Parts, Part{4, "e", 0, 1}) }, "beyond the last part 3"},
		{"no parts on empty file", func(r *Record) { r.File.Size = 0; r.Parts = r.Parts[:1] }, "beyond the last part 0"},
		{"empty etag", func(r *Record) { r.Parts[1].ETag = "" }, "part 3 has no ETag"},
		{"short middle part", func(r *Record) { r.Parts[0].Size-- }, "part 1 size 8388607, plan says 8388608"},
		{"wrong last part", func(r *Record) { r.Parts[1].Size = 8 * mib }, "part 3 size 8388608, plan says 4194309"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testRecord()
			tc.mutate(r)
			if !strings.Contains(tc.name, "checksum") && tc.name != "unsealed" {
				// A right checksum, so the rule itself is what fails.
				resealKeepingOrder(r)
			}
			err := r.Validate()
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				if _, err := Marshal(r); err != nil {
					t.Fatalf("Marshal = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Validate = %v, want ErrDamaged mentioning %q", err, tc.reason)
			}
		})
	}
}

// TestValidateOrder covers what Seal would otherwise repair: unsorted and
// duplicate parts in a record whose checksum is right for them.
func TestValidateOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		parts  []Part
		reason string
	}{
		{"unsorted", []Part{{3, "c", 0, 4*mib + 5}, {1, "a", 0, 8 * mib}}, "part 1 after part 3"},
		{"duplicate", []Part{{1, "a", 0, 8 * mib}, {1, "b", 0, 8 * mib}}, "duplicate part 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testRecord()
			r.Parts = tc.parts
			r.Checksum = mustChecksum(r)
			if err := r.Validate(); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Validate = %v, want ErrDamaged mentioning %q", err, tc.reason)
			}
		})
	}
}

// resealKeepingOrder recomputes the checksum without Seal's normalisation,
// so a test can present a structurally wrong record with a right checksum.
func resealKeepingOrder(r *Record) { r.Checksum = mustChecksum(r) }

func mustChecksum(r *Record) string {
	sum, err := r.checksum()
	if err != nil {
		panic(err)
	}
	return sum
}

func TestMatches(t *testing.T) {
	r := testRecord()
	same := r.File
	if err := r.Matches(same); err != nil {
		t.Fatalf("Matches(same) = %v", err)
	}
	tests := []struct {
		field  string
		mutate func(f *FileIdentity)
	}{
		{"name", func(f *FileIdentity) { f.Name += "x" }},
		{"size", func(f *FileIdentity) { f.Size++ }},
		{"lastModified", func(f *FileIdentity) { f.LastModified++ }},
		{"type", func(f *FileIdentity) { f.Type = "" }},
		{"fingerprint", func(f *FileIdentity) { f.Fingerprint ^= 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			f := r.File
			tc.mutate(&f)
			err := r.Matches(f)
			if !errors.Is(err, ErrFileChanged) || !strings.Contains(err.Error(), tc.field+" ") {
				t.Fatalf("Matches = %v, want ErrFileChanged naming %s", err, tc.field)
			}
			for _, other := range tests {
				if other.field != tc.field && strings.Contains(err.Error(), other.field+" ") {
					t.Fatalf("Matches = %v also names %s", err, other.field)
				}
			}
		})
	}
	f := r.File
	f.Size, f.Type = 1, "text/plain"
	err := r.Matches(f)
	if !errors.Is(err, ErrFileChanged) || !strings.Contains(err.Error(), "size 1, was") || !strings.Contains(err.Error(), `type "text/plain", was "video/mp4"`) {
		t.Fatalf("Matches = %v, want both fields named", err)
	}
}

func TestAddPart(t *testing.T) {
	var r Record
	for _, n := range []int{5, 2, 9, 1, 7, 2} {
		r.AddPart(Part{Number: n, ETag: "e", Size: int64(n)})
	}
	if got := partNumbers(&r); !reflect.DeepEqual(got, []int{1, 2, 5, 7, 9}) {
		t.Fatalf("parts %v", got)
	}
	r.AddPart(Part{Number: 5, ETag: "new", CRC64: 55, Size: 50})
	if got := partNumbers(&r); !reflect.DeepEqual(got, []int{1, 2, 5, 7, 9}) {
		t.Fatalf("parts after replace %v", got)
	}
	if p := r.Parts[2]; p != (Part{Number: 5, ETag: "new", CRC64: 55, Size: 50}) {
		t.Fatalf("replaced part %+v", p)
	}
	if got := r.Done(); got != 1+2+50+7+9 {
		t.Fatalf("Done = %d", got)
	}
}

func TestAddPartThenSealValidates(t *testing.T) {
	r := testRecord()
	r.AddPart(Part{Number: 2, ETag: `"B"`, CRC64: 7, Size: 8 * mib})
	if err := r.Validate(); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Validate before Seal = %v, want a checksum failure", err)
	}
	r.Seal()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if r.Done() != r.File.Size {
		t.Fatalf("Done = %d, want %d", r.Done(), r.File.Size)
	}
}

func partNumbers(r *Record) []int {
	var ns []int
	for _, p := range r.Parts {
		ns = append(ns, p.Number)
	}
	return ns
}

func FuzzUnmarshal(f *testing.F) {
	for _, r := range []*Record{testRecord(), emptyPartsRecord()} {
		b, err := Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(bytes.Replace(b, []byte(`"n":1`), []byte(`"n":2`), 1))
	}
	f.Add([]byte("null"))
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Unmarshal(b)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("Unmarshal error %v is not ErrDamaged", err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("unmarshalled record does not validate: %v", err)
		}
		again, err := Marshal(r)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-marshal (%v) differs:\n%s\n%s", err, again, b)
		}
	})
}
