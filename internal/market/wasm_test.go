package market_test

import (
	"testing"

	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/wasm"
)

// TestWithWasmResults runs a round on real wasm.Result hashes: honest
// miners produce byte-identical results and agree; a miner whose result
// differs in gas alone disagrees; the settlement pays the agreed gas; the
// result's read set converts to market.Read and keys a memo.
func TestWithWasmResults(t *testing.T) {
	honest := func() *wasm.Result {
		return &wasm.Result{Status: wasm.StatusOK, Output: []byte(`"hi ada"`), GasUsed: 4242,
			ReadSet: []wasm.Read{{Contract: "hello", Key: []byte("b"), Found: true, Version: 3}, {Contract: "hello", Key: []byte("a")}},
			Logs:    []string{"greeted"}}
	}
	wrong := honest()
	wrong.GasUsed++
	hashOf := func(r *wasm.Result) [32]byte {
		h, err := r.Hash()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	good, bad := hashOf(honest()), hashOf(wrong)
	if good == bad || good != hashOf(honest()) {
		t.Fatal("result hashes are not a function of the result")
	}

	j, r := newJob(t, nil)
	for i, h := range [][32]byte{good, bad, good} {
		m := addr(i + 1)
		if err := j.Seal(m, market.Seal(m, j.ID, h), 101); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range [][32]byte{good, bad, good} {
		if err := j.Reveal(addr(i+1), addr(i+1), h, 102); err != nil {
			t.Fatal(err)
		}
	}
	a := j.Agreement()
	if !a.Reached || a.Result != good || len(a.Agreeing) != 2 || a.Disagreeing[0] != addr(2) {
		t.Fatalf("agreement %+v", a)
	}
	out, err := market.Settle(market.Default(), r, a.Agreeing, honest().GasUsed)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := market.Escrow(r); out.Total() != e || out.Miners[1].Gas != 4242 {
		t.Fatalf("payout %+v", out)
	}

	reads := make([]market.Read, len(honest().ReadSet))
	for i, rd := range honest().ReadSet {
		reads[i] = market.Read(rd)
	}
	if !market.Memoizable(reads) {
		t.Fatal("stored reads are memoizable")
	}
	k1 := market.MemoKey(hash(1), "greet", hash(2), reads)
	reads[0], reads[1] = reads[1], reads[0]
	if market.MemoKey(hash(1), "greet", hash(2), reads) != k1 {
		t.Fatal("memo key depends on read order")
	}
}
