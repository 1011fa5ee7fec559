package jobs

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Event types.
const (
	EventRequest  = "request"
	EventSeal     = "seal"
	EventReveal   = "reveal"
	EventResult   = "result_committed"
	EventReopened = "request_reopened"
	EventExpired  = "request_expired"
	EventPenalty  = "miner_penalised"
)

// Included is what Include did.
type Included struct {
	ID     [32]byte
	Memo   bool // answered from a memo in this block
	Events []Event
}

// Include applies the Request message msg of transaction txHash (message
// index idx) signed by requester: it validates msg (market.Request.Validate
// under env.P), resolves name@range to an exact version, checks the
// function exists (a composite's only function is composite.RunFn; a
// module's are its exports), moves the escrow (market.Escrow) from the
// requester to env.Escrow, and opens the request's first round at
// env.Height. When a still-valid memo of (code, fn, input) exists the
// request settles at once instead: the escrow goes back and the requester
// pays market.MemoFee to the memo's beneficiary (the caller refunds the
// transaction fee, see the ledger). Errors: Invalid, TooLarge, Limit,
// Overflow (validation), NotFound (unknown contract, no version in range,
// unknown function), InsufficientFunds, *registry.CorruptError, and the
// store's.
func Include(env Env, requester crypto.Address, txHash [32]byte, idx uint32, msg *txpb.Request) (Included, error) {
	const op = "jobs.request"
	r := FromMsg(msg)
	ref, err := r.Validate(env.P)
	if err != nil {
		return Included{}, err
	}
	v, err := env.resolve(ref.Name, ref.Range)
	if err != nil {
		return Included{}, err
	}
	if err := CheckFn(v, r.Fn); err != nil {
		return Included{}, err
	}
	composed := len(v.Manifest) > 0
	var codeHash [32]byte
	switch {
	case composed:
		codeHash = state.RecordHash(v)
	case len(v.MeteredCid) < 32:
		return Included{}, &registry.CorruptError{Err: vmerr.E(op, vmerr.Internal, "%s@%s has no metered CID", v.Name, v.Version)}
	default: // a CIDv1 raw sha2-256 ends with the 32-byte digest
		copy(codeHash[:], v.MeteredCid[len(v.MeteredCid)-32:])
	}
	escrow, _ := market.Escrow(r) // Validate checked it
	if err := env.Bank.Move(op, requester, env.Escrow, escrow); err != nil {
		return Included{}, err
	}
	id := market.RequestID(txHash, idx)
	if raw, err := env.S.Get(state.RequestKey(id)); err != nil || raw != nil {
		if err == nil {
			err = vmerr.E(op, vmerr.Exists, "request %x exists", id)
		}
		return Included{}, err
	}
	inputHash := hash32(r.Input)
	m := &statepb.Request{
		Id: bytes.Clone(id[:]), Requester: bytes.Clone(requester[:]), Contract: r.Contract, Name: v.Name, Version: v.Version,
		CodeHash: bytes.Clone(codeHash[:]), MeteredCid: bytes.Clone(v.MeteredCid), Composite: composed, Fn: r.Fn,
		Input: bytes.Clone(r.Input), InputHash: bytes.Clone(inputHash[:]), GasLimit: r.GasLimit, Price: r.Price,
		Reward: r.Reward, Replicas: r.Replicas, Quorum: r.Quorum, Included: env.Height, Deadline: env.Height + r.Deadline,
		Escrow: escrow, Start: env.Height, StartTime: env.Time, CommitWindow: commitWindow(env.P, r),
		RevealWindow: env.P.RevealWindow, Round: 1, Status: StatusOpen, TxHash: bytes.Clone(txHash[:]),
	}
	ev := Event{Type: EventRequest, Attrs: []string{"id", hex.EncodeToString(id[:]), "requester", requester.String(),
		"contract", v.Name + "@" + v.Version, "fn", r.Fn, "escrow", strconv.FormatUint(escrow, 10)}}
	hit, err := memoHit(env, m)
	if err != nil {
		return Included{}, err
	}
	if hit != nil {
		evs, err := settleMemo(env, m, hit)
		if err != nil {
			return Included{}, err
		}
		ev.Attrs = append(ev.Attrs, "memo", "true")
		return Included{ID: id, Memo: true, Events: append([]Event{ev}, evs...)}, nil
	}
	ev.Attrs = append(ev.Attrs, "memo", "false")
	if err := save(env.S, m); err != nil {
		return Included{}, err
	}
	return Included{ID: id, Events: []Event{ev}}, nil
}

// FromMsg is the market.Request a Request message asks for.
func FromMsg(msg *txpb.Request) market.Request {
	return market.Request{Contract: msg.GetContract(), Fn: msg.GetFn(), Input: msg.GetInput(), GasLimit: msg.GetGasLimit(),
		Price: msg.GetPrice(), Reward: msg.GetReward(), Replicas: msg.GetReplicas(), Quorum: msg.GetQuorum(), Deadline: msg.GetDeadline()}
}

// CheckFn refuses (kind NotFound) a function version v cannot run: a
// composite's only function is composite.RunFn, a module's are its exports.
func CheckFn(v *statepb.Version, fn string) error {
	switch {
	case len(v.Manifest) > 0 && fn != composite.RunFn:
		return vmerr.E("jobs.request", vmerr.NotFound, "%s@%s is a composite: its one function is %q, not %q", v.Name, v.Version, composite.RunFn, fn)
	case len(v.Manifest) == 0 && !slices.Contains(v.Exports, fn):
		return vmerr.E("jobs.request", vmerr.NotFound, "%s@%s exports no function %q", v.Name, v.Version, fn)
	}
	return nil
}

// Apply applies message idx of transaction txHash signed by signer when it
// is a market message (Request, Seal, Reveal, Result); ok is false for any
// other message. memo reports a Request answered from a memo.
func Apply(env Env, signer crypto.Address, txHash [32]byte, idx uint32, m *txpb.Msg) (evs []Event, memo, ok bool, err error) {
	switch v := m.GetSum().(type) {
	case *txpb.Msg_Request:
		var inc Included
		inc, err = Include(env, signer, txHash, idx, v.Request)
		return inc.Events, inc.Memo, true, err
	case *txpb.Msg_Seal:
		evs, err = Seal(env, signer, v.Seal)
	case *txpb.Msg_Reveal:
		evs, err = Reveal(env, signer, v.Reveal)
	case *txpb.Msg_Result:
		evs, err = Result(env, signer, v.Result)
	default:
		return nil, false, false, nil
	}
	return evs, false, true, err
}

// commitWindow is the commit window a request gets: the chain's, except
// that a quorum-1 request's one round lasts until its deadline. Its first
// result settles it, so there is nothing to gain from lapsing and
// re-offering it while a miner works on it, and a busy miner's result
// still lands in the round it was computed for.
func commitWindow(p market.Params, r market.Request) int64 {
	if r.Quorum == 1 {
		return r.Deadline
	}
	return p.CommitWindow
}
