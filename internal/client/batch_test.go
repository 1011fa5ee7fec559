package client_test

import (
	"context"
	"testing"

	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestSubmitTxs(t *testing.T) {
	b, c := start(t, apitest.Config{Faucet: true, MinFee: 1})
	ctx := context.Background()
	alice, bob := key(t), key(t)
	fund, err := b.Sign(alice, 0, 0, apitest.Faucet(alice.Address(), 100))
	if err != nil {
		t.Fatal(err)
	}
	var txs [][]byte
	txs = append(txs, fund)
	for nonce := uint64(1); nonce <= 3; nonce++ {
		raw, err := b.Sign(alice, nonce, 1, apitest.Transfer(bob.Address(), 5))
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, raw)
	}
	broke, err := b.Sign(bob, 0, 1, apitest.Transfer(alice.Address(), 1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	txs = append(txs, broke)

	res, err := c.SubmitTxs(ctx, txs, true)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if i == len(res)-1 {
			if vmerr.Kind(r.Code) != vmerr.InsufficientFunds {
				t.Errorf("overdraft: %+v", r)
			}
			continue
		}
		if r.Code != 0 || r.Height == 0 {
			t.Errorf("tx %d: %+v", i, r)
		}
	}
	acc, err := c.AccountNoProof(ctx, bob.Address(), 0)
	if err != nil || acc.Balance != "15" {
		t.Fatalf("bob: %+v %v, want balance 15", acc, err)
	}

	_, err = c.SubmitTxs(ctx, nil, false)
	wantKind(t, err, vmerr.Invalid)
	_, err = c.SubmitTxs(ctx, [][]byte{{}}, false) // empty entry: the node refuses the body
	wantKind(t, err, vmerr.Decode)
}
