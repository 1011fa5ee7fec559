package meter_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/virtual-machine/vm/internal/wasm/meter"
)

// The differential generator turns arbitrary bytes into a valid module whose
// every run terminates: functions form a DAG (function k calls only j < k),
// loops count a dedicated local down from at most 4, calls and memory.grow
// happen only outside loops. Every function is (i32, i32) -> i32 with locals
// 2..4 (i32 scratch), 5..7 (loop counters), 8 (i64), 9 (f64). "main" is the
// last function. Floats are used but their bits are never observed (no
// store, reinterpret or copysign), because the metered module canonicalises
// NaNs there and the original does not.

type gen struct {
	src       []byte
	pos       int
	k         uint32 // index of the function being generated
	budget    int
	loopDepth int
	calls     int
	grows     int
	vt        uint32
}

func (g *gen) next() byte {
	if g.pos >= len(g.src) {
		return 0
	}
	c := g.src[g.pos]
	g.pos++
	return c
}

func (g *gen) pick(n int) int { return int(g.next()) % n }

var (
	i32Bin = []byte{0x6A, 0x6B, 0x6C, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x46, 0x47, 0x48, 0x4B, 0x4C, 0x6D, 0x6E, 0x6F, 0x70}
	i32Un  = []byte{0x67, 0x68, 0x69, 0x45, 0xC0, 0xC1}
	i64Bin = []byte{0x7C, 0x7D, 0x7E, 0x83, 0x84, 0x85, 0x86, 0x88, 0x7F, 0x80}
	f64Bin = []byte{0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5}
	f64Un  = []byte{0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F}
)

func (g *gen) expr(a asm, d int) asm {
	g.budget--
	if d > 4 || g.budget <= 0 {
		if g.next()%2 == 0 {
			return a.i32(int32(int8(g.next())))
		}
		return a.get(uint32(g.pick(5)))
	}
	switch g.pick(15) {
	case 0:
		return a.i32(int32(g.next())<<24 | int32(g.next()))
	case 1:
		return a.get(uint32(g.pick(5)))
	case 2:
		return g.expr(g.expr(a, d+1), d+1).op(i32Bin[g.pick(len(i32Bin))])
	case 3:
		return g.expr(a, d+1).op(i32Un[g.pick(len(i32Un))])
	case 4:
		a = g.expr(a, d+1).i32(0xFFF0).op(0x71)
		switch g.pick(3) {
		case 0:
			return a.mem(0x28, uint32(g.pick(13)))
		case 1:
			return a.mem(0x2D, uint32(g.pick(16)))
		default:
			return a.mem(0x2E, uint32(g.pick(15)))
		}
	case 5:
		if g.k == 0 || g.loopDepth > 0 || g.calls >= 3 {
			return a.get(0)
		}
		g.calls++
		return g.expr(g.expr(a, d+1), d+1).call(uint32(g.pick(int(g.k))))
	case 6:
		if g.k == 0 || g.loopDepth > 0 || g.calls >= 3 {
			return a.get(1)
		}
		g.calls++
		a = g.expr(g.expr(a, d+1), d+1)
		return g.expr(a, d+1).i32(int32(g.k)).op(0x70).callInd(g.vt)
	case 7:
		a = g.expr(a, d+1).op(0xAC) // i64.extend_i32_s
		a = g.expr(a, d+1).op(0xAD) // i64.extend_i32_u
		a = a.op(i64Bin[g.pick(len(i64Bin))])
		if g.next()%2 == 0 {
			a = a.tee(8).get(8).op(0x7C)
		}
		return a.op(0xA7) // i32.wrap_i64
	case 8:
		a = g.expr(a, d+1).op(0xB7) // f64.convert_i32_s
		a = g.expr(a, d+1).op(0xB8) // f64.convert_i32_u
		a = a.op(f64Bin[g.pick(len(f64Bin))])
		if g.next()%2 == 0 {
			a = a.op(f64Un[g.pick(len(f64Un))])
		}
		if g.next()%2 == 0 {
			a = a.tee(9).get(9).f64(0.5).op(0xA2).op(0x63) // f64.lt: NaN-ness only
			return a
		}
		return a.misc(2) // i32.trunc_sat_f64_s
	case 9:
		return g.expr(g.expr(g.expr(a, d+1), d+1), d+1).op(0x1B)
	case 10:
		a = g.expr(a, d+1).if_(tI32)
		a = g.stmts(a, d+1)
		a = g.expr(a, d+1).else_()
		return g.expr(a, d+1).end()
	case 11:
		a = a.block(tI32)
		a = g.expr(g.expr(a, d+1), d+1).brIf(0).op(0x1A)
		return g.expr(a, d+1).end()
	case 12:
		return a.op(0x3F, 0)
	case 13:
		return a.gget(0)
	default:
		return g.expr(a, d+1).tee(uint32(2 + g.pick(3)))
	}
}

func (g *gen) stmts(a asm, d int) asm {
	for n := g.pick(4); n > 0 && g.budget > 0; n-- {
		a = g.stmt(a, d)
	}
	return a
}

func (g *gen) stmt(a asm, d int) asm {
	g.budget--
	if d > 4 || g.budget <= 0 {
		return a
	}
	switch g.pick(11) {
	case 0:
		return g.expr(a, d+1).set(uint32(2 + g.pick(3)))
	case 1:
		a = g.expr(a, d+1).i32(0xFFF0).op(0x71)
		a = g.expr(a, d+1)
		if g.next()%2 == 0 {
			return a.mem(0x36, uint32(g.pick(13)))
		}
		return a.mem(0x3A, uint32(g.pick(16)))
	case 2:
		if g.loopDepth >= 3 {
			return a
		}
		c := uint32(5 + g.loopDepth)
		a = a.i32(int32(1 + g.pick(4))).set(c).loop(void)
		g.loopDepth++
		a = g.stmts(a, d+1)
		g.loopDepth--
		return a.get(c).i32(1).op(0x6B).tee(c).brIf(0).end()
	case 3:
		a = g.expr(a, d+1).if_(void)
		a = g.stmts(a, d+1).else_()
		return g.stmts(a, d+1).end()
	case 4:
		a = g.stmts(a.block(void), d+1)
		a = g.expr(a, d+1).brIf(0)
		return g.stmts(a, d+1).end()
	case 5:
		if g.next()%4 != 0 { // keep early returns rare
			return g.expr(a, d+1).set(uint32(2 + g.pick(3)))
		}
		a = g.expr(a, d+1).if_(void)
		return g.expr(a, d+1).op(0x0F).end()
	case 6:
		return g.expr(a, d+1).gset(0)
	case 7:
		a = g.expr(a, d+1).i32(0x7FF).op(0x71)
		a = g.expr(a, d+1)
		return g.expr(a, d+1).i32(0xFF).op(0x71).misc(11, 0)
	case 8:
		a = g.expr(a, d+1).i32(0x7FF).op(0x71)
		a = g.expr(a, d+1).i32(0x7FF).op(0x71)
		return g.expr(a, d+1).i32(0xFF).op(0x71).misc(10, 0, 0)
	case 9:
		if g.loopDepth > 0 || g.grows >= 2 {
			return a
		}
		g.grows++
		return g.expr(a, d+1).i32(1).op(0x71).op(0x40, 0).set(2)
	default:
		return g.expr(a, d+1).op(0x1A)
	}
}

// diffModule builds the module for prog. The first byte picks the number of
// functions (1..4); the rest drives the generator.
func diffModule(prog []byte) []byte {
	var b builder
	g := &gen{src: prog}
	nf := 1 + g.pick(4)
	g.vt = b.typ([]byte{tI32, tI32}, []byte{tI32})
	b.memory(1)
	b.table = []byte{tRef, 0, byte(nf)}
	b.globals = []glob{{typ: tI32, mut: true, init: asm{}.i32(11)}}
	b.data = [][]byte{[]byte("differential test data 0123456789")}
	b.exports = append(b.exports, exp{"mem", 2, 0})
	elems := make([]uint32, nf)
	locals := []byte{tI32, tI32, tI32, tI32, tI32, tI32, tI64, tF64}
	for k := range nf {
		g.k, g.budget, g.calls, g.grows = uint32(k), 60, 0, 0
		var body asm
		for n := 1 + g.pick(4); n > 0; n-- {
			body = g.stmt(body, 0)
		}
		if k > 0 { // chain to the previous function so main does real work
			body = g.expr(g.expr(body, 1), 1).call(uint32(k - 1))
		} else {
			body = g.expr(body, 0)
		}
		b.fn([]byte{tI32, tI32}, []byte{tI32}, locals, body)
		elems[k] = uint32(k)
	}
	b.elems = [][]uint32{elems}
	b.export("main", uint32(nf-1))
	return b.bytes()
}

var seedPrograms = func() [][]byte {
	rng := rand.New(rand.NewPCG(7, 7))
	var out [][]byte
	for i := range 24 {
		p := make([]byte, 64+i*24)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		out = append(out, p)
	}
	return append(out, []byte{3}, bytes.Repeat([]byte{2}, 200), bytes.Repeat([]byte{8, 2, 5}, 100))
}()

func checkDifferential(t *testing.T, prog []byte) {
	orig := diffModule(prog)
	metered, _, err := meter.Instrument(orig, meter.DefaultConfig())
	if err != nil {
		t.Fatalf("Instrument: %v", err)
	}
	args := []uint64{uint64(len(prog)), 12345}
	// The metered run goes first: it is bounded by gas, so a generator
	// mistake that loops forever ends as out-of-gas instead of hanging.
	const gas = 50_000_000
	got0 := runOnce(t, engines[0], metered, "main", gas, args...)
	if got0.status == meter.StatusOutOfGas {
		t.Skipf("program needs more than %d gas", gas)
	}
	want := runOnce(t, engines[0], orig, "main", 0, args...)
	var gasLeft int64
	for i, e := range engines {
		got := got0
		if i > 0 {
			got = runOnce(t, e, metered, "main", gas, args...)
		}
		if got.trapped != want.trapped || !equalResults(got.results, want.results) {
			t.Fatalf("%s: metered results %v trapped=%v, original %v trapped=%v", e.name, got.results, got.trapped, want.results, want.trapped)
		}
		if got.memory != want.memory {
			t.Fatalf("%s: memory differs from the original", e.name)
		}
		if got.status != meter.StatusOK {
			t.Fatalf("%s: status %d", e.name, got.status)
		}
		if got.gasLeft >= gas {
			t.Fatalf("%s: no gas used", e.name)
		}
		if i == 0 {
			gasLeft = got.gasLeft
		} else if got.gasLeft != gasLeft {
			t.Fatalf("%s: gas left %d, compiler had %d", e.name, got.gasLeft, gasLeft)
		}
		if !got.trapped && got.depth != 0 {
			t.Fatalf("%s: depth %d after return", e.name, got.depth)
		}
	}
}

func equalResults(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzDifferential: metered with plenty of gas behaves exactly like the
// original, and uses the same gas in the compiler and the interpreter.
func FuzzDifferential(f *testing.F) {
	for _, p := range seedPrograms {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 4096 {
			return
		}
		checkDifferential(t, prog)
	})
}

// FuzzInstrument: arbitrary bytes never panic, every failure is an
// *meter.Error, and every success validates in wazero (Instrument itself
// re-validates; here we also instantiate it in the compiler).
func FuzzInstrument(f *testing.F) {
	for _, p := range seedPrograms[:6] {
		m := diffModule(p)
		f.Add(m)
		f.Add(m[:len(m)/2])
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := meter.Instrument(in, meter.DefaultConfig())
		if err != nil {
			var me *meter.Error
			if !isMeterError(err, &me) {
				t.Fatalf("error %T is not *meter.Error: %v", err, err)
			}
			if me.Kind == meter.KindInternal {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		ctx := context.Background()
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCoreFeatures(meter.Features))
		defer rt.Close(ctx)
		if _, err := rt.CompileModule(ctx, out); err != nil {
			t.Fatalf("metered module does not compile: %v", err)
		}
	})
}
