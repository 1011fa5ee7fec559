package ledger

import (
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/registry"
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
	return a.checkEscrow()
}

// checkEscrow checks that the escrow account holds exactly the escrow of
// the open requests: settlement and expiry paid out every unit they took.
func (a *App) checkEscrow() error {
	const op = "ledger.invariants"
	r := registry.TreeReader{T: a.tree}
	held, err := a.tree.Get(state.AccountKey(EscrowAccount()))
	if err != nil {
		return vmerr.E(op, vmerr.Internal, "read escrow: %w", err)
	}
	acc, err := state.DecodeAccount(held)
	if err != nil {
		return vmerr.E(op, vmerr.Internal, "escrow account: %w", err)
	}
	var open uint64
	var inner error
	seen := map[[32]byte]bool{}
	err = r.Scan([]byte{state.PrefixDue}, []byte{state.PrefixDue + 1}, true, func(k, _ []byte) bool {
		due, id, err := state.DueHeight(k)
		if err != nil {
			inner = err
			return false
		}
		if seen[id] {
			inner = vmerr.E(op, vmerr.Internal, "request %x is indexed twice", id)
			return false
		}
		seen[id] = true
		m, _, err := jobs.GetRequest(r, id)
		if err != nil {
			inner = err
			return false
		}
		if m.Status != jobs.StatusOpen {
			inner = vmerr.E(op, vmerr.Internal, "request %x is indexed open but %s", id, m.Status)
			return false
		}
		if m.Due != due {
			inner = vmerr.E(op, vmerr.Internal, "request %x is indexed at height %d, due at %d", id, due, m.Due)
			return false
		}
		open += m.Escrow
		return true
	})
	if err == nil {
		err = inner
	}
	if err != nil {
		return vmerr.E(op, vmerr.Internal, "scan open requests: %w", err)
	}
	if open != acc.Balance {
		return vmerr.E(op, vmerr.Internal, "escrow holds %d GAS, open requests escrowed %d", acc.Balance, open)
	}
	return nil
}
