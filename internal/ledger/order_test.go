package ledger_test

import (
	"bytes"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// prepare runs PrepareProposal for the next height with no size limit.
func (n *node) prepare(txs ...[]byte) [][]byte {
	n.t.Helper()
	r, err := n.app.PrepareProposal(ctx, &abcitypes.PrepareProposalRequest{Txs: txs, MaxTxBytes: 1 << 30, Height: n.height + 1})
	if err != nil {
		n.t.Fatal(err)
	}
	return r.Txs
}

// TestProposalOrdersNonces checks PrepareProposal's ordering: each
// signer's nonces ascending in the slots its txs held, a signer's txs
// after a nonce gap held back, everything else kept where it was.
func TestProposalOrdersNonces(t *testing.T) {
	n := newNode(t, testGenesis(t, 2, 1000))
	n.block() // a committed state, nonces 0
	a, b := key(t, 0), key(t, 1)
	to := key(t, 9).Address()
	a0, a1, a2 := sign(t, a, 0, 2, transfer(to, 1)), sign(t, a, 1, 2, transfer(to, 1)), sign(t, a, 2, 2, transfer(to, 1))
	a0dup := sign(t, a, 0, 3, transfer(to, 1)) // same nonce, another tx
	b0, b1 := sign(t, b, 0, 2, transfer(to, 1)), sign(t, b, 1, 2, transfer(to, 1))
	junk := []byte("not a transaction")
	tests := []struct {
		name string
		in   [][]byte
		want [][]byte
	}{
		{"in order", [][]byte{a0, a1, b0}, [][]byte{a0, a1, b0}},
		{"reordered by gossip", [][]byte{a1, a0}, [][]byte{a0, a1}},
		{"three reversed", [][]byte{a2, a1, a0}, [][]byte{a0, a1, a2}},
		{"signers keep their slots", [][]byte{a1, b1, a0, b0}, [][]byte{a0, b0, a1, b1}},
		{"gap held back", [][]byte{a1, a2, b0}, [][]byte{b0}},
		{"gap after a run", [][]byte{a0, a2, b0}, [][]byte{a0, b0}},
		{"duplicate nonce kept to fail", [][]byte{a0dup, a1, a0}, [][]byte{a0dup, a0, a1}},
		{"undecodable kept in place", [][]byte{junk, a1, a0}, [][]byte{junk, a0, a1}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := n.prepare(tt.in...)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d txs, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Fatalf("tx %d differs from the wanted order", i)
				}
			}
		})
	}
}

// TestReorderedMempoolCommits is the 4-validator bad_nonce failure in
// miniature: a proposer whose mempool received one account's nonces out
// of order (gossip by several paths) proposes them, and every transfer
// must commit. Proposed in mempool order, nonce 1 failed with BadNonce.
func TestReorderedMempoolCommits(t *testing.T) {
	n := newNode(t, testGenesis(t, 1, 1000))
	n.block()
	a, to := key(t, 0), key(t, 9).Address()
	mempool := [][]byte{sign(t, a, 1, 2, transfer(to, 1)), sign(t, a, 0, 2, transfer(to, 1)), sign(t, a, 3, 2, transfer(to, 1)), sign(t, a, 2, 2, transfer(to, 1))}
	resp := n.block(n.prepare(mempool...)...)
	for i, r := range resp.TxResults {
		if r.Code != 0 {
			t.Errorf("tx %d: code %d (%s) %s", i, r.Code, vmerr.Kind(r.Code), r.Log)
		}
	}
	if got := n.account(a.Address()).Nonce; got != 4 {
		t.Fatalf("nonce %d after the block, want 4", got)
	}
}

// TestGapPatience checks that a tx held back for a nonce gap is proposed
// after ledger.GapPatience heights (and then fails, leaving the mempool),
// and is proposed at once when its predecessor arrives.
func TestGapPatience(t *testing.T) {
	n := newNode(t, testGenesis(t, 1, 1000))
	n.block()
	a, to := key(t, 0), key(t, 9).Address()
	a0, a1, a2 := sign(t, a, 0, 2, transfer(to, 1)), sign(t, a, 1, 2, transfer(to, 1)), sign(t, a, 2, 2, transfer(to, 1))
	for i := range ledger.GapPatience {
		if got := n.prepare(a2); len(got) != 0 {
			t.Fatalf("height %d (%d held): gap tx proposed too early", n.height+1, i)
		}
		n.block()
	}
	got := n.prepare(a2)
	if len(got) != 1 {
		t.Fatalf("gap tx still held back after %d heights", ledger.GapPatience)
	}
	if r := n.block(got...).TxResults[0]; vmerr.Kind(r.Code) != vmerr.BadNonce {
		t.Fatalf("stale gap tx: code %d, want bad_nonce", r.Code)
	}
	// A new gap starts a new wait; the predecessor ends it at once.
	if got := n.prepare(a1); len(got) != 0 {
		t.Fatal("new gap tx proposed at once")
	}
	if got := n.prepare(a1, a0); len(got) != 2 || !bytes.Equal(got[0], a0) {
		t.Fatalf("with its predecessor: %d txs, want a0 then a1", len(got))
	}
}

// BenchmarkPrepareProposal orders a reaped block of 5,000 transfers from
// 1,000 accounts (five nonces each, in order, one pair per account
// swapped): the proposer's added work per block. Reports txs/s.
func BenchmarkPrepareProposal(b *testing.B) {
	c := newBenchChain(b)
	txs := c.nextBlock(b)
	for i := 0; i+benchAccounts < len(txs); i += 2 * benchAccounts {
		for j := range benchAccounts {
			txs[i+j], txs[i+j+benchAccounts] = txs[i+j+benchAccounts], txs[i+j]
		}
	}
	req := &abcitypes.PrepareProposalRequest{Txs: txs, MaxTxBytes: 1 << 30, Height: c.n.height + 1}
	b.ResetTimer()
	for b.Loop() {
		r, err := c.n.app.PrepareProposal(ctx, req)
		if err != nil || len(r.Txs) != len(txs) {
			b.Fatalf("%d of %d txs: %v", len(r.GetTxs()), len(txs), err)
		}
	}
	b.ReportMetric(float64(b.N*len(txs))/b.Elapsed().Seconds(), "txs/s")
}

// FuzzPrepareProposal feeds arbitrary bytes (split into txs at 0xff) and
// checks PrepareProposal neither fails nor invents txs: its answer is a
// subsequence-by-content of what it got, undecodable txs all kept.
func FuzzPrepareProposal(f *testing.F) {
	n := newNode(f, testGenesis(f, 1, 1000))
	n.block()
	k, to := key(f, 0), key(f, 9).Address()
	f.Add(bytes.Join([][]byte{sign(f, k, 1, 2, transfer(to, 1)), sign(f, k, 0, 2, transfer(to, 1))}, []byte{0xff}))
	f.Add([]byte("junk\xffmore junk"))
	f.Fuzz(func(t *testing.T, in []byte) {
		txs := bytes.Split(in, []byte{0xff})
		r, err := n.app.PrepareProposal(ctx, &abcitypes.PrepareProposalRequest{Txs: txs, MaxTxBytes: 1 << 30, Height: 2})
		if err != nil {
			t.Fatal(err)
		}
		count := make(map[string]int)
		for _, x := range txs {
			count[string(x)]++
		}
		for _, x := range r.Txs {
			if count[string(x)]--; count[string(x)] < 0 {
				t.Fatalf("proposal holds a tx it was not given (or twice)")
			}
		}
		for _, x := range txs {
			if _, err := tx.Decode(x, chainID); err != nil && count[string(x)] > 0 {
				t.Fatalf("undecodable tx %x left out", x)
			}
		}
	})
}
