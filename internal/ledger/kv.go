package ledger

import (
	"github.com/virtual-machine/vm/internal/registry"
)

// kvEntry is a cached generic key: its value at the start of the block
// (orig) and now (cur); nil means absent.
type kvEntry struct {
	orig, cur []byte
}

// The block is the registry.Store of FinalizeBlock: the tree as of the
// block's start plus the block's cached writes.

// Get reads key through the block's cache; the first read of a key
// caches the tree's value.
func (b *block) Get(key []byte) ([]byte, error) {
	if e, ok := b.kv[string(key)]; ok {
		return e.cur, nil
	}
	v, err := b.a.tree.Get(key)
	if err != nil {
		return nil, &storageError{err}
	}
	b.kv[string(key)] = &kvEntry{orig: v, cur: v}
	return v, nil
}

// Set writes key (val nil deletes it) in the cache, journaled so a failed
// transaction restores it.
func (b *block) Set(key, val []byte) error {
	if _, err := b.Get(key); err != nil {
		return err
	}
	e := b.kv[string(key)]
	b.journal = append(b.journal, undo{kv: string(key), val: e.cur})
	e.cur = val
	return nil
}

// Scan merges the tree (as of the block's start) with the block's cached
// writes, the cache winning on equal keys.
func (b *block) Scan(start, end []byte, ascending bool, f func(k, v []byte) bool) error {
	keys := make([]string, 0, len(b.kv))
	for k := range b.kv {
		keys = append(keys, k)
	}
	err := registry.MergeScan(registry.TreeReader{T: b.a.tree}, start, end, ascending, keys,
		func(k string) []byte { return b.kv[k].cur }, f)
	if err != nil {
		return &storageError{err}
	}
	return nil
}
