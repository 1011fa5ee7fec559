package meter_test

import (
	"encoding/binary"
	"math"

	"github.com/virtual-machine/vm/internal/leb128"
)

// A tiny WebAssembly module builder for tests: no text format needed.

const (
	tI32 = 0x7F
	tI64 = 0x7E
	tF32 = 0x7D
	tF64 = 0x7C
	tRef = 0x70
)

type sig struct{ params, results []byte }

type function struct {
	typ    uint32
	locals []byte // one value type per local
	body   asm    // without the final end
}

type exp struct {
	name string
	kind byte
	idx  uint32
}

type glob struct {
	typ  byte
	mut  bool
	init asm // without end
}

type rawImport struct {
	module, name string
	kind         byte
	desc         []byte
}

type builder struct {
	types   []sig
	imports []rawImport
	funcs   []function
	mem     []byte // encoded limits, nil for none
	memRaw  []byte // whole memory section payload, overrides mem
	table   []byte // encoded table type, nil for none
	globals []glob
	exports []exp
	start   *uint32
	elems   [][]uint32 // active segments into table 0 at offset 0
	data    [][]byte   // active segments into memory 0 at offset 0
	extra   [][]byte   // raw sections appended after the others
}

func (b *builder) typ(params, results []byte) uint32 {
	for i, s := range b.types {
		if string(s.params) == string(params) && string(s.results) == string(results) {
			return uint32(i)
		}
	}
	b.types = append(b.types, sig{params, results})
	return uint32(len(b.types) - 1)
}

// fn adds a function and returns its index (imports come first).
func (b *builder) fn(params, results, locals []byte, body asm) uint32 {
	b.funcs = append(b.funcs, function{typ: b.typ(params, results), locals: locals, body: body})
	return uint32(len(b.imports) + len(b.funcs) - 1)
}

func (b *builder) export(name string, idx uint32) { b.exports = append(b.exports, exp{name, 0, idx}) }

func (b *builder) memory(min uint32, max ...uint32) {
	if len(max) == 0 {
		b.mem = uleb([]byte{0}, min)
		return
	}
	b.mem = uleb(uleb([]byte{1}, min), max[0])
}

func uleb(b []byte, v uint32) []byte { return leb128.AppendUnsigned(b, uint64(v)) }

func sleb(b []byte, v int64) []byte { return leb128.AppendSigned(b, v) }

func name(b []byte, s string) []byte { return append(uleb(b, uint32(len(s))), s...) }

func section(out []byte, id byte, payload []byte) []byte {
	return append(uleb(append(out, id), uint32(len(payload))), payload...)
}

func (b *builder) bytes() []byte {
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	if len(b.types) > 0 {
		p := uleb(nil, uint32(len(b.types)))
		for _, s := range b.types {
			p = append(p, 0x60)
			p = append(uleb(p, uint32(len(s.params))), s.params...)
			p = append(uleb(p, uint32(len(s.results))), s.results...)
		}
		out = section(out, 1, p)
	}
	if len(b.imports) > 0 {
		p := uleb(nil, uint32(len(b.imports)))
		for _, im := range b.imports {
			p = name(name(p, im.module), im.name)
			p = append(append(p, im.kind), im.desc...)
		}
		out = section(out, 2, p)
	}
	if len(b.funcs) > 0 {
		p := uleb(nil, uint32(len(b.funcs)))
		for _, f := range b.funcs {
			p = uleb(p, f.typ)
		}
		out = section(out, 3, p)
	}
	if b.table != nil {
		out = section(out, 4, append([]byte{1}, b.table...))
	}
	if b.memRaw != nil {
		out = section(out, 5, b.memRaw)
	} else if b.mem != nil {
		out = section(out, 5, append([]byte{1}, b.mem...))
	}
	if len(b.globals) > 0 {
		p := uleb(nil, uint32(len(b.globals)))
		for _, g := range b.globals {
			mut := byte(0)
			if g.mut {
				mut = 1
			}
			p = append(p, g.typ, mut)
			p = append(append(p, g.init...), 0x0B)
		}
		out = section(out, 6, p)
	}
	if len(b.exports) > 0 {
		p := uleb(nil, uint32(len(b.exports)))
		for _, e := range b.exports {
			p = uleb(append(name(p, e.name), e.kind), e.idx)
		}
		out = section(out, 7, p)
	}
	if b.start != nil {
		out = section(out, 8, uleb(nil, *b.start))
	}
	if len(b.elems) > 0 {
		p := uleb(nil, uint32(len(b.elems)))
		for _, e := range b.elems {
			p = append(p, 0x00, 0x41, 0x00, 0x0B)
			p = uleb(p, uint32(len(e)))
			for _, f := range e {
				p = uleb(p, f)
			}
		}
		out = section(out, 9, p)
	}
	if len(b.funcs) > 0 {
		p := uleb(nil, uint32(len(b.funcs)))
		for _, f := range b.funcs {
			var body []byte
			body = uleb(body, uint32(len(f.locals)))
			for _, l := range f.locals {
				body = append(body, 1, l)
			}
			body = append(append(body, f.body...), 0x0B)
			p = append(uleb(p, uint32(len(body))), body...)
		}
		out = section(out, 10, p)
	}
	if len(b.data) > 0 {
		p := uleb(nil, uint32(len(b.data)))
		for _, d := range b.data {
			p = append(p, 0x00, 0x41, 0x00, 0x0B)
			p = append(uleb(p, uint32(len(d))), d...)
		}
		out = section(out, 11, p)
	}
	for _, s := range b.extra {
		out = append(out, s...)
	}
	return out
}

// asm is a function body under construction.
type asm []byte

func (a asm) op(ops ...byte) asm          { return append(a, ops...) }
func (a asm) i32(v int32) asm             { return sleb(append(a, 0x41), int64(v)) }
func (a asm) i64(v int64) asm             { return sleb(append(a, 0x42), v) }
func (a asm) f32bits(v uint32) asm        { return binary.LittleEndian.AppendUint32(append(a, 0x43), v) }
func (a asm) f64bits(v uint64) asm        { return binary.LittleEndian.AppendUint64(append(a, 0x44), v) }
func (a asm) f64(v float64) asm           { return a.f64bits(math.Float64bits(v)) }
func (a asm) get(i uint32) asm            { return uleb(append(a, 0x20), i) }
func (a asm) set(i uint32) asm            { return uleb(append(a, 0x21), i) }
func (a asm) tee(i uint32) asm            { return uleb(append(a, 0x22), i) }
func (a asm) gget(i uint32) asm           { return uleb(append(a, 0x23), i) }
func (a asm) gset(i uint32) asm           { return uleb(append(a, 0x24), i) }
func (a asm) call(i uint32) asm           { return uleb(append(a, 0x10), i) }
func (a asm) callInd(t uint32) asm        { return append(uleb(append(a, 0x11), t), 0) }
func (a asm) br(l uint32) asm             { return uleb(append(a, 0x0C), l) }
func (a asm) brIf(l uint32) asm           { return uleb(append(a, 0x0D), l) }
func (a asm) block(bt byte) asm           { return append(a, 0x02, bt) }
func (a asm) loop(bt byte) asm            { return append(a, 0x03, bt) }
func (a asm) if_(bt byte) asm             { return append(a, 0x04, bt) }
func (a asm) else_() asm                  { return append(a, 0x05) }
func (a asm) end() asm                    { return append(a, 0x0B) }
func (a asm) mem(op byte, off uint32) asm { return uleb(append(a, op, 0), off) } // align 0
func (a asm) misc(sub uint32, imm ...byte) asm {
	return append(uleb(append(a, 0xFC), sub), imm...)
}

const void = 0x40
