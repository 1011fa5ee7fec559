package evm_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/virtual-machine/vm/bench/evm"
	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/wasm"
)

// Inputs of the benchmarks: large enough that per-call setup is small
// against the work (EVM call setup is a few µs, a wasm call tens of µs).
const (
	benchFib    = 25      // 242,785 calls
	benchLoop   = 100_000 // xorshift64 rounds
	benchHashes = 10_000  // chained hashes of 32 bytes
)

// runner is one way to compute a program's result; it returns the result
// and the gas used (0 where there is no meter).
type runner struct {
	name string
	run  func(n uint64) (evm.Word, uint64, error)
}

// bench runs each runner as a sub-benchmark on the same input, failing on
// any error or on a result that differs from native Go's, and reports
// "gas/op" for the metered runners.
func bench(b *testing.B, p evm.Program, n uint64, runners []runner) {
	want := evm.Native(p, n)
	for _, r := range runners {
		b.Run(r.name, func(b *testing.B) {
			got, gas, err := r.run(n) // warm up: snapshots, jumpdest analysis
			if err != nil {
				b.Fatal(err)
			}
			if got != want {
				b.Fatalf("%v(%d) = %x, want %x", p, n, got, want)
			}
			b.ResetTimer()
			for b.Loop() {
				got, _, err := r.run(n)
				if err != nil {
					b.Fatal(err)
				}
				if got != want {
					b.Fatalf("%v(%d) = %x, want %x", p, n, got, want)
				}
			}
			if gas != 0 {
				b.ReportMetric(float64(gas), "gas/op")
			}
		})
	}
}

// setup returns the EVM and wasm runners shared by the benchmarks.
func setup(b *testing.B) (*evm.Geth, *evm.Wasm) {
	b.Helper()
	ctx := context.Background()
	g, err := evm.NewGeth(evm.GasLimit)
	if err != nil {
		b.Fatal(err)
	}
	w, err := evm.NewWasm(ctx, evm.GasLimit)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Close(ctx) })
	return g, w
}

// goContract builds the named example contract for wasip1 and loads it,
// metered, into a fresh runtime.
func goContract(b *testing.B, name string, p evm.Program) *evm.GoContract {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	path, err := examples.Build(ctx, dir, name)
	if err != nil {
		b.Fatal(err)
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	rt, err := wasm.New(ctx, wasm.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rt.Close(ctx) })
	c, err := evm.NewGoContract(ctx, rt, p, bin)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func nativeRunner(p evm.Program) runner {
	return runner{"native", func(n uint64) (evm.Word, uint64, error) { return evm.Native(p, n), 0, nil }}
}

func wasmRunner(w *evm.Wasm, p evm.Program, metered bool) runner {
	name := "wasm-unmetered"
	if metered {
		name = "wasm-metered"
	}
	return runner{name, func(n uint64) (evm.Word, uint64, error) {
		return w.Run(context.Background(), p, n, metered)
	}}
}

func evmRunner(g *evm.Geth, p evm.Program, name string) runner {
	return runner{name, func(n uint64) (evm.Word, uint64, error) { return g.Run(p, n) }}
}

func goRunner(c *evm.GoContract) runner {
	return runner{"go-contract-metered", func(n uint64) (evm.Word, uint64, error) {
		return c.Run(context.Background(), n)
	}}
}

// BenchmarkFib: recursive fib, call-dominated.
func BenchmarkFib(b *testing.B) {
	g, w := setup(b)
	c := goContract(b, "fib", evm.Fib)
	b.Run("n="+strconv.Itoa(benchFib), func(b *testing.B) {
		bench(b, evm.Fib, benchFib, []runner{
			nativeRunner(evm.Fib),
			wasmRunner(w, evm.Fib, true),
			wasmRunner(w, evm.Fib, false),
			goRunner(c),
			evmRunner(g, evm.Fib, "evm"),
		})
	})
}

// BenchmarkLoop: xorshift64 integer loop.
func BenchmarkLoop(b *testing.B) {
	g, w := setup(b)
	b.Run("n="+strconv.Itoa(benchLoop), func(b *testing.B) {
		bench(b, evm.Loop, benchLoop, []runner{
			nativeRunner(evm.Loop),
			wasmRunner(w, evm.Loop, true),
			wasmRunner(w, evm.Loop, false),
			evmRunner(g, evm.Loop, "evm"),
		})
	})
}

// BenchmarkSHA256: chained SHA-256. The EVM has no SHA-256 instruction;
// its side calls the 0x02 precompile, which is native Go: that row
// measures the EVM's call overhead plus native hashing, not the EVM
// computing SHA-256.
func BenchmarkSHA256(b *testing.B) {
	g, w := setup(b)
	c := goContract(b, "sha256", evm.SHA256)
	b.Run("n="+strconv.Itoa(benchHashes), func(b *testing.B) {
		bench(b, evm.SHA256, benchHashes, []runner{
			nativeRunner(evm.SHA256),
			wasmRunner(w, evm.SHA256, true),
			wasmRunner(w, evm.SHA256, false),
			goRunner(c),
			evmRunner(g, evm.SHA256, "evm-precompile"),
		})
	})
}

// BenchmarkKeccak: chained Keccak-256. The EVM's KECCAK256 opcode is
// native Go in go-ethereum too (the permutation in Go or assembly), so the
// EVM row is again native hashing plus interpreter overhead.
func BenchmarkKeccak(b *testing.B) {
	g, w := setup(b)
	b.Run("n="+strconv.Itoa(benchHashes), func(b *testing.B) {
		bench(b, evm.Keccak, benchHashes, []runner{
			nativeRunner(evm.Keccak),
			wasmRunner(w, evm.Keccak, true),
			wasmRunner(w, evm.Keccak, false),
			evmRunner(g, evm.Keccak, "evm-opcode"),
		})
	})
}

// BenchmarkCallOverhead: fib(1), so each row is the fixed cost of one
// call (EVM: new interpreter, access-list prepare, call frame; wasm: an
// instance from the pool, reset, host calls for input and output).
func BenchmarkCallOverhead(b *testing.B) {
	g, w := setup(b)
	b.Run("fib-n=1", func(b *testing.B) {
		bench(b, evm.Fib, 1, []runner{
			nativeRunner(evm.Fib),
			wasmRunner(w, evm.Fib, true),
			wasmRunner(w, evm.Fib, false),
			evmRunner(g, evm.Fib, "evm"),
		})
	})
}
