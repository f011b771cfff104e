package checkpoint

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ossup/ossup/internal/partplan"
)

// Store keeps records under ids (normally ID(record.File)), and each
// record's completed parts as separate entries.
type Store interface {
	// Load returns the record under id with its parts: ErrNotFound if
	// there is none, a *DamagedError (errors.Is ErrDamaged) if it cannot
	// be used. A record of the first format is returned with Legacy set.
	// It reads one record and the record's own part entries, never the
	// whole store.
	Load(ctx context.Context, id string) (*Record, error)
	// Save stores r (not its Parts, unless r.Legacy) under id, replacing
	// the record there; r itself is not modified. A record that fails
	// Validate is refused (ErrDamaged) and nothing is written, as is
	// replacing a record of a newer format (a *DamagedError with Newer).
	// Saving a Legacy record migrates it: its Parts become part entries,
	// the record is written in the current format and the first format's
	// record and anchor are deleted; the caller then clears r.Legacy.
	Save(ctx context.Context, id string, r *Record) error
	// SavePart stores one completed part of upload uploadID of the record
	// under id: one small write, whatever the number of parts. It does
	// not touch the record.
	SavePart(ctx context.Context, id, uploadID string, p Part) error
	// Delete removes the record under id, its part entries and any
	// first-format record and anchor; an absent id is not an error.
	Delete(ctx context.Context, id string) error
	// List returns every entry in the store, for a "resumable uploads"
	// list: the records that load, most recently updated first, then the
	// damaged ones (Damaged set, with whatever could be salvaged), by id.
	// The error is for the storage itself failing. It reads everything:
	// starting an upload uses Load and ByName instead.
	List(ctx context.Context) ([]Entry, error)
	// ByName returns the entries of the files named name with type typ,
	// through an index: it reads only those records.
	ByName(ctx context.Context, name, typ string) ([]Entry, error)
}

// Entry is one record of a List or ByName.
type Entry struct {
	ID string
	// Record is the record, nil when Damaged is set.
	Record *Record
	// Damaged says why the record cannot be used; its Salvage may still
	// name the upload, to abort it.
	Damaged *DamagedError
}

// Item is one key and its value.
type Item struct {
	Key   string
	Value []byte
}

// KV is the byte storage a Store needs: an IndexedDB object store in the
// browser, a map in tests. Implementations must be safe for concurrent use.
// Keys are ASCII.
type KV interface {
	// Get returns the value under key and whether there is one.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes key; an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// Scan returns the items whose keys start with prefix, sorted by key.
	Scan(ctx context.Context, prefix string) ([]Item, error)
	// DeletePrefix removes every key that starts with prefix.
	DeletePrefix(ctx context.Context, prefix string) error
}

// Key layout, in one KV (so the browser keeps a single IndexedDB object
// store and no database upgrade is needed):
//
//	rec/<id>                record (envelope)
//	part/<id>/<nnnnn>       part entry, number zero-padded so keys sort
//	name/<hash>/<id>        index: the records of a file name and type
//	<id>, <id>:anchor       first-format record and anchor (read, migrated)
//
// The first format's keys start with IDPrefix; none of the others do, so a
// build of the first format (after a rollback) skips these as damaged
// entries of its List and never finds them by id.
const (
	recPrefix  = "rec/"
	partPrefix = "part/"
	namePrefix = "name/"
)

// RecordKey is the KV key of id's record.
func RecordKey(id string) string { return recPrefix + id }

// PartsPrefix is the prefix of the KV keys of id's part entries.
func PartsPrefix(id string) string { return partPrefix + id + "/" }

func partKey(id string, n int) string { return fmt.Sprintf("%s%05d", PartsPrefix(id), n) }

func namesPrefix(name, typ string) string {
	b, _ := json.Marshal([]string{name, typ})
	sum := sha256.Sum256(b)
	return namePrefix + hex.EncodeToString(sum[:16]) + "/"
}

// NewKVStore returns a Store over kv.
func NewKVStore(kv KV) Store { return &kvStore{kv: kv} }

type kvStore struct{ kv KV }

// Load implements Store.
func (s *kvStore) Load(ctx context.Context, id string) (*Record, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		if AsDamaged(err) != nil || errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("checkpoint: load %s: %w", id, err)
	}
	return r, nil
}

func (s *kvStore) load(ctx context.Context, id string) (*Record, error) {
	b, ok, err := s.kv.Get(ctx, RecordKey(id))
	if err != nil {
		return nil, err
	}
	if ok {
		r, err := decodeRecord(id, b)
		if err != nil {
			return nil, err
		}
		if err := s.loadParts(ctx, id, r); err != nil {
			return nil, err
		}
		return r, nil
	}
	return s.loadLegacy(ctx, id)
}

// loadParts fills r.Parts from id's part entries of r's upload. Entries it
// cannot vouch for are left out: OSS's ListParts has the truth.
func (s *kvStore) loadParts(ctx context.Context, id string, r *Record) error {
	r.Parts = nil
	if r.Single() || r.Phase == PhaseStored {
		return nil
	}
	items, err := s.kv.Scan(ctx, PartsPrefix(id))
	if err != nil {
		return err
	}
	plan, err := r.plan()
	if err != nil {
		return err // unreachable: r validated
	}
	for _, it := range items {
		u, p, ok := decodePart(it.Value)
		if !ok || u != r.UploadID || checkPart(plan, p) != nil || it.Key != partKey(id, p.Number) {
			continue
		}
		r.Parts = append(r.Parts, p)
	}
	r.normalise()
	return nil
}

// loadLegacy reads id's first-format record, or its anchor alone (a crash
// came between the two writes: a record with no parts, which ListParts
// completes).
func (s *kvStore) loadLegacy(ctx context.Context, id string) (*Record, error) {
	b, ok, err := s.kv.Get(ctx, LegacyKey(id))
	if err != nil {
		return nil, err
	}
	ab, aok, err := s.kv.Get(ctx, LegacyAnchorKey(id))
	if err != nil {
		return nil, err
	}
	return legacyEntry(id, b, ok, ab, aok)
}

func legacyEntry(id string, b []byte, ok bool, ab []byte, aok bool) (*Record, error) {
	if !ok && !aok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	var anchor *Record
	var anchorErr error
	if aok {
		anchor, anchorErr = decodeLegacy(id, ab)
	}
	if !ok {
		return anchor, anchorErr
	}
	r, err := decodeLegacy(id, b)
	if de := AsDamaged(err); de != nil && anchor != nil {
		// The anchor names the same upload, checksum-verified.
		de.Salvage = anchor
	}
	return r, err
}

// Save implements Store.
func (s *kvStore) Save(ctx context.Context, id string, r *Record) error {
	if id == "" {
		return errors.New("checkpoint: save: empty id")
	}
	if r == nil {
		return errors.New("checkpoint: save: nil record")
	}
	c := r.clone()
	c.normalise()
	if err := c.Validate(); err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", id, err)
	}
	b, err := encodeRecord(c)
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", id, err)
	}
	old, exists, err := s.kv.Get(ctx, RecordKey(id))
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", id, err)
	}
	if exists {
		if _, err := decodeRecord(id, old); err != nil {
			if de := AsDamaged(err); de != nil && de.Newer {
				return fmt.Errorf("checkpoint: save %s: not replacing: %w", id, err)
			}
		}
	} else {
		// A new record: part entries of an earlier one are stale, and the
		// name index needs the id.
		if err := s.kv.DeletePrefix(ctx, PartsPrefix(id)); err != nil {
			return fmt.Errorf("checkpoint: save %s: %w", id, err)
		}
		if err := s.kv.Put(ctx, namesPrefix(c.File.Name, c.File.Type)+id, nil); err != nil {
			return fmt.Errorf("checkpoint: save %s: %w", id, err)
		}
	}
	if c.Legacy {
		// Parts first: a crash before the record leaves the first-format
		// record in charge, and a crash after it leaves that record
		// shadowed, removed by the next Delete.
		for _, p := range c.Parts {
			if err := s.SavePart(ctx, id, c.UploadID, p); err != nil {
				return fmt.Errorf("checkpoint: save %s: migrate: %w", id, err)
			}
		}
	}
	if err := s.kv.Put(ctx, RecordKey(id), b); err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", id, err)
	}
	if c.Legacy {
		if err := errors.Join(s.kv.Delete(ctx, LegacyKey(id)), s.kv.Delete(ctx, LegacyAnchorKey(id))); err != nil {
			return fmt.Errorf("checkpoint: save %s: remove the first-format record: %w", id, err)
		}
	}
	return nil
}

// SavePart implements Store.
func (s *kvStore) SavePart(ctx context.Context, id, uploadID string, p Part) error {
	if id == "" || uploadID == "" || strings.ContainsAny(uploadID, " \n") {
		return fmt.Errorf("checkpoint: save part: empty id, or upload id %q empty or with a space", uploadID)
	}
	if p.Number < 1 || p.Number > partplan.MaxParts || p.ETag == "" || strings.Contains(p.ETag, "\n") || p.Size < 0 {
		return fmt.Errorf("checkpoint: save part %d of %s: %w: invalid part %+v", p.Number, id, ErrDamaged, p)
	}
	b := encodePart(uploadID, p)
	if err := s.kv.Put(ctx, partKey(id, p.Number), b); err != nil {
		return fmt.Errorf("checkpoint: save part %d of %s: %w", p.Number, id, err)
	}
	return nil
}

// Delete implements Store.
func (s *kvStore) Delete(ctx context.Context, id string) error {
	var errs []error
	b, ok, err := s.kv.Get(ctx, RecordKey(id))
	if err != nil {
		return fmt.Errorf("checkpoint: delete %s: %w", id, err)
	}
	if ok {
		// The index entry needs the file's name; a record too damaged to
		// give it leaves a dangling entry, which ByName removes.
		var r *Record
		if r, _ = decodeRecord(id, b); r == nil {
			r = salvage(b)
		}
		if r != nil {
			errs = append(errs, s.kv.Delete(ctx, namesPrefix(r.File.Name, r.File.Type)+id))
		}
	}
	// The record first: parts without it are never read, and the next
	// new record under id clears them.
	errs = append(errs, s.kv.Delete(ctx, RecordKey(id)))
	errs = append(errs, s.kv.DeletePrefix(ctx, PartsPrefix(id)))
	errs = append(errs, s.kv.Delete(ctx, LegacyKey(id)), s.kv.Delete(ctx, LegacyAnchorKey(id)))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("checkpoint: delete %s: %w", id, err)
	}
	return nil
}

// List implements Store.
func (s *kvStore) List(ctx context.Context) ([]Entry, error) {
	recs, err := s.kv.Scan(ctx, recPrefix)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: list: %w", err)
	}
	var entries []Entry
	seen := map[string]bool{}
	for _, it := range recs {
		id := strings.TrimPrefix(it.Key, recPrefix)
		seen[id] = true
		r, err := decodeRecord(id, it.Value)
		if err == nil {
			err = s.loadParts(ctx, id, r)
		}
		entries = append(entries, entry(id, r, err))
		if err != nil && AsDamaged(err) == nil {
			return nil, fmt.Errorf("checkpoint: list: %w", err)
		}
	}
	legacy, err := s.kv.Scan(ctx, IDPrefix)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: list: %w", err)
	}
	type pair struct {
		b, ab   []byte
		ok, aok bool
	}
	byID := map[string]*pair{}
	var ids []string
	for _, it := range legacy {
		id, anchor := strings.CutSuffix(it.Key, legacyAnchorSuffix)
		if seen[id] {
			continue // shadowed by the migrated record
		}
		p := byID[id]
		if p == nil {
			p = &pair{}
			byID[id] = p
			ids = append(ids, id)
		}
		if anchor {
			p.ab, p.aok = it.Value, true
		} else {
			p.b, p.ok = it.Value, true
		}
	}
	for _, id := range ids {
		p := byID[id]
		r, err := legacyEntry(id, p.b, p.ok, p.ab, p.aok)
		entries = append(entries, entry(id, r, err))
	}
	sortEntries(entries)
	return entries, nil
}

func entry(id string, r *Record, err error) Entry {
	if err != nil {
		de := AsDamaged(err)
		if de == nil {
			de = &DamagedError{ID: id, Reason: err.Error()}
		}
		return Entry{ID: id, Damaged: de}
	}
	return Entry{ID: id, Record: r}
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int {
		switch {
		case a.Record != nil && b.Record != nil:
			if c := b.Record.Updated.Compare(a.Record.Updated); c != 0 {
				return c
			}
		case a.Record != nil:
			return -1
		case b.Record != nil:
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// ByName implements Store.
func (s *kvStore) ByName(ctx context.Context, name, typ string) ([]Entry, error) {
	prefix := namesPrefix(name, typ)
	items, err := s.kv.Scan(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: by name: %w", err)
	}
	var entries []Entry
	for _, it := range items {
		id := strings.TrimPrefix(it.Key, prefix)
		r, err := s.load(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			// Deleted since, with an index entry Delete could not name.
			_ = s.kv.Delete(ctx, it.Key)
			continue
		case err != nil && AsDamaged(err) == nil:
			return nil, fmt.Errorf("checkpoint: by name: %w", err)
		}
		entries = append(entries, entry(id, r, err))
	}
	sortEntries(entries)
	return entries, nil
}

// MemoryStore is a Store in memory, for tests, benchmarks and as a fallback
// where no persistent storage is available. It keeps the serialized bytes,
// so Corrupt can simulate damage, and counts what it is asked to do. Safe
// for concurrent use.
type MemoryStore struct {
	kvStore
	mem *MemoryKV
}

// NewMemoryStore returns an empty *MemoryStore.
func NewMemoryStore() Store {
	mem := NewMemoryKV()
	return &MemoryStore{kvStore: kvStore{mem}, mem: mem}
}

// KV returns the store's bytes, for tests that write records of another
// format or inspect the layout.
func (m *MemoryStore) KV() *MemoryKV { return m.mem }

// Stats returns the store's counters.
func (m *MemoryStore) Stats() Stats { return m.mem.Stats() }

// Corrupt replaces the bytes of id's record (the current format's, or else
// the first format's) with mutate's result (mutate gets a copy). It panics
// if there is none: corrupting nothing is a broken test.
func (m *MemoryStore) Corrupt(id string, mutate func([]byte) []byte) {
	m.mem.mu.Lock()
	defer m.mem.mu.Unlock()
	for _, k := range []string{RecordKey(id), LegacyKey(id)} {
		if b, ok := m.mem.m[k]; ok {
			m.mem.m[k] = slices.Clone(mutate(slices.Clone(b)))
			return
		}
	}
	panic(fmt.Sprintf("checkpoint: Corrupt: no record under %q", id))
}

// Stats counts a MemoryKV's operations.
type Stats struct {
	Gets, Puts, Deletes, Scans int64
	// BytesWritten is the sum of the keys and values put.
	BytesWritten int64
	// BytesRead is the sum of the values returned by Get and Scan.
	BytesRead int64
	// Keys and Bytes are what is stored now.
	Keys, Bytes int64
}

func (s Stats) String() string {
	return "gets " + strconv.FormatInt(s.Gets, 10) + ", puts " + strconv.FormatInt(s.Puts, 10) +
		", deletes " + strconv.FormatInt(s.Deletes, 10) + ", scans " + strconv.FormatInt(s.Scans, 10) +
		", written " + strconv.FormatInt(s.BytesWritten, 10) + " B"
}

// MemoryKV is a KV in a map, with counters.
type MemoryKV struct {
	mu sync.Mutex
	m  map[string][]byte
	st Stats
}

// NewMemoryKV returns an empty *MemoryKV.
func NewMemoryKV() *MemoryKV { return &MemoryKV{m: map[string][]byte{}} }

// Stats returns the counters.
func (m *MemoryKV) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st
	st.Keys = int64(len(m.m))
	for k, v := range m.m {
		st.Bytes += int64(len(k) + len(v))
	}
	return st
}

// Get implements KV.
func (m *MemoryKV) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.Gets++
	b, ok := m.m[key]
	m.st.BytesRead += int64(len(b))
	return slices.Clone(b), ok, nil
}

// Put implements KV.
func (m *MemoryKV) Put(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.Puts++
	m.st.BytesWritten += int64(len(key) + len(value))
	m.m[key] = slices.Clone(value)
	return nil
}

// Delete implements KV.
func (m *MemoryKV) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.Deletes++
	delete(m.m, key)
	return nil
}

// Scan implements KV.
func (m *MemoryKV) Scan(ctx context.Context, prefix string) ([]Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.Scans++
	var items []Item
	for k, v := range m.m {
		if strings.HasPrefix(k, prefix) {
			items = append(items, Item{Key: k, Value: slices.Clone(v)})
			m.st.BytesRead += int64(len(v))
		}
	}
	slices.SortFunc(items, func(a, b Item) int { return cmp.Compare(a.Key, b.Key) })
	return items, nil
}

// DeletePrefix implements KV.
func (m *MemoryKV) DeletePrefix(ctx context.Context, prefix string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.Deletes++
	for k := range m.m {
		if strings.HasPrefix(k, prefix) {
			delete(m.m, k)
		}
	}
	return nil
}
