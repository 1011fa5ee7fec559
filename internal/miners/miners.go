package miners

import (
	"bytes"
	"strconv"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits of List.
const (
	DefaultListLimit = 50
	MaxListLimit     = 100
	// listScanLimit bounds the records one List examines, so a kind that
	// matches nothing cannot make one query walk the whole registry; next
	// then says where to resume.
	listScanLimit = 10_000
)

// EventRegister is the type of the event a registration emits.
const EventRegister = "miner_register"

// Register records the signer as a miner with m's attributes at height
// (the block being built), or replaces the attributes of its existing
// record: registered keeps the height of the first registration, updated
// becomes height, and the counters are kept as they are. m is checked
// with tx.ValidateMinerRegister first. The event carries the address, the
// attributes and whether this was the first registration ("new").
// Errors: Invalid, TooLarge, Overflow (from the checks),
// *registry.CorruptError, and s's.
func Register(s registry.Store, height int64, signer crypto.Address, m *txpb.MinerRegister) (registry.Event, error) {
	if err := tx.ValidateMinerRegister(m); err != nil {
		return registry.Event{}, err
	}
	rec, _, err := lookup(s, signer)
	if err != nil {
		return registry.Event{}, err
	}
	first := rec == nil
	if first {
		rec = &statepb.Miner{Address: bytes.Clone(signer[:]), Registered: height}
	}
	rec.Kind, rec.Capacity, rec.Endpoint = m.Kind, m.Capacity, m.Endpoint
	rec.MinGas, rec.SoftwareVersion, rec.Active = m.MinGas, m.SoftwareVersion, m.Active
	rec.Updated = height
	if err := s.Set(state.MinerKey(signer), state.EncodeRecord(rec)); err != nil {
		return registry.Event{}, err
	}
	return registry.Event{Type: EventRegister, Attrs: []string{"address", signer.String(), "kind", rec.Kind,
		"capacity", strconv.FormatUint(uint64(rec.Capacity), 10), "min_gas", strconv.FormatUint(rec.MinGas, 10),
		"active", strconv.FormatBool(rec.Active), "new", strconv.FormatBool(first)}}, nil
}

// Get reads the record of the miner addr and its stored bytes. Errors:
// NotFound when addr never registered, *registry.CorruptError, and r's.
func Get(r registry.Reader, addr crypto.Address) (*statepb.Miner, []byte, error) {
	rec, raw, err := lookup(r, addr)
	if err == nil && rec == nil {
		err = vmerr.E("miners.get", vmerr.NotFound, "no miner registered by %s", addr)
	}
	return rec, raw, err
}

// List returns the miner records (stored bytes and keys) q selects, in
// address order strictly after q.After (an address, or "" for the start):
// of kind q.Kind when set, at most q.Limit (0 = DefaultListLimit). next
// is the After of the next page when the page is full or the scan
// stopped at its bound, else "". Errors: Invalid (kind, after, limit),
// *registry.CorruptError, and r's.
func List(r registry.Reader, q apitype.MinerQuery) (raws, keys [][]byte, next string, err error) {
	const op = "miners.list"
	switch {
	case q.Limit == 0:
		q.Limit = DefaultListLimit
	case q.Limit < 0 || q.Limit > MaxListLimit:
		return nil, nil, "", vmerr.E(op, vmerr.Invalid, "limit %d not in [1, %d]", q.Limit, MaxListLimit)
	}
	if q.Kind != "" && !tx.ValidMinerKind(q.Kind) {
		return nil, nil, "", vmerr.E(op, vmerr.Invalid, "kind %q: want one of cpu, gpu, storage, browser, relay", q.Kind)
	}
	prefix := []byte{state.PrefixMiner}
	start := prefix
	if q.After != "" {
		a, err := crypto.ParseAddress(q.After)
		if err != nil {
			return nil, nil, "", vmerr.Wrap(op, vmerr.Invalid, err)
		}
		start = append(state.MinerKey(a), 0) // strictly after
	}
	var (
		last    []byte
		scanned int
		inner   error
	)
	err = r.Scan(start, registry.PrefixEnd(prefix), true, func(k, v []byte) bool {
		last, scanned = k, scanned+1
		if q.Kind != "" {
			m, err := state.DecodeMiner(v)
			if err != nil {
				inner = &registry.CorruptError{Err: err}
				return false
			}
			if m.Kind != q.Kind {
				return scanned < listScanLimit
			}
		}
		raws, keys = append(raws, bytes.Clone(v)), append(keys, bytes.Clone(k))
		return len(raws) < q.Limit && scanned < listScanLimit
	})
	if err == nil {
		err = inner
	}
	if err != nil {
		return nil, nil, "", err
	}
	if len(raws) == q.Limit || scanned == listScanLimit {
		a, err := crypto.AddressFromBytes(last[1:])
		if err != nil {
			return nil, nil, "", &registry.CorruptError{Err: vmerr.E(op, vmerr.Internal, "miner key %x is not prefix + address", last)}
		}
		next = a.String()
	}
	return raws, keys, next, nil
}

// lookup reads addr's record; nil (and no error) when there is none.
func lookup(r registry.Reader, addr crypto.Address) (*statepb.Miner, []byte, error) {
	raw, err := r.Get(state.MinerKey(addr))
	if err != nil || raw == nil {
		return nil, nil, err
	}
	m, err := state.DecodeMiner(raw)
	if err != nil {
		return nil, nil, &registry.CorruptError{Err: err}
	}
	return m, raw, nil
}
