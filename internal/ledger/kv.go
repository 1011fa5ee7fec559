package ledger

import (
	"bytes"
	"slices"

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
	var cached []string
	for k := range b.kv {
		kb := []byte(k)
		if bytes.Compare(kb, start) >= 0 && (end == nil || bytes.Compare(kb, end) < 0) {
			cached = append(cached, k)
		}
	}
	slices.Sort(cached)
	if !ascending {
		slices.Reverse(cached)
	}
	before := func(x, y []byte) bool { // x comes first in scan order
		c := bytes.Compare(x, y)
		return (ascending && c < 0) || (!ascending && c > 0)
	}
	stopped := false
	emit := func(k string) bool {
		if v := b.kv[k].cur; v != nil && !f([]byte(k), v) {
			stopped = true
		}
		return !stopped
	}
	err := registry.TreeReader{T: b.a.tree}.Scan(start, end, ascending, func(k, v []byte) bool {
		for len(cached) > 0 && before([]byte(cached[0]), k) {
			if !emit(cached[0]) {
				return false
			}
			cached = cached[1:]
		}
		if len(cached) > 0 && cached[0] == string(k) {
			ok := emit(cached[0])
			cached = cached[1:]
			return ok
		}
		if !f(k, v) {
			stopped = true
		}
		return !stopped
	})
	if err != nil {
		return &storageError{err}
	}
	for _, k := range cached {
		if stopped || !emit(k) {
			break
		}
	}
	return nil
}
