package miner

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/virtual-machine/vm/internal/apitype"
)

// TestBacklogOrder: whatever order offers arrive in, they come out earliest
// deadline first, ties by id, so every miner works through a burst in the
// same order; the byte count follows the contents.
func TestBacklogOrder(t *testing.T) {
	var offers []apitype.Request
	for i := range 200 {
		offers = append(offers, apitype.Request{ID: fmt.Sprintf("%064x", i*7919%997), Deadline: int64(100 + i%5), Input: make([]byte, i)})
	}
	want := slices.Clone(offers)
	slices.SortFunc(want, func(a, b apitype.Request) int {
		if a.Deadline != b.Deadline {
			return int(a.Deadline - b.Deadline)
		}
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	for seed := range uint64(4) {
		r := rand.New(rand.NewPCG(seed, 1))
		in := slices.Clone(offers)
		r.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		var b backlog
		for _, o := range in {
			b.push(o)
		}
		for i := range want {
			got, ok := b.pop()
			if !ok || got.ID != want[i].ID || got.Deadline != want[i].Deadline {
				t.Fatalf("seed %d: pop %d = %s/%d, want %s/%d", seed, i, got.ID, got.Deadline, want[i].ID, want[i].Deadline)
			}
		}
		if _, ok := b.pop(); ok || b.len() != 0 || b.bytes != 0 {
			t.Fatalf("seed %d: %d left, %d bytes", seed, b.len(), b.bytes)
		}
	}
}

// TestCommitClosed: a taken offer is worth executing until the block
// stream shows its commit phase cannot take another seal.
func TestCommitClosed(t *testing.T) {
	r := apitype.Request{Replicas: 3, Deadline: 200}
	for _, tt := range []struct {
		name string
		rs   roundSeals
		h    int64
		want bool
	}{
		{"nobody sealed: open however late", roundSeals{}, 150, false},
		{"nobody sealed, deadline next", roundSeals{}, 199, false},
		{"deadline passed", roundSeals{}, 200, true},
		{"inside the window of the first seal", roundSeals{n: 1, first: 100}, 104, false},
		{"window of the first seal over", roundSeals{n: 2, first: 100}, 105, true},
		{"k seals in", roundSeals{n: 3, first: 100}, 100, true},
	} {
		if got := commitClosed(r, tt.rs, 5, tt.h); got != tt.want {
			t.Errorf("%s: commitClosed = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestReofferedRoundSeals: the offer of a re-offered round may arrive
// before the block stream shows the reopening. The previous round's seals
// must not make the new round look closed, and the reopening, seen late,
// must not drop the new round's pending reveal.
func TestReofferedRoundSeals(t *testing.T) {
	a := &Agent{rounds: newLRU[string, roundSeals](8), pending: map[string]*pendingReveal{}, height: 60}
	seal := func(h int64) apitype.BlockEvents {
		return apitype.BlockEvents{Block: apitype.Block{Height: h}, Txs: []apitype.TxResult{{Events: []apitype.Event{{Type: "seal", Attributes: map[string]string{"id": "r"}}}}}}
	}
	round1 := seal(46)
	for range 3 { // round 1 (start 45): k = 3 seals in block 46
		a.follow(&round1)
	}
	r := apitype.Request{ID: "r", Replicas: 3, Deadline: 145, Start: 52}
	if rs := a.sealsSeen("r", 45); rs.n != 3 || !commitClosed(r, rs, 5, 60) {
		t.Fatalf("round 1: %+v", rs)
	}
	rs := a.sealsSeen("r", 52) // round 2 offered, its reopening not seen yet
	if rs.n != 0 || commitClosed(r, rs, 5, 60) {
		t.Fatalf("round 2 looks closed by round 1's seals: %+v", rs)
	}
	a.pending["r"] = &pendingReveal{start: 52, replicas: 3, window: 5, deadline: 145}
	a.follow(&apitype.BlockEvents{Block: apitype.Block{Height: 52}, Events: []apitype.Event{{Type: "request_reopened", Attributes: map[string]string{"id": "r"}}}})
	if a.pending["r"] == nil {
		t.Fatal("the late reopening dropped the new round's pending reveal")
	}
	round2 := seal(53)
	a.follow(&round2)
	if rs := a.sealsSeen("r", 52); rs.n != 1 || rs.first != 53 || a.pending["r"].seen != rs {
		t.Fatalf("round 2 seals %+v, pending sees %+v", rs, a.pending["r"].seen)
	}
}
