package ledger

import (
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// CheckInvariants scans the current state (committed, plus a finalized
// block not yet committed) and checks that every account value decodes
// and that the balances, module accounts included, add up exactly to the
// total supply fixed at genesis. It reads every account, so it is for
// tests and audits, not for every block. A violation is a vmerr of kind
// Internal.
func (a *App) CheckInvariants() error {
	const op = "ledger.invariants"
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return vmerr.E(op, vmerr.Unavailable, "ledger is closed")
	}
	raw, err := a.tree.Get(state.SupplyKey())
	if err != nil {
		return vmerr.E(op, vmerr.Internal, "read supply: %w", err)
	}
	if raw == nil {
		return vmerr.E(op, vmerr.Internal, "state has no supply record")
	}
	supply, err := decodeSupply(raw)
	if err != nil {
		return err
	}
	it, err := a.tree.Iterator([]byte{state.PrefixAccount}, []byte{state.PrefixAccount + 1}, true)
	if err != nil {
		return vmerr.E(op, vmerr.Internal, "iterate accounts: %w", err)
	}
	defer it.Close()
	var sum uint64
	n := 0
	for ; it.Valid(); it.Next() {
		acc, err := state.DecodeAccount(it.Value())
		if err != nil {
			return vmerr.E(op, vmerr.Internal, "account %X: %w", it.Key(), err)
		}
		if len(it.Key()) != 21 {
			return vmerr.E(op, vmerr.Internal, "account key %X is not prefix + 20-byte address", it.Key())
		}
		if sum+acc.Balance < sum {
			return vmerr.E(op, vmerr.Internal, "sum of balances overflows at %X", it.Key())
		}
		sum += acc.Balance
		n++
	}
	if err := it.Error(); err != nil {
		return vmerr.E(op, vmerr.Internal, "iterate accounts: %w", err)
	}
	if sum != supply {
		return vmerr.E(op, vmerr.Internal, "GAS not conserved: %d accounts hold %d, supply is %d", n, sum, supply)
	}
	return nil
}
