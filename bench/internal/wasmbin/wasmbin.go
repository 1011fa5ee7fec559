// Package wasmbin assembles small WebAssembly 1.0 binary modules by hand:
// function types, function imports, one memory, functions with their
// bodies, and function exports. It exists so the benchmarks can express the
// same algorithm as the EVM bytecode instruction by instruction, without a
// compiler in between. It validates nothing beyond what it needs to encode;
// the runtime that compiles the output is the validator.
package wasmbin

import (
	"encoding/binary"
	"fmt"

	"github.com/virtual-machine/vm/internal/leb128"
)

// Value types.
const (
	I32 byte = 0x7F
	I64 byte = 0x7E
)

// Opcodes used by the benchmarks' modules (WebAssembly 1.0, section 5.4).
const (
	OpUnreachable byte = 0x00
	OpBlock       byte = 0x02
	OpLoop        byte = 0x03
	OpIf          byte = 0x04
	OpElse        byte = 0x05
	OpEnd         byte = 0x0B
	OpBr          byte = 0x0C
	OpBrIf        byte = 0x0D
	OpReturn      byte = 0x0F
	OpCall        byte = 0x10
	OpDrop        byte = 0x1A
	OpLocalGet    byte = 0x20
	OpLocalSet    byte = 0x21
	OpLocalTee    byte = 0x22
	OpI32Load     byte = 0x28
	OpI64Load     byte = 0x29
	OpI32Store    byte = 0x36
	OpI64Store    byte = 0x37
	OpI32Store8   byte = 0x3A
	OpI32Const    byte = 0x41
	OpI64Const    byte = 0x42
	OpI64Eqz      byte = 0x50
	OpI64LtU      byte = 0x54
	OpI64Add      byte = 0x7C
	OpI64Sub      byte = 0x7D
	OpI64Mul      byte = 0x7E
	OpI32Add      byte = 0x6A
	OpI32And      byte = 0x71
	OpI32Or       byte = 0x72
	OpI32Xor      byte = 0x73
	OpI32Shl      byte = 0x74
	OpI32ShrU     byte = 0x76
	OpI32Rotr     byte = 0x78
	OpI64And      byte = 0x83
	OpI64Or       byte = 0x84
	OpI64Xor      byte = 0x85
	OpI64Shl      byte = 0x86
	OpI64ShrU     byte = 0x88
	OpI64Rotl     byte = 0x89
)

// BlockEmpty is the block type of a block, loop or if without results.
const BlockEmpty byte = 0x40

// Module is a module under construction. Add every import before the
// first function: function indices count imports first.
type Module struct {
	types   [][]byte // encoded func types, deduplicated
	imports []byte
	nImport uint32
	funcs   []uint32 // type index per defined function
	bodies  [][]byte
	exports []byte
	nExport uint32
	memMin  uint32
	hasMem  bool
}

// typeIndex returns the index of the function type (params) -> (results),
// adding it when new.
func (m *Module) typeIndex(params, results []byte) uint32 {
	t := []byte{0x60}
	t = appendVec(t, params)
	t = appendVec(t, results)
	for i, have := range m.types {
		if string(have) == string(t) {
			return uint32(i)
		}
	}
	m.types = append(m.types, t)
	return uint32(len(m.types) - 1)
}

// Import adds a function import and returns its function index. It panics
// if a function was already defined (indices would shift).
func (m *Module) Import(module, name string, params, results []byte) uint32 {
	if len(m.funcs) > 0 {
		panic("wasmbin: Import after Func")
	}
	ti := m.typeIndex(params, results)
	m.imports = appendName(m.imports, module)
	m.imports = appendName(m.imports, name)
	m.imports = append(m.imports, 0x00) // func
	m.imports = binary.AppendUvarint(m.imports, uint64(ti))
	m.nImport++
	return m.nImport - 1
}

// Declare reserves a function of the given type and returns its index, so
// recursive and forward calls can name it before its body exists; Define
// supplies the body.
func (m *Module) Declare(params, results []byte) uint32 {
	m.funcs = append(m.funcs, m.typeIndex(params, results))
	m.bodies = append(m.bodies, nil)
	return m.nImport + uint32(len(m.funcs)) - 1
}

// Define sets the body of a declared function: locals lists one value type
// per extra local (after the params), code is the instruction sequence
// without the final end, which Define appends.
func (m *Module) Define(fn uint32, locals []byte, code *Code) {
	var b []byte
	// Locals, run-length encoded.
	var groups [][2]uint32
	for _, t := range locals {
		if n := len(groups); n > 0 && groups[n-1][1] == uint32(t) {
			groups[n-1][0]++
			continue
		}
		groups = append(groups, [2]uint32{1, uint32(t)})
	}
	b = binary.AppendUvarint(b, uint64(len(groups)))
	for _, g := range groups {
		b = binary.AppendUvarint(b, uint64(g[0]))
		b = append(b, byte(g[1]))
	}
	b = append(b, code.b...)
	b = append(b, OpEnd)
	m.bodies[fn-m.nImport] = b
}

// Export exports function fn under name.
func (m *Module) Export(name string, fn uint32) {
	m.exports = appendName(m.exports, name)
	m.exports = append(m.exports, 0x00) // func
	m.exports = binary.AppendUvarint(m.exports, uint64(fn))
	m.nExport++
}

// Memory gives the module one memory of at least min pages (no maximum).
func (m *Module) Memory(min uint32) {
	m.memMin, m.hasMem = min, true
}

// Bytes encodes the module. It panics if a declared function has no body.
func (m *Module) Bytes() []byte {
	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	var sec []byte
	sec = binary.AppendUvarint(nil, uint64(len(m.types)))
	for _, t := range m.types {
		sec = append(sec, t...)
	}
	out = appendSection(out, 1, sec)
	if m.nImport > 0 {
		sec = binary.AppendUvarint(nil, uint64(m.nImport))
		out = appendSection(out, 2, append(sec, m.imports...))
	}
	sec = binary.AppendUvarint(nil, uint64(len(m.funcs)))
	for _, ti := range m.funcs {
		sec = binary.AppendUvarint(sec, uint64(ti))
	}
	out = appendSection(out, 3, sec)
	if m.hasMem {
		sec = []byte{1, 0x00}
		sec = binary.AppendUvarint(sec, uint64(m.memMin))
		out = appendSection(out, 5, sec)
	}
	sec = binary.AppendUvarint(nil, uint64(m.nExport))
	out = appendSection(out, 7, append(sec, m.exports...))
	sec = binary.AppendUvarint(nil, uint64(len(m.bodies)))
	for i, b := range m.bodies {
		if b == nil {
			panic(fmt.Sprintf("wasmbin: function %d declared without a body", m.nImport+uint32(i)))
		}
		sec = binary.AppendUvarint(sec, uint64(len(b)))
		sec = append(sec, b...)
	}
	return appendSection(out, 10, sec)
}

// Code is an instruction sequence; its methods append and return it.
type Code struct{ b []byte }

// Op appends raw opcodes (those without immediates).
func (c *Code) Op(ops ...byte) *Code { c.b = append(c.b, ops...); return c }

// Idx appends an instruction with one index immediate (local.get, call,
// br, br_if, ...) or a block type (block, loop, if with BlockEmpty or a
// value type).
func (c *Code) Idx(op byte, i uint32) *Code {
	c.b = append(c.b, op)
	if op == OpBlock || op == OpLoop || op == OpIf {
		c.b = append(c.b, byte(i))
		return c
	}
	c.b = binary.AppendUvarint(c.b, uint64(i))
	return c
}

// I32 appends i32.const v.
func (c *Code) I32(v int32) *Code {
	c.b = appendSleb(append(c.b, OpI32Const), int64(v))
	return c
}

// I64 appends i64.const v (v is reinterpreted as two's complement).
func (c *Code) I64(v uint64) *Code {
	c.b = appendSleb(append(c.b, OpI64Const), int64(v))
	return c
}

// Mem appends a load or store with alignment exponent align and offset.
func (c *Code) Mem(op byte, align, offset uint32) *Code {
	c.b = append(c.b, op)
	c.b = binary.AppendUvarint(c.b, uint64(align))
	c.b = binary.AppendUvarint(c.b, uint64(offset))
	return c
}

func appendSection(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = binary.AppendUvarint(out, uint64(len(body)))
	return append(out, body...)
}

func appendVec(b, items []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(items)))
	return append(b, items...)
}

func appendName(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendSleb appends v as signed LEB128.
func appendSleb(b []byte, v int64) []byte { return leb128.AppendSigned(b, v) }
