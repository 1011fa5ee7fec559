package chain_test

import (
	"fmt"
	"testing"

	"github.com/virtual-machine/vm/internal/chain"
	"github.com/virtual-machine/vm/internal/tx"
)

// TestTxRecentAndStored reads back txs from the latest blocks (kept
// decoded by the index) and from blocks older than those (loaded from
// CometBFT's stores): both answer the same height, index, code and bytes.
func TestTxRecentAndStored(t *testing.T) {
	n, _ := startNode(t, t.TempDir(), chain.Options{})
	ctx := ctxT(t)
	type sent struct {
		in     string
		height int64
		code   uint32
	}
	var all []sent
	for i := range 12 { // more blocks than the index keeps decoded
		in := fmt.Sprintf("k%d=%d", i, i)
		if i%3 == 0 {
			in = fmt.Sprintf("k%d=bad", i) // fails in its block
		}
		r, err := n.SubmitTx(ctx, []byte(in), true)
		if err != nil || r.Height < 1 {
			t.Fatalf("submit %q: %+v, %v", in, r, err)
		}
		all = append(all, sent{in: in, height: r.Height, code: r.Code})
	}
	tests := []struct {
		name string
		in   sent
	}{
		{name: "oldest, stored", in: all[0]},
		{name: "old ok, stored", in: all[1]},
		{name: "recent failure", in: all[9]},
		{name: "latest", in: all[11]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := n.Tx(ctx, tx.HashOf([]byte(tc.in.in)))
			if err != nil {
				t.Fatal(err)
			}
			if got.Height != tc.in.height || got.Code != tc.in.code || got.Tx != fmt.Sprintf("%x", tc.in.in) || got.Index != 0 {
				t.Fatalf("Tx(%q) = %+v, want height %d code %d", tc.in.in, got, tc.in.height, tc.in.code)
			}
		})
	}
	if all[0].code == 0 || all[1].code != 0 {
		t.Fatalf("codes %d, %d: want a failure then a success", all[0].code, all[1].code)
	}
}
