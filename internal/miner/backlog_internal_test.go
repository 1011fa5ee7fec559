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
