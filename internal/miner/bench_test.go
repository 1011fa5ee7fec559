package miner_test

import (
	"context"
	"testing"
)

// BenchmarkExecute compares Executor.Execute (offer parsing, cached module
// lookup, state through the Data source, result encoding and hash) with
// the baseline wasm.Runtime.Call plus encoding of the same compiled module
// on the same state. Report the ratio (docs/benchmarks-miner.md).
func BenchmarkExecute(b *testing.B) {
	ctx := context.Background()
	w := sharedWorld(b)
	w.data.ns("counter").Set([]byte("count"), []byte("41"), 9)
	for _, bc := range []struct{ name, contract, fn, input string }{
		{"hello", "hello@1.0.0", "greet", `{"name":"ada"}`},
		{"counter", "counter@1.0.0", "increment", "1"},
		{"fib", "fib@1.0.0", "fib", "20"},
	} {
		r := offer(w.vs[bc.contract], bc.fn, bc.input)
		b.Run(bc.name+"/runtime", func(b *testing.B) {
			for b.Loop() {
				res, err := w.rt.Call(ctx, w.mods[bc.contract], callFor(r, w.data.ns(r.Name)))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := res.Hash(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/executor", func(b *testing.B) {
			for b.Loop() {
				if _, _, _, err := w.exec.Execute(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
