package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

func memStore(t *testing.T) *MemoryStore {
	t.Helper()
	s, ok := NewMemoryStore().(*MemoryStore)
	if !ok {
		t.Fatal("NewMemoryStore does not return *MemoryStore")
	}
	return s
}

func TestMemoryStoreSaveLoadDelete(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	r := testRecord()
	id := ID(r.File)

	if _, err := s.Load(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load before Save = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatalf("Delete of absent id = %v", err)
	}

	// Save seals a copy: the caller's unsealed changes are not required to
	// be sealed, and the caller's record is left alone.
	r.AddPart(Part{Number: 2, ETag: `"B"`, CRC64: 9, Size: 8 * mib})
	r.Parts = append(r.Parts, Part{Number: 1, ETag: `"A-again"`, Size: 8 * mib})
	before := *r
	beforeParts := append([]Part(nil), r.Parts...)
	if err := s.Save(ctx, id, r); err != nil {
		t.Fatal(err)
	}
	if r.Checksum != before.Checksum || !reflect.DeepEqual(r.Parts, beforeParts) {
		t.Fatal("Save modified the caller's record")
	}
	got, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := r.clone()
	want.Seal()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Load = %+v, want %+v", got, want)
	}
	if got.Parts[0].ETag != `"A-again"` || len(got.Parts) != 3 {
		t.Fatalf("parts %+v", got.Parts)
	}

	// The loaded record is the caller's to change.
	got.Parts[0].ETag = "mutated"
	again, err := s.Load(ctx, id)
	if err != nil || again.Parts[0].ETag != `"A-again"` {
		t.Fatalf("store shares memory with a loaded record: %v %+v", err, again)
	}

	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after Delete = %v, want ErrNotFound", err)
	}
}

func TestMemoryStoreSaveRefusesInvalid(t *testing.T) {
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
	if _, err := s.Load(ctx, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("refused Save wrote something: %v", err)
	}
}

func TestMemoryStoreCorrupt(t *testing.T) {
	ctx := context.Background()
	corruptions := map[string]func([]byte) []byte{
		"flip a byte": func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
		"truncate":    func(b []byte) []byte { return b[:len(b)-1] },
		"empty":       func(b []byte) []byte { return nil },
		"garbage":     func(b []byte) []byte { return []byte("\x00\x01not json") },
	}
	for name, mutate := range corruptions {
		t.Run(name, func(t *testing.T) {
			s := memStore(t)
			r := testRecord()
			id := ID(r.File)
			if err := s.Save(ctx, id, r); err != nil {
				t.Fatal(err)
			}
			s.Corrupt(id, mutate)
			if got, err := s.Load(ctx, id); !errors.Is(err, ErrDamaged) {
				t.Fatalf("Load = %+v, %v; want ErrDamaged", got, err)
			}
			if err := s.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Load(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Load after deleting damaged = %v", err)
			}
		})
	}
}

func TestMemoryStoreCorruptAbsentPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Corrupt of an absent id did not panic")
		}
	}()
	memStore(t).Corrupt("nope", func(b []byte) []byte { return b })
}

func TestMemoryStoreList(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	if recs, err := s.List(ctx); err != nil || len(recs) != 0 {
		t.Fatalf("List of empty store = %v, %v", recs, err)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i, minutes := range []int{5, 30, 10, 20} {
		r := testRecord()
		r.File.Name = fmt.Sprintf("f%d", i)
		r.Updated = base.Add(time.Duration(minutes) * time.Minute)
		id := ID(r.File)
		ids = append(ids, id)
		if err := s.Save(ctx, id, r); err != nil {
			t.Fatal(err)
		}
	}
	s.Corrupt(ids[2], func(b []byte) []byte { return b[1:] })

	recs, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range recs {
		names = append(names, r.File.Name)
	}
	if want := []string{"f1", "f3", "f0"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("List = %v, want newest first without the damaged f2: %v", names, want)
	}
	if _, err := s.Load(ctx, ids[2]); !errors.Is(err, ErrDamaged) {
		t.Fatalf("damaged entry skipped by List must still Load as damaged: %v", err)
	}
}

func TestMemoryStoreCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := memStore(t)
	r := testRecord()
	if err := s.Save(ctx, "id", r); !errors.Is(err, context.Canceled) {
		t.Fatalf("Save = %v, want context.Canceled", err)
	}
	if _, err := s.Load(ctx, "id"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Load = %v, want context.Canceled", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("List = %v, want context.Canceled", err)
	}
	if err := s.Delete(ctx, "id"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Delete = %v, want context.Canceled", err)
	}
}

// TestMemoryStoreConcurrent runs savers, loaders, listers and deleters on
// shared ids; run with -race. Every Load sees either nothing or a whole,
// valid record of one of the savers.
func TestMemoryStoreConcurrent(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	ids := []string{"a", "b", "c"}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Go(func() {
			r := testRecord()
			r.Parts = nil
			for i := range 200 {
				id := ids[(w+i)%len(ids)]
				switch i % 4 {
				case 0, 1:
					// Each worker completes parts in its own order.
					n := 1 + (w+i)%3
					_, size := partSizeOf(r, n)
					r.AddPart(Part{Number: n, ETag: fmt.Sprintf("w%d-%d", w, i), Size: size})
					r.Updated = r.Updated.Add(time.Millisecond)
					if err := s.Save(ctx, id, r); err != nil {
						errs <- err
						return
					}
				case 2:
					got, err := s.Load(ctx, id)
					if err != nil && !errors.Is(err, ErrNotFound) {
						errs <- err
						return
					}
					if err == nil {
						if verr := got.Validate(); verr != nil {
							errs <- verr
							return
						}
					}
				case 3:
					if w%2 == 0 {
						if err := s.Delete(ctx, id); err != nil {
							errs <- err
							return
						}
					} else if _, err := s.List(ctx); err != nil {
						errs <- err
						return
					}
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

// partSizeOf is the range of part n in r's plan.
func partSizeOf(r *Record, n int) (off, size int64) {
	off = int64(n-1) * r.PartSize
	return off, min(r.PartSize, r.File.Size-off)
}

// TestKVStoreErrors checks that storage failures surface, wrapped, and are
// not mistaken for absence or damage.
func TestKVStoreErrors(t *testing.T) {
	boom := errors.New("quota exceeded")
	s := NewKVStore(failingKV{boom})
	ctx := context.Background()
	if _, err := s.Load(ctx, "id"); !errors.Is(err, boom) || errors.Is(err, ErrNotFound) {
		t.Fatalf("Load = %v", err)
	}
	if err := s.Save(ctx, "id", testRecord()); !errors.Is(err, boom) {
		t.Fatalf("Save = %v", err)
	}
	if err := s.Delete(ctx, "id"); !errors.Is(err, boom) {
		t.Fatalf("Delete = %v", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, boom) {
		t.Fatalf("List = %v", err)
	}
}

type failingKV struct{ err error }

func (f failingKV) Get(context.Context, string) ([]byte, bool, error) { return nil, false, f.err }
func (f failingKV) Put(context.Context, string, []byte) error         { return f.err }
func (f failingKV) Delete(context.Context, string) error              { return f.err }
func (f failingKV) Keys(context.Context) ([]string, error)            { return nil, f.err }
