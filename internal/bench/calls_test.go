package bench_test

import (
	"context"
	"testing"

	"github.com/virtual-machine/vm/internal/bench"
	"github.com/virtual-machine/vm/internal/wasm"
)

// TestEchoContract: the bench contract meters, runs and echoes its input.
func TestEchoContract(t *testing.T) {
	ctx := context.Background()
	rt, err := wasm.New(ctx, wasm.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	metered, err := rt.Meter(bench.EchoContract())
	if err != nil {
		t.Fatal(err)
	}
	m, err := rt.Compile(ctx, metered)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"", `{"a":1,"n":2}`} {
		res, err := rt.Call(ctx, m, wasm.Request{Fn: "echo", Input: []byte(in), GasLimit: 100_000})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != wasm.StatusOK || string(res.Output) != in || res.GasUsed == 0 {
			t.Fatalf("echo %q: %+v", in, res)
		}
	}
}
