package composite_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/wasm"
)

// BenchmarkRun compares a 2-step composite (counter.increment by the input,
// then fib of the new count) with making the same two calls directly, in the
// same benchmark binary; the ratio of the two is Run's overhead.
func BenchmarkRun(b *testing.B) {
	w := newWorld(b, "counter", "fib")
	counter, fib := w.mods["counter"], w.mods["fib"]
	m := pinned(b, `{"steps":[{"id":"inc","contract":"counter","fn":"increment","input":{"pointer":"/input/delta"}},
		{"id":"fib","contract":"fib","fn":"fib","input":{"pointer":"/steps/inc"}}]}`)
	ctx := context.Background()
	rt := runtime(b)
	direct := func(b *testing.B) {
		inc, err := rt.Call(ctx, counter, wasm.Request{Fn: "increment", Input: []byte("10"), GasLimit: gas, State: w.states["counter"], Contract: "counter"})
		if err != nil || inc.Status != wasm.StatusOK {
			b.Fatal(inc, err)
		}
		f, err := rt.Call(ctx, fib, wasm.Request{Fn: "fib", Input: inc.Output, GasLimit: gas - inc.GasUsed, Contract: "fib"})
		if err != nil || string(f.Output) != "55" {
			b.Fatal(f, err)
		}
	}
	req := wasm.Request{Input: []byte(`{"delta":10}`), GasLimit: gas, Contract: "c3"}
	comp := func(b *testing.B) {
		got, err := composite.Run(ctx, rt, m, w.load, req)
		if err != nil || string(got.Result.Output) != "55" {
			b.Fatal(got, err)
		}
	}
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			direct(b)
		}
	})
	b.Run("composite", func(b *testing.B) {
		for b.Loop() {
			comp(b)
		}
	})
	// interleaved alternates the two in one loop so machine noise hits both
	// alike, and reports the median over iterations of composite time /
	// direct time (the median ignores iterations a noisy machine preempted).
	b.Run("interleaved", func(b *testing.B) {
		var ratios []float64
		for b.Loop() {
			t0 := time.Now()
			direct(b)
			t1 := time.Now()
			comp(b)
			ratios = append(ratios, float64(time.Since(t1))/float64(t1.Sub(t0)))
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], "composite/direct")
	})
}

// BenchmarkValidateInput measures schema validation of a small input; the
// schema is compiled on every call (Interface keeps no compiled cache).
func BenchmarkValidateInput(b *testing.B) {
	iface := mustInterface(b, `{"functions":[{"name":"greet","input":{"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1}}}}]}`)
	in := []byte(`{"name":"Ada"}`)
	for b.Loop() {
		if err := iface.ValidateInput("greet", in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParsePin measures deploy-time work: parsing and pinning the
// 4-step pipeline manifest with interfaces on every step.
func BenchmarkParsePin(b *testing.B) {
	iface := mustInterface(b, `{"functions":[{"name":"increment","input":{"type":"integer"},"output":{"type":"integer"}},
		{"name":"get","output":{"type":"integer"}},{"name":"fib","input":{"type":"integer"},"output":{"type":"integer"}},
		{"name":"greet","input":{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}},"output":{"type":"object","properties":{"greeting":{"type":"string"}}}}]}`)
	reg := registry{"counter": {Version: "1.0.0", Interface: iface}, "fib": {Version: "1.0.0", Interface: iface}, "hello": {Version: "1.0.0", Interface: iface}}
	doc := []byte(pipeline)
	for b.Loop() {
		m, err := composite.ParseManifest(doc)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Pin(nil, reg.lookup); err != nil {
			b.Fatal(err)
		}
	}
}
