package evm_test

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/virtual-machine/vm/bench/evm"
)

// testGas bounds every test call: ample for the test inputs (fib(20) on
// the EVM needs ~1.3 M), small enough that a broken program fails fast.
const testGas = 50_000_000

// mustHex decodes a 32-byte word.
func mustHex(t *testing.T, s string) evm.Word {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hex %q", s)
	}
	return evm.Word(b)
}

// TestNativeKnownValues anchors the Go implementations to independent
// values, so agreement below is agreement on the right answer.
func TestNativeKnownValues(t *testing.T) {
	tests := []struct {
		name string
		p    evm.Program
		n    uint64
		want evm.Word
	}{
		{"fib0", evm.Fib, 0, evm.WordOf(0)},
		{"fib1", evm.Fib, 1, evm.WordOf(1)},
		{"fib20", evm.Fib, 20, evm.WordOf(6765)},
		{"fib30", evm.Fib, 30, evm.WordOf(832040)},
		{"loop0", evm.Loop, 0, evm.WordOf(0)},
		{"sha256-0", evm.SHA256, 0, evm.Word{}},
		// SHA-256 of 32 zero bytes.
		{"sha256-1", evm.SHA256, 1, mustHex(t, "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925")},
		// Keccak-256 of 32 zero bytes (the empty storage slot hash).
		{"keccak-1", evm.Keccak, 1, mustHex(t, "290decd9548b62a8d60345a988386fc84ba6bc95484008f6362f93160ef3e563")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := evm.Native(tt.p, tt.n); got != tt.want {
				t.Fatalf("Native(%v, %d) = %x, want %x", tt.p, tt.n, got, tt.want)
			}
		})
	}
	// One xorshift64 round from the seed, by hand.
	x := evm.XorshiftSeed
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	if got := evm.LoopGo(1); got != x {
		t.Fatalf("LoopGo(1) = %#x, want %#x", got, x)
	}
}

// TestAgree checks that the EVM program, the metered and unmetered wasm
// module and native Go compute the same word for each program and input.
func TestAgree(t *testing.T) {
	ctx := context.Background()
	g, err := evm.NewGeth(testGas)
	if err != nil {
		t.Fatal(err)
	}
	w, err := evm.NewWasm(ctx, testGas)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(ctx) })

	tests := []struct {
		p    evm.Program
		ns   []uint64
		wasm bool
	}{
		{evm.Fib, []uint64{0, 1, 2, 3, 10, 15}, true},
		{evm.Loop, []uint64{0, 1, 2, 1000}, true},
		{evm.SHA256, []uint64{0, 1, 2, 10}, true},
		{evm.Keccak, []uint64{0, 1, 2, 10}, true},
	}
	for _, tt := range tests {
		for _, n := range tt.ns {
			want := evm.Native(tt.p, n)
			got, gas, err := g.Run(tt.p, n)
			if err != nil {
				t.Fatalf("evm %v(%d): %v", tt.p, n, err)
			}
			if got != want {
				t.Errorf("evm %v(%d) = %x, want %x", tt.p, n, got, want)
			}
			if gas == 0 {
				t.Errorf("evm %v(%d) used no gas", tt.p, n)
			}
			if !tt.wasm {
				continue
			}
			for _, metered := range []bool{true, false} {
				got, gas, err := w.Run(ctx, tt.p, n, metered)
				if err != nil {
					t.Fatalf("wasm %v(%d) metered=%v: %v", tt.p, n, metered, err)
				}
				if got != want {
					t.Errorf("wasm %v(%d) metered=%v = %x, want %x", tt.p, n, metered, got, want)
				}
				if metered && gas == 0 {
					t.Errorf("wasm %v(%d) metered used no gas", tt.p, n)
				}
			}
		}
	}
}

// TestGasGrows checks both meters charge more for more work (a run that
// charged a constant would make the gas comparison meaningless).
func TestGasGrows(t *testing.T) {
	ctx := context.Background()
	g, err := evm.NewGeth(testGas)
	if err != nil {
		t.Fatal(err)
	}
	w, err := evm.NewWasm(ctx, testGas)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(ctx) })
	for _, p := range []evm.Program{evm.Fib, evm.Loop, evm.SHA256, evm.Keccak} {
		_, e1, err1 := g.Run(p, 10)
		_, e2, err2 := g.Run(p, 12)
		_, w1, err3 := w.Run(ctx, p, 10, true)
		_, w2, err4 := w.Run(ctx, p, 12, true)
		for _, err := range []error{err1, err2, err3, err4} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if e2 <= e1 || w2 <= w1 {
			t.Errorf("%v: gas not growing with n: evm %d→%d, wasm %d→%d", p, e1, e2, w1, w2)
		}
	}
}

// TestOutOfGas checks both runners report a run over the limit as an
// error rather than a result.
func TestOutOfGas(t *testing.T) {
	ctx := context.Background()
	g, err := evm.NewGeth(10_000)
	if err != nil {
		t.Fatal(err)
	}
	w, err := evm.NewWasm(ctx, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(ctx) })
	if _, _, err := g.Run(evm.Fib, 20); err == nil {
		t.Error("evm fib(20) with 10,000 gas: want error")
	}
	if _, _, err := w.Run(ctx, evm.Fib, 20, true); err == nil {
		t.Error("wasm fib(20) with 10,000 gas: want error")
	}
}

// TestWasmUnknownProgram checks Run refuses a program number outside
// the set instead of calling a missing export.
func TestWasmUnknownProgram(t *testing.T) {
	ctx := context.Background()
	w, err := evm.NewWasm(ctx, testGas)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(ctx) })
	if _, _, err := w.Run(ctx, evm.Program(99), 1, true); err == nil {
		t.Fatal("Run(99): want error")
	}
}
