package jobs

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/miners"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// Seal records signer's seal of request msg.RequestId in this block.
// It must name the current round (msg.Start) and the signer must be a
// registered, active compute miner (kind cpu, gpu or browser) whose
// minimum GAS the request's offer meets; then market.Job.Seal decides.
// Errors: Invalid (malformed), NotFound (no such request, or not a
// miner), Timeout (another round), Unauthorized (inactive or non-compute
// miner), Limit (offer below the miner's minimum), and market.Job.Seal's.
func Seal(env Env, signer crypto.Address, msg *txpb.Seal) ([]Event, error) {
	const op = "jobs.seal"
	id, err := state.RequestIDBytes(msg.GetRequestId())
	if err != nil {
		return nil, err
	}
	if len(msg.GetSeal()) != 32 {
		return nil, vmerr.E(op, vmerr.Invalid, "seal is %d bytes, want 32", len(msg.GetSeal()))
	}
	m, j, err := eligible(env, signer, id, msg.GetStart())
	if err != nil {
		return nil, err
	}
	if err := j.Seal(signer, id32(msg.GetSeal()), env.Height); err != nil {
		return nil, err
	}
	if err := bumpMiner(env.S, signer, func(r *statepb.Miner) { r.JobsTaken++ }); err != nil {
		return nil, err
	}
	storeJob(m, j)
	if err := save(env.S, m); err != nil {
		return nil, err
	}
	return []Event{{Type: EventSeal, Attrs: []string{"id", hex.EncodeToString(id[:]), "miner", signer.String()}}}, nil
}

// Reveal opens miner's seal of request msg.RequestId with the canonical
// result bytes, and settles the request when its reveals reach quorum.
// Errors: Invalid or Decode (malformed, a result that is not canonical,
// uses more gas than the limit or writes a namespace no contract owns),
// NotFound (no such request), and market.Job.Reveal's (reveal for another
// miner, without a seal, twice, outside the reveal phase, not matching the
// seal).
func Reveal(env Env, signer crypto.Address, msg *txpb.Reveal) ([]Event, error) {
	const op = "jobs.reveal"
	id, err := state.RequestIDBytes(msg.GetRequestId())
	if err != nil {
		return nil, err
	}
	miner, err := crypto.AddressFromBytes(msg.GetMiner())
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	m, _, err := GetRequest(env.S, id)
	if err != nil {
		return nil, err
	}
	hash, err := checkResult(env, m, msg.GetResult())
	if err != nil {
		return nil, err
	}
	j := jobOf(m)
	if err := j.Reveal(signer, miner, hash, env.Height); err != nil {
		return nil, err
	}
	return opened(env, m, j, id, hash, msg.GetResult(), Event{Type: EventReveal,
		Attrs: []string{"id", hex.EncodeToString(id[:]), "miner", miner.String(), "result_hash", hex.EncodeToString(hash[:])}})
}

// Result applies a quorum-1 request's single answer: Seal's eligibility
// checks, Reveal's result checks, then market.Job.Result and settlement.
func Result(env Env, signer crypto.Address, msg *txpb.Result) ([]Event, error) {
	id, err := state.RequestIDBytes(msg.GetRequestId())
	if err != nil {
		return nil, err
	}
	m, j, err := eligible(env, signer, id, msg.GetStart())
	if err != nil {
		return nil, err
	}
	hash, err := checkResult(env, m, msg.GetResult())
	if err != nil {
		return nil, err
	}
	if err := j.Result(signer, hash, env.Height); err != nil {
		return nil, err
	}
	if err := bumpMiner(env.S, signer, func(r *statepb.Miner) { r.JobsTaken++ }); err != nil {
		return nil, err
	}
	return opened(env, m, j, id, hash, msg.GetResult(), Event{Type: EventReveal,
		Attrs: []string{"id", hex.EncodeToString(id[:]), "miner", signer.String(), "result_hash", hex.EncodeToString(hash[:])}})
}

// opened stores a revealed result and settles the request once its
// quorum agrees and every miner that sealed this round has revealed (so
// up to k agreeing miners are paid, and a wrong result revealed in time is
// always marked). A miner that never reveals delays settlement to the end
// of the reveal window (Tick), where it is penalised. A round whose
// miners all revealed without a quorum is re-offered at once.
func opened(env Env, m *statepb.Request, j *market.Job, id, hash [32]byte, raw []byte, ev Event) ([]Event, error) {
	if err := env.S.Set(state.RevealKey(id, hash), raw); err != nil {
		return nil, err
	}
	storeJob(m, j)
	a := j.Agreement()
	switch {
	case len(a.Unrevealed) > 0:
		return []Event{ev}, save(env.S, m)
	case !a.Reached:
		evs, err := reopen(env, m, j, "no_quorum")
		return append([]Event{ev}, evs...), err
	}
	evs, err := settle(env, m, j, a, nil)
	if err != nil {
		return nil, err
	}
	return append([]Event{ev}, evs...), nil
}

// eligible loads request id and checks signer may take the round that
// started at start (a seal or result computed for an earlier round ran on
// other state with another seed, so it is refused, kind Timeout).
func eligible(env Env, signer crypto.Address, id [32]byte, start int64) (*statepb.Request, *market.Job, error) {
	const op = "jobs.seal"
	m, _, err := GetRequest(env.S, id)
	if err != nil {
		return nil, nil, err
	}
	if start != m.Start && m.Status == StatusOpen {
		return nil, nil, vmerr.E(op, vmerr.Timeout, "request %x: the message is for the round started at %d; the current round started at %d", id, start, m.Start)
	}
	rec, _, err := miners.Get(env.S, signer)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !rec.Active:
		return nil, nil, vmerr.E(op, vmerr.Unauthorized, "miner %s is registered as inactive", signer)
	case rec.Kind != "cpu" && rec.Kind != "gpu" && rec.Kind != "browser":
		return nil, nil, vmerr.E(op, vmerr.Unauthorized, "miner %s is a %s miner; only cpu, gpu and browser miners compute", signer, rec.Kind)
	}
	offer, _ := market.Offer(env.P, marketRequest(m))
	if offer < rec.MinGas {
		return nil, nil, vmerr.E(op, vmerr.Limit, "request offers %d GAS, below miner %s's minimum of %d", offer, signer, rec.MinGas)
	}
	return m, jobOf(m), nil
}

// checkResult decodes canonical result bytes for m and returns their hash.
func checkResult(env Env, m *statepb.Request, raw []byte) ([32]byte, error) {
	const op = "jobs.result"
	var res wasm.Result
	if err := res.UnmarshalBinary(raw); err != nil {
		return [32]byte{}, err
	}
	if res.GasUsed > m.GasLimit {
		return [32]byte{}, vmerr.E(op, vmerr.Invalid, "result used %d gas; the request's limit is %d", res.GasUsed, m.GasLimit)
	}
	if len(res.Steps) > 0 && !m.Composite {
		return [32]byte{}, vmerr.E(op, vmerr.Invalid, "result records composite steps; %s@%s is not a composite", m.Name, m.Version)
	}
	if err := checkWrites(env.S, res.WriteSet); err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(raw), nil
}
