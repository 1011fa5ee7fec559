package examples_test

import (
	"context"
	"os"
	"testing"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/wasm"
)

// TestExamples builds every example with the local toolchain and runs it
// through the metered runtime under both engines, which must agree on
// every byte of the result.
func TestExamples(t *testing.T) {
	ctx := context.Background()
	calls := map[string][]struct{ fn, in, want string }{
		"hello":   {{"greet", `{"name":"Grace"}`, `{"greeting":"Hello, Grace!"}`}},
		"counter": {{"increment", "5", "5"}, {"get", "", "0"}},
		"sha256":  {{"hash", "0", "0000000000000000000000000000000000000000000000000000000000000000"}},
		"fib":     {{"fib", "10", "55"}},
	}
	var rts []*wasm.Runtime
	engines := []wasm.Engine{wasm.EngineCompiler, wasm.EngineInterpreter}
	if raceEnabled {
		engines = engines[1:]
	}
	for _, e := range engines {
		cfg := wasm.DefaultConfig()
		cfg.Engine = e
		r, err := wasm.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close(ctx)
		rts = append(rts, r)
	}
	dir := t.TempDir()
	for _, name := range examples.Names {
		t.Run(name, func(t *testing.T) {
			path, err := examples.Build(ctx, dir, name)
			if err != nil {
				t.Fatal(err)
			}
			bin, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range calls[name] {
				var first *wasm.Result
				for _, r := range rts {
					metered, err := r.Meter(bin)
					if err != nil {
						t.Fatal(err)
					}
					m, err := r.Compile(ctx, metered)
					if err != nil {
						t.Fatal(err)
					}
					res, err := r.Call(ctx, m, wasm.Request{Fn: c.fn, Input: []byte(c.in), GasLimit: 20_000_000, Contract: name})
					if err != nil {
						t.Fatal(err)
					}
					if res.Status != wasm.StatusOK || string(res.Output) != c.want {
						t.Fatalf("%s(%s) on %s: %s %q, want %q", c.fn, c.in, r.Config().Engine, res, res.Output, c.want)
					}
					if first != nil && !first.Equal(res) {
						t.Fatalf("%s(%s): engines disagree: %s vs %s", c.fn, c.in, first, res)
					}
					first = res
				}
			}
		})
	}
}
