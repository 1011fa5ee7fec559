package ledger_test

import (
	"bytes"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestPreVerify checks that PreVerify decides nothing: after it, CheckTx
// accepts the txs it verified and refuses a forged signature, a tx that
// does not decode and one for another chain exactly as without it, and a
// block of them has the same results and app hash.
func TestPreVerify(t *testing.T) {
	to := key(t, 9).Address()
	const n = 130 // more than one batch worker's minimum
	build := func() ([][]byte, map[int]vmerr.Kind) {
		txs := make([][]byte, n)
		for i := range txs {
			txs[i] = sign(t, key(t, 0), uint64(i), 2, transfer(to, 1))
		}
		want := map[int]vmerr.Kind{}
		forged := bytes.Clone(txs[5])
		forged[len(forged)-1] ^= 1 // the signature is the last field
		if s, err := tx.Decode(forged, chainID); err != nil || s.VerifySignature() == nil {
			t.Fatalf("forged tx: decode err %v, or its signature still verifies", err)
		}
		txs[5], want[5] = forged, vmerr.Unauthorized
		txs[7], want[7] = []byte{0xff, 0x01}, vmerr.Decode
		txs[9], want[9] = signFor(t, "other-chain", key(t, 0), 9, 2, transfer(to, 1)), vmerr.WrongChain
		return txs, want
	}
	tests := []struct {
		name      string
		preVerify bool
	}{
		{name: "without PreVerify"},
		{name: "with PreVerify", preVerify: true},
	}
	var hashes [][]byte
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nd := newNode(t, testGenesis(t, 2, 1_000_000))
			txs, want := build()
			if tc.preVerify {
				nd.app.PreVerify(txs)
				nd.app.PreVerify(txs) // twice: still no change
			}
			for i, raw := range txs {
				r, err := nd.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: raw})
				if err != nil {
					t.Fatal(err)
				}
				if got := vmerr.Kind(r.Code); got != want[i] {
					t.Fatalf("CheckTx(tx %d) = %s (%s), want %s", i, got, r.Log, want[i])
				}
			}
			resp := nd.block(txs...)
			for i, r := range resp.TxResults {
				if w, bad := want[i]; bad && vmerr.Kind(r.Code) != w {
					t.Fatalf("block: tx %d code %s, want %s", i, vmerr.Kind(r.Code), w)
				}
			}
			hashes = append(hashes, resp.AppHash)
		})
	}
	if len(hashes) == 2 && !bytes.Equal(hashes[0], hashes[1]) {
		t.Fatalf("app hash %X with PreVerify, %X without", hashes[1], hashes[0])
	}
}
