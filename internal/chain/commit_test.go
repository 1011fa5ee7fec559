package chain_test

import (
	"testing"

	"github.com/virtual-machine/vm/internal/chain"
	"github.com/virtual-machine/vm/internal/lightproof"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestCommit reads the signed headers of a one-validator chain: each
// verifies against the home's genesis, is canonical below the latest
// block (the commit block h+1 carries) and the seen commit at it, and
// carries the header's app hash Block reports. Bad heights and a node
// not running fail with their kinds.
func TestCommit(t *testing.T) {
	home := t.TempDir()
	n, _ := startNode(t, home, chain.Options{})
	ctx := ctxT(t)
	for _, kv := range []string{"a=1", "b=2"} {
		if r, err := n.SubmitTx(ctx, []byte(kv), true); err != nil || r.Code != 0 {
			t.Fatalf("submit %s: %+v %v", kv, r, err)
		}
	}
	trust, err := lightproof.LoadHome(home)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := n.Commit(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if latest.Height < 2 {
		t.Fatalf("latest commit at height %d after two txs", latest.Height)
	}
	for h := int64(1); h <= latest.Height; h++ {
		c, err := n.Commit(ctx, h)
		if err != nil {
			t.Fatalf("commit %d: %v", h, err)
		}
		if _, err := lightproof.VerifyCommit(&c, trust); err != nil {
			t.Errorf("commit %d does not verify: %v", h, err)
		}
		// The latest block's commit is the seen one unless a block
		// followed meanwhile.
		if h < latest.Height && !c.Canonical {
			t.Errorf("commit %d below the latest %d is not canonical", h, latest.Height)
		}
		b, err := n.Block(ctx, h)
		if err != nil || b.AppHash != c.AppHash || b.Hash != c.Hash || c.ChainID != testChain {
			t.Errorf("block %d %+v, commit %+v: %v", h, b, c, err)
		}
	}
	tests := []struct {
		name     string
		in       int64
		wantKind vmerr.Kind
	}{
		{name: "negative", in: -1, wantKind: vmerr.Invalid},
		{name: "above the latest", in: latest.Height + 100, wantKind: vmerr.NotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := n.Commit(ctx, tc.in); vmerr.KindOf(err) != tc.wantKind {
				t.Errorf("Commit(%d): %v, want %v", tc.in, err, tc.wantKind)
			}
		})
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Commit(ctx, 1); vmerr.KindOf(err) != vmerr.Unavailable {
		t.Errorf("Commit after Stop: %v, want Unavailable", err)
	}
}
