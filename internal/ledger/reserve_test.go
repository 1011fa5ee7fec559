package ledger_test

import (
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestAdmissionReservesSpend: CheckTx admits a signer's transactions
// while their fees, escrows and transfers together fit its committed
// balance, refuses the one that does not, lets a transaction replace
// another of the same nonce, and frees the reservation once a block
// applies it.
func TestAdmissionReservesSpend(t *testing.T) {
	g := testGenesis(t, 2, 1000)
	n := newNode(t, g)
	n.block()
	k0, to := key(t, 0), key(t, 1).Address()
	check := func(raw []byte) vmerr.Kind {
		t.Helper()
		r, err := n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: raw, Type: abcitypes.CHECK_TX_TYPE_CHECK})
		if err != nil {
			t.Fatal(err)
		}
		return vmerr.Kind(r.Code)
	}
	a := sign(t, k0, 0, 2, transfer(to, 400)) // 402
	b := sign(t, k0, 1, 2, transfer(to, 400)) // 804 in all
	c := sign(t, k0, 2, 2, transfer(to, 400)) // 1206 > 1000
	for i, tc := range []struct {
		raw  []byte
		want vmerr.Kind
	}{{a, vmerr.OK}, {b, vmerr.OK}, {c, vmerr.InsufficientFunds}} {
		if got := check(tc.raw); got != tc.want {
			t.Fatalf("tx %d: CheckTx %v, want %v", i, got, tc.want)
		}
	}
	// The same nonce replaces a reservation instead of adding to it.
	if got := check(sign(t, k0, 1, 2, transfer(to, 500))); got != vmerr.OK {
		t.Fatalf("replacing nonce 1: %v", got)
	}
	if got := check(sign(t, k0, 2, 2, transfer(to, 100))); got != vmerr.InsufficientFunds {
		t.Fatalf("402+502+102 > 1000 admitted: %v", got)
	}
	// Once a block applies nonce 0, only what is still pending counts
	// against what is left: 598 - 502 (nonce 1) leaves 96.
	if r := n.block(a); r.TxResults[0].Code != 0 {
		t.Fatal(r.TxResults[0].Log)
	}
	if got := check(sign(t, k0, 2, 2, transfer(to, 94))); got != vmerr.OK {
		t.Fatalf("a tx that fits after the block: %v", got)
	}
	if got := check(sign(t, k0, 3, 2, transfer(to, 1))); got != vmerr.InsufficientFunds {
		t.Fatalf("over the remaining balance: %v", got)
	}
	n.mustInvariants()
}
