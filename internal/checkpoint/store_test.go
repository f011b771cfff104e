package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func memStore(t testing.TB) *MemoryStore {
	t.Helper()
	s, ok := NewMemoryStore().(*MemoryStore)
	if !ok {
		t.Fatal("NewMemoryStore does not return *MemoryStore")
	}
	return s
}

// saveWithParts saves r and its parts as the engine does: the record once,
// then one entry per part.
func saveWithParts(t testing.TB, s Store, id string, r *Record) {
	t.Helper()
	ctx := context.Background()
	if err := s.Save(ctx, id, r); err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Parts {
		if err := s.SavePart(ctx, id, r.UploadID, p); err != nil {
			t.Fatal(err)
		}
	}
}

func normalised(r *Record) *Record {
	c := r.clone()
	c.normalise()
	return c
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	r := testRecord()
	r.TicketExpires = time.Date(2025, 3, 2, 10, 0, 0, 0, time.UTC)
	r.Concurrency = 6
	id := ID(r.File)
	if _, err := s.Load(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load before Save = %v, want ErrNotFound", err)
	}
	before := r.clone()
	saveWithParts(t, s, id, r)
	if !reflect.DeepEqual(r, before) {
		t.Fatal("Save modified the caller's record")
	}
	got, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := normalised(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("Load =\n%+v\nwant\n%+v", got, want)
	}

	// Verify-only and single-PUT records keep their CRC and need no parts.
	for _, mutate := range []func(*Record){
		func(r *Record) { r.Phase, r.CRC64, r.CRCKnown = PhaseStored, 0xdeadbeefcafef00d, true },
		func(r *Record) { r.PartSize, r.UploadID, r.Parts = 0, "", nil },
		func(r *Record) { r.PartSize, r.UploadID, r.Parts, r.Phase, r.CRCKnown = 0, "", nil, PhaseStored, true },
	} {
		c := normalised(r)
		mutate(c)
		if err := s.Save(ctx, id, c); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		c.Parts = nil
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("Load =\n%+v\nwant\n%+v", got, c)
		}
	}

	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after Delete = %v", err)
	}
	if st := s.Stats(); st.Keys != 0 {
		t.Fatalf("%d keys left after Delete: %v", st.Keys, s.KV().m)
	}
}

func TestSaveRefusesInvalid(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	r := testRecord()
	r.UploadID = ""
	if err := s.Save(ctx, "x", r); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Save invalid = %v, want ErrDamaged", err)
	}
	if err := s.Save(ctx, "", testRecord()); err == nil {
		t.Fatal("Save with empty id accepted")
	}
	if err := s.Save(ctx, "x", nil); err == nil {
		t.Fatal("Save of nil accepted")
	}
	if err := s.SavePart(ctx, "x", "U", Part{Number: 1}); err == nil {
		t.Fatal("SavePart without ETag accepted")
	}
	if st := s.Stats(); st.Puts != 0 {
		t.Fatalf("refused saves wrote %d times", st.Puts)
	}
}

// TestPartEntries: each part is one small write, parts of another upload
// under the same id and damaged entries are not taken, the record is not
// rewritten.
func TestPartEntries(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	r := testRecord()
	r.Parts = nil
	id := ID(r.File)
	if err := s.Save(ctx, id, r); err != nil {
		t.Fatal(err)
	}
	st0 := s.Stats()
	p1 := Part{Number: 1, ETag: `"A1"`, CRC64: 1, Size: 8 * mib}
	p2 := Part{Number: 2, ETag: `"B"`, CRC64: 2, Size: 8 * mib}
	for _, p := range []Part{p2, p1} {
		if err := s.SavePart(ctx, id, r.UploadID, p); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Puts-st0.Puts != 2 || st.Gets != st0.Gets {
		t.Fatalf("two parts cost %d puts and %d gets", st.Puts-st0.Puts, st.Gets-st0.Gets)
	}
	if per := (st.BytesWritten - st0.BytesWritten) / 2; per > 200 {
		t.Fatalf("a part entry is %d bytes", per)
	}
	// Another upload's entry, a damaged entry, an entry whose size is not
	// the plan's: none counts.
	if err := s.SavePart(ctx, id, "OTHER", Part{Number: 3, ETag: `"X"`, Size: 4*mib + 5}); err != nil {
		t.Fatal(err)
	}
	kv := s.KV()
	b, _, _ := kv.Get(ctx, partKey(id, 1))
	if err := kv.Put(ctx, partKey(id, 1), []byte(strings.Replace(string(b), `A1`, `A9`, 1))); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePart(ctx, id, r.UploadID, Part{Number: 3, ETag: `"C"`, Size: 1}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Parts, []Part{p2}) {
		t.Fatalf("parts %+v, want only part 2", got.Parts)
	}
	// A new record under the id (a fresh upload after a Delete) starts
	// without the old entries.
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, id, r); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, id); err != nil || len(got.Parts) != 0 {
		t.Fatalf("fresh record: %+v %v", got, err)
	}
}

// TestLegacyMigration reads the bytes today's first format wrote
// (testdata, produced by the build before the envelope), then saves:
// the parts become entries, the record the current format, and the first
// format's record and anchor go.
func TestLegacyMigration(t *testing.T) {
	ctx := context.Background()
	rec, err := os.ReadFile("testdata/v1-record.json")
	if err != nil {
		t.Fatal(err)
	}
	anchor, err := os.ReadFile("testdata/v1-anchor.json")
	if err != nil {
		t.Fatal(err)
	}
	want := normalised(testRecord())
	want.Legacy = true
	id := ID(want.File)

	for _, tc := range []struct {
		name          string
		rec, anchor   []byte
		wantParts     int
		wantSalvaged  bool
		wantNotFound  bool
		corruptRecord bool
	}{
		{name: "record and anchor", rec: rec, anchor: anchor, wantParts: 2},
		{name: "record alone", rec: rec, wantParts: 2},
		{name: "anchor alone", anchor: anchor, wantParts: 0},
		{name: "damaged record, anchor", rec: rec, anchor: anchor, corruptRecord: true, wantSalvaged: true},
		{name: "damaged record alone", rec: rec, corruptRecord: true, wantSalvaged: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := memStore(t)
			kv := s.KV()
			if tc.rec != nil {
				b := tc.rec
				if tc.corruptRecord {
					b = []byte(strings.Replace(string(b), `"partSize":8388608`, `"partSize":8388609`, 1))
				}
				kv.Put(ctx, LegacyKey(id), b)
			}
			if tc.anchor != nil {
				kv.Put(ctx, LegacyAnchorKey(id), tc.anchor)
			}
			got, err := s.Load(ctx, id)
			if tc.wantSalvaged {
				de := AsDamaged(err)
				if de == nil || de.Newer || de.Salvage == nil || de.Salvage.UploadID != want.UploadID || de.Salvage.Ticket != want.Ticket {
					t.Fatalf("Load = %+v, %v; want damaged with the upload salvaged", got, err)
				}
				entries, err := s.List(ctx)
				if err != nil || len(entries) != 1 || entries[0].Damaged == nil || entries[0].Damaged.Salvage == nil {
					t.Fatalf("List = %+v, %v", entries, err)
				}
				if err := s.Delete(ctx, id); err != nil || s.Stats().Keys != 0 {
					t.Fatalf("Delete = %v, %d keys left", err, s.Stats().Keys)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := want.clone()
			w.Parts = w.Parts[:tc.wantParts]
			if tc.wantParts == 0 {
				w.Parts = nil
			}
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("Load =\n%+v\nwant\n%+v", got, w)
			}
			entries, err := s.List(ctx)
			if err != nil || len(entries) != 1 || !reflect.DeepEqual(entries[0].Record, w) {
				t.Fatalf("List = %+v, %v", entries, err)
			}

			// Saving migrates.
			got.Updated = got.Updated.Add(time.Second)
			if err := s.Save(ctx, id, got); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{LegacyKey(id), LegacyAnchorKey(id)} {
				if _, ok, _ := kv.Get(ctx, k); ok {
					t.Fatalf("%s left after the migration", k)
				}
			}
			again, err := s.Load(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			w.Legacy, w.Updated = false, got.Updated
			if !reflect.DeepEqual(again, w) {
				t.Fatalf("after migration Load =\n%+v\nwant\n%+v", again, w)
			}
			if entries, _ := s.ByName(ctx, w.File.Name, w.File.Type); len(entries) != 1 || entries[0].ID != id {
				t.Fatalf("ByName after migration = %+v", entries)
			}
		})
	}
}

// TestEncodeLegacyIsTheFirstFormat: EncodeLegacy writes what the first
// format's build wrote, byte for byte.
func TestEncodeLegacyIsTheFirstFormat(t *testing.T) {
	for file, r := range map[string]*Record{
		"testdata/v1-record.json": testRecord(),
		"testdata/v1-anchor.json": func() *Record { r := testRecord(); r.Parts = nil; return r }(),
	} {
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeLegacy(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("EncodeLegacy:\n%s\nwant (%s):\n%s", got, file, want)
		}
	}
}

func rawRecord(t *testing.T, s *MemoryStore, id string) map[string]json.RawMessage {
	t.Helper()
	b, ok, err := s.KV().Get(context.Background(), RecordKey(id))
	if err != nil || !ok {
		t.Fatalf("no record: %v", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func putRaw(t *testing.T, s *MemoryStore, id string, m map[string]json.RawMessage) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	s.KV().Put(context.Background(), RecordKey(id), b)
}

// reseal rewrites the body with edit applied and a matching sum, as a
// build of body version bv would.
func reseal(t *testing.T, s *MemoryStore, id string, bv int, edit func(map[string]json.RawMessage)) {
	t.Helper()
	m := rawRecord(t, s, id)
	var body map[string]json.RawMessage
	json.Unmarshal(m["body"], &body)
	edit(body)
	raw, _ := json.Marshal(body)
	m["body"] = raw
	m["bv"] = json.RawMessage(fmt.Sprint(bv))
	sum, _ := json.Marshal(bodySum(bv, raw))
	m["sum"] = sum
	putRaw(t, s, id, m)
}

func TestAddedFieldIsNotDamage(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	r := testRecord()
	id := ID(r.File)
	saveWithParts(t, s, id, r)
	reseal(t, s, id, BodyVersion, func(b map[string]json.RawMessage) {
		b["storageHint"] = json.RawMessage(`{"tier":"ia"}`)
	})
	m := rawRecord(t, s, id)
	m["writtenBy"] = json.RawMessage(`"ossup 0.3"`)
	putRaw(t, s, id, m)
	got, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, normalised(r)) {
		t.Fatalf("Load = %+v", got)
	}
}

// TestNewerLeftAlone: records of a newer envelope or body are reported
// as such, are not overwritten by Save, and stay listed.
func TestNewerLeftAlone(t *testing.T) {
	ctx := context.Background()
	for name, edit := range map[string]func(t *testing.T, s *MemoryStore, id string){
		"envelope": func(t *testing.T, s *MemoryStore, id string) {
			m := rawRecord(t, s, id)
			m["v"] = json.RawMessage(`2`)
			m["sum"] = json.RawMessage(`"sha3:whatever"`)
			putRaw(t, s, id, m)
		},
		"body": func(t *testing.T, s *MemoryStore, id string) {
			reseal(t, s, id, BodyVersion+1, func(b map[string]json.RawMessage) { b["file"] = json.RawMessage(`"moved"`) })
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := memStore(t)
			r := testRecord()
			id := ID(r.File)
			saveWithParts(t, s, id, r)
			edit(t, s, id)
			before, _, _ := s.KV().Get(ctx, RecordKey(id))
			_, err := s.Load(ctx, id)
			de := AsDamaged(err)
			if de == nil || !de.Newer || de.Salvage != nil || !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "newer") {
				t.Fatalf("Load = %v, want a newer-format error", err)
			}
			if err := s.Save(ctx, id, r); AsDamaged(err) == nil || !AsDamaged(err).Newer {
				t.Fatalf("Save over a newer record = %v", err)
			}
			after, _, _ := s.KV().Get(ctx, RecordKey(id))
			if string(after) != string(before) {
				t.Fatal("Save replaced a newer record")
			}
			entries, err := s.List(ctx)
			if err != nil || len(entries) != 1 || entries[0].Damaged == nil || !entries[0].Damaged.Newer {
				t.Fatalf("List = %+v, %v", entries, err)
			}
		})
	}
}

// TestMigrationChain: a body of an older version goes through the
// migrations.
func TestMigrationChain(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	r := testRecord()
	id := ID(r.File)
	saveWithParts(t, s, id, r)
	// Body version 1 inside an envelope: the first format's fields.
	reseal(t, s, id, 1, func(b map[string]json.RawMessage) {
		delete(b, "phase")
		b["version"] = json.RawMessage(`1`)
		b["checksum"] = json.RawMessage(`"x"`)
	})
	got, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Phase != PhaseSending || len(got.Parts) != 2 {
		t.Fatalf("migrated %+v", got)
	}
	reseal(t, s, id, 0, func(map[string]json.RawMessage) {})
	if _, err := s.Load(ctx, id); AsDamaged(err) == nil || AsDamaged(err).Newer {
		t.Fatalf("body version 0 = %v", err)
	}
}

// TestDamagedSalvage: whatever the damage, the upload id and ticket are
// recovered while they can be read, and never passed off as a record.
func TestDamagedSalvage(t *testing.T) {
	ctx := context.Background()
	r := testRecord()
	id := ID(r.File)
	for name, tc := range map[string]struct {
		mutate  func([]byte) []byte
		salvage bool
	}{
		"byte in the name":   {func(b []byte) []byte { return []byte(strings.Replace(string(b), "holiday", "holidaz", 1)) }, true},
		"sum changed":        {func(b []byte) []byte { return []byte(strings.Replace(string(b), `"sum":"`, `"sum":"0`, 1)) }, true},
		"truncated":          {func(b []byte) []byte { return b[:len(b)-20] }, true},
		"json broken early":  {func(b []byte) []byte { b[0] = 'x'; return b }, true},
		"invalid but sealed": {nil, true},
		"ticket garbled":     {func(b []byte) []byte { return []byte(strings.Replace(string(b), `"ticket":"`, `"ticket:"`, 1)) }, false},
		"garbage":            {func([]byte) []byte { return []byte("\x00\x01not json") }, false},
		"empty":              {func([]byte) []byte { return nil }, false},
	} {
		t.Run(name, func(t *testing.T) {
			s := memStore(t)
			saveWithParts(t, s, id, r)
			if tc.mutate != nil {
				s.Corrupt(id, tc.mutate)
			} else {
				reseal(t, s, id, BodyVersion, func(b map[string]json.RawMessage) { b["partSize"] = json.RawMessage(`7`) })
			}
			got, err := s.Load(ctx, id)
			de := AsDamaged(err)
			if got != nil || de == nil || de.Newer || de.ID != id || de.Reason == "" {
				t.Fatalf("Load = %+v, %v; want damaged", got, err)
			}
			switch {
			case !tc.salvage && de.Salvage != nil:
				t.Fatalf("salvaged %+v from nothing", de.Salvage)
			case tc.salvage && (de.Salvage == nil || de.Salvage.UploadID != r.UploadID || de.Salvage.Ticket != r.Ticket):
				t.Fatalf("salvage = %+v", de.Salvage)
			}
			entries, err := s.List(ctx)
			if err != nil || len(entries) != 1 || entries[0].Damaged == nil || entries[0].Record != nil {
				t.Fatalf("List = %+v, %v", entries, err)
			}
			if err := s.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Load(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Load after Delete = %v", err)
			}
		})
	}
}

func TestListAndByName(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	if entries, err := s.List(ctx); err != nil || len(entries) != 0 {
		t.Fatalf("List of empty store = %v, %v", entries, err)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i, minutes := range []int{5, 30, 10, 20} {
		r := testRecord()
		r.File.Name = fmt.Sprintf("f%d", i%2)
		r.File.LastModified += int64(i)
		r.Updated = base.Add(time.Duration(minutes) * time.Minute)
		id := ID(r.File)
		ids = append(ids, id)
		saveWithParts(t, s, id, r)
	}
	s.Corrupt(ids[2], func(b []byte) []byte { return b[1:] })
	// A first-format record is listed too.
	legacy := testRecord()
	legacy.File.Name = "old"
	legacy.Updated = base.Add(time.Hour)
	lb, _ := EncodeLegacy(legacy)
	s.KV().Put(ctx, LegacyKey(ID(legacy.File)), lb)

	entries, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Damaged != nil {
			got = append(got, "damaged:"+e.ID[len(IDPrefix):][:4])
			continue
		}
		got = append(got, fmt.Sprintf("%s/%d", e.Record.File.Name, len(e.Record.Parts)))
	}
	want := []string{"old/2", "f1/2", "f1/2", "f0/2", "damaged:" + ids[2][len(IDPrefix):][:4]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}

	// ByName reads only that name's records.
	st0 := s.Stats()
	byName, err := s.ByName(ctx, "f0", "video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	if len(byName) != 2 || byName[0].Record == nil || byName[0].ID != ids[0] || byName[1].Damaged == nil || byName[1].ID != ids[2] {
		t.Fatalf("ByName = %+v", byName)
	}
	if st := s.Stats(); st.Gets-st0.Gets > 2 || st.Scans-st0.Scans > 3 {
		t.Fatalf("ByName of 2 records cost %d gets and %d scans", st.Gets-st0.Gets, st.Scans-st0.Scans)
	}
	if e, _ := s.ByName(ctx, "f0", "video/webm"); len(e) != 0 {
		t.Fatalf("ByName of another type = %+v", e)
	}
	// A damaged record's index entry cannot be named by Delete; ByName
	// drops it once the record is gone.
	s.Delete(ctx, ids[2])
	if e, _ := s.ByName(ctx, "f0", "video/mp4"); len(e) != 1 {
		t.Fatalf("ByName after Delete = %+v", e)
	}
	if _, ok, _ := s.KV().Get(ctx, namesPrefix("f0", "video/mp4")+ids[2]); ok {
		t.Fatal("dangling index entry kept")
	}
}

// TestLoadDoesNotScan: starting an upload (Load of an absent or present
// id) reads only that id's keys, whatever the store holds.
func TestLoadDoesNotScan(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	for i := range 50 {
		r := testRecord()
		r.File.LastModified += int64(i)
		saveWithParts(t, s, ID(r.File), r)
	}
	st0 := s.Stats()
	fresh := testRecord()
	fresh.File.Name = "new"
	if _, err := s.Load(ctx, ID(fresh.File)); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Scans != st0.Scans || st.Gets-st0.Gets > 3 || st.BytesRead != st0.BytesRead {
		t.Fatalf("Load of an absent id: %d gets, %d scans, %d bytes read", st.Gets-st0.Gets, st.Scans-st0.Scans, st.BytesRead-st0.BytesRead)
	}
	if _, err := s.Load(ctx, ID(testRecord().File)); err != nil {
		t.Fatal(err)
	}
	if st2 := s.Stats(); st2.Scans-st.Scans != 1 || st2.BytesRead-st.BytesRead > 2000 {
		t.Fatalf("Load of a record: %d scans, %d bytes read", st2.Scans-st.Scans, st2.BytesRead-st.BytesRead)
	}
}

func TestCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := memStore(t)
	r := testRecord()
	if err := s.Save(ctx, "id", r); !errors.Is(err, context.Canceled) {
		t.Fatalf("Save = %v", err)
	}
	if err := s.SavePart(ctx, "id", "U", r.Parts[0]); !errors.Is(err, context.Canceled) {
		t.Fatalf("SavePart = %v", err)
	}
	if _, err := s.Load(ctx, "id"); !errors.Is(err, context.Canceled) || errors.Is(err, ErrNotFound) {
		t.Fatalf("Load = %v", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("List = %v", err)
	}
	if _, err := s.ByName(ctx, "a", "b"); !errors.Is(err, context.Canceled) {
		t.Fatalf("ByName = %v", err)
	}
	if err := s.Delete(ctx, "id"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Delete = %v", err)
	}
}

// TestConcurrent runs savers of records and parts, loaders, listers and
// deleters on shared ids; run with -race. Every Load sees nothing or a
// whole valid record with valid parts.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	base := testRecord()
	var ids []string
	for i := range 3 {
		r := base.clone()
		r.File.LastModified += int64(i)
		ids = append(ids, ID(r.File))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Go(func() {
			r := base.clone()
			r.Parts = nil
			for i := range 300 {
				id := ids[(w+i)%len(ids)]
				var err error
				switch i % 5 {
				case 0:
					r.Updated = r.Updated.Add(time.Millisecond)
					err = s.Save(ctx, id, r)
				case 1:
					n := 1 + (w+i)%3
					p := Part{Number: n, ETag: fmt.Sprintf("w%d-%d", w, i), Size: 8 * mib}
					if n == 3 {
						p.Size = 4*mib + 5
					}
					err = s.SavePart(ctx, id, r.UploadID, p)
				case 2:
					var got *Record
					got, err = s.Load(ctx, id)
					if errors.Is(err, ErrNotFound) {
						err = nil
					} else if err == nil {
						err = got.Validate()
					}
				case 3:
					if w%2 == 0 {
						err = s.Delete(ctx, id)
					} else {
						_, err = s.List(ctx)
					}
				case 4:
					_, err = s.ByName(ctx, r.File.Name, r.File.Type)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestKVStoreErrors checks that storage failures surface, wrapped, and are
// not mistaken for absence or damage.
func TestKVStoreErrors(t *testing.T) {
	boom := errors.New("quota exceeded")
	s := NewKVStore(failingKV{boom})
	ctx := context.Background()
	if _, err := s.Load(ctx, "id"); !errors.Is(err, boom) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrDamaged) {
		t.Fatalf("Load = %v", err)
	}
	if err := s.Save(ctx, "id", testRecord()); !errors.Is(err, boom) {
		t.Fatalf("Save = %v", err)
	}
	if err := s.SavePart(ctx, "id", "U", testRecord().Parts[0]); !errors.Is(err, boom) {
		t.Fatalf("SavePart = %v", err)
	}
	if err := s.Delete(ctx, "id"); !errors.Is(err, boom) {
		t.Fatalf("Delete = %v", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, boom) {
		t.Fatalf("List = %v", err)
	}
	if _, err := s.ByName(ctx, "a", "b"); !errors.Is(err, boom) {
		t.Fatalf("ByName = %v", err)
	}
}

type failingKV struct{ err error }

func (f failingKV) Get(context.Context, string) ([]byte, bool, error) { return nil, false, f.err }
func (f failingKV) Put(context.Context, string, []byte) error         { return f.err }
func (f failingKV) Delete(context.Context, string) error              { return f.err }
func (f failingKV) Scan(context.Context, string) ([]Item, error)      { return nil, f.err }
func (f failingKV) DeletePrefix(context.Context, string) error        { return f.err }

func TestPartEntryEncoding(t *testing.T) {
	for _, p := range []Part{
		{Number: 1, ETag: `"5B3C1D"`, CRC64: 0, Size: 0},
		{Number: 10000, ETag: `"a b  c" ü`, CRC64: 1<<64 - 1, Size: 5 << 30},
	} {
		u, got, ok := decodePart(encodePart("0004B98", p))
		if !ok || u != "0004B98" || got != p {
			t.Fatalf("round trip of %+v: %q %+v %v", p, u, got, ok)
		}
	}
	b := encodePart("U", Part{Number: 2, ETag: `"E"`, Size: 7})
	for _, bad := range [][]byte{
		nil, []byte("1"), []byte("1 0"), append([]byte("2"), b[1:]...), b[:len(b)-1],
		[]byte(strings.Replace(string(b), " 2 ", " 3 ", 1)),
	} {
		if _, _, ok := decodePart(bad); ok {
			t.Fatalf("decodePart(%q) accepted", bad)
		}
	}
	s := memStore(t)
	ctx := context.Background()
	if err := s.SavePart(ctx, "id", "U 1", Part{Number: 1, ETag: `"E"`}); err == nil {
		t.Fatal("upload id with a space accepted")
	}
	if err := s.SavePart(ctx, "id", "U", Part{Number: 1, ETag: "\"E\"\n"}); err == nil {
		t.Fatal("ETag with a newline accepted")
	}
}
