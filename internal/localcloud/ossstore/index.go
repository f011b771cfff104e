package ossstore

import (
	"slices"
	"sync"
)

// keyIndex is the sorted list of a bucket's object keys, kept in memory for
// ListObjects: records are named by the hash of their key, so the disk
// cannot list keys in order. Open builds it from the records it reads
// anyway; commits and deletes keep it current under the object's lock.
type keyIndex struct {
	mu   sync.RWMutex
	keys []string
}

func (x *keyIndex) add(key string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if i, found := slices.BinarySearch(x.keys, key); !found {
		x.keys = slices.Insert(x.keys, i, key)
	}
}

func (x *keyIndex) remove(key string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if i, found := slices.BinarySearch(x.keys, key); found {
		x.keys = slices.Delete(x.keys, i, i+1)
	}
}

// from calls fn with the keys not less than start, in order, until fn
// returns false. The index is read-locked meanwhile, so fn must not touch
// the store.
func (x *keyIndex) from(start string, fn func(key string) bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i, _ := slices.BinarySearch(x.keys, start)
	for ; i < len(x.keys); i++ {
		if !fn(x.keys[i]) {
			return
		}
	}
}

func (x *keyIndex) len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.keys)
}

// keys returns the index of a bucket, creating it if needed.
func (s *Store) keyIndex(bucket string) *keyIndex {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.indexes[bucket]
	if x == nil {
		x = &keyIndex{}
		s.indexes[bucket] = x
	}
	return x
}
