package wasm_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"

	"github.com/virtual-machine/vm/internal/wasm"
	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// exampleCase is one call of an example contract with its expected output.
type exampleCase struct {
	contract, fn, in string
	want             string
	wantStatus       wasm.Status
}

func sha256Loop(n int) string {
	var d [32]byte
	for i := 0; i < n; i++ {
		d = sha256.Sum256(d[:])
	}
	return hex.EncodeToString(d[:])
}

var exampleCases = []exampleCase{
	{"hello", "greet", `{"name":"Ada"}`, `{"greeting":"Hello, Ada!"}`, wasm.StatusOK},
	{"hello", "greet", `{"name":""}`, "", wasm.StatusAbort},
	{"hello", "greet", `not json`, "", wasm.StatusAbort},
	{"counter", "increment", "", "1", wasm.StatusOK},
	{"counter", "get", "", "0", wasm.StatusOK},
	{"sha256", "hash", "300", sha256Loop(300), wasm.StatusOK},
	{"fib", "fib", "20", "6765", wasm.StatusOK},
	{"fib", "fib", "99", "", wasm.StatusAbort},
	{"fib", "nope", "1", "", wasm.StatusBadInput},
}

// TestExamplesAcrossEngines runs every example call under the compiler,
// the interpreter and the compiler without snapshots: outputs must be
// right and whole results (gas included) byte-identical everywhere.
func TestExamplesAcrossEngines(t *testing.T) {
	rts := []struct {
		name string
		r    *wasm.Runtime
	}{
		{"compiler", shared(t, "compiler")},
		{"interpreter", shared(t, "interpreter")},
		{"compiler-nosnapshot", shared(t, "nosnapshot")},
	}
	if raceEnabled { // every slot is the interpreter; snapshot equivalence has its own tests
		rts = rts[1:2]
	}
	for _, tc := range exampleCases {
		t.Run(fmt.Sprintf("%s.%s(%s)", tc.contract, tc.fn, tc.in), func(t *testing.T) {
			var first *wasm.Result
			for _, rt := range rts {
				m := compileMetered(t, rt.r, example(t, tc.contract))
				for i := 0; i < 2; i++ {
					res := call(t, rt.r, m, wasm.Request{Fn: tc.fn, Input: []byte(tc.in), GasLimit: 50_000_000, Contract: tc.contract})
					if res.Status != tc.wantStatus || string(res.Output) != tc.want {
						t.Fatalf("%s: got %s output %q, want %s %q", rt.name, res, res.Output, tc.wantStatus, tc.want)
					}
					if first == nil {
						first = res
						continue
					}
					if !first.Equal(res) {
						t.Fatalf("%s run %d: %s differs from %s", rt.name, i, res, first)
					}
				}
			}
			t.Logf("gas %d", first.GasUsed)
		})
	}
}

// TestInitGasBoundary checks that a restored snapshot and a from-scratch
// initialisation agree at and around the exact gas the call needs, which
// is where charging init gas could be off by one.
func TestInitGasBoundary(t *testing.T) {
	snap := shared(t, "compiler")
	fresh := shared(t, "nosnapshot")
	ms, mf := compileMetered(t, snap, example(t, "fib")), compileMetered(t, fresh, example(t, "fib"))
	req := wasm.Request{Fn: "fib", Input: []byte("5"), GasLimit: 50_000_000}
	full := call(t, snap, ms, req)
	if full.Status != wasm.StatusOK {
		t.Fatal(full)
	}
	// The init gas alone: a call that fails at once in the function body.
	bad := call(t, snap, ms, wasm.Request{Fn: "fib", Input: []byte("x"), GasLimit: 50_000_000})
	for _, limit := range []uint64{0, 1, bad.GasUsed / 2, bad.GasUsed - 1, bad.GasUsed, bad.GasUsed + 1,
		full.GasUsed - 1, full.GasUsed, full.GasUsed + 1} {
		req.GasLimit = limit
		a, b := call(t, snap, ms, req), call(t, fresh, mf, req)
		if !a.Equal(b) {
			t.Errorf("limit %d: snapshot %s != fresh %s", limit, a, b)
		}
		wantOK := limit >= full.GasUsed
		if (a.Status == wasm.StatusOK) != wantOK {
			t.Errorf("limit %d (needs %d): status %s", limit, full.GasUsed, a.Status)
		}
	}
}

// TestCounterState covers state reads, writes, read-your-writes, events
// and the read/write sets against a MemState.
func TestCounterState(t *testing.T) {
	r := shared(t, "compiler")
	m := compileMetered(t, r, example(t, "counter"))
	st := &wasm.MemState{}
	st.Set([]byte("count"), []byte("41"), 7)
	res := call(t, r, m, wasm.Request{Fn: "increment", GasLimit: 50_000_000, State: st, Contract: "counter"})
	if res.Status != wasm.StatusOK || string(res.Output) != "42" {
		t.Fatalf("increment: %s %q", res, res.Output)
	}
	wantRead := []wasm.Read{{Contract: "counter", Key: []byte("count"), Found: true, Version: 7}}
	if len(res.ReadSet) != 1 || !bytes.Equal(res.ReadSet[0].Key, wantRead[0].Key) || res.ReadSet[0].Version != 7 || !res.ReadSet[0].Found {
		t.Errorf("read set %+v, want %+v", res.ReadSet, wantRead)
	}
	if len(res.WriteSet) != 1 || string(res.WriteSet[0].Value) != "42" || res.WriteSet[0].Contract != "counter" {
		t.Errorf("write set %+v", res.WriteSet)
	}
	if len(res.Events) != 1 || res.Events[0].Topic != "incremented" || string(res.Events[0].Data) != "42" {
		t.Errorf("events %+v", res.Events)
	}
	// The State is not changed by a call; applying the writes is the ledger's job.
	if v, _, _, _ := st.Get([]byte("count")); string(v) != "41" {
		t.Errorf("state changed by a call: %q", v)
	}
	st.Apply("counter", res.WriteSet, 8)
	res = call(t, r, m, wasm.Request{Fn: "increment", Input: []byte("8"), GasLimit: 50_000_000, State: st, Contract: "counter"})
	if string(res.Output) != "50" || res.ReadSet[0].Version != 8 {
		t.Errorf("second increment: %s %q %+v", res, res.Output, res.ReadSet)
	}
	// A failing call leaves no writes and no events.
	res = call(t, r, m, wasm.Request{Fn: "increment", Input: []byte("x"), GasLimit: 50_000_000, State: st, Contract: "counter"})
	if res.Status != wasm.StatusAbort || len(res.WriteSet) != 0 || len(res.Events) != 0 || len(res.Output) != 0 {
		t.Errorf("failed increment kept effects: %+v", res)
	}
}

// TestCallCanceledContext: a canceled context is a host error, not a status.
func TestCallCanceledContext(t *testing.T) {
	r := shared(t, "compiler")
	m := compileMetered(t, r, example(t, "fib"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Call(ctx, m, wasm.Request{Fn: "fib", Input: []byte("3"), GasLimit: 1 << 30}); err == nil {
		t.Fatal("no error for a canceled context")
	}
}

// TestInstanceReuse interleaves calls that succeed, fail and grow memory
// on one runtime (instances are pooled and reset) and checks each result
// against a runtime that initialises every call from scratch.
func TestInstanceReuse(t *testing.T) {
	pooled := shared(t, "compiler")
	fresh := shared(t, "nosnapshot")
	reqs := []wasm.Request{
		{Fn: "greet", Input: []byte(`{"name":"a"}`), GasLimit: 50_000_000},
		{Fn: "greet", Input: []byte(`{"name":"` + string(bytes.Repeat([]byte("x"), 40_000)) + `"}`), GasLimit: 500_000_000},
		{Fn: "greet", Input: []byte(`{"name":"b"}`), GasLimit: 50_000_000},
		{Fn: "greet", Input: []byte(`{"name":`), GasLimit: 50_000_000},
		{Fn: "greet", Input: []byte(`{"name":"c"}`), GasLimit: 1_600_000},
		{Fn: "greet", Input: []byte(`{"name":"d"}`), GasLimit: 50_000_000},
		{Fn: "greet", Input: []byte(`{"name":"a"}`), GasLimit: 50_000_000},
	}
	mp, mf := compileMetered(t, pooled, example(t, "hello")), compileMetered(t, fresh, example(t, "hello"))
	for i, req := range reqs {
		a, b := call(t, pooled, mp, req), call(t, fresh, mf, req)
		t.Logf("call %d: %s", i, a)
		if !a.Equal(b) {
			t.Fatalf("call %d: pooled %s != fresh %s", i, a, b)
		}
	}
}

// TestSnapshotEligibility: Go contracts are snapshotted; a module whose
// initialiser writes its table is not, and still runs correctly.
func TestSnapshotEligibility(t *testing.T) {
	r := shared(t, "compiler")
	if m := compileMetered(t, r, example(t, "fib")); !m.Snapshots() {
		t.Error("the Go fib contract is not snapshotted")
	}
	tm := wt.New()
	tm.Table(2)
	tm.Start(tm.Func(nil, nil, nil, wt.Code{}.I32(0).Op(0xD0, 0x70, 0x26, 0x00)))
	tm.Export("run", tm.Func(nil, nil, nil, nil))
	m := compileMetered(t, r, tm.Bytes())
	if m.Snapshots() {
		t.Error("a table-writing module is snapshotted")
	}
	a := call(t, r, m, wasm.Request{Fn: "run", GasLimit: 1000})
	b := call(t, r, m, wasm.Request{Fn: "run", GasLimit: 1000})
	if a.Status != wasm.StatusOK || !a.Equal(b) || a.GasUsed == 0 {
		t.Errorf("table module: %s then %s", a, b)
	}
}

// TestConcurrentCalls: one Runtime serves calls from several goroutines
// (pooled instances, one snapshot); every result equals the sequential one.
func TestConcurrentCalls(t *testing.T) {
	r := shared(t, "compiler")
	m := compileMetered(t, r, example(t, "fib"))
	want := call(t, r, m, wasm.Request{Fn: "fib", Input: []byte("12"), GasLimit: 50_000_000})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				got, err := r.Call(context.Background(), m, wasm.Request{Fn: "fib", Input: []byte("12"), GasLimit: 50_000_000})
				if err != nil {
					errs <- err
					return
				}
				if !got.Equal(want) {
					errs <- fmt.Errorf("concurrent result %s != %s", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestInitBudgetOrder: a module whose initialiser needs a known amount of
// gas, called with limits below and above it in mixed order, gives the
// same results with snapshots (which remember "needs more than b") as
// initialising from scratch.
func TestInitBudgetOrder(t *testing.T) {
	m := wt.New()
	m.Start(m.Func(nil, nil, []byte{wt.I32}, wt.Code{}.Loop().LocalGet(0).I32(1).Op(0x6A, 0x22, 0).
		I32(1000).Op(0x49).BrIf(0).End()))
	m.Export("run", m.Func(nil, nil, nil, nil))
	bin := m.Bytes()
	snap, fresh := newRuntime(t, wasm.EngineCompiler), shared(t, "nosnapshot")
	ms, mf := compileMetered(t, snap, bin), compileMetered(t, fresh, bin)
	if !ms.Snapshots() {
		t.Fatal("module with a start function is not snapshotted")
	}
	sawOK, sawOOG := false, false
	for _, limit := range []uint64{100, 50, 5000, 200, 100_000, 2_000, 10, 1_000_000} {
		req := wasm.Request{Fn: "run", GasLimit: limit}
		a, b := call(t, snap, ms, req), call(t, fresh, mf, req)
		if !a.Equal(b) {
			t.Fatalf("limit %d: snapshot %s != fresh %s", limit, a, b)
		}
		sawOK = sawOK || a.Status == wasm.StatusOK
		sawOOG = sawOOG || a.Status == wasm.StatusOutOfGas
	}
	if !sawOK || !sawOOG {
		t.Errorf("limits did not straddle the init cost (ok %v, out of gas %v)", sawOK, sawOOG)
	}
}
