package composite_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/wasm"
)

type memoKey struct {
	code  [32]byte
	fn    string
	input [32]byte
}

// memoTable is a Memos over a map; asked counts the lookups.
type memoTable struct {
	m     map[memoKey]*wasm.Result
	asked int
	err   error
}

func (t *memoTable) lookup(_ context.Context, code [32]byte, fn string, input [32]byte) (*wasm.Result, error) {
	t.asked++
	return t.m[memoKey{code, fn, input}], t.err
}

// TestRunMemos: a composite records each step for memos (the memoizable
// ones with their own result); run again with those memos, the pure steps
// are answered without running, use no gas and give the same output; a
// memo that read what the composite wrote, or that used more gas than the
// step's budget, is not used; a lookup failure is a host failure.
func TestRunMemos(t *testing.T) {
	w := newWorld(t, "counter", "fib", "hello")
	w.states["counter"].Set([]byte("count"), []byte("5"), 3)
	m := pinned(t, pipeline)
	req := wasm.Request{Input: []byte(`{"delta": 5, "who": ["Ada", "Bob"]}`), GasLimit: gas, Contract: "c3", Caller: "alice"}
	first, err := composite.Run(context.Background(), runtime(t), m, w.load, req)
	if err != nil {
		t.Fatal(err)
	}
	a := first.Result
	if a.Status != wasm.StatusOK || len(a.Steps) != 4 {
		t.Fatalf("first run: %s, %d steps", a, len(a.Steps))
	}
	// inc writes; read reads what inc wrote (version 0): neither recorded.
	for i, want := range []bool{false, false, true, true} {
		if got := len(a.Steps[i].Result) > 0; got != want || a.Steps[i].Hit {
			t.Errorf("step %d (%s): result recorded %v, want %v", i, a.Steps[i].Fn, got, want)
		}
		if a.Steps[i].CodeHash != first.Steps[i].CodeHash || a.Steps[i].InputHash != sha256.Sum256(first.Steps[i].Input) {
			t.Errorf("step %d: code or input hash", i)
		}
	}
	table := &memoTable{m: map[memoKey]*wasm.Result{}}
	saved := uint64(0)
	for _, st := range a.Steps[2:] {
		var r wasm.Result
		if err := r.UnmarshalBinary(st.Result); err != nil {
			t.Fatal(err)
		}
		table.m[memoKey{st.CodeHash, st.Fn, st.InputHash}] = &r
		saved += r.GasUsed
	}
	second, err := composite.RunMemos(context.Background(), runtime(t), m, w.load, req, table.lookup)
	if err != nil {
		t.Fatal(err)
	}
	b := second.Result
	if b.Status != wasm.StatusOK || !bytes.Equal(b.Output, a.Output) || b.GasUsed != a.GasUsed-saved || table.asked != 4 {
		t.Fatalf("with memos: %s output %s gas %d (want %d), %d lookups", b, b.Output, b.GasUsed, a.GasUsed-saved, table.asked)
	}
	for i, want := range []bool{false, false, true, true} {
		if b.Steps[i].Hit != want || (want && len(b.Steps[i].Result) > 0) {
			t.Errorf("step %d: hit %v, want %v", i, b.Steps[i].Hit, want)
		}
	}
	if _, err := b.MarshalBinary(); err != nil {
		t.Fatal(err)
	}

	// A memo of "read" that read counter/count, which inc wrote: not used.
	readMemo := &wasm.Result{Status: wasm.StatusOK, Output: []byte("99"), ReadSet: []wasm.Read{{Contract: "counter", Key: []byte("count"), Found: true, Version: 3}}}
	table.m[memoKey{first.Steps[1].CodeHash, "get", sha256.Sum256(first.Steps[1].Input)}] = readMemo
	// A memo of fib that used more gas than the whole budget: not used.
	fib := table.m[memoKey{a.Steps[2].CodeHash, "fib", a.Steps[2].InputHash}]
	greedy := *fib
	greedy.GasUsed = gas + 1
	table.m[memoKey{a.Steps[2].CodeHash, "fib", a.Steps[2].InputHash}] = &greedy
	third, err := composite.RunMemos(context.Background(), runtime(t), m, w.load, req, table.lookup)
	if err != nil {
		t.Fatal(err)
	}
	if c := third.Result; !bytes.Equal(c.Output, a.Output) || c.Steps[1].Hit || c.Steps[2].Hit || !c.Steps[3].Hit {
		t.Fatalf("unusable memos used: output %s, hits %v %v %v", c.Output, c.Steps[1].Hit, c.Steps[2].Hit, c.Steps[3].Hit)
	}

	table.err = errors.New("node unreachable")
	if _, err := composite.RunMemos(context.Background(), runtime(t), m, w.load, req, table.lookup); err == nil {
		t.Fatal("a failed memo lookup is not a host failure")
	}
}
