package sigonly_test

import (
	"bytes"
	"context"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger/sigonly"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

const chainID = "sig-test"

func signed(t *testing.T, chain string, nonce uint64) []byte {
	t.Helper()
	k, err := crypto.KeyFromSeed(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	to := k.Address()
	raw, err := tx.Sign(&txpb.TxBody{ChainId: chain, Nonce: nonce, Fee: 1,
		Msgs: []*txpb.Msg{{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: to[:], Amount: 1}}}}}, k)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestCheckTx(t *testing.T) {
	good := signed(t, chainID, 0)
	badSig := append([]byte(nil), good...)
	badSig[len(badSig)-1] ^= 1
	tests := []struct {
		name string
		in   []byte
		want vmerr.Kind
	}{
		{name: "valid", in: good, want: vmerr.OK},
		{name: "bad signature", in: badSig, want: vmerr.Unauthorized},
		{name: "other chain", in: signed(t, "other", 0), want: vmerr.WrongChain},
		{name: "garbage", in: []byte{0xff, 0x01}, want: vmerr.Decode},
		{name: "empty", in: nil, want: vmerr.Decode},
	}
	app := sigonly.New(chainID)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := app.CheckTx(context.Background(), &abcitypes.CheckTxRequest{Tx: tt.in})
			if err != nil {
				t.Fatal(err)
			}
			if vmerr.Kind(res.Code) != tt.want {
				t.Fatalf("code %d (%s), want %v", res.Code, res.Log, tt.want)
			}
		})
	}
}

// TestBlocks checks FinalizeBlock's per-tx results, that the app hash is
// a deterministic function of the blocks, and that Commit moves Info.
func TestBlocks(t *testing.T) {
	ctx := context.Background()
	txs := [][]byte{signed(t, chainID, 0), {0xff}, signed(t, chainID, 1)}
	run := func() ([]byte, *abcitypes.FinalizeBlockResponse) {
		app := sigonly.New(chainID)
		var resp *abcitypes.FinalizeBlockResponse
		for h := int64(1); h <= 2; h++ {
			var err error
			if resp, err = app.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: h, Txs: txs}); err != nil {
				t.Fatal(err)
			}
			if _, err := app.Commit(ctx, &abcitypes.CommitRequest{}); err != nil {
				t.Fatal(err)
			}
		}
		info, err := app.Info(ctx, &abcitypes.InfoRequest{})
		if err != nil || info.LastBlockHeight != 2 || !bytes.Equal(info.LastBlockAppHash, resp.AppHash) {
			t.Fatalf("info %+v %v", info, err)
		}
		return resp.AppHash, resp
	}
	h1, resp := run()
	h2, _ := run()
	if !bytes.Equal(h1, h2) || len(h1) != 32 {
		t.Fatalf("app hash not deterministic: %x vs %x", h1, h2)
	}
	if resp.TxResults[0].Code != 0 || vmerr.Kind(resp.TxResults[1].Code) != vmerr.Decode || resp.TxResults[2].Code != 0 {
		t.Fatalf("results %+v", resp.TxResults)
	}
}
