package wasm_test

import (
	"testing"

	"github.com/virtual-machine/vm/internal/wasm"
	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// callerModule exports run (call counter.increment, output the callee's
// return buffer), run_abort (the same, then abort) and run_missing (call a
// contract that does not exist), and self (call "self".self).
func callerModule() []byte {
	i32 := wt.I32
	m := wt.New()
	call := m.Import("vm", "call", []byte{i32, i32, i32, i32, i32, i32}, []byte{i32})
	retLen := m.Import("vm", "ret_len", nil, []byte{i32})
	retRead := m.Import("vm", "ret_read", []byte{i32}, nil)
	out := m.Import("vm", "output_write", []byte{i32, i32}, nil)
	abort := m.Import("vm", "abort", []byte{i32, i32}, nil)
	m.Memory(1, 1)
	m.Data(0, []byte("counterincrementnobodyselfself"))
	body := func(name, nameLen, fn, fnLen int32) wt.Code {
		return wt.Code{}.I32(name).I32(nameLen).I32(fn).I32(fnLen).I32(0).I32(0).Call(call).Drop().
			I32(100).Call(retRead).I32(100).Call(retLen).Call(out)
	}
	m.Export("run", m.Func(nil, nil, nil, body(0, 7, 7, 9)))
	m.Export("run_abort", m.Func(nil, nil, nil, body(0, 7, 7, 9).I32(0).I32(4).Call(abort)))
	m.Export("run_missing", m.Func(nil, nil, nil, body(16, 6, 7, 9)))
	m.Export("self", m.Func(nil, nil, nil, body(22, 4, 26, 4)))
	return m.Bytes()
}

func TestCrossContractCall(t *testing.T) {
	for _, kind := range []string{"compiler", "interpreter"} {
		t.Run(kind, func(t *testing.T) {
			r := shared(t, kind)
			counter := compileMetered(t, r, example(t, "counter"))
			caller := compileMetered(t, r, callerModule())
			counterState := &wasm.MemState{}
			res := wasm.MemResolver{
				"counter": {Module: counter, State: counterState},
				"self":    {Module: caller},
			}
			req := func(fn string, gas uint64) wasm.Request {
				return wasm.Request{Fn: fn, GasLimit: gas, Contract: "caller", Caller: "alice", Contracts: res}
			}

			got := call(t, r, caller, req("run", 50_000_000))
			if got.Status != wasm.StatusOK || string(got.Output) != "1" {
				t.Fatalf("run: %s %q", got, got.Output)
			}
			if len(got.WriteSet) != 1 || got.WriteSet[0].Contract != "counter" || string(got.WriteSet[0].Value) != "1" {
				t.Errorf("callee writes not merged: %+v", got.WriteSet)
			}
			if len(got.Events) != 1 || got.Events[0].Contract != "counter" {
				t.Errorf("callee events: %+v", got.Events)
			}
			if len(got.ReadSet) != 1 || got.ReadSet[0].Contract != "counter" || got.ReadSet[0].Found {
				t.Errorf("callee reads: %+v", got.ReadSet)
			}
			direct := call(t, r, counter, wasm.Request{Fn: "increment", GasLimit: 50_000_000, Contract: "counter"})
			if got.GasUsed <= direct.GasUsed {
				t.Errorf("caller gas %d does not include callee gas %d", got.GasUsed, direct.GasUsed)
			}

			got = call(t, r, caller, req("run_abort", 50_000_000))
			if got.Status != wasm.StatusAbort || len(got.WriteSet) != 0 || len(got.Events) != 0 {
				t.Errorf("run_abort: %+v", got)
			}

			got = call(t, r, caller, req("run_missing", 50_000_000))
			if got.Status != wasm.StatusOK || string(got.Output) != "contract not found" {
				t.Errorf("run_missing: %s %q", got, got.Output)
			}

			got = call(t, r, caller, req("self", 50_000_000))
			if got.Status != wasm.StatusOK || string(got.Output) != "call depth exceeded" {
				t.Errorf("self recursion: %s %q", got, got.Output)
			}

			// The callee shares the caller's gas: too little for the
			// callee's initialisation takes the caller out of gas too.
			got = call(t, r, caller, req("run", direct.GasUsed/2))
			if got.Status != wasm.StatusOutOfGas || got.GasUsed != direct.GasUsed/2 {
				t.Errorf("shared gas: %s", got)
			}
		})
	}
}
