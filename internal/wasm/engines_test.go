package wasm_test

import (
	"testing"

	"github.com/virtual-machine/vm/internal/wasm"
)

// TestEnginesAgree runs plain-WebAssembly workloads (recursion, host
// calls) under both engines with their own runtimes: same output, same
// gas, byte-identical results. It is cheap enough to run under -race,
// where the Go-contract matrix uses the interpreter only.
func TestEnginesAgree(t *testing.T) {
	tests := []struct {
		name string
		bin  []byte
		req  wasm.Request
	}{
		{"fib(20)", fibModule(), wasm.Request{Fn: "run", Input: []byte{20}, GasLimit: 1 << 30}},
		{"fib(25) out of gas", fibModule(), wasm.Request{Fn: "run", Input: []byte{25}, GasLimit: 1_000_000}},
		{"echo", smallModule(), wasm.Request{Fn: "echo", Input: []byte("hello"), GasLimit: 1_000_000}},
		{"cross-contract", callerModule(), wasm.Request{Fn: "run_missing", GasLimit: 1_000_000}},
	}
	var rts []*wasm.Runtime
	for _, e := range []wasm.Engine{wasm.EngineCompiler, wasm.EngineInterpreter} {
		rts = append(rts, newRuntime(t, e))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var first *wasm.Result
			for _, r := range rts {
				res := call(t, r, compileMetered(t, r, tc.bin), tc.req)
				if res.GasUsed == 0 {
					t.Fatalf("%s: no gas used: %s", r.Config().Engine, res)
				}
				if first != nil && !first.Equal(res) {
					t.Fatalf("engines disagree: %s vs %s", first, res)
				}
				first = res
			}
			t.Logf("%s", first)
		})
	}
}
