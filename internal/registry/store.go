package registry

import (
	"bytes"
	"fmt"

	corestore "cosmossdk.io/core/store"
)

// Reader reads one state.
type Reader interface {
	Get(key []byte) ([]byte, error)
	// Scan calls f for each key in [start, end) (end nil = no bound), in
	// ascending or descending order, until f returns false.
	Scan(start, end []byte, ascending bool, f func(k, v []byte) bool) error
}

// Store is a Reader that also writes; a write is visible to the Store's
// later reads, and the caller keeps a transaction's writes all or nothing.
type Store interface {
	Reader
	// Set writes val under key; a nil val deletes key.
	Set(key, val []byte) error
}

// CorruptError marks a stored record that does not decode: the state is
// broken, not the transaction.
type CorruptError struct{ Err error }

func (e *CorruptError) Error() string { return fmt.Sprintf("registry: corrupt record: %v", e.Err) }
func (e *CorruptError) Unwrap() error { return e.Err }

// PrefixEnd is the first key after every key starting with p (nil when
// there is none).
func PrefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Event is what a transition reports: a type and key, value pairs in a
// fixed order.
type Event struct {
	Type  string
	Attrs []string
}

// Tree is what iavl's trees (mutable and immutable) offer for reads.
type Tree interface {
	Get(key []byte) ([]byte, error)
	Iterator(start, end []byte, ascending bool) (corestore.Iterator, error)
}

// TreeReader is the Reader of a tree read directly (a committed state).
type TreeReader struct{ T Tree }

// Get reads key.
func (r TreeReader) Get(key []byte) ([]byte, error) { return r.T.Get(key) }

// Scan walks [start, end) with the tree's iterator.
func (r TreeReader) Scan(start, end []byte, ascending bool, f func(k, v []byte) bool) error {
	it, err := r.T.Iterator(start, end, ascending)
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
