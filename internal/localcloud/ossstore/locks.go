package ossstore

import "sync"

// lockTable hands out one RWMutex per name, created on demand and dropped
// when nobody holds or waits for it, so that memory does not grow with the
// number of keys ever touched.
type lockTable struct {
	mu sync.Mutex
	m  map[string]*lockEntry
}

type lockEntry struct {
	sync.RWMutex
	refs int
}

func (t *lockTable) get(name string) *lockEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[string]*lockEntry)
	}
	e := t.m[name]
	if e == nil {
		e = &lockEntry{}
		t.m[name] = e
	}
	e.refs++
	return e
}

func (t *lockTable) put(name string, e *lockEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e.refs--
	if e.refs == 0 {
		delete(t.m, name)
	}
}

// lock takes the exclusive lock on name and returns its release function.
func (t *lockTable) lock(name string) (unlock func()) {
	e := t.get(name)
	e.Lock()
	return func() { e.Unlock(); t.put(name, e) }
}

// rlock takes the shared lock on name and returns its release function.
func (t *lockTable) rlock(name string) (unlock func()) {
	e := t.get(name)
	e.RLock()
	return func() { e.RUnlock(); t.put(name, e) }
}
