package market

import (
	"math/bits"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Pay is what one paid miner receives when a request settles.
type Pay struct {
	Miner  crypto.Address
	Reward uint64 // its tier's share of the reward
	Gas    uint64 // gas used × price
}

// Payout is the settlement of a request's escrow: the paid miners in seal
// order and the refund to the requester. Total() equals the escrow exactly.
type Payout struct {
	Miners []Pay
	Refund uint64
}

// Total returns the sum of every payment and the refund. For a Payout that
// Settle returned it equals Escrow of the request and cannot overflow.
func (p Payout) Total() uint64 {
	t := p.Refund
	for _, m := range p.Miners {
		t += m.Reward + m.Gas
	}
	return t
}

// Split divides reward among the first replicas tiers of the schedule
// tiers (basis points, fastest first) and pays the first paid of them:
//
//	share[i] = ⌊reward × tiers[i] / 10000⌋   for 1 <= i < replicas
//	share[0] = reward − Σ share[1..replicas)
//
// so the fastest miner takes whatever the request's later tiers do not (a
// request with one replica pays it the whole reward), nothing is lost to
// rounding, and with a non-increasing schedule share[i] >= share[i+1]. It
// returns share[0..paid) and refund = Σ share[paid..replicas), the shares of
// replicas that did not agree; Σ shares + refund == reward exactly.
//
// Errors are of kind vmerr.Invalid: replicas outside 1..len(tiers), paid
// outside 0..replicas, or tiers[0..replicas) summing to more than
// BasisPoints (a schedule Params.Validate refuses).
func Split(reward uint64, paid, replicas int, tiers []uint32) (shares []uint64, refund uint64, err error) {
	const op = "market.split"
	if replicas < 1 || replicas > len(tiers) {
		return nil, 0, vmerr.E(op, vmerr.Invalid, "%d replicas with %d tiers", replicas, len(tiers))
	}
	if paid < 0 || paid > replicas {
		return nil, 0, vmerr.E(op, vmerr.Invalid, "%d paid of %d replicas", paid, replicas)
	}
	var bp uint64
	for i, t := range tiers[:replicas] {
		bp += uint64(t)
		if bp > BasisPoints {
			return nil, 0, vmerr.E(op, vmerr.Invalid, "tiers 0..%d sum to more than %d basis points", i, BasisPoints)
		}
	}
	shares = make([]uint64, paid)
	var rest uint64 // Σ share[1..replicas) <= reward, as the tiers sum to at most 10000
	for i := 1; i < replicas; i++ {
		hi, lo := bits.Mul64(reward, uint64(tiers[i]))
		s, _ := bits.Div64(hi, lo, BasisPoints) // hi < BasisPoints: no panic
		rest += s
		if i < paid {
			shares[i] = s
		} else {
			refund += s
		}
	}
	if paid > 0 {
		shares[0] = reward - rest
	} else {
		refund += reward - rest
	}
	return shares, refund, nil
}

// Settle pays out the escrow of request r whose round agreed on a result
// that used gasUsed gas, agreeing being Agreement.Agreeing (seal order).
// The first min(len(agreeing), r.Replicas) agreeing miners are paid: each
// its Split share of the reward plus gasUsed × r.Price for the run it did;
// everything else in Escrow(r) — the unpaid tiers, and the unused gas of
// every replica — is refunded to the requester. Disagreeing and unrevealed
// miners are paid nothing.
//
// Errors: Escrow's (kind vmerr.Overflow); fewer than r.Quorum agreeing
// miners, gasUsed above r.GasLimit, or a schedule Split refuses (kind
// vmerr.Invalid).
func Settle(p Params, r Request, agreeing []crypto.Address, gasUsed uint64) (Payout, error) {
	const op = "market.settle"
	escrow, err := Escrow(r)
	if err != nil {
		return Payout{}, err
	}
	if len(agreeing) < int(r.Quorum) || len(agreeing) == 0 {
		return Payout{}, vmerr.E(op, vmerr.Invalid, "%d agreeing miners; the quorum is %d", len(agreeing), r.Quorum)
	}
	if gasUsed > r.GasLimit {
		return Payout{}, vmerr.E(op, vmerr.Invalid, "gas used %d exceeds the limit %d", gasUsed, r.GasLimit)
	}
	paid := min(len(agreeing), int(r.Replicas))
	shares, _, err := Split(r.Reward, paid, int(r.Replicas), p.Tiers)
	if err != nil {
		return Payout{}, err
	}
	gas := gasUsed * r.Price // <= GasLimit × Price, which Escrow bounds
	out := Payout{Miners: make([]Pay, paid), Refund: escrow}
	for i := range paid {
		out.Miners[i] = Pay{Miner: agreeing[i], Reward: shares[i], Gas: gas}
		out.Refund -= shares[i] + gas
	}
	return out, nil
}

// Offer is the most one miner can earn from request r under p: the
// fastest tier's Split share of the reward plus GasLimit × Price. A miner
// whose minimum GAS exceeds it never takes r. Errors are Escrow's and
// Split's.
func Offer(p Params, r Request) (uint64, error) {
	if _, err := Escrow(r); err != nil { // bounds GasLimit × Price
		return 0, err
	}
	shares, _, err := Split(r.Reward, 1, int(r.Replicas), p.Tiers)
	if err != nil {
		return 0, err
	}
	return shares[0] + r.GasLimit*r.Price, nil
}
