// Package wasmtest assembles small WebAssembly modules in Go for tests of
// the contract runtime: hostile modules (loops, recursion, memory growth,
// host-call spam) and ABI exercisers, without an external assembler.
package wasmtest

import (
	"encoding/binary"

	"github.com/virtual-machine/vm/internal/leb128"
)

// Value types and common opcodes.
const (
	I32  byte = 0x7F
	I64  byte = 0x7E
	V128 byte = 0x7B
)

// Module is a module under construction. Function indices count imports
// first, as in the binary format.
type Module struct {
	types   [][2][]byte
	imports []imp
	funcs   []fn
	memMin  uint32
	memMax  int64 // -1 none
	hasMem  bool
	tables  []uint32 // funcref tables by minimum size
	globals []global
	exports []export
	start   int64 // -1 none
	data    []data
}

type imp struct {
	module, name string
	typ          uint32
}

type fn struct {
	typ    uint32
	locals []byte
	body   []byte
}

type global struct {
	typ  byte
	mut  bool
	init []byte
}

type export struct {
	name string
	kind byte
	idx  uint32
}

type data struct {
	off  uint32
	init []byte
}

// New returns an empty module.
func New() *Module { return &Module{memMax: -1, start: -1} }

func (m *Module) typ(params, results []byte) uint32 {
	for i, t := range m.types {
		if string(t[0]) == string(params) && string(t[1]) == string(results) {
			return uint32(i)
		}
	}
	m.types = append(m.types, [2][]byte{params, results})
	return uint32(len(m.types) - 1)
}

// Import adds a function import and returns its function index. Add all
// imports before any function.
func (m *Module) Import(module, name string, params, results []byte) uint32 {
	m.imports = append(m.imports, imp{module, name, m.typ(params, results)})
	return uint32(len(m.imports) - 1)
}

// Func adds a function with the given body (without the final end) and
// returns its index.
func (m *Module) Func(params, results, locals []byte, body []byte) uint32 {
	m.funcs = append(m.funcs, fn{m.typ(params, results), locals, body})
	return uint32(len(m.imports) + len(m.funcs) - 1)
}

// Export exports function idx as name.
func (m *Module) Export(name string, idx uint32) { m.exports = append(m.exports, export{name, 0, idx}) }

// ExportGlobal exports global idx as name.
func (m *Module) ExportGlobal(name string, idx uint32) {
	m.exports = append(m.exports, export{name, 3, idx})
}

// Memory declares memory 0 with min pages and max (negative for none).
func (m *Module) Memory(min uint32, max int64) {
	m.hasMem, m.memMin, m.memMax = true, min, max
	m.exports = append(m.exports, export{"memory", 2, 0})
}

// Table adds a funcref table of min elements (no maximum).
func (m *Module) Table(min uint32) { m.tables = append(m.tables, min) }

// Global adds an i64 or i32 global with a constant initialiser.
func (m *Module) Global(typ byte, mut bool, v int64) uint32 {
	op := byte(0x41)
	if typ == I64 {
		op = 0x42
	}
	m.globals = append(m.globals, global{typ, mut, append(sleb([]byte{op}, v), 0x0B)})
	return uint32(len(m.globals) - 1)
}

// Start sets the start function.
func (m *Module) Start(idx uint32) { m.start = int64(idx) }

// Data adds an active data segment for memory 0 at off.
func (m *Module) Data(off uint32, b []byte) { m.data = append(m.data, data{off, b}) }

// Bytes encodes the module.
func (m *Module) Bytes() []byte {
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	var p []byte
	p = uleb(nil, uint32(len(m.types)))
	for _, t := range m.types {
		p = append(p, 0x60)
		p = append(uleb(p, uint32(len(t[0]))), t[0]...)
		p = append(uleb(p, uint32(len(t[1]))), t[1]...)
	}
	out = section(out, 1, p)
	if len(m.imports) > 0 {
		p = uleb(nil, uint32(len(m.imports)))
		for _, im := range m.imports {
			p = name(name(p, im.module), im.name)
			p = uleb(append(p, 0), im.typ)
		}
		out = section(out, 2, p)
	}
	p = uleb(nil, uint32(len(m.funcs)))
	for _, f := range m.funcs {
		p = uleb(p, f.typ)
	}
	out = section(out, 3, p)
	if len(m.tables) > 0 {
		p = uleb(nil, uint32(len(m.tables)))
		for _, t := range m.tables {
			p = uleb(append(p, 0x70, 0), t)
		}
		out = section(out, 4, p)
	}
	if m.hasMem {
		p = []byte{1}
		if m.memMax >= 0 {
			p = uleb(uleb(append(p, 1), m.memMin), uint32(m.memMax))
		} else {
			p = uleb(append(p, 0), m.memMin)
		}
		out = section(out, 5, p)
	}
	if len(m.globals) > 0 {
		p = uleb(nil, uint32(len(m.globals)))
		for _, g := range m.globals {
			p = append(p, g.typ, boolByte(g.mut))
			p = append(p, g.init...)
		}
		out = section(out, 6, p)
	}
	p = uleb(nil, uint32(len(m.exports)))
	for _, e := range m.exports {
		p = uleb(append(name(p, e.name), e.kind), e.idx)
	}
	out = section(out, 7, p)
	if m.start >= 0 {
		out = section(out, 8, uleb(nil, uint32(m.start)))
	}
	p = uleb(nil, uint32(len(m.funcs)))
	for _, f := range m.funcs {
		var b []byte
		if len(f.locals) == 0 {
			b = []byte{0}
		} else {
			b = uleb(nil, uint32(len(f.locals)))
			for _, l := range f.locals {
				b = append(b, 1, l)
			}
		}
		b = append(append(b, f.body...), 0x0B)
		p = append(uleb(p, uint32(len(b))), b...)
	}
	out = section(out, 10, p)
	if len(m.data) > 0 {
		p = uleb(nil, uint32(len(m.data)))
		for _, d := range m.data {
			p = append(p, 0, 0x41)
			p = append(sleb(p, int64(int32(d.off))), 0x0B)
			p = append(uleb(p, uint32(len(d.init))), d.init...)
		}
		out = section(out, 11, p)
	}
	return out
}

// Code is a function body under construction.
type Code []byte

// Op appends raw opcode bytes.
func (c Code) Op(ops ...byte) Code { return append(c, ops...) }

// I32 appends i32.const v.
func (c Code) I32(v int32) Code { return sleb(append(c, 0x41), int64(v)) }

// I64 appends i64.const v.
func (c Code) I64(v int64) Code { return sleb(append(c, 0x42), v) }

// Call appends call idx.
func (c Code) Call(idx uint32) Code { return uleb(append(c, 0x10), idx) }

// Br appends br depth.
func (c Code) Br(depth uint32) Code { return uleb(append(c, 0x0C), depth) }

// BrIf appends br_if depth.
func (c Code) BrIf(depth uint32) Code { return uleb(append(c, 0x0D), depth) }

// LocalGet, LocalSet, GlobalGet and GlobalSet append the variable ops.
func (c Code) LocalGet(i uint32) Code  { return uleb(append(c, 0x20), i) }
func (c Code) LocalSet(i uint32) Code  { return uleb(append(c, 0x21), i) }
func (c Code) GlobalGet(i uint32) Code { return uleb(append(c, 0x23), i) }
func (c Code) GlobalSet(i uint32) Code { return uleb(append(c, 0x24), i) }

// Loop opens a loop with an empty block type; Block a block; End closes.
func (c Code) Loop() Code  { return append(c, 0x03, 0x40) }
func (c Code) Block() Code { return append(c, 0x02, 0x40) }
func (c Code) End() Code   { return append(c, 0x0B) }

// Drop, Unreachable and MemoryGrow append those instructions.
func (c Code) Drop() Code        { return append(c, 0x1A) }
func (c Code) Unreachable() Code { return append(c, 0x00) }
func (c Code) MemoryGrow() Code  { return append(c, 0x40, 0x00) }

func uleb(b []byte, v uint32) []byte { return leb128.AppendUnsigned(b, uint64(v)) }

func sleb(b []byte, v int64) []byte { return leb128.AppendSigned(b, v) }

func name(b []byte, s string) []byte { return append(uleb(b, uint32(len(s))), s...) }

func section(out []byte, id byte, p []byte) []byte {
	return append(uleb(append(out, id), uint32(len(p))), p...)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// LE32 is a little-endian helper for data segments.
func LE32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
