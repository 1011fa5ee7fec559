package meter_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/virtual-machine/vm/internal/wasm/meter"
)

// simple returns a module with one exported function "run" of the given
// signature and body, plus optional tweaks.
func simple(params, results, locals []byte, body asm, tweak ...func(*builder)) []byte {
	var b builder
	b.export("run", b.fn(params, results, locals, body))
	for _, f := range tweak {
		f(&b)
	}
	return b.bytes()
}

func withMemory(min uint32, max ...uint32) func(*builder) {
	return func(b *builder) { b.memory(min, max...) }
}

func TestInstrumentErrors(t *testing.T) {
	allowAll := meter.DefaultConfig()
	allowAll.AllowImport = func(string, string, []meter.ValType, []meter.ValType) error { return nil }
	errRefused := errors.New("not in the host ABI")
	allowEnv := meter.DefaultConfig()
	allowEnv.AllowImport = func(module, name string, _, _ []meter.ValType) error {
		if module != "env" {
			return errRefused
		}
		return nil
	}
	smallFuncs := meter.DefaultConfig()
	smallFuncs.MaxFunctions = 2
	smallCode := meter.DefaultConfig()
	smallCode.MaxCodeSize = 10
	badCfg := meter.DefaultConfig()
	badCfg.Costs.Op[0x0C] = 0 // br must cost at least 1

	valid := simple(nil, []byte{tI32}, nil, asm{}.i32(1))
	importFn := func(module string, params []byte) []byte {
		var b builder
		b.imports = append(b.imports, rawImport{module, "f", 0, uleb(nil, b.typ(params, nil))})
		b.export("run", b.fn(nil, nil, nil, asm{}))
		return b.bytes()
	}
	importKind := func(kind byte, desc ...byte) []byte {
		var b builder
		b.imports = append(b.imports, rawImport{"env", "x", kind, desc})
		return b.bytes()
	}
	threeFuncs := func() []byte {
		var b builder
		for range 3 {
			b.fn(nil, nil, nil, asm{})
		}
		return b.bytes()
	}()

	tests := []struct {
		name    string
		in      []byte
		cfg     meter.Config
		wantErr error
	}{
		{"empty input", nil, meter.DefaultConfig(), meter.ErrInvalid},
		{"bad magic", []byte("\x00asx\x01\x00\x00\x00"), meter.DefaultConfig(), meter.ErrInvalid},
		{"component version", []byte("\x00asm\x0d\x00\x01\x00"), meter.DefaultConfig(), meter.ErrUnsupported},
		{"truncated", valid[:len(valid)-1], meter.DefaultConfig(), meter.ErrInvalid},
		{"type error", simple(nil, []byte{tI32}, nil, asm{}.op(0x6A)), meter.DefaultConfig(), meter.ErrInvalid},
		{"exports vm_gas", simple(nil, nil, nil, asm{}, func(b *builder) { b.export("vm_gas", 0) }), meter.DefaultConfig(), meter.ErrInvalid},
		{"exports vm_ prefix", simple(nil, nil, nil, asm{}, func(b *builder) { b.export("vm_x", 0) }), meter.DefaultConfig(), meter.ErrInvalid},
		{"simd instruction", simple(nil, nil, nil, asm{}.op(0xFD, 0x0C).op(make([]byte, 16)...).op(0x1A)), meter.DefaultConfig(), meter.ErrUnsupported},
		{"simd local", simple(nil, nil, []byte{0x7B}, asm{}), meter.DefaultConfig(), meter.ErrUnsupported},
		{"atomic instruction", simple(nil, []byte{tI32}, nil, asm{}.i32(0).op(0xFE, 0x10, 2, 0), withMemory(1, 1)), meter.DefaultConfig(), meter.ErrUnsupported},
		{"shared memory", simple(nil, nil, nil, asm{}, func(b *builder) { b.mem = []byte{3, 1, 1} }), meter.DefaultConfig(), meter.ErrUnsupported},
		{"memory64", simple(nil, nil, nil, asm{}, func(b *builder) { b.mem = []byte{4, 1} }), meter.DefaultConfig(), meter.ErrUnsupported},
		{"two memories", simple(nil, nil, nil, asm{}, func(b *builder) { b.memRaw = []byte{2, 0, 1, 0, 1} }), meter.DefaultConfig(), meter.ErrUnsupported},
		{"return_call", simple(nil, nil, nil, asm{}.op(0x12, 0)), meter.DefaultConfig(), meter.ErrUnsupported},
		{"return_call_indirect", simple(nil, nil, nil, asm{}.i32(0).op(0x13, 0, 0)), meter.DefaultConfig(), meter.ErrUnsupported},
		{"exception try", simple(nil, nil, nil, asm{}.op(0x06, 0x40).end()), meter.DefaultConfig(), meter.ErrUnsupported},
		{"tag section", simple(nil, nil, nil, asm{}, func(b *builder) {
			b.extra = append(b.extra, section(nil, 13, []byte{0}))
		}), meter.DefaultConfig(), meter.ErrUnsupported},
		{"function import, none allowed", importFn("env", nil), meter.DefaultConfig(), meter.ErrImport},
		{"function import refused", importFn("wasi", nil), allowEnv, errRefused},
		{"float import", importFn("env", []byte{tF64}), allowAll, meter.ErrImport},
		{"memory import", importKind(2, 0, 1), allowAll, meter.ErrImport},
		{"table import", importKind(1, tRef, 0, 1), allowAll, meter.ErrImport},
		{"global import", importKind(3, tI32, 0), allowAll, meter.ErrImport},
		{"memory min above limit", simple(nil, nil, nil, asm{}, withMemory(257)), meter.DefaultConfig(), meter.ErrLimit},
		{"memory max above limit", simple(nil, nil, nil, asm{}, withMemory(1, 300)), meter.DefaultConfig(), meter.ErrLimit},
		{"table above limit", simple(nil, nil, nil, asm{}, func(b *builder) { b.table = uleb([]byte{tRef, 0}, 10_001) }), meter.DefaultConfig(), meter.ErrLimit},
		{"too many functions", threeFuncs, smallFuncs, meter.ErrLimit},
		{"module too large", valid, smallCode, meter.ErrLimit},
		{"bad config", valid, badCfg, meter.ErrConfig},
		// Invalid code that would name an entity the rewrite adds.
		{"local beyond declared", simple(nil, nil, nil, asm{}.get(0).op(0x1A)), meter.DefaultConfig(), meter.ErrInvalid},
		{"global beyond declared", simple(nil, nil, nil, asm{}.gget(0).op(0x1A)), meter.DefaultConfig(), meter.ErrInvalid},
		{"label beyond function", simple(nil, nil, nil, asm{}.br(1)), meter.DefaultConfig(), meter.ErrInvalid},
		{"block type beyond declared", simple(nil, nil, nil, asm{}.op(0x02, 1).end()), meter.DefaultConfig(), meter.ErrInvalid},
		{"start not nullary", simple([]byte{tI32}, nil, nil, asm{}, func(b *builder) { b.start = new(uint32) }), meter.DefaultConfig(), meter.ErrInvalid},
		{"table max below min", simple(nil, nil, nil, asm{}, func(b *builder) { b.table = []byte{tRef, 1, 5, 2} }), meter.DefaultConfig(), meter.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := meter.Instrument(tt.in, tt.cfg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var me *meter.Error
			if !errors.As(err, &me) {
				t.Fatalf("err %T is not a *meter.Error", err)
			}
			if out != nil {
				t.Fatalf("output returned with error")
			}
		})
	}
	t.Run("allowed import", func(t *testing.T) {
		_, info, err := meter.Instrument(importFn("env", []byte{tI32, tI64}), allowEnv)
		if err != nil {
			t.Fatal(err)
		}
		want := []meter.Import{{Module: "env", Name: "f", Params: []meter.ValType{meter.I32, meter.I64}, Results: []meter.ValType{}}}
		if fmt.Sprint(info.Imports) != fmt.Sprint(want) {
			t.Fatalf("Imports = %v, want %v", info.Imports, want)
		}
	})
}

// TestTruncatedAndRandom: every prefix of a valid module and random bytes
// are refused cleanly (the fuzz test explores further).
func TestTruncatedAndRandom(t *testing.T) {
	orig := diffModule(seedPrograms[0])
	for n := range len(orig) {
		// A cut at a section boundary can leave a valid module.
		if _, _, err := meter.Instrument(orig[:n], meter.DefaultConfig()); err != nil && !errors.Is(err, meter.ErrInvalid) {
			t.Fatalf("prefix %d: err = %v, want ErrInvalid", n, err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		b := make([]byte, rng.IntN(200))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if i%2 == 0 && len(b) >= 8 {
			copy(b, "\x00asm\x01\x00\x00\x00")
		}
		if _, _, err := meter.Instrument(b, meter.DefaultConfig()); err == nil {
			continue // random bytes that happen to be a valid module are fine
		} else if !errors.Is(err, meter.ErrInvalid) && !errors.Is(err, meter.ErrUnsupported) && !errors.Is(err, meter.ErrImport) && !errors.Is(err, meter.ErrLimit) {
			t.Fatalf("random %d: unexpected error class: %v", i, err)
		}
	}
}

// hostile modules: each must end with the same status and gas in both
// engines, every time.
func TestHostile(t *testing.T) {
	infinite := asm{}.loop(void).br(0).end()
	var recursive builder
	recursive.export("run", recursive.fn(nil, nil, nil, asm{}.call(0)))

	var mutual builder // f0 -call_indirect-> f1 -call-> f0
	vt := mutual.typ(nil, nil)
	mutual.table = []byte{tRef, 0, 2}
	mutual.export("run", mutual.fn(nil, nil, nil, asm{}.i32(1).callInd(vt)))
	mutual.fn(nil, nil, nil, asm{}.call(0))
	mutual.elems = [][]uint32{{0, 1}}

	var startLoop builder
	startLoop.start = new(uint32)
	startLoop.fn(nil, nil, nil, infinite)

	// Big frames: recursion with many locals and a deep operand stack.
	bigFrame := asm{}
	for range 200 {
		bigFrame = bigFrame.i64(7)
	}
	bigFrame = bigFrame.call(0)
	for range 200 {
		bigFrame = bigFrame.op(0x1A)
	}
	var big builder
	big.export("run", big.fn(nil, nil, bytes.Repeat([]byte{tI64}, 500), bigFrame))

	tests := []struct {
		name       string
		in         []byte
		fn         string
		gas        int64
		wantStatus uint32
		wantGas    int64 // checked when != 0
		check      func(t *testing.T, o outcome)
	}{
		{name: "infinite loop", in: simple(nil, nil, nil, infinite), fn: "run", gas: 1_000_000, wantStatus: meter.StatusOutOfGas, wantGas: -1},
		{name: "infinite loop in start", in: startLoop.bytes(), fn: meter.ExportStart, gas: 1_000_000, wantStatus: meter.StatusOutOfGas, wantGas: -1},
		{name: "unbounded memory.grow", fn: "run", gas: 50_000_000, wantStatus: meter.StatusOutOfGas,
			in: simple(nil, nil, nil, asm{}.loop(void).i32(1).op(0x40, 0).op(0x1A).br(0).end(), withMemory(1)),
			check: func(t *testing.T, o outcome) {
				if len(o.memory) != 256*65536 {
					t.Errorf("memory grew to %d bytes, want the 256-page cap", len(o.memory))
				}
			}},
		{name: "huge memory.grow charged first", fn: "run", gas: 1_000_000, wantStatus: meter.StatusOutOfGas,
			in: simple(nil, nil, nil, asm{}.i32(65535).op(0x40, 0).op(0x1A), withMemory(1)),
			check: func(t *testing.T, o outcome) {
				if len(o.memory) != 65536 {
					t.Errorf("memory is %d bytes, want 1 page (grow must not run)", len(o.memory))
				}
			}},
		{name: "unbounded recursion", in: recursive.bytes(), fn: "run", gas: 1 << 40, wantStatus: meter.StatusCallDepth},
		{name: "recursion out of gas first", in: recursive.bytes(), fn: "run", gas: 1000, wantStatus: meter.StatusOutOfGas},
		{name: "mutual recursion via call_indirect", in: mutual.bytes(), fn: "run", gas: 1 << 40, wantStatus: meter.StatusCallDepth},
		{name: "recursion with big frames", in: big.bytes(), fn: "run", gas: 1 << 40, wantStatus: meter.StatusCallDepth},
		{name: "memory.fill of whole memory charged first", fn: "run", gas: 1000, wantStatus: meter.StatusOutOfGas,
			in: simple(nil, nil, nil, asm{}.i32(0).i32(1).i32(65536).misc(11, 0), withMemory(1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metered, _ := mustInstrument(t, tt.in)
			var first *outcome
			for _, e := range engines {
				for range 2 {
					o := runOnce(t, e, metered, tt.fn, tt.gas)
					if !o.trapped || o.status != tt.wantStatus {
						t.Fatalf("%s: trapped=%v status=%d, want trap with status %d", e.name, o.trapped, o.status, tt.wantStatus)
					}
					if tt.wantGas != 0 && o.gasLeft != tt.wantGas {
						t.Fatalf("%s: gas left %d, want %d", e.name, o.gasLeft, tt.wantGas)
					}
					if first == nil {
						first = &o
					} else if o.gasLeft != first.gasLeft || o.depth != first.depth {
						t.Fatalf("%s: gas %d depth %d, first run had gas %d depth %d", e.name, o.gasLeft, o.depth, first.gasLeft, first.depth)
					}
					if tt.check != nil {
						tt.check(t, o)
					}
				}
			}
			if tt.wantStatus == meter.StatusCallDepth && first.depth != meter.DefaultConfig().MaxCallDepth+1 {
				t.Fatalf("depth at trap = %d, want %d", first.depth, meter.DefaultConfig().MaxCallDepth+1)
			}
		})
	}
}

// TestGasExact pins the charge of small programs to the cost table, so a
// change to the scheme or the table shows up here.
func TestGasExact(t *testing.T) {
	c := meter.DefaultCosts()
	entry := int64(c.FuncEntry)
	var callee builder
	leaf := callee.fn(nil, []byte{tI32}, nil, asm{}.i32(3))
	callee.export("run", callee.fn(nil, []byte{tI32}, nil, asm{}.call(leaf).call(leaf).op(0x6A)))

	tests := []struct {
		name    string
		in      []byte
		args    []uint64
		want    uint64
		wantGas int64
	}{
		// entry + i32.const + i32.const + i32.add
		{"straight line", simple(nil, []byte{tI32}, nil, asm{}.i32(1).i32(2).op(0x6A)), nil, 3, entry + 3},
		// straight-line arms are folded: const, if (2) + the larger arm (3)
		{"folded if taken", simple(nil, []byte{tI32}, nil, asm{}.i32(1).if_(tI32).i32(7).else_().i32(8).i32(9).op(0x6A).end()), nil, 7, entry + 2 + 3},
		{"folded if not taken", simple(nil, []byte{tI32}, nil, asm{}.i32(0).if_(tI32).i32(7).else_().i32(8).i32(9).op(0x6A).end()), nil, 17, entry + 2 + 3},
		// an arm with a block is not folded: const, if (2); then-arm: const (1)
		{"if taken", simple(nil, []byte{tI32}, nil, asm{}.i32(1).if_(tI32).block(tI32).i32(7).end().else_().i32(8).i32(9).op(0x6A).end()), nil, 7, entry + 2 + 1},
		{"if not taken", simple(nil, []byte{tI32}, nil, asm{}.i32(0).if_(tI32).block(tI32).i32(7).end().else_().i32(8).i32(9).op(0x6A).end()), nil, 17, entry + 2 + 3},
		// loop counting param down to 0: entry (local.get... no: entry has only `loop`),
		// each iteration: get, const, sub, tee, br_if = 5; after loop: get = 1
		{"loop 10 iterations", simple([]byte{tI32}, []byte{tI32}, nil,
			asm{}.loop(void).get(0).i32(1).op(0x6B).tee(0).brIf(0).end().get(0)), []uint64{10}, 0, entry + 10*5 + 1},
		// caller: 2 calls (5 each) + add; each callee: entry + const
		{"calls", callee.bytes(), nil, 6, entry + 2*int64(c.Op[0x10]) + 1 + 2*(entry+1)},
		// memory.fill of 100 bytes: 3 consts + fill (4) + 100 per byte + const
		{"memory.fill", simple(nil, []byte{tI32}, nil, asm{}.i32(0).i32(1).i32(100).misc(11, 0).i32(0), withMemory(1)), nil, 0, entry + 3 + 4 + 100 + 1},
		// memory.grow 2 pages: const + grow(50) + 2*4096
		{"memory.grow", simple(nil, []byte{tI32}, nil, asm{}.i32(2).op(0x40, 0), withMemory(1)), nil, 1, entry + 1 + 50 + 2*4096},
		// return from inside nested blocks: const, block, block, const, return = 3
		{"early return", simple(nil, []byte{tI32}, nil, asm{}.block(void).block(void).i32(5).op(0x0F).end().end().i32(6)), nil, 5, entry + 2},
	}
	const gas = 1_000_000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metered, _ := mustInstrument(t, tt.in)
			for _, e := range engines {
				o := runOnce(t, e, metered, "run", gas, tt.args...)
				if o.trapped || o.status != meter.StatusOK {
					t.Fatalf("%s: trapped=%v status=%d", e.name, o.trapped, o.status)
				}
				if len(o.results) != 1 || o.results[0] != tt.want {
					t.Fatalf("%s: results %v, want [%d]", e.name, o.results, tt.want)
				}
				if used := gas - o.gasLeft; used != tt.wantGas {
					t.Fatalf("%s: gas used %d, want %d", e.name, used, tt.wantGas)
				}
				if o.depth != 0 {
					t.Fatalf("%s: depth %d after return, want 0", e.name, o.depth)
				}
			}
		})
	}
}

// TestDepthRestored calls functions that leave through every exit path
// many more times than MaxCallDepth, from one instance without resetting.
func TestDepthRestored(t *testing.T) {
	var b builder
	exits := map[string]asm{
		"end":       asm{}.i32(1),
		"return":    asm{}.block(void).loop(void).i32(1).op(0x0F).end().end().i32(2),
		"br":        asm{}.block(void).i32(1).br(1).end().i32(2),
		"br_if":     asm{}.block(void).i32(1).i32(1).brIf(1).op(0x1A).end().i32(2),
		"br_table":  asm{}.block(tI32).i32(1).i32(0).op(0x0E, 2, 1, 0, 1).end(),
		"if return": asm{}.i32(1).if_(void).i32(1).op(0x0F).else_().end().i32(2),
	}
	names := []string{"end", "return", "br", "br_if", "br_table", "if return"}
	for _, n := range names {
		inner := b.fn(nil, []byte{tI32}, nil, exits[n])
		// outer calls inner 3*MaxCallDepth times through a loop.
		outer := asm{}.i32(3 * 1024).set(0).loop(void).call(inner).op(0x1A).
			get(0).i32(1).op(0x6B).tee(0).brIf(0).end().i32(1)
		b.export(n, b.fn(nil, []byte{tI32}, []byte{tI32}, outer))
	}
	metered, _ := mustInstrument(t, b.bytes())
	for _, e := range engines {
		s := instantiate(t, e, metered)
		for _, n := range names {
			s.mod.ExportedGlobal(meter.ExportGas).(interface{ Set(uint64) }).Set(1 << 40)
			res, err := s.mod.ExportedFunction(n).Call(s.ctx)
			if err != nil || res[0] != 1 {
				t.Fatalf("%s %s: res=%v err=%v", e.name, n, res, err)
			}
			if d := s.mod.ExportedGlobal(meter.ExportDepth).Get(); d != 0 {
				t.Fatalf("%s %s: depth %d after return, want 0", e.name, n, d)
			}
		}
	}
}

// TestNaN checks every canonicalisation point: the observed bits are the
// canonical NaN whatever NaN the program computed.
func TestNaN(t *testing.T) {
	const c32, c64 = 0x7FC00000, 0x7FF8000000000000
	negNaN64 := uint64(0xFFF4000000000001) // negative signalling NaN with payload
	negNaN32 := uint32(0xFFA00001)
	var g builder
	g.globals = []glob{{typ: tF64, mut: true, init: asm{}.f64(0)}}
	g.memory(1)
	g.exports = append(g.exports, exp{"mem", 2, 0})
	fns := []struct {
		name    string
		results []byte
		body    asm
		want    uint64
	}{
		{"i64.reinterpret", []byte{tI64}, asm{}.f64bits(negNaN64).op(0xBD), c64},
		{"i32.reinterpret", []byte{tI32}, asm{}.f32bits(negNaN32).op(0xBC), c32},
		{"f64.store", []byte{tI64}, asm{}.i32(8).f64bits(negNaN64).mem(0x39, 0).i32(8).mem(0x29, 0), c64},
		{"f32.store", []byte{tI32}, asm{}.i32(8).f32bits(negNaN32).mem(0x38, 0).i32(8).mem(0x28, 0), c32},
		{"computed NaN store", []byte{tI64}, asm{}.i32(16).f64(0).f64(0).op(0xA3).mem(0x39, 0).i32(16).mem(0x29, 0), c64},
		{"copysign sign operand", []byte{tI64}, asm{}.f64(1).f64bits(negNaN64).op(0xA6).op(0xBD), math.Float64bits(1)},
		{"global.set", []byte{tI64}, asm{}.f64bits(negNaN64).gset(0).gget(0).op(0xBD), c64},
		{"f64 result", []byte{tF64}, asm{}.f64bits(negNaN64), c64},
		{"f32 result", []byte{tF32}, asm{}.f32bits(negNaN32), c32},
		{"non-NaN untouched", []byte{tI64}, asm{}.f64(-2.5).op(0xBD), math.Float64bits(-2.5)},
	}
	for _, f := range fns {
		g.export(f.name, g.fn(nil, f.results, nil, f.body))
	}
	multi := g.fn(nil, []byte{tI32, tF64, tF32}, nil, asm{}.i32(7).f64bits(negNaN64).f32bits(negNaN32))
	g.export("multi", multi)
	metered, _ := mustInstrument(t, g.bytes())
	for _, e := range engines {
		for _, f := range fns {
			o := runOnce(t, e, metered, f.name, 1000)
			if o.trapped || len(o.results) != 1 || o.results[0] != f.want {
				t.Errorf("%s %s: results %#x trapped=%v, want %#x", e.name, f.name, o.results, o.trapped, f.want)
			}
		}
		o := runOnce(t, e, metered, "multi", 1000)
		if want := []uint64{7, c64, c32}; fmt.Sprint(o.results) != fmt.Sprint(want) {
			t.Errorf("%s multi: results %#x, want %#x", e.name, o.results, want)
		}
	}
}

func TestRewriteShape(t *testing.T) {
	var b builder
	b.memory(2)
	b.table = []byte{tRef, 0, 1}
	b.globals = []glob{{typ: tI32, init: asm{}.i32(1)}, {typ: tI64, mut: true, init: asm{}.i64(2)}}
	start := b.fn(nil, nil, nil, asm{}.gget(1).i64(1).op(0x7C).gset(1))
	b.export("run", b.fn(nil, []byte{tI64}, nil, asm{}.gget(1).i64(1).op(0x7C)))
	b.start = &start
	orig := b.bytes()

	out, info, err := meter.Instrument(orig, meter.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	out2, _, _ := meter.Instrument(orig, meter.DefaultConfig())
	if !bytes.Equal(out, out2) {
		t.Fatal("Instrument is not deterministic")
	}
	wantInfo := meter.Info{HasStart: true, Exports: []string{"run"}, Globals: []string{"vm_g1"},
		HasMemory: true, MemoryMin: 2, MemoryMax: 256, HasTable: true, Functions: 2}
	if fmt.Sprintf("%+v", info) != fmt.Sprintf("%+v", wantInfo) {
		t.Fatalf("info = %+v\nwant %+v", info, wantInfo)
	}
	for _, e := range engines {
		s := instantiate(t, e, out)
		// The start function did not run on instantiation.
		if v := s.mod.ExportedGlobal("vm_g1").Get(); v != 2 {
			t.Fatalf("%s: vm_g1 = %d before vm_start, want 2", e.name, v)
		}
		if o := s.call(meter.ExportStart, 100); o.trapped || o.status != 0 {
			t.Fatalf("%s: vm_start: %+v", e.name, o)
		}
		if o := s.call("run", 100); o.results[0] != 4 {
			t.Fatalf("%s: run = %v, want 4", e.name, o.results)
		}
		if s.mod.ExportedMemory(meter.ExportMemory) == nil || s.mod.ExportedGlobal("vm_g0") != nil {
			t.Fatalf("%s: vm_memory missing or immutable global exported", e.name)
		}
		if def, ok := s.mod.ExportedMemory(meter.ExportMemory).Definition().Max(); !ok || def != 256 {
			t.Fatalf("%s: memory max = %d,%v, want 256", e.name, def, ok)
		}
		if s.mod.ExportedFunction(meter.ExportStart) == nil {
			t.Fatalf("%s: no vm_start", e.name)
		}
	}
}

func TestTestConfig(t *testing.T) {
	cfg := meter.TestConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var b builder
	b.imports = append(b.imports, rawImport{"env", "f", 0, uleb(nil, b.typ(nil, nil))})
	b.export("run", b.fn(nil, nil, nil, asm{}.call(1))) // index 1: itself
	b.memory(1)
	metered, info, err := meter.Instrument(b.bytes(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if info.MemoryMax != 16 {
		t.Fatalf("MemoryMax = %d, want 16", info.MemoryMax)
	}
	for _, e := range engines {
		o := instantiate(t, e, metered).call("run", 1<<30)
		if !o.trapped {
			t.Fatalf("%s: unbounded recursion returned", e.name)
		}
		if o.status != meter.StatusCallDepth || o.depth != 65 {
			t.Fatalf("%s: status %d depth %d, want %d and 65", e.name, o.status, o.depth, meter.StatusCallDepth)
		}
	}
}

// TestMeteredGrowthBound: code of nothing but empty loops grows ~8x when
// metered; beyond MaxMeteredSize it is refused as ErrLimit before the
// (costly) validation of the output.
func TestMeteredGrowthBound(t *testing.T) {
	loops := func(n int) []byte {
		body := make([]byte, 0, 2*n+1)
		for range n {
			body = append(body, 0x03, 0x40, 0x0b) // loop (empty block type) end
		}
		return body
	}
	for _, tt := range []struct {
		name    string
		n       int
		wantErr error
	}{
		{"small", 100, nil},
		{"loop-only, large", 200_000, meter.ErrLimit},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &builder{}
			b.export("f", b.fn(nil, nil, nil, asm(loops(tt.n))))
			orig := b.bytes()
			out, _, err := meter.Instrument(orig, meter.TestConfig())
			if !errors.Is(err, tt.wantErr) && (err != nil || tt.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && len(out) > meter.MaxMeteredSize(len(orig)) {
				t.Fatalf("metered %d bytes over the bound %d", len(out), meter.MaxMeteredSize(len(orig)))
			}
		})
	}
}
