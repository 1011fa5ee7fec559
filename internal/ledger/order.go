package ledger

import (
	"cmp"
	"slices"
	"sync"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
)

// GapPatience is how many heights a proposer holds back a transaction
// whose signer has a nonce gap before it proposes it anyway (where it
// fails with BadNonce and so leaves every mempool). It bounds how long a
// transaction whose predecessor never arrives stays in the mempool.
const GapPatience = 8

// gapTracker remembers, on the proposer only, since which height each
// held-back transaction has been held back. It is not consensus state.
type gapTracker struct {
	mu    sync.Mutex
	since map[tx.Hash]int64
}

// orderItem is one transaction of a proposal being ordered.
type orderItem struct {
	raw   []byte
	s     *tx.Signed // nil: does not decode; kept where it is
	nonce uint64
}

// orderProposal returns txs in proposal order for height: every signer's
// transactions sorted by nonce into the slots that signer's transactions
// held (so one account's nonces never run backwards, whatever order
// gossip delivered them in), and a signer's transactions after a nonce gap
// (relative to its committed nonce and the ones before it in the
// proposal) left out, unless held back for GapPatience heights already.
// Transactions that do not decode, and nonces below the expected one
// (replays, duplicates), stay: FinalizeBlock fails them, which removes
// them from the mempool. nonceOf returns a signer's committed nonce and
// false when it is not known (then that signer's nonces are only sorted).
// moved counts the txs that changed place, held those left out.
func (g *gapTracker) orderProposal(height int64, txs [][]byte, chainID string, nonceOf func(crypto.Address) (uint64, bool)) (out [][]byte, moved, held int) {
	items := make([]orderItem, len(txs))
	slots := make(map[crypto.Address][]int) // signer -> positions, ascending
	var signers []crypto.Address            // in order of first appearance
	for i, raw := range txs {
		items[i].raw = raw
		s, err := tx.Decode(raw, chainID)
		if err != nil {
			continue
		}
		items[i].s, items[i].nonce = s, s.Body.Nonce
		if _, ok := slots[s.Signer]; !ok {
			signers = append(signers, s.Signer)
		}
		slots[s.Signer] = append(slots[s.Signer], i)
	}
	keep := make([]bool, len(txs))
	for i := range items {
		keep[i] = items[i].s == nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	holding := make(map[tx.Hash]int64, len(g.since))
	for _, who := range signers {
		pos := slots[who]
		mine := make([]orderItem, len(pos))
		for j, p := range pos {
			mine[j] = items[p]
		}
		slices.SortStableFunc(mine, func(a, b orderItem) int { return cmp.Compare(a.nonce, b.nonce) })
		next, known := nonceOf(who)
		gap := false
		for j, p := range pos {
			it := mine[j]
			if it.s != items[p].s {
				moved++
			}
			items[p] = it
			switch {
			case !known || it.nonce < next:
				keep[p] = true
			case !gap && it.nonce == next:
				keep[p] = true
				next++
			default:
				gap = true
				first, ok := g.since[it.s.Hash]
				if !ok {
					first = height
				}
				if height-first >= GapPatience {
					keep[p] = true
				} else {
					holding[it.s.Hash] = first
					held++
				}
			}
		}
	}
	g.since = holding // forget what is no longer held back
	out = make([][]byte, 0, len(txs))
	for i, it := range items {
		if keep[i] {
			out = append(out, it.raw)
		}
	}
	return out, moved, held
}

// committedNonce is the signer's nonce in the committed state; false
// before the first Commit or when it cannot be read.
func (a *App) committedNonce(addr crypto.Address) (uint64, bool) {
	a.qmu.RLock()
	defer a.qmu.RUnlock()
	if a.committed == nil {
		return 0, false
	}
	raw, err := a.committed.Get(state.AccountKey(addr))
	if err != nil {
		return 0, false
	}
	acc, err := state.DecodeAccount(raw)
	if err != nil {
		return 0, false
	}
	return acc.Nonce, true
}
