package jobs

import (
	"bytes"
	"encoding/hex"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/wasm"
)

// hit is a memo that still holds, with the entry that holds its result.
type hit struct {
	memo   *statepb.Memo
	source *statepb.Result
}

// memoHit returns the memo of m's (code, fn, input) when every read it
// depends on still has the version it saw, else nil.
func memoHit(env Env, m *statepb.Request) (*hit, error) {
	slot := state.MemoSlot(id32(m.CodeHash), m.Fn, id32(m.InputHash))
	raw, err := env.S.Get(slot)
	if err != nil || raw == nil {
		return nil, err
	}
	memo, err := state.DecodeMemo(raw)
	if err != nil {
		return nil, &registry.CorruptError{Err: err}
	}
	src, _, err := GetResult(env.S, id32(memo.RequestId))
	if err != nil {
		return nil, &registry.CorruptError{Err: err}
	}
	var res wasm.Result
	if err := res.UnmarshalBinary(src.Result); err != nil {
		return nil, &registry.CorruptError{Err: err}
	}
	i, err := stale(env.S, res.ReadSet)
	if err != nil || i >= 0 {
		return nil, err
	}
	return &hit{memo: memo, source: src}, nil
}

// settleMemo answers m from h in the including block: the escrow goes
// back, the requester pays market.MemoFee to the memo's beneficiary (the
// miner that was paid the first tier for computing it), and the request
// gets its own resultChain entry carrying the memo's result.
func settleMemo(env Env, m *statepb.Request, h *hit) ([]Event, error) {
	const op = "jobs.memo"
	requester, beneficiary := crypto.Address(m.Requester), crypto.Address(h.memo.Beneficiary)
	if err := env.Bank.Move(op, env.Escrow, requester, m.Escrow); err != nil {
		return nil, err
	}
	if err := env.Bank.Move(op, requester, beneficiary, market.MemoFee); err != nil {
		return nil, err
	}
	if err := bumpMiner(env.S, beneficiary, func(r *statepb.Miner) { r.Earned += market.MemoFee }); err != nil {
		return nil, err
	}
	h.memo.Hits++
	if err := env.S.Set(state.MemoSlot(id32(m.CodeHash), m.Fn, id32(m.InputHash)), state.EncodeRecord(h.memo)); err != nil {
		return nil, err
	}
	m.Status = StatusMemo
	if err := save(env.S, m); err != nil {
		return nil, err
	}
	rec := &statepb.Result{
		Status: StatusMemo, ResultHash: bytes.Clone(h.source.ResultHash), Result: bytes.Clone(h.source.Result),
		Paid:   []*statepb.Payment{{Miner: bytes.Clone(beneficiary[:]), Reward: market.MemoFee}},
		Refund: m.Escrow, Cost: market.MemoFee,
	}
	return appendResult(env, m, rec, hex.EncodeToString(h.memo.RequestId))
}

// storeMemo records res as the memo of m's (code, fn, input) when it may
// be replayed: it wrote nothing (a memo hit changes no state) and every
// read names a stored version (market.Memoizable).
func storeMemo(env Env, m *statepb.Request, res *wasm.Result, hash [32]byte, beneficiary crypto.Address) error {
	if len(res.WriteSet) > 0 {
		return nil
	}
	reads := make([]market.Read, len(res.ReadSet))
	for i, r := range res.ReadSet {
		reads[i] = market.Read(r)
	}
	if !market.Memoizable(reads) {
		return nil
	}
	key := market.MemoKey(id32(m.CodeHash), m.Fn, id32(m.InputHash), reads)
	memo := &statepb.Memo{Key: key[:], RequestId: bytes.Clone(m.Id), ResultHash: hash[:], Height: env.Height,
		Beneficiary: bytes.Clone(beneficiary[:])}
	return env.S.Set(state.MemoSlot(id32(m.CodeHash), m.Fn, id32(m.InputHash)), state.EncodeRecord(memo))
}
