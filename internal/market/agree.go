package market

import (
	"cmp"
	"slices"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Entry is one sealed miner as Agree sees it.
type Entry struct {
	Order    uint32 // position of the miner's seal: 0 sealed first
	Miner    crypto.Address
	Revealed bool
	Result   [32]byte // the revealed result hash, when Revealed
}

// Agreement is the verdict on a round's reveals. Every list is in seal
// order.
type Agreement struct {
	// Reached reports that some result hash has q reveals.
	Reached bool
	// Result is the winning hash, when Reached.
	Result [32]byte
	// Agreeing are the miners that revealed Result (when Reached).
	Agreeing []crypto.Address
	// Disagreeing are the miners that revealed another hash (when Reached;
	// without a quorum there is no truth to disagree with, and it is nil).
	Disagreeing []crypto.Address
	// Unrevealed are the miners that sealed and have not revealed.
	Unrevealed []crypto.Address
	// Possible reports that quorum is reached or can still be reached by
	// the unrevealed miners; when false, the round cannot settle.
	Possible bool
}

// Agree decides a round deterministically from its entries, in any input
// order. The winning hash is the one that reaches quorum reveals first when
// the entries are walked in seal order: with q above k/2 only one hash can
// reach quorum at all; with a lower quorum two may, and the earlier sealed
// majority wins. The ledger calls it after every reveal, so in practice the
// first hash to reach quorum settles before a second one can.
//
// Errors are of kind vmerr.Invalid: quorum 0, two entries with the same
// order or the same miner.
func Agree(entries []Entry, quorum uint32) (Agreement, error) {
	es := slices.Clone(entries)
	slices.SortFunc(es, func(a, b Entry) int { return cmp.Compare(a.Order, b.Order) })
	return agree(es, quorum)
}

// agree is Agree on entries sorted by Order.
func agree(es []Entry, quorum uint32) (Agreement, error) {
	const op = "market.agree"
	if quorum == 0 {
		return Agreement{}, vmerr.E(op, vmerr.Invalid, "quorum 0")
	}
	for i := 1; i < len(es); i++ {
		if es[i].Order == es[i-1].Order {
			return Agreement{}, vmerr.E(op, vmerr.Invalid, "two entries have seal order %d", es[i].Order)
		}
	}
	// Count per distinct hash without a map: k is at most MaxTiers, so a
	// linear scan of the hashes seen so far is both deterministic and fast.
	type tally struct {
		hash [32]byte
		n    uint32
	}
	var (
		a      Agreement
		seen   [MaxTiers]tally
		tallys = seen[:0]
		best   uint32
		hidden uint32
	)
	for i, e := range es {
		for _, o := range es[:i] {
			if o.Miner == e.Miner {
				return Agreement{}, vmerr.E(op, vmerr.Invalid, "miner %s appears twice", e.Miner)
			}
		}
		if !e.Revealed {
			hidden++
			continue
		}
		k := 0
		for k < len(tallys) && tallys[k].hash != e.Result {
			k++
		}
		if k == len(tallys) {
			tallys = append(tallys, tally{hash: e.Result})
		}
		tallys[k].n++
		best = max(best, tallys[k].n)
		if !a.Reached && tallys[k].n >= quorum {
			a.Reached, a.Result = true, e.Result
		}
	}
	a.Possible = a.Reached || uint64(best)+uint64(hidden) >= uint64(quorum)
	var won uint32 // reveals of the winning hash
	for _, t := range tallys {
		if a.Reached && t.hash == a.Result {
			won = t.n
		}
	}
	// One backing array, carved into the three lists.
	revealed := uint32(len(es)) - hidden
	buf := make([]crypto.Address, len(es))
	agreeing, disagreeing, unrevealed := buf[:0:won], buf[won:won:revealed], buf[revealed:revealed]
	for _, e := range es {
		switch {
		case !e.Revealed:
			unrevealed = append(unrevealed, e.Miner)
		case !a.Reached:
		case e.Result == a.Result:
			agreeing = append(agreeing, e.Miner)
		default:
			disagreeing = append(disagreeing, e.Miner)
		}
	}
	a.Agreeing, a.Disagreeing, a.Unrevealed = nilIfEmpty(agreeing), nilIfEmpty(disagreeing), nilIfEmpty(unrevealed)
	return a, nil
}

func nilIfEmpty(s []crypto.Address) []crypto.Address {
	if len(s) == 0 {
		return nil
	}
	return s
}
