package wasm_test

import (
	"slices"
	"testing"

	"github.com/virtual-machine/vm/internal/wasm"
	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// statefulModule has no initialiser, a data segment and a mutable global.
// bump adds the global to the data word at 0, increments the global, stores
// it at 8 and outputs memory [0, 16); spoil does the same and traps; quit
// does it and aborts; exhaust does it and loops until out of gas; grow
// grows memory by a page, writes to it, then bumps.
func statefulModule() []byte {
	i32, i64 := wt.I32, wt.I64
	m := wt.New()
	out := m.Import("vm", "output_write", []byte{i32, i32}, nil)
	abort := m.Import("vm", "abort", []byte{i32, i32}, nil)
	m.Memory(1, 2)
	m.Data(0, []byte("ABCDEFGH"))
	g := m.Global(i64, true, 7)
	bump := wt.Code{}.I32(0).I32(0).Op(0x29, 3, 0).GlobalGet(g).Op(0x7C).Op(0x37, 3, 0). // mem[0] += g
												GlobalGet(g).I64(1).Op(0x7C).GlobalSet(g). // g++
												I32(8).GlobalGet(g).Op(0x37, 3, 0)         // mem[8] = g
	then := func(tail ...wt.Code) []byte { return slices.Concat(append([]wt.Code{bump}, tail...)...) } // never aliases bump
	m.Export("bump", m.Func(nil, nil, nil, then(wt.Code{}.I32(0).I32(16).Call(out))))
	m.Export("spoil", m.Func(nil, nil, nil, then(wt.Code{}.Unreachable())))
	m.Export("quit", m.Func(nil, nil, nil, then(wt.Code{}.I32(0).I32(4).Call(abort))))
	m.Export("exhaust", m.Func(nil, nil, nil, then(wt.Code{}.Loop().Br(0).End())))
	grow := wt.Code{}.I32(1).MemoryGrow().Drop().I32(65536).I64(42).Op(0x37, 3, 0)
	m.Export("grow", m.Func(nil, nil, nil, slices.Concat(grow, bump, wt.Code{}.I32(0).I32(16).Call(out))))
	return m.Bytes()
}

// TestPooledEqualsFresh: a module without an initialiser is pooled (its
// instances are reset to the post-instantiation image between calls), and
// every call — including calls after a trap, an abort, running out of gas
// and memory growth — gives
// the result byte for byte of a fresh instance per call.
func TestPooledEqualsFresh(t *testing.T) {
	engines := []wasm.Engine{wasm.EngineCompiler, wasm.EngineInterpreter}
	for _, engine := range engines {
		t.Run(string(engine), func(t *testing.T) {
			pooledRT := newRuntime(t, engine)
			freshCfg := wasm.TestConfig()
			freshCfg.Engine, freshCfg.NoSnapshot = engine, true
			freshRT := newRuntimeCfg(t, freshCfg)
			bin := statefulModule()
			mp, mf := compileMetered(t, pooledRT, bin), compileMetered(t, freshRT, bin)
			if !mp.Snapshots() {
				t.Fatal("module without initialiser is not pooled")
			}
			var first *wasm.Result
			fns := []string{"bump", "bump", "spoil", "bump", "grow", "bump", "spoil", "spoil", "bump", "bump",
				"quit", "bump", "exhaust", "bump", "quit", "quit", "exhaust", "bump"}
			for i, fn := range fns {
				req := wasm.Request{Fn: fn, GasLimit: 100_000}
				a, b := call(t, pooledRT, mp, req), call(t, freshRT, mf, req)
				if !a.Equal(b) {
					t.Fatalf("call %d (%s): pooled %s != fresh %s", i, fn, a, b)
				}
				want := map[string]wasm.Status{"spoil": wasm.StatusTrap, "quit": wasm.StatusAbort, "exhaust": wasm.StatusOutOfGas}[fn]
				if a.Status != want {
					t.Fatalf("call %d (%s): status %s, want %s", i, fn, a.Status, want)
				}
				if fn != "bump" {
					continue
				}
				if first == nil {
					first = a
					if string(a.Output[:8]) == "ABCDEFGH" || a.Output[8] != 8 {
						t.Fatalf("bump output %x: the call did not run", a.Output)
					}
				} else if !a.Equal(first) {
					t.Fatalf("call %d: bump %s != first bump %s (state leaked)", i, a, first)
				}
			}
		})
	}
}
