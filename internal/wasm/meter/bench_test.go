package meter_test

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/virtual-machine/vm/internal/wasm/meter"
)

// fibModule exports fib(n i32) i32, the doubly recursive one.
func fibModule() []byte {
	var b builder
	body := asm{}.get(0).i32(2).op(0x49).if_(tI32). // i32.lt_u
							get(0).
							else_().
							get(0).i32(1).op(0x6B).call(0).
							get(0).i32(2).op(0x6B).call(0).op(0x6A).
							end()
	b.export("fib", b.fn([]byte{tI32}, []byte{tI32}, nil, body))
	return b.bytes()
}

// callsModule exports calls(n i32) i32: a loop that calls a small
// non-recursive helper n times (the per-call cost of ordinary code).
func callsModule() []byte {
	var b builder
	mix := b.fn([]byte{tI32}, []byte{tI32}, nil, asm{}.get(0).i32(31).op(0x6C).i32(7).op(0x6A))
	body := asm{}.loop(void).get(1).call(mix).set(1).get(0).i32(1).op(0x6B).tee(0).brIf(0).end().get(1)
	b.export("calls", b.fn([]byte{tI32}, []byte{tI32}, []byte{tI32}, body))
	return b.bytes()
}

// sha256Module exports hash(blocks i32) i32: the SHA-256 message schedule
// and 64-round compression loop over a 64-word buffer at 0 with round
// constants at 256, feeding the state back into the message each block.
func sha256Module() []byte {
	const (
		n = iota // param: blocks
		a
		bb
		c
		d
		e
		f
		g
		h
		i
		t1
		t2
	)
	rotr := func(x asm, l uint32, k int32) asm { return x.get(l).i32(k).op(0x78) }
	shr := func(x asm, l uint32, k int32) asm { return x.get(l).i32(k).op(0x76) }
	xor := func(x asm) asm { return x.op(0x73) }
	var s asm
	s = s.loop(void)
	// Message schedule: W[i] = s1(W[i-2]) + W[i-7] + s0(W[i-15]) + W[i-16], i = 16..63.
	// t2 = (i-16)*4 is the base address, t1 holds the loaded word.
	s = s.i32(0).set(t2).loop(void)
	s = s.get(t2) // store address (offset 64 = W[i])
	s = s.get(t2).mem(0x28, 56).set(t1)
	s = xor(xor(rotr(rotr(s, t1, 17), t1, 19)).get(t1).i32(10).op(0x76))
	s = s.get(t2).mem(0x28, 36).op(0x6A)
	s = s.get(t2).mem(0x28, 4).set(t1)
	s = xor(xor(shr(rotr(rotr(s, t1, 7), t1, 18), t1, 3))).op(0x6A)
	s = s.get(t2).mem(0x28, 0).op(0x6A)
	s = s.mem(0x36, 64)
	s = s.get(t2).i32(4).op(0x6A).tee(t2).i32(192).op(0x49).brIf(0).end()
	// 64 rounds.
	s = s.i32(0).set(i).loop(void)
	// t1 = h + S1(e) + Ch(e,f,g) + K[i] + W[i]
	s = s.get(h)
	s = xor(xor(rotr(rotr(rotr(s, e, 6), e, 11), e, 25))).op(0x6A)
	s = s.get(e).get(f).op(0x71).get(e).i32(-1).op(0x73).get(g).op(0x71).op(0x73).op(0x6A)
	s = s.get(i).mem(0x28, 256).op(0x6A)
	s = s.get(i).mem(0x28, 0).op(0x6A).set(t1)
	// t2 = S0(a) + Maj(a,b,c)
	s = xor(xor(rotr(rotr(rotr(s, a, 2), a, 13), a, 22)))
	s = s.get(a).get(bb).op(0x71).get(a).get(c).op(0x71).op(0x73).get(bb).get(c).op(0x71).op(0x73).op(0x6A).set(t2)
	s = s.get(g).set(h).get(f).set(g).get(e).set(f).get(d).get(t1).op(0x6A).set(e)
	s = s.get(c).set(d).get(bb).set(c).get(a).set(bb).get(t1).get(t2).op(0x6A).set(a)
	s = s.get(i).i32(4).op(0x6A).tee(i).i32(256).op(0x49).brIf(0).end()
	// Feed the state into W[0] and W[1], next block.
	s = s.i32(0).i32(0).mem(0x28, 0).get(a).op(0x73).mem(0x36, 0)
	s = s.i32(0).i32(0).mem(0x28, 4).get(e).op(0x73).mem(0x36, 4)
	s = s.get(n).i32(1).op(0x6B).tee(n).brIf(0).end()
	s = s.get(a).get(e).op(0x73)

	var m builder
	m.memory(1)
	m.exports = append(m.exports, exp{"mem", 2, 0})
	rng := rand.New(rand.NewPCG(256, 256))
	data := make([]byte, 512)
	for k := 0; k < len(data); k += 4 {
		binary.LittleEndian.PutUint32(data[k:], rng.Uint32())
	}
	m.data = [][]byte{data}
	m.export("hash", m.fn([]byte{tI32}, []byte{tI32}, []byte{tI32, tI32, tI32, tI32, tI32, tI32, tI32, tI32, tI32, tI32, tI32}, s))
	return m.bytes()
}

// floatModule exports saxpy(iters i32) i32: x[k] = x[k]*1.0001 + 0.5 over
// 1024 f64s, with an f64.store per element (a canonicalisation point).
func floatModule() []byte {
	var s asm
	s = s.loop(void).i32(0).set(1).loop(void)
	s = s.get(1).get(1).mem(0x2B, 0).f64(1.0001).op(0xA2).f64(0.5).op(0xA0).mem(0x39, 0)
	s = s.get(1).i32(8).op(0x6A).tee(1).i32(8192).op(0x49).brIf(0).end()
	s = s.get(0).i32(1).op(0x6B).tee(0).brIf(0).end()
	s = s.i32(8).mem(0x28, 0)
	var m builder
	m.memory(1)
	m.exports = append(m.exports, exp{"mem", 2, 0})
	m.export("saxpy", m.fn([]byte{tI32}, []byte{tI32}, []byte{tI32}, s))
	return m.bytes()
}

// TestBenchPrograms checks the benchmark programs give the same results
// metered and unmetered, with equal gas in both engines.
func TestBenchPrograms(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		fn   string
		arg  uint64
		want uint64 // checked when != 0
	}{
		{"fib", fibModule(), "fib", 20, 6765},
		{"sha256", sha256Module(), "hash", 20, 0},
		{"saxpy", floatModule(), "saxpy", 3, 0},
		{"calls", callsModule(), "calls", 3, (7*31+7)*31 + 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metered, _ := mustInstrument(t, tt.in)
			want := runOnce(t, engines[0], tt.in, tt.fn, 0, tt.arg)
			if tt.want != 0 && want.results[0] != tt.want {
				t.Fatalf("original = %v, want %d", want.results, tt.want)
			}
			var gas []int64
			for _, e := range engines {
				got := runOnce(t, e, metered, tt.fn, 1<<40, tt.arg)
				if got.trapped || !equalResults(got.results, want.results) || got.memory != want.memory {
					t.Fatalf("%s: metered %v trapped=%v, original %v", e.name, got.results, got.trapped, want.results)
				}
				gas = append(gas, got.gasLeft)
			}
			if gas[0] != gas[1] {
				t.Fatalf("gas left differs: %v", gas)
			}
		})
	}
}

// bigModule builds a module of at least size bytes from the differential
// generator.
func bigModule(size int) []byte {
	var b builder
	rng := rand.New(rand.NewPCG(1, 1))
	g := &gen{}
	g.vt = b.typ([]byte{tI32, tI32}, []byte{tI32})
	b.memory(1)
	b.globals = []glob{{typ: tI32, mut: true, init: asm{}.i32(0)}}
	locals := []byte{tI32, tI32, tI32, tI32, tI32, tI32, tI64, tF64}
	total := 0
	var elems []uint32
	for k := 0; total < size; k++ {
		src := make([]byte, 4096)
		for j := range src {
			src[j] = byte(rng.Uint32())
		}
		g.src, g.pos, g.k, g.budget, g.calls, g.grows = src, 0, uint32(k), 400, 0, 0
		var body asm
		for g.budget > 0 {
			body = g.stmt(body, 0)
		}
		body = g.expr(body, 0)
		b.fn([]byte{tI32, tI32}, []byte{tI32}, locals, body)
		elems = append(elems, uint32(k))
		total += len(body)
	}
	b.table = uleb([]byte{tRef, 0}, uint32(len(elems)))
	b.elems = [][]uint32{elems}
	b.export("main", uint32(len(elems)-1))
	return b.bytes()
}

// BenchmarkInstrument meters a 1 MiB generated module (dense control
// flow) and the 2.4 MB Go fixture.
func BenchmarkInstrument(b *testing.B) {
	goMod, err := os.ReadFile(goContract)
	if err != nil {
		b.Fatal(err)
	}
	cfg := meter.DefaultConfig()
	cfg.AllowImport = allowWASI
	for _, in := range []struct {
		name string
		orig []byte
	}{{"generated-1MiB", bigModule(1 << 20)}, {"go-wasip1", goMod}} {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.orig)))
			b.ReportAllocs()
			var out []byte
			for b.Loop() {
				var err error
				if out, _, err = meter.Instrument(in.orig, cfg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(out))/float64(len(in.orig)), "size-ratio")
		})
	}
}

// BenchmarkRun runs each program unmetered and metered in the wazero
// compiler; compare the pairs (docs/BENCHMARKS.md (meter)).
func BenchmarkRun(b *testing.B) {
	progs := []struct {
		name string
		in   []byte
		fn   string
		arg  uint64
	}{
		{"fib30", fibModule(), "fib", 30},
		{"sha256x1000", sha256Module(), "hash", 1000},
		{"saxpy_f64x100", floatModule(), "saxpy", 100},
		{"calls_x1e6", callsModule(), "calls", 1_000_000},
	}
	for _, p := range progs {
		metered, _, err := meter.Instrument(p.in, meter.DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range engines {
			for _, v := range []struct {
				name string
				bin  []byte
			}{{"unmetered", p.in}, {"metered", metered}} {
				b.Run(p.name+"/"+e.name+"/"+v.name, func(b *testing.B) {
					ctx := context.Background()
					rt := wazero.NewRuntimeWithConfig(ctx, e.cfg().WithCoreFeatures(meter.Features))
					defer rt.Close(ctx)
					mod, err := rt.InstantiateWithConfig(ctx, v.bin, wazero.NewModuleConfig().WithStartFunctions())
					if err != nil {
						b.Fatal(err)
					}
					f := mod.ExportedFunction(p.fn)
					gas, _ := mod.ExportedGlobal(meter.ExportGas).(api.MutableGlobal)
					for b.Loop() {
						if gas != nil {
							gas.Set(uint64(meter.MaxGas))
						}
						if _, err := f.Call(ctx, p.arg); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkOverhead interleaves one unmetered and one metered call per
// iteration in the wazero compiler and reports the ratio of the fastest
// metered call to the fastest unmetered one: robust against a noisy
// machine, and a baseline run in the same process.
func BenchmarkOverhead(b *testing.B) {
	progs := []struct {
		name string
		in   []byte
		fn   string
		arg  uint64
	}{
		{"fib30", fibModule(), "fib", 30},
		{"sha256x1000", sha256Module(), "hash", 1000},
		{"saxpy_f64x100", floatModule(), "saxpy", 100},
		{"calls_x1e6", callsModule(), "calls", 1_000_000},
	}
	for _, p := range progs {
		b.Run(p.name, func(b *testing.B) {
			metered, _, err := meter.Instrument(p.in, meter.DefaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCoreFeatures(meter.Features))
			defer rt.Close(ctx)
			var fns [2]api.Function
			var gas api.MutableGlobal
			for i, bin := range [][]byte{p.in, metered} {
				mod, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithName(p.name+string(rune('a'+i))).WithStartFunctions())
				if err != nil {
					b.Fatal(err)
				}
				fns[i] = mod.ExportedFunction(p.fn)
				if i == 1 {
					gas = mod.ExportedGlobal(meter.ExportGas).(api.MutableGlobal)
				}
			}
			best := [2]time.Duration{time.Hour, time.Hour}
			for b.Loop() {
				for i, f := range fns {
					gas.Set(uint64(meter.MaxGas))
					start := time.Now()
					if _, err := f.Call(ctx, p.arg); err != nil {
						b.Fatal(err)
					}
					best[i] = min(best[i], time.Since(start))
				}
			}
			b.ReportMetric(float64(best[0].Nanoseconds()), "min-unmetered-ns")
			b.ReportMetric(float64(best[1].Nanoseconds()), "min-metered-ns")
			b.ReportMetric(float64(best[1])/float64(best[0]), "ratio")
		})
	}
}
