package chain_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

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

// TestCommitThreeValidators runs a three-validator testnet in-process:
// block commits then carry several signatures (batch-verified), every
// node serves the same signed block, and it verifies against the
// genesis validator set.
func TestCommitThreeValidators(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three validators")
	}
	homes, err := chain.WriteTestnet(t.TempDir(), 3, testChain, nil, freePortRange(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	nodes := make([]*chain.Node, len(homes))
	for i, home := range homes {
		nodes[i], _ = startNode(t, home, chain.Options{})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if r, err := nodes[0].SubmitTx(ctx, []byte("k=v"), true); err != nil || r.Code != 0 {
		t.Fatalf("submit: %+v %v", r, err)
	}
	for _, n := range nodes {
		if err := n.WaitHeight(ctx, 3); err != nil {
			t.Fatal(err)
		}
	}
	trust, err := lightproof.LoadHome(homes[0])
	if err != nil {
		t.Fatal(err)
	}
	if trust.Validators.Size() != 3 {
		t.Fatalf("genesis has %d validators, want 3", trust.Validators.Size())
	}
	var hash string
	for i, n := range nodes {
		c, err := n.Commit(ctx, 2)
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		lb, err := lightproof.VerifyCommit(&c, trust)
		if err != nil {
			t.Fatalf("node %d's commit of block 2: %v", i, err)
		}
		if !c.Canonical || lb.ValidatorSet.Size() != 3 || len(lb.Commit.Signatures) != 3 {
			t.Errorf("node %d: canonical %v, %d validators, %d signatures", i, c.Canonical, lb.ValidatorSet.Size(), len(lb.Commit.Signatures))
		}
		if hash != "" && c.Hash != hash {
			t.Errorf("node %d serves block 2 as %s, node 0 as %s", i, c.Hash, hash)
		}
		hash = c.Hash
	}
}

// freePortRange returns the first of n consecutive free loopback ports.
func freePortRange(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if base+n > 65000 {
			continue
		}
		ok := true
		for i := 0; i < n && ok; i++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if ok = err == nil; ok {
				l.Close()
			}
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}
