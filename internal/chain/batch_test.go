package chain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/chain"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestSubmitTxs submits a batch mixing good, rejected, failing, empty,
// oversized and already-committed txs: each gets its own result, in
// order, and the whole call fails only when the node is not running.
func TestSubmitTxs(t *testing.T) {
	n, _ := startNode(t, t.TempDir(), chain.Options{})
	ctx := ctxT(t)
	first, err := n.SubmitTx(ctx, []byte("old=1"), true)
	if err != nil || first.Code != 0 {
		t.Fatalf("first: %+v %v", first, err)
	}
	in := []string{"a=1", "no-equals", "b=2", "c=bad", "", "x=" + strings.Repeat("y", 5<<20), "old=1", "d=4"}
	want := []struct {
		code      vmerr.Kind
		committed bool
	}{{0, true}, {2, false}, {0, true}, {2, true}, {vmerr.Invalid, false}, {vmerr.TooLarge, false}, {0, true}, {0, true}}
	txs := make([][]byte, len(in))
	for i, s := range in {
		txs[i] = []byte(s)
	}
	res, err := n.SubmitTxs(ctx, txs, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(in) {
		t.Fatalf("%d results for %d txs", len(res), len(in))
	}
	for i, r := range res {
		if r.Hash != tx.HashOf(txs[i]).String() {
			t.Errorf("%q: hash %s", in[i][:min(8, len(in[i]))], r.Hash)
		}
		if vmerr.Kind(r.Code) != want[i].code || (r.Height > 0) != want[i].committed {
			t.Errorf("%q: %+v, want code %d committed %v", in[i][:min(8, len(in[i]))], r, want[i].code, want[i].committed)
		}
	}
	if res[6].Height != first.Height {
		t.Errorf("already committed tx: height %d, want %d", res[6].Height, first.Height)
	}

	// Without wait: accepted, not yet known committed.
	res, err = n.SubmitTxs(ctx, [][]byte{[]byte("e=5")}, false)
	if err != nil || res[0].Code != 0 || res[0].Height != 0 {
		t.Fatalf("no wait: %+v %v", res, err)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.SubmitTxs(ctx, txs, false); vmerr.KindOf(err) != vmerr.Unavailable {
		t.Fatalf("stopped node: %v", err)
	}
}

// TestSubmitTxsWaitEnds: a tx never proposed times out in its result,
// and the rest of the batch still gets its own results.
func TestSubmitTxsWaitEnds(t *testing.T) {
	n, _ := startNode(t, t.TempDir(), chain.Options{CommitTimeout: 2 * time.Second})
	ctx := ctxT(t)
	res, err := n.SubmitTxs(ctx, [][]byte{[]byte("hold=1"), []byte("f=6"), []byte("bad")}, true)
	if err != nil {
		t.Fatal(err)
	}
	if vmerr.Kind(res[0].Code) != vmerr.Timeout || !strings.Contains(res[0].Log, "not committed") {
		t.Errorf("held tx: %+v", res[0])
	}
	if res[1].Code != 0 || res[1].Height == 0 {
		t.Errorf("good tx after the held one: %+v", res[1])
	}
	if res[2].Code != 2 || res[2].Height != 0 {
		t.Errorf("rejected tx: %+v", res[2])
	}
}
