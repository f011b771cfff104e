package checkpoint

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	kib = int64(1) << 10
	mib = int64(1) << 20
	gib = int64(1) << 30
)

// testRecord is a record of a 20 MiB + 5 file in 8 MiB parts (3 parts:
// 8 MiB, 8 MiB, 4 MiB + 5) with parts 1 and 3 done; the same upload as
// testdata/v1-record.json.
func testRecord() *Record {
	created := time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	return &Record{
		File: FileIdentity{
			Name: "holiday <video> & \"notes\".mp4", Size: 20*mib + 5, LastModified: 1740800000123,
			Type: "video/mp4", Fingerprint: 0xfedcba9876543210,
		},
		Bucket: "ossup-test", Key: "users/u1/2025/holiday.mp4", Ticket: "tkt.abc.def", UploadID: "0004B9894A22E5B1888A1E29F823",
		Endpoint: "https://oss-cn-hangzhou.aliyuncs.com", Region: "cn-hangzhou", PathStyle: true,
		PartSize: 8 * mib, Phase: PhaseSending,
		Parts: []Part{
			{Number: 3, ETag: `"C3"`, CRC64: 18446744073709551615, Size: 4*mib + 5},
			{Number: 1, ETag: `"A1"`, CRC64: 1, Size: 8 * mib},
		},
		Created: created,
		Updated: created.Add(time.Minute),
	}
}

func TestValidate(t *testing.T) {
	ok := testRecord()
	ok.normalise()
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid record: %v", err)
	}
	single := testRecord()
	single.PartSize, single.UploadID, single.Parts = 0, "", nil
	if err := single.Validate(); err != nil {
		t.Fatalf("single PUT record: %v", err)
	}
	stored := testRecord()
	stored.normalise()
	stored.Phase, stored.CRC64, stored.CRCKnown = PhaseStored, 0, true
	if err := stored.Validate(); err != nil {
		t.Fatalf("stored record with CRC 0: %v", err)
	}
	cases := map[string]func(r *Record){
		"no bucket":           func(r *Record) { r.Bucket = "" },
		"no key":              func(r *Record) { r.Key = "" },
		"no ticket":           func(r *Record) { r.Ticket = "" },
		"no upload id":        func(r *Record) { r.UploadID = "" },
		"upload id, no parts": func(r *Record) { r.PartSize = 0; r.Parts = nil },
		"single with parts":   func(r *Record) { r.PartSize, r.UploadID = 0, "" },
		"unknown phase":       func(r *Record) { r.Phase = "done" },
		"no phase":            func(r *Record) { r.Phase = "" },
		"stored without crc":  func(r *Record) { r.Phase = PhaseStored },
		"bad utf8":            func(r *Record) { r.Key = "\xff" },
		"negative size":       func(r *Record) { r.File.Size = -1 },
		"tiny part size":      func(r *Record) { r.PartSize = 1000 },
		"too many parts":      func(r *Record) { r.File.Size = 10001 * r.PartSize },
		"part beyond plan":    func(r *Record) { r.Parts[1].Number = 4 },
		"part size wrong":     func(r *Record) { r.Parts[0].Size-- },
		"part without etag":   func(r *Record) { r.Parts[0].ETag = "" },
		"part zero":           func(r *Record) { r.Parts[0].Number = 0 },
		"negative conc":       func(r *Record) { r.Concurrency = -1 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			r := testRecord()
			r.normalise()
			mutate(r)
			if err := r.Validate(); !errors.Is(err, ErrDamaged) {
				t.Fatalf("Validate = %v, want ErrDamaged", err)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	r := testRecord()
	if err := r.Matches(r.File); err != nil {
		t.Fatal(err)
	}
	f := r.File
	f.Fingerprint++
	f.Size++
	err := r.Matches(f)
	if !errors.Is(err, ErrFileChanged) || !strings.Contains(err.Error(), "fingerprint") || !strings.Contains(err.Error(), "size") {
		t.Fatalf("Matches = %v", err)
	}
	// The same file in another folder is another upload.
	g := r.File
	g.Path = "folder/" + g.Name
	if err := r.Matches(g); !errors.Is(err, ErrFileChanged) || !strings.Contains(err.Error(), "path ") {
		t.Fatalf("Matches(other path) = %v", err)
	}
}

func TestAddPartAndDone(t *testing.T) {
	r := testRecord()
	r.normalise()
	r.AddPart(Part{Number: 2, ETag: `"B"`, Size: 8 * mib})
	r.AddPart(Part{Number: 1, ETag: `"A2"`, Size: 8 * mib})
	if len(r.Parts) != 3 || r.Parts[0].ETag != `"A2"` || r.Parts[1].Number != 2 {
		t.Fatalf("parts %+v", r.Parts)
	}
	if r.Done() != r.File.Size {
		t.Fatalf("Done = %d", r.Done())
	}
	r.Parts = nil
	r.Phase, r.CRCKnown = PhaseStored, true
	if r.Done() != r.File.Size {
		t.Fatal("a stored record is not wholly done")
	}
}
