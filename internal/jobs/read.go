package jobs

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits of ListOpen.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// Request statuses.
const (
	StatusOpen    = "open"
	StatusSettled = "settled"
	StatusMemo    = "memo"
	StatusExpired = "expired"
)

// GetRequest reads request id and its stored bytes. Errors: NotFound,
// *registry.CorruptError, and r's.
func GetRequest(r registry.Reader, id [32]byte) (*statepb.Request, []byte, error) {
	raw, err := r.Get(state.RequestKey(id))
	if err != nil {
		return nil, nil, err
	}
	if raw == nil {
		return nil, nil, vmerr.E("jobs.request", vmerr.NotFound, "no request %x", id)
	}
	m, err := state.DecodeRequest(raw)
	if err != nil {
		return nil, nil, &registry.CorruptError{Err: err}
	}
	return m, raw, nil
}

// GetResult reads request id's resultChain entry and its stored bytes.
// Errors: NotFound (no such request, or not settled or expired yet),
// *registry.CorruptError, and r's.
func GetResult(r registry.Reader, id [32]byte) (*statepb.Result, []byte, error) {
	raw, err := r.Get(state.ResultKey(id))
	if err != nil {
		return nil, nil, err
	}
	if raw == nil {
		return nil, nil, vmerr.E("jobs.result", vmerr.NotFound, "no result for request %x (unknown, or still open)", id)
	}
	m, err := state.DecodeResult(raw)
	if err != nil {
		return nil, nil, &registry.CorruptError{Err: err}
	}
	return m, raw, nil
}

// ListOpen returns the stored records and keys of open requests in
// deadline-index order (next due height, then id: the most urgent first)
// strictly after the cursor q.After (state.DueCursor), at most q.Limit
// (0 = DefaultListLimit); next is the After of the next page when the
// page is full. A request whose due height moves between two pages may be
// skipped or listed twice; the offer stream reports such moves. Errors:
// Invalid (after, limit, open false), *registry.CorruptError, and r's.
func ListOpen(r registry.Reader, q apitype.RequestQuery) (raws, keys [][]byte, next string, err error) {
	const op = "jobs.list"
	switch {
	case !q.Open:
		return nil, nil, "", vmerr.E(op, vmerr.Invalid, "only open requests can be listed (open=true)")
	case q.Limit == 0:
		q.Limit = DefaultListLimit
	case q.Limit < 0 || q.Limit > MaxListLimit:
		return nil, nil, "", vmerr.E(op, vmerr.Invalid, "limit %d not in [1, %d]", q.Limit, MaxListLimit)
	}
	start := []byte{state.PrefixDue}
	if q.After != "" {
		k, err := state.ParseDueCursor(q.After)
		if err != nil {
			return nil, nil, "", err
		}
		start = append(k, 0)
	}
	var ids [][32]byte
	var last []byte
	var bad error
	err = r.Scan(start, registry.PrefixEnd([]byte{state.PrefixDue}), true, func(k, _ []byte) bool {
		_, id, derr := state.DueHeight(k)
		if derr != nil {
			bad = &registry.CorruptError{Err: derr}
			return false
		}
		ids, last = append(ids, id), k
		return len(ids) < q.Limit
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return nil, nil, "", err
	}
	for _, id := range ids {
		_, raw, err := GetRequest(r, id)
		if err != nil {
			return nil, nil, "", &registry.CorruptError{Err: err}
		}
		raws, keys = append(raws, raw), append(keys, state.RequestKey(id))
	}
	if len(ids) == q.Limit {
		next = state.DueCursor(last)
	}
	return raws, keys, next, nil
}

// Seed is the randomness of a request's round: SHA-256 of the seed tag,
// the request id and the round's start height, so a re-offered round runs
// with a new seed and every miner of one round with the same.
func Seed(id [32]byte, start int64) [32]byte {
	b := make([]byte, 0, len(seedTag)+40)
	b = append(b, seedTag...)
	b = append(b, id[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(start))
	return sha256.Sum256(b)
}

const seedTag = "vm/market/seed/v1\x00"

func id32(b []byte) [32]byte {
	var id [32]byte
	copy(id[:], b)
	return id
}

func hash32(b []byte) [32]byte { return sha256.Sum256(b) }
