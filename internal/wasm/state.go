package wasm

import (
	"bytes"
	"context"
	"sort"
	"sync"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// Entry is one key/value pair of a contract namespace with the version at
// which it was last written.
type Entry struct {
	Key     []byte
	Value   []byte
	Version uint64
}

// State is the read side of one contract's namespace as of a fixed height.
// Contracts never write to a State directly: their writes are collected in
// Result.WriteSet and applied by the ledger after validation.
//
// Implementations must be deterministic: equal namespaces give equal
// answers. The runtime calls a State from one goroutine at a time.
type State interface {
	// Get returns the value and version of key; found is false (and err
	// nil) when the key is absent. err is for storage failures only; it
	// turns the whole call into a host error, never into a contract status.
	Get(key []byte) (value []byte, version uint64, found bool, err error)
	// Range returns up to limit entries with start <= key < end in
	// ascending byte order. A nil or empty end means no upper bound.
	// limit <= 0 means no entries.
	Range(start, end []byte, limit int) ([]Entry, error)
}

// Resolver finds the contract a cross-contract call names.
type Resolver interface {
	// Resolve returns the compiled module and the namespace of contract
	// name. It returns an error of kind vmerr.NotFound when there is no
	// such contract (the caller sees status not-found, the call goes on);
	// any other error is a host failure and aborts the whole run.
	Resolve(ctx context.Context, name string) (*Module, State, error)
}

// MemState is an in-memory State, used by `vm contract run` and tests. The
// zero value is empty and ready. It is safe for concurrent use.
type MemState struct {
	mu sync.RWMutex
	m  map[string]Entry
}

var _ State = (*MemState)(nil)

// Get implements State.
func (s *MemState) Get(key []byte) ([]byte, uint64, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.m[string(key)]
	if !ok {
		return nil, 0, false, nil
	}
	return bytes.Clone(e.Value), e.Version, true, nil
}

// Range implements State.
func (s *MemState) Range(start, end []byte, limit int) ([]Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Entry
	for k, e := range s.m {
		kb := []byte(k)
		if bytes.Compare(kb, start) < 0 || (len(end) > 0 && bytes.Compare(kb, end) >= 0) {
			continue
		}
		out = append(out, Entry{Key: kb, Value: bytes.Clone(e.Value), Version: e.Version})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Set stores value under key with the given version.
func (s *MemState) Set(key, value []byte, version uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]Entry)
	}
	s.m[string(key)] = Entry{Key: bytes.Clone(key), Value: bytes.Clone(value), Version: version}
}

// Delete removes key.
func (s *MemState) Delete(key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, string(key))
}

// Len returns the number of keys.
func (s *MemState) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// Apply applies the writes of r that belong to contract (Write.Contract ==
// contract) at version. Use it to chain local runs; the ledger has its own.
func (s *MemState) Apply(contract string, writes []Write, version uint64) {
	for _, w := range writes {
		if w.Contract != contract {
			continue
		}
		if w.Delete {
			s.Delete(w.Key)
		} else {
			s.Set(w.Key, w.Value, version)
		}
	}
}

// MemResolver is a Resolver over a fixed map of contracts, for local runs
// and tests.
type MemResolver map[string]MemContract

// MemContract is one contract of a MemResolver.
type MemContract struct {
	Module *Module
	State  State
}

// Resolve implements Resolver.
func (r MemResolver) Resolve(_ context.Context, name string) (*Module, State, error) {
	c, ok := r[name]
	if !ok {
		return nil, nil, vmerr.E("wasm.resolve", vmerr.NotFound, "no contract %q", name)
	}
	st := c.State
	if st == nil {
		st = &MemState{}
	}
	return c.Module, st, nil
}
