package jobs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// hit is a memo that still holds, with the result it holds.
type hit struct {
	memo *statepb.Memo
	res  *wasm.Result // the memo's result, decoded
	raw  []byte       // canonical encoding of the memo's result
	hash [32]byte
}

// MemoAt returns the memo of (code, fn, input) and the result it holds,
// or nil when there is none. The result is its entry's whole result, or
// one step of a composite's result (Memo.Step). Corrupt records are
// *registry.CorruptError.
func MemoAt(s registry.Reader, code [32]byte, fn string, input [32]byte) (*statepb.Memo, *wasm.Result, []byte, error) {
	raw, err := s.Get(state.MemoSlot(code, fn, input))
	if err != nil || raw == nil {
		return nil, nil, nil, err
	}
	memo, err := state.DecodeMemo(raw)
	if err != nil {
		return nil, nil, nil, &registry.CorruptError{Err: err}
	}
	src, _, err := GetResult(s, id32(memo.RequestId))
	if err != nil {
		return nil, nil, nil, &registry.CorruptError{Err: err}
	}
	enc := src.Result
	var res wasm.Result
	if err := res.UnmarshalBinary(enc); err != nil {
		return nil, nil, nil, &registry.CorruptError{Err: err}
	}
	if memo.Step > 0 {
		if int(memo.Step) > len(res.Steps) || len(res.Steps[memo.Step-1].Result) == 0 {
			return nil, nil, nil, &registry.CorruptError{Err: vmerr.E("jobs.memo", vmerr.Internal, "memo names step %d, which its entry does not record", memo.Step)}
		}
		enc = res.Steps[memo.Step-1].Result
		res = wasm.Result{}
		if err := res.UnmarshalBinary(enc); err != nil {
			return nil, nil, nil, &registry.CorruptError{Err: err}
		}
	}
	return memo, &res, enc, nil
}

// memoHit returns the memo of m's (code, fn, input) when it may answer m:
// every read it depends on still has the version it saw, and it used no
// more gas than m's limit (run, m would have run out of gas). Else nil.
func memoHit(env Env, m *statepb.Request) (*hit, error) {
	memo, res, enc, err := MemoAt(env.S, id32(m.CodeHash), m.Fn, id32(m.InputHash))
	if err != nil || memo == nil || res.GasUsed > m.GasLimit {
		return nil, err
	}
	i, err := stale(env.S, res.ReadSet)
	if err != nil || i >= 0 {
		return nil, err
	}
	return &hit{memo: memo, res: res, raw: enc, hash: sha256.Sum256(enc)}, nil
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
	if err := countHit(env, h.memo, id32(m.CodeHash), m.Fn, id32(m.InputHash)); err != nil {
		return nil, err
	}
	m.Status = StatusMemo
	if err := save(env.S, m); err != nil {
		return nil, err
	}
	rec := &statepb.Result{
		Status: StatusMemo, ResultHash: bytes.Clone(h.hash[:]), Result: bytes.Clone(h.raw),
		Paid:   []*statepb.Payment{{Miner: bytes.Clone(beneficiary[:]), Reward: market.MemoFee}},
		Refund: m.Escrow, Cost: market.MemoFee,
	}
	return appendResult(env, m, rec, hex.EncodeToString(h.memo.RequestId), h.res)
}

// countHit credits a memo hit to memo (stored at code, fn, input) and to
// its beneficiary's miner record.
func countHit(env Env, memo *statepb.Memo, code [32]byte, fn string, input [32]byte) error {
	if err := bumpMiner(env.S, crypto.Address(memo.Beneficiary), func(r *statepb.Miner) { r.Earned += market.MemoFee }); err != nil {
		return err
	}
	memo.Hits++
	return env.S.Set(state.MemoSlot(code, fn, input), state.EncodeRecord(memo))
}

// payStepHits pays, from the escrow, market.MemoFee to the beneficiary of
// each memo that answered a step of m's composite result res, in step
// order, while refund (what would go back to the requester) lasts; it
// returns what it paid. A step whose memo is gone since pays nobody.
func payStepHits(env Env, res *wasm.Result, refund uint64) (uint64, error) {
	var paid uint64
	for _, st := range res.Steps {
		if !st.Hit || refund-paid < market.MemoFee {
			continue
		}
		memo, _, _, err := MemoAt(env.S, st.CodeHash, st.Fn, st.InputHash)
		if err != nil {
			return 0, err
		}
		if memo == nil {
			continue
		}
		if err := env.Bank.Move("jobs.memo", env.Escrow, crypto.Address(memo.Beneficiary), market.MemoFee); err != nil {
			return 0, err
		}
		if err := countHit(env, memo, st.CodeHash, st.Fn, st.InputHash); err != nil {
			return 0, err
		}
		paid += market.MemoFee
	}
	return paid, nil
}

// storeMemos records the memos a settled result of m makes: the result
// itself, for m's (code, fn, input), when it may be replayed (it wrote
// nothing, a memo hit changes no state; it did not read its context; every
// read names a stored version, market.Memoizable); and, for a composite,
// each step that recorded its own result (wasm.Step.Result), for that
// step's (code, fn, input). The beneficiary of each is the miner paid the
// first tier.
func storeMemos(env Env, m *statepb.Request, res *wasm.Result, hash [32]byte, beneficiary crypto.Address) error {
	if len(res.WriteSet) == 0 && !res.Context {
		if err := putMemo(env, m, 0, id32(m.CodeHash), m.Fn, id32(m.InputHash), res.ReadSet, hash, beneficiary); err != nil {
			return err
		}
	}
	for i, st := range res.Steps {
		if len(st.Result) == 0 {
			continue
		}
		var sr wasm.Result
		if err := sr.UnmarshalBinary(st.Result); err != nil {
			return &registry.CorruptError{Err: err} // checked at reveal
		}
		if err := putMemo(env, m, uint32(i+1), st.CodeHash, st.Fn, st.InputHash, sr.ReadSet, sha256.Sum256(st.Result), beneficiary); err != nil {
			return err
		}
	}
	return nil
}

// putMemo stores the memo of (code, fn, input) pointing at m's entry
// (step 0) or one of its steps, unless a read names no stored version.
func putMemo(env Env, m *statepb.Request, step uint32, code [32]byte, fn string, input [32]byte, rs []wasm.Read, hash [32]byte, beneficiary crypto.Address) error {
	reads := make([]market.Read, len(rs))
	for i, r := range rs {
		reads[i] = market.Read(r)
	}
	if !market.Memoizable(reads) {
		return nil
	}
	key := market.MemoKey(code, fn, input, reads)
	memo := &statepb.Memo{Key: key[:], RequestId: bytes.Clone(m.Id), ResultHash: hash[:], Height: env.Height,
		Beneficiary: bytes.Clone(beneficiary[:]), Step: step}
	return env.S.Set(state.MemoSlot(code, fn, input), state.EncodeRecord(memo))
}
