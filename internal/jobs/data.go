package jobs

import (
	"bytes"

	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// MaxDataRange bounds one DataState.Range (and the API's range form).
const MaxDataRange = 1000

// DataState is the namespace of contract Name in R, a wasm.State: what a
// miner runs against (R a committed tree at the request's start height),
// and what settlement checks reads against (R the block's state).
type DataState struct {
	R    registry.Reader
	Name string
}

var _ wasm.State = DataState{}

// Get returns key's value and version; found is false when absent.
func (d DataState) Get(key []byte) ([]byte, uint64, bool, error) {
	raw, err := d.R.Get(state.DataKey(d.Name, key))
	if err != nil || raw == nil {
		return nil, 0, false, err
	}
	v, val, err := state.DecodeData(raw)
	if err != nil {
		return nil, 0, false, &registry.CorruptError{Err: err}
	}
	return bytes.Clone(val), v, true, nil
}

// Range returns up to limit (at most MaxDataRange) entries with start <=
// key < end in key order; an empty end means no bound.
func (d DataState) Range(start, end []byte, limit int) ([]wasm.Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	limit = min(limit, MaxDataRange)
	prefix := state.DataPrefix(d.Name)
	lo := append(bytes.Clone(prefix), start...)
	hi := registry.PrefixEnd(prefix)
	if len(end) > 0 {
		hi = append(bytes.Clone(prefix), end...)
	}
	var (
		out   []wasm.Entry
		inner error
	)
	err := d.R.Scan(lo, hi, true, func(k, v []byte) bool {
		ver, val, err := state.DecodeData(v)
		if err != nil {
			inner = &registry.CorruptError{Err: err}
			return false
		}
		out = append(out, wasm.Entry{Key: bytes.Clone(k[len(prefix):]), Value: bytes.Clone(val), Version: ver})
		return len(out) < limit
	})
	if err == nil {
		err = inner
	}
	return out, err
}

// applyWrites applies a settled result's write set to the store: every
// write gets the next data version (the sequence at state.DataSeqKey), so
// a version is never reused, even for a key deleted and written again —
// which is what lets a memo trust "same version, same value".
func applyWrites(s registry.Store, writes []wasm.Write) error {
	if len(writes) == 0 {
		return nil
	}
	raw, err := s.Get(state.DataSeqKey())
	if err != nil {
		return err
	}
	var seq uint64
	if raw != nil {
		if seq, _, err = state.DecodeData(raw); err != nil {
			return &registry.CorruptError{Err: err}
		}
	}
	for _, w := range writes {
		k := state.DataKey(w.Contract, w.Key)
		if w.Delete {
			if err := s.Set(k, nil); err != nil {
				return err
			}
			continue
		}
		seq++
		if err := s.Set(k, state.EncodeData(seq, w.Value)); err != nil {
			return err
		}
	}
	return s.Set(state.DataSeqKey(), state.EncodeData(max(seq, 1), nil))
}

// stale returns the first read of reads whose key no longer has the
// version (or absence) it saw in r, or -1 when all are current.
func stale(r registry.Reader, reads []wasm.Read) (int, error) {
	return Stale(reads, func(name string) wasm.State { return DataState{R: r, Name: name} })
}

// Stale returns the first read of reads whose key, in the namespace ns
// gives for its contract, no longer has the version (or absence) it saw,
// or -1 when all are current. The ledger checks settlements and memo hits
// with it; miners check composite step memos with it, on the state of the
// round's start height.
func Stale(reads []wasm.Read, ns func(contract string) wasm.State) (int, error) {
	for i, rd := range reads {
		_, v, found, err := ns(rd.Contract).Get(rd.Key)
		if err != nil {
			return 0, err
		}
		if found != rd.Found || v != rd.Version {
			return i, nil
		}
	}
	return -1, nil
}

// checkWrites refuses a result that writes a namespace no contract owns.
func checkWrites(r registry.Reader, writes []wasm.Write) error {
	var last string
	for _, w := range writes {
		if w.Contract == last {
			continue
		}
		c, err := registry.Contract(r, w.Contract)
		if err != nil {
			return err
		}
		if c == nil {
			return vmerr.E("jobs.result", vmerr.Invalid, "result writes the namespace of %q, which is not a contract", w.Contract)
		}
		last = w.Contract
	}
	return nil
}
