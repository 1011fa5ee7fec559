package jobs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/miners"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// settle closes m's round, whose reveals agreed on a.Result; late are the
// miners penalised for not revealing in it (named on the entry). A result
// that read a key since rewritten is stale: nothing is applied or paid
// and the request is re-offered (a new round from this block) until its
// deadline. Otherwise the write set is applied, the agreeing miners are
// paid by market.Settle, the memos that answered composite steps are paid
// their fee (payStepHits), the requester gets the rest of the escrow back,
// disagreeing miners are marked, the memos are stored and the result goes
// on the resultChain.
func settle(env Env, m *statepb.Request, j *market.Job, a market.Agreement, late [][]byte) ([]Event, error) {
	const op = "jobs.settle"
	id := id32(m.Id)
	raw, err := env.S.Get(state.RevealKey(id, a.Result))
	if err != nil {
		return nil, err
	}
	var res wasm.Result
	if err := res.UnmarshalBinary(raw); err != nil {
		return nil, &registry.CorruptError{Err: err}
	}
	i, err := stale(env.S, res.ReadSet)
	if err != nil {
		return nil, err
	}
	if i >= 0 {
		if env.Height >= m.Deadline { // no room for another round
			return expire(env, m, j, late)
		}
		evs, err := reopen(env, m, j, "stale")
		if len(evs) > 0 {
			rd := res.ReadSet[i]
			evs[0].Attrs = append(evs[0].Attrs, "key", rd.Contract+"/"+hex.EncodeToString(rd.Key))
		}
		return evs, err
	}
	if err := dropReveals(env.S, j); err != nil { // reopen and expire drop them too
		return nil, err
	}
	if err := checkWrites(env.S, res.WriteSet); err != nil {
		return nil, vmerr.Wrap(op, vmerr.Internal, err) // checked at reveal
	}
	if err := applyWrites(env.S, res.WriteSet); err != nil {
		return nil, err
	}
	pay, err := market.Settle(env.P, marketRequest(m), a.Agreeing, res.GasUsed)
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Internal, err) // reveals are checked against the limit
	}
	hits, err := payStepHits(env, &res, pay.Refund)
	if err != nil {
		return nil, err
	}
	pay.Refund -= hits
	rec := &statepb.Result{Status: StatusSettled, ResultHash: bytes.Clone(a.Result[:]), Result: raw, Applied: res.Status == wasm.StatusOK,
		Refund: pay.Refund, Cost: m.Escrow - pay.Refund, Unrevealed: late, MemoFees: hits}
	for _, p := range pay.Miners {
		if err := env.Bank.Move(op, env.Escrow, p.Miner, p.Reward+p.Gas); err != nil {
			return nil, err
		}
		if err := bumpMiner(env.S, p.Miner, func(r *statepb.Miner) { r.Agreed++; r.Earned += p.Reward + p.Gas }); err != nil {
			return nil, err
		}
		rec.Paid = append(rec.Paid, &statepb.Payment{Miner: bytes.Clone(p.Miner[:]), Reward: p.Reward, Gas: p.Gas})
	}
	if err := env.Bank.Move(op, env.Escrow, crypto.Address(m.Requester), pay.Refund); err != nil {
		return nil, err
	}
	for _, d := range a.Disagreeing {
		if err := bumpMiner(env.S, d, func(r *statepb.Miner) { r.Disagreed++ }); err != nil {
			return nil, err
		}
		rec.Disagreed = append(rec.Disagreed, bytes.Clone(d[:]))
	}
	if err := storeMemos(env, m, &res, a.Result, pay.Miners[0].Miner); err != nil {
		return nil, err
	}
	j.Settled = true
	storeJob(m, j)
	m.Status = StatusSettled
	if err := save(env.S, m); err != nil {
		return nil, err
	}
	return appendResult(env, m, rec, "", &res)
}

// reopen starts a new round of m from this block (its reveals dropped):
// miners run it again on the state after this block.
func reopen(env Env, m *statepb.Request, j *market.Job, reason string) ([]Event, error) {
	if err := dropReveals(env.S, j); err != nil {
		return nil, err
	}
	j.Start, j.ClosedAt, j.Commits = env.Height, 0, nil
	storeJob(m, j)
	m.StartTime, m.Round = env.Time, m.Round+1
	if err := save(env.S, m); err != nil {
		return nil, err
	}
	return []Event{{Type: EventReopened, Attrs: []string{"id", hex.EncodeToString(m.Id), "reason", reason,
		"round", strconv.FormatUint(uint64(m.Round), 10)}}}, nil
}

// expire closes m unsettled: the escrow goes back to the requester and
// the entry on the resultChain says expired, naming the miners penalised
// (late) for not revealing.
func expire(env Env, m *statepb.Request, j *market.Job, late [][]byte) ([]Event, error) {
	if err := env.Bank.Move("jobs.expire", env.Escrow, crypto.Address(m.Requester), m.Escrow); err != nil {
		return nil, err
	}
	if err := dropReveals(env.S, j); err != nil {
		return nil, err
	}
	m.Status = StatusExpired
	if err := save(env.S, m); err != nil {
		return nil, err
	}
	evs, err := appendResult(env, m, &statepb.Result{Status: StatusExpired, Refund: m.Escrow, Unrevealed: late}, "", nil)
	if err != nil {
		return nil, err
	}
	return append([]Event{{Type: EventExpired, Attrs: []string{"id", hex.EncodeToString(m.Id)}}}, evs...), nil
}

// appendResult completes rec for m and links it onto the resultChain.
// res is the contract run's result (nil when none settled: expired).
//
// The result_committed event carries, besides the record's id, status,
// requester, seq and cost: contract (name@version), fn and included (the
// request's inclusion height), and with res exec_status (ok, out_of_gas,
// ...) and gas_used — what the chain's explorer index aggregates per
// contract without reading state. All are deterministic (from state).
func appendResult(env Env, m *statepb.Request, rec *statepb.Result, memoOf string, res *wasm.Result) ([]Event, error) {
	head, err := chainHead(env.S)
	if err != nil {
		return nil, err
	}
	rec.RequestId, rec.Requester = bytes.Clone(m.Id), bytes.Clone(m.Requester)
	rec.Contract, rec.Fn, rec.Rounds, rec.Height = m.Name+"@"+m.Version, m.Fn, m.Round, env.Height
	rec.Seq, rec.Prev = head.Seq+1, head.Hash
	enc := state.EncodeRecord(rec)
	sum := sha256.Sum256(enc)
	if err := env.S.Set(state.ResultKey(id32(m.Id)), enc); err != nil {
		return nil, err
	}
	if err := env.S.Set(state.ResultHeadKey(), state.EncodeRecord(&statepb.ChainHead{Seq: rec.Seq, Hash: sum[:]})); err != nil {
		return nil, err
	}
	attrs := []string{"id", hex.EncodeToString(m.Id), "status", rec.Status, "requester", crypto.Address(m.Requester).String(),
		"seq", strconv.FormatUint(rec.Seq, 10), "cost", strconv.FormatUint(rec.Cost, 10),
		"contract", rec.Contract, "fn", rec.Fn, "included", strconv.FormatInt(m.Included, 10)}
	if res != nil {
		attrs = append(attrs, "exec_status", res.Status.String(), "gas_used", strconv.FormatUint(res.GasUsed, 10))
	}
	if len(rec.ResultHash) > 0 {
		attrs = append(attrs, "result_hash", hex.EncodeToString(rec.ResultHash), "applied", strconv.FormatBool(rec.Applied))
	}
	if memoOf != "" {
		attrs = append(attrs, "memo_of", memoOf)
	}
	if len(rec.Paid) > 0 { // the miners paid, fastest first: the explorer's jobs per miner
		ms := make([]string, len(rec.Paid))
		for i, p := range rec.Paid {
			ms[i] = crypto.Address(p.Miner).String()
		}
		attrs = append(attrs, "miners", strings.Join(ms, ","))
	}
	return []Event{{Type: EventResult, Attrs: attrs}}, nil
}

func chainHead(s registry.Reader) (*statepb.ChainHead, error) {
	raw, err := s.Get(state.ResultHeadKey())
	if err != nil {
		return nil, err
	}
	h, err := state.DecodeChainHead(raw)
	if err != nil {
		return nil, &registry.CorruptError{Err: err}
	}
	return h, nil
}

// dropReveals deletes the stored reveals of j's round (one per distinct
// revealed hash; deleting a key twice is harmless).
func dropReveals(s registry.Store, j *market.Job) error {
	for _, c := range j.Commits {
		if c.Revealed {
			if err := s.Set(state.RevealKey(j.ID, c.Result), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// bumpMiner applies f to the record of the registered miner addr.
func bumpMiner(s registry.Store, addr crypto.Address, f func(*statepb.Miner)) error {
	rec, _, err := miners.Get(s, addr)
	if vmerr.KindOf(err) == vmerr.NotFound {
		return nil // a memo's beneficiary need not still be a miner record
	}
	if err != nil {
		return err
	}
	f(rec)
	return s.Set(state.MinerKey(addr), state.EncodeRecord(rec))
}
