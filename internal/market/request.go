package market

import (
	"math/bits"
	"unicode/utf8"

	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Request is a signed ask to run a contract function on an input (DESIGN
// §2 step 1). Amounts are decimal strings in JSON.
type Request struct {
	Contract string `json:"contract"` // "name@range", resolved at inclusion
	Fn       string `json:"fn"`
	Input    []byte `json:"input,omitempty"`
	GasLimit uint64 `json:"gas_limit,string"` // per replica
	Price    uint64 `json:"price,string"`     // GAS per unit of gas used
	Reward   uint64 `json:"reward,string"`    // split among the paid replicas by tier
	Replicas uint32 `json:"replicas"`         // k: at most k miners seal and are paid
	Quorum   uint32 `json:"quorum"`           // q: results that must agree by hash
	Deadline int64  `json:"deadline"`         // blocks after inclusion
}

// Validate checks r statelessly against p and returns its parsed contract
// reference. The errors:
//   - kind vmerr.Invalid: a contract reference contract.ParseRef refuses; a
//     function name that is empty, longer than MaxFnLen bytes or not UTF-8;
//     a zero gas limit; quorum 0 or above replicas; quorum 1 with more than
//     one replica (a quorum-1 request settles at its first result, so a
//     second replica could never be paid); a deadline shorter than
//     p.CommitWindow + p.RevealWindow (one full round must fit);
//   - kind vmerr.TooLarge: an input over p.MaxInputSize bytes;
//   - kind vmerr.Limit: a gas limit over p.MaxGasLimit, replicas over
//     p.MaxReplicas, a deadline over p.MaxDeadline;
//   - kind vmerr.Overflow: an escrow that overflows or exceeds tx.MaxAmount
//     (see Escrow).
func (r Request) Validate(p Params) (contract.Ref, error) {
	const op = "market.request"
	ref, err := contract.ParseRef(r.Contract)
	if err != nil {
		return contract.Ref{}, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	switch {
	case len(r.Fn) == 0 || len(r.Fn) > MaxFnLen:
		return contract.Ref{}, vmerr.E(op, vmerr.Invalid, "fn is %d bytes; 1..%d are allowed", len(r.Fn), MaxFnLen)
	case !utf8.ValidString(r.Fn):
		return contract.Ref{}, vmerr.E(op, vmerr.Invalid, "fn is not valid UTF-8")
	case len(r.Input) > p.MaxInputSize:
		return contract.Ref{}, vmerr.E(op, vmerr.TooLarge, "input is %d bytes; at most %d are allowed", len(r.Input), p.MaxInputSize)
	case r.GasLimit == 0:
		return contract.Ref{}, vmerr.E(op, vmerr.Invalid, "gas limit is 0")
	case r.GasLimit > p.MaxGasLimit:
		return contract.Ref{}, vmerr.E(op, vmerr.Limit, "gas limit %d exceeds the maximum %d", r.GasLimit, p.MaxGasLimit)
	case r.Replicas > p.MaxReplicas:
		return contract.Ref{}, vmerr.E(op, vmerr.Limit, "replicas %d exceed the maximum %d", r.Replicas, p.MaxReplicas)
	case r.Quorum == 0 || r.Quorum > r.Replicas:
		return contract.Ref{}, vmerr.E(op, vmerr.Invalid, "quorum %d with %d replicas; 1 <= quorum <= replicas is required", r.Quorum, r.Replicas)
	case r.Quorum == 1 && r.Replicas != 1:
		return contract.Ref{}, vmerr.E(op, vmerr.Invalid, "quorum 1 settles at the first result, so replicas must be 1, not %d", r.Replicas)
	case r.Deadline > p.MaxDeadline:
		return contract.Ref{}, vmerr.E(op, vmerr.Limit, "deadline %d blocks exceeds the maximum %d", r.Deadline, p.MaxDeadline)
	case r.Deadline < p.CommitWindow+p.RevealWindow: // Params.Validate bounds the sum by MaxDeadline
		return contract.Ref{}, vmerr.E(op, vmerr.Invalid, "deadline %d blocks is shorter than one commit and reveal round (%d + %d)", r.Deadline, p.CommitWindow, p.RevealWindow)
	}
	if _, err := Escrow(r); err != nil {
		return contract.Ref{}, err
	}
	return ref, nil
}

// Escrow is what the block that includes r moves from the requester into
// escrow: the reward plus the most the execution can cost,
//
//	Reward + Replicas × GasLimit × Price
//
// because every paid replica ran the code and is paid its gas (Settle). A
// result that settles pays out at most this and refunds the rest; an expired
// request refunds all of it. A total that overflows uint64 or exceeds
// tx.MaxAmount is an error of kind vmerr.Overflow.
func Escrow(r Request) (uint64, error) {
	const op = "market.escrow"
	hi, perReplica := bits.Mul64(r.GasLimit, r.Price)
	if hi != 0 {
		return 0, vmerr.E(op, vmerr.Overflow, "gas limit %d × price %d overflows", r.GasLimit, r.Price)
	}
	hi, gas := bits.Mul64(perReplica, uint64(r.Replicas))
	if hi != 0 {
		return 0, vmerr.E(op, vmerr.Overflow, "execution cost %d × %d replicas overflows", perReplica, r.Replicas)
	}
	total, carry := bits.Add64(gas, r.Reward, 0)
	if carry != 0 || total > tx.MaxAmount {
		return 0, vmerr.E(op, vmerr.Overflow, "escrow %d (execution) + %d (reward) exceeds %d", gas, r.Reward, uint64(tx.MaxAmount))
	}
	return total, nil
}
