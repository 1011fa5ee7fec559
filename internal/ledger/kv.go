package ledger

import (
	"bytes"
	"slices"

	corestore "cosmossdk.io/core/store"
)

// view is read access to one state: the committed tree for queries, or a
// block's working state (the tree plus the block's cached writes).
type view interface {
	get(key []byte) ([]byte, error)
	// scan calls f for each key in [start, end) (end nil = no bound) in
	// ascending or descending order until f returns false.
	scan(start, end []byte, ascending bool, f func(k, v []byte) bool) error
}

// iterable is what iavl's trees offer for reads.
type iterable interface {
	Get(key []byte) ([]byte, error)
	Iterator(start, end []byte, ascending bool) (corestore.Iterator, error)
}

// treeView reads a tree directly.
type treeView struct{ t iterable }

func (v treeView) get(key []byte) ([]byte, error) { return v.t.Get(key) }

func (v treeView) scan(start, end []byte, ascending bool, f func(k, v []byte) bool) error {
	it, err := v.t.Iterator(start, end, ascending)
	if err != nil {
		return err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if !f(it.Key(), it.Value()) {
			break
		}
	}
	return it.Error()
}

// kvEntry is a cached generic key: its value at the start of the block
// (orig) and now (cur); nil means absent.
type kvEntry struct {
	orig, cur []byte
}

// get reads key through the block's cache; the first read of a key
// caches the tree's value.
func (b *block) get(key []byte) ([]byte, error) {
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

// set writes key (val nil deletes it) in the cache, journaled so a failed
// transaction restores it.
func (b *block) set(key, val []byte) error {
	if _, err := b.get(key); err != nil {
		return err
	}
	e := b.kv[string(key)]
	b.journal = append(b.journal, undo{kv: string(key), val: e.cur})
	e.cur = val
	return nil
}

// scan merges the tree (as of the block's start) with the block's cached
// writes, the cache winning on equal keys.
func (b *block) scan(start, end []byte, ascending bool, f func(k, v []byte) bool) error {
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
	err := treeView{b.a.tree}.scan(start, end, ascending, func(k, v []byte) bool {
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

// prefixEnd is the first key after every key starting with p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
