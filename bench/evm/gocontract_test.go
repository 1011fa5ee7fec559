package evm_test

import (
	"context"
	"os"
	"testing"

	"github.com/virtual-machine/vm/bench/evm"
	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/wasm"
)

// TestGoContractsAgree builds the fib and sha256 example contracts and
// checks they compute what native Go and the EVM compute. It needs the Go
// toolchain and a few seconds; skipped with -short and under -race.
func TestGoContractsAgree(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("builds and compiles two Go contracts (slow with -short or -race)")
	}
	ctx := context.Background()
	rt, err := wasm.New(ctx, wasm.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(ctx) })
	g, err := evm.NewGeth(testGas)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    evm.Program
		ns   []uint64
	}{
		{"fib", evm.Fib, []uint64{0, 1, 10, 20}},
		{"sha256", evm.SHA256, []uint64{0, 1, 3}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, err := examples.Build(ctx, dir, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			bin, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := evm.NewGoContract(ctx, rt, tt.p, bin)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.ns {
				want := evm.Native(tt.p, n)
				got, gas, err := c.Run(ctx, n)
				if err != nil {
					t.Fatalf("%v(%d): %v", tt.p, n, err)
				}
				if got != want || gas == 0 {
					t.Errorf("%v(%d) = %x (gas %d), want %x", tt.p, n, got, gas, want)
				}
				if ev, _, err := g.Run(tt.p, n); err != nil || ev != want {
					t.Errorf("evm %v(%d) = %x, %v; want %x", tt.p, n, ev, err, want)
				}
			}
		})
	}
}

// TestNewGoContractRejects checks the constructor's error outcomes.
func TestNewGoContractRejects(t *testing.T) {
	ctx := context.Background()
	rt, err := wasm.New(ctx, wasm.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(ctx) })
	tests := []struct {
		name string
		p    evm.Program
		bin  []byte
	}{
		{"no-example-for-loop", evm.Loop, evm.Module()},
		{"not-wasm", evm.Fib, []byte("not wasm")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := evm.NewGoContract(ctx, rt, tt.p, tt.bin); err == nil {
				t.Fatal("want error")
			}
		})
	}
}
