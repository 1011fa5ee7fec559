package market

import (
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits of the parameters themselves.
const (
	// MaxTiers is the most tiers a schedule may have, and so the most
	// replicas a request may ask for.
	MaxTiers = 16
	// BasisPoints is the whole reward in basis points.
	BasisPoints = 10_000
	// MemoFee is what a request answered from a memo costs its requester in
	// total, fees included (DESIGN §1 "memo").
	MemoFee = 1
	// MaxFnLen is the longest function name, in bytes (the same bound as
	// composite.MaxFnNameLen).
	MaxFnLen = 64
)

// Params are the chain parameters of the execution market. They are part of
// the ledger's genesis parameters; amounts are decimal strings in JSON. A Job
// copies the windows it needs when the request is included, so a parameter
// change never alters a running request.
type Params struct {
	// Tiers is the pay schedule of the paid replicas in basis points of the
	// reward, fastest seal first: 1..MaxTiers entries, each > 0, non
	// increasing, summing to at most BasisPoints. Split documents how a
	// request with k replicas uses the first k tiers.
	Tiers []uint32 `json:"tiers"`
	// CommitWindow is the number of blocks after a round's first seal in
	// which more seals are accepted (unless k seals close it earlier); a
	// round nobody has sealed stays open (Job.CommitEnd).
	CommitWindow int64 `json:"commit_window"`
	// RevealWindow is the number of blocks after the commit phase closes in
	// which reveals are accepted.
	RevealWindow int64 `json:"reveal_window"`
	// MaxReplicas bounds a request's replicas k: 1..len(Tiers).
	MaxReplicas uint32 `json:"max_replicas"`
	// MaxDeadline bounds a request's deadline, in blocks after inclusion;
	// at least CommitWindow + RevealWindow, so one full round fits.
	MaxDeadline int64 `json:"max_deadline"`
	// MaxGasLimit bounds a request's gas limit.
	MaxGasLimit uint64 `json:"max_gas_limit,string"`
	// MaxInputSize bounds a request's input, in bytes.
	MaxInputSize int `json:"max_input_size"`
	// UnrevealedPenalty is what a miner that sealed and did not reveal
	// before its round's reveal window closed is charged (at most its
	// balance), paid to the fee collector.
	UnrevealedPenalty uint64 `json:"unrevealed_penalty,string"`
	// MemoFee is the total cost of a memo hit; it must equal MemoFee.
	MemoFee uint64 `json:"memo_fee,string"`
}

// Default returns the devnet parameters: a halving schedule of 16 tiers
// (5000, 2500, 1250, ... basis points, summing to exactly 10000), 5-block
// commit and reveal windows, 16 replicas, deadlines up to 1000 blocks, gas
// limits up to 10^10, inputs up to 1 MiB, a penalty of 100 GAS and the 1-GAS
// memo fee.
func Default() Params {
	return Params{
		Tiers:        []uint32{5000, 2500, 1250, 625, 312, 156, 78, 39, 20, 10, 5, 1, 1, 1, 1, 1},
		CommitWindow: 5, RevealWindow: 5,
		MaxReplicas: MaxTiers, MaxDeadline: 1000,
		MaxGasLimit: 10_000_000_000, MaxInputSize: 1 << 20,
		UnrevealedPenalty: 100, MemoFee: MemoFee,
	}
}

// Validate checks p against the rules documented on its fields. Every error
// is of kind vmerr.Invalid and names the field.
func (p Params) Validate() error {
	const op = "market.params"
	if len(p.Tiers) == 0 || len(p.Tiers) > MaxTiers {
		return vmerr.E(op, vmerr.Invalid, "tiers: %d tiers; 1..%d are allowed", len(p.Tiers), MaxTiers)
	}
	var sum uint64
	for i, t := range p.Tiers {
		if t == 0 {
			return vmerr.E(op, vmerr.Invalid, "tiers: tier %d is 0; every tier must be positive", i)
		}
		if i > 0 && t > p.Tiers[i-1] {
			return vmerr.E(op, vmerr.Invalid, "tiers: tier %d (%d) exceeds tier %d (%d); the schedule must not increase", i, t, i-1, p.Tiers[i-1])
		}
		sum += uint64(t)
	}
	if sum > BasisPoints {
		return vmerr.E(op, vmerr.Invalid, "tiers: sum %d basis points exceeds %d", sum, BasisPoints)
	}
	switch {
	case p.CommitWindow <= 0:
		return vmerr.E(op, vmerr.Invalid, "commit_window %d: must be positive", p.CommitWindow)
	case p.RevealWindow <= 0:
		return vmerr.E(op, vmerr.Invalid, "reveal_window %d: must be positive", p.RevealWindow)
	case p.MaxReplicas == 0 || int(p.MaxReplicas) > len(p.Tiers):
		return vmerr.E(op, vmerr.Invalid, "max_replicas %d: 1..%d (the number of tiers) are allowed", p.MaxReplicas, len(p.Tiers))
	case p.CommitWindow > p.MaxDeadline || p.MaxDeadline-p.CommitWindow < p.RevealWindow:
		return vmerr.E(op, vmerr.Invalid, "max_deadline %d: must be at least commit_window + reveal_window (%d + %d)", p.MaxDeadline, p.CommitWindow, p.RevealWindow)
	case p.MaxGasLimit == 0 || p.MaxGasLimit > tx.MaxAmount:
		return vmerr.E(op, vmerr.Invalid, "max_gas_limit %d: 1..%d are allowed", p.MaxGasLimit, uint64(tx.MaxAmount))
	case p.MaxInputSize <= 0:
		return vmerr.E(op, vmerr.Invalid, "max_input_size %d: must be positive", p.MaxInputSize)
	case p.UnrevealedPenalty > tx.MaxAmount:
		return vmerr.E(op, vmerr.Invalid, "unrevealed_penalty %d exceeds %d", p.UnrevealedPenalty, uint64(tx.MaxAmount))
	case p.MemoFee != MemoFee:
		return vmerr.E(op, vmerr.Invalid, "memo_fee %d: a memo hit costs exactly %d GAS", p.MemoFee, MemoFee)
	}
	return nil
}
