package wasm_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
	"github.com/virtual-machine/vm/internal/wasm/meter"
	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

var (
	noT  []byte
	i32x = []byte{wt.I32}
)

// loopModule exports run, whose body is body inside an endless loop.
func loopModule(setup func(m *wt.Module), body wt.Code) []byte {
	m := wt.New()
	if setup != nil {
		setup(m)
	}
	m.Export("run", m.Func(noT, noT, nil, wt.Code{}.Loop().Op(body...).Br(0).End()))
	return m.Bytes()
}

func hostileModules(t *testing.T) []struct {
	name      string
	bin       []byte
	gas       uint64
	want      wasm.Status
	wantMsg   string
	wantMeter error
} {
	t.Helper()
	withMem := func(m *wt.Module) { m.Memory(1, -1) }
	start := wt.New()
	start.Start(start.Func(noT, noT, nil, wt.Code{}.Loop().Br(0).End()))
	start.Export("run", start.Func(noT, noT, nil, nil))

	growFail := wt.New()
	growFail.Memory(1, -1)
	growFail.Export("run", growFail.Func(noT, noT, nil, wt.Code{}.Block().Loop().
		I32(1).MemoryGrow().I32(-1).Op(0x47).BrIf(0).End().End().Unreachable()))

	rec := wt.New()
	rec.Export("run", rec.Func(noT, noT, nil, wt.Code{}.Call(0)))

	out := wt.New()
	ow := out.Import("vm", "output_write", []byte{wt.I32, wt.I32}, noT)
	out.Memory(1, -1)
	out.Export("run", out.Func(noT, noT, nil, wt.Code{}.Loop().I32(0).I32(65536).Call(ow).Br(0).End()))

	spam := wt.New()
	h := spam.Import("vm", "height", noT, []byte{wt.I64})
	spam.Export("run", spam.Func(noT, noT, nil, wt.Code{}.Loop().Call(h).Drop().Br(0).End()))

	ab := wt.New()
	abort := ab.Import("vm", "abort", []byte{wt.I32, wt.I32}, noT)
	ab.Memory(1, 1)
	ab.Data(0, []byte("boom"))
	ab.Export("run", ab.Func(noT, noT, nil, wt.Code{}.I32(0).I32(4).Call(abort)))

	div := wt.New()
	div.Export("run", div.Func(noT, noT, nil, wt.Code{}.I32(1).I32(0).Op(0x6D).Drop()))

	oob := wt.New()
	ow2 := oob.Import("vm", "output_write", []byte{wt.I32, wt.I32}, noT)
	oob.Memory(1, 1)
	oob.Export("run", oob.Func(noT, noT, nil, wt.Code{}.I32(65500).I32(100).Call(ow2)))

	noMem := wt.New()
	ow3 := noMem.Import("vm", "output_write", []byte{wt.I32, wt.I32}, noT)
	noMem.Export("run", noMem.Func(noT, noT, nil, wt.Code{}.I32(0).I32(1).Call(ow3)))

	gasName := wt.New()
	gasName.ExportGlobal("vm_gas", gasName.Global(wt.I64, true, 1<<40))
	gasName.Export("run", gasName.Func(noT, noT, nil, nil))

	gasImport := wt.New()
	gasImport.Import("vm", "vm_gas", noT, []byte{wt.I64})
	gasImport.Export("run", gasImport.Func(noT, noT, nil, nil))

	simd := wt.New()
	v128 := append([]byte{0xFD, 0x0C}, make([]byte, 16)...)
	simd.Export("run", simd.Func(noT, noT, nil, wt.Code{}.Op(v128...).Drop()))

	undeclared := wt.New()
	undeclared.Import("env", "foo", noT, noT)
	undeclared.Export("run", undeclared.Func(noT, noT, nil, nil))

	wrongSig := wt.New()
	wrongSig.Import("vm", "height", i32x, noT)
	wrongSig.Export("run", wrongSig.Func(noT, noT, nil, nil))

	hello := example(t, "hello")
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}

	return []struct {
		name      string
		bin       []byte
		gas       uint64
		want      wasm.Status
		wantMsg   string
		wantMeter error
	}{
		{name: "infinite loop", bin: loopModule(nil, nil), gas: 1_000_000, want: wasm.StatusOutOfGas},
		{name: "infinite loop in start", bin: start.Bytes(), gas: 1_000_000, want: wasm.StatusOutOfGas},
		{name: "unbounded memory.grow", bin: loopModule(withMem, wt.Code{}.I32(1).MemoryGrow().Drop()), gas: 5_000_000, want: wasm.StatusOutOfGas},
		{name: "memory.grow until failure then trap", bin: growFail.Bytes(), gas: 5_000_000, want: wasm.StatusMemoryLimit},
		{name: "unbounded recursion", bin: rec.Bytes(), gas: 50_000_000, want: wasm.StatusCallDepthExceeded},
		{name: "huge output", bin: out.Bytes(), gas: 50_000_000, want: wasm.StatusOutputTooLarge},
		{name: "host-call spam", bin: spam.Bytes(), gas: 50_000_000, want: wasm.StatusTrap, wantMsg: "host call limit exceeded"},
		{name: "host-call spam out of gas", bin: spam.Bytes(), gas: 100_000, want: wasm.StatusOutOfGas},
		{name: "abort", bin: ab.Bytes(), gas: 1_000_000, want: wasm.StatusAbort, wantMsg: "boom"},
		{name: "divide by zero", bin: div.Bytes(), gas: 1_000_000, want: wasm.StatusTrap, wantMsg: "integer divide by zero"},
		{name: "host read out of bounds", bin: oob.Bytes(), gas: 1_000_000, want: wasm.StatusTrap, wantMsg: "out of bounds memory access"},
		{name: "host read from a module with no memory", bin: noMem.Bytes(), gas: 1_000_000, want: wasm.StatusTrap, wantMsg: "out of bounds memory access"},
		{name: "exports the gas counter name", bin: gasName.Bytes(), wantMeter: meter.ErrInvalid},
		{name: "imports the gas counter", bin: gasImport.Bytes(), wantMeter: meter.ErrImport},
		{name: "SIMD", bin: simd.Bytes(), wantMeter: meter.ErrUnsupported},
		{name: "undeclared import", bin: undeclared.Bytes(), wantMeter: meter.ErrImport},
		{name: "ABI import with wrong signature", bin: wrongSig.Bytes(), wantMeter: meter.ErrImport},
		{name: "truncated", bin: hello[:len(hello)/2], wantMeter: meter.ErrInvalid},
		{name: "random bytes", bin: random, wantMeter: meter.ErrInvalid},
		{name: "empty", bin: nil, wantMeter: meter.ErrInvalid},
	}
}

// TestHostile runs every hostile module under both engines and with and
// without snapshots: each must end with the wanted status, quickly, and
// with a byte-identical result every time.
func TestHostile(t *testing.T) {
	ctx := context.Background()
	cfgs := map[string]wasm.Config{}
	for _, e := range []wasm.Engine{wasm.EngineCompiler, wasm.EngineInterpreter} {
		c := wasm.TestConfig()
		c.Engine = e
		cfgs[string(e)] = c
	}
	ns := wasm.TestConfig()
	ns.NoSnapshot = true
	cfgs["compiler-nosnapshot"] = ns
	rts := map[string]*wasm.Runtime{}
	for name, c := range cfgs {
		rts[name] = newRuntimeCfg(t, c)
	}
	for _, tc := range hostileModules(t) {
		t.Run(tc.name, func(t *testing.T) {
			var first *wasm.Result
			for rname, r := range rts {
				metered, err := r.Meter(tc.bin)
				if tc.wantMeter != nil {
					if !errors.Is(err, tc.wantMeter) || vmerr.KindOf(err) != vmerr.Invalid {
						t.Fatalf("%s: Meter err = %v, want %v", rname, err, tc.wantMeter)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: Meter: %v", rname, err)
				}
				m, err := r.Compile(ctx, metered)
				if err != nil {
					t.Fatalf("%s: Compile: %v", rname, err)
				}
				for i := 0; i < 2; i++ {
					begin := time.Now()
					res := call(t, r, m, wasm.Request{Fn: "run", GasLimit: tc.gas})
					if d := time.Since(begin); d > 10*time.Second {
						t.Errorf("%s: took %v", rname, d)
					}
					if res.Status != tc.want || (tc.wantMsg != "" && res.Error != tc.wantMsg) {
						t.Fatalf("%s: got %s, want %s %q", rname, res, tc.want, tc.wantMsg)
					}
					if res.Status == wasm.StatusOutOfGas && res.GasUsed != tc.gas {
						t.Errorf("%s: out of gas used %d, want the limit %d", rname, res.GasUsed, tc.gas)
					}
					if first == nil {
						first = res
					} else if !first.Equal(res) {
						t.Fatalf("%s: result %s differs from first %s", rname, res, first)
					}
				}
			}
		})
	}
}

// TestCompileRefusesForeignImports checks the unmetered path validates
// imports too.
func TestCompileRefusesForeignImports(t *testing.T) {
	r := shared(t, "compiler")
	tests := []struct {
		name string
		mod  func(m *wt.Module)
	}{
		{"unknown module", func(m *wt.Module) { m.Import("env", "abort", noT, noT) }},
		{"unknown ABI function", func(m *wt.Module) { m.Import("vm", "exec", noT, noT) }},
		{"bad WASI signature", func(m *wt.Module) { m.Import("wasi_snapshot_preview1", "fd_write", i32x, i32x) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := wt.New()
			tc.mod(m)
			m.Export("run", m.Func(noT, noT, nil, nil))
			_, err := r.Compile(context.Background(), m.Bytes())
			if vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("Compile err = %v, want kind invalid", err)
			}
		})
	}
}
