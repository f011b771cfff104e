package v1

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Store keeps records under ids (normally ID(record.File)).
type Store interface {
	// Load returns the record under id: ErrNotFound if there is none,
	// ErrDamaged if it does not unmarshal.
	Load(ctx context.Context, id string) (*Record, error)
	// Save seals a copy of r and stores it under id, replacing any record
	// there; r itself is not modified. A record that fails Validate after
	// sealing is refused (ErrDamaged) and nothing is written.
	Save(ctx context.Context, id string, r *Record) error
	// Delete removes the record under id; an absent id is not an error.
	Delete(ctx context.Context, id string) error
	// List returns every record that loads, most recently updated first.
	// Damaged entries are skipped without an error: they cannot be resumed,
	// and failing the whole list would hide the good ones. Load on such an
	// id still reports ErrDamaged, so the caller can find and delete it.
	// The error is for the storage itself failing.
	List(ctx context.Context) ([]*Record, error)
}

// KV is the byte storage a Store needs: an IndexedDB object store in the
// browser, a map in tests. Implementations must be safe for concurrent use.
type KV interface {
	// Get returns the value under key and whether there is one.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes key; an absent key is not an error.
	Delete(ctx context.Context, key string) error
	Keys(ctx context.Context) ([]string, error)
}

// NewKVStore returns a Store keeping records, encoded by Marshal, in kv.
func NewKVStore(kv KV) Store { return kvStore{kv} }

type kvStore struct{ kv KV }

// Load implements Store.
func (s kvStore) Load(ctx context.Context, id string) (*Record, error) {
	b, ok, err := s.kv.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: load %s: %w", id, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	r, err := Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: load %s: %w", id, err)
	}
	return r, nil
}

// Save implements Store.
func (s kvStore) Save(ctx context.Context, id string, r *Record) error {
	if id == "" {
		return errors.New("checkpoint: save: empty id")
	}
	if r == nil {
		return errors.New("checkpoint: save: nil record")
	}
	c := r.clone()
	c.Seal()
	b, err := Marshal(c)
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", id, err)
	}
	if err := s.kv.Put(ctx, id, b); err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", id, err)
	}
	return nil
}

// Delete implements Store.
func (s kvStore) Delete(ctx context.Context, id string) error {
	if err := s.kv.Delete(ctx, id); err != nil {
		return fmt.Errorf("checkpoint: delete %s: %w", id, err)
	}
	return nil
}

// List implements Store.
func (s kvStore) List(ctx context.Context) ([]*Record, error) {
	keys, err := s.kv.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: list: %w", err)
	}
	slices.Sort(keys)
	type entry struct {
		key string
		r   *Record
	}
	var entries []entry
	for _, k := range keys {
		b, ok, err := s.kv.Get(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: list: load %s: %w", k, err)
		}
		if !ok {
			continue // deleted since Keys
		}
		r, err := Unmarshal(b)
		if err != nil {
			continue
		}
		entries = append(entries, entry{k, r})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := b.r.Updated.Compare(a.r.Updated); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	out := make([]*Record, len(entries))
	for i, e := range entries {
		out[i] = e.r
	}
	return out, nil
}

// MemoryStore is a Store in memory, for tests and as a fallback where no
// persistent storage is available. It keeps the serialized bytes, so
// Corrupt can simulate damage. Safe for concurrent use.
type MemoryStore struct {
	kvStore
	mem *memKV
}

// NewMemoryStore returns an empty *MemoryStore.
func NewMemoryStore() Store {
	mem := &memKV{m: map[string][]byte{}}
	return &MemoryStore{kvStore: kvStore{mem}, mem: mem}
}

// Corrupt replaces the bytes stored under id with mutate's result (mutate
// gets a copy). It panics if id is absent: corrupting nothing is a broken
// test.
func (m *MemoryStore) Corrupt(id string, mutate func([]byte) []byte) {
	m.mem.mu.Lock()
	defer m.mem.mu.Unlock()
	b, ok := m.mem.m[id]
	if !ok {
		panic(fmt.Sprintf("checkpoint: Corrupt: no record under %q", id))
	}
	m.mem.m[id] = slices.Clone(mutate(slices.Clone(b)))
}

type memKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (m *memKV) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.m[key]
	return slices.Clone(b), ok, nil
}

func (m *memKV) Put(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[key] = slices.Clone(value)
	return nil
}

func (m *memKV) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
	return nil
}

func (m *memKV) Keys(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.m))
	for k := range m.m {
		keys = append(keys, k)
	}
	return keys, nil
}
