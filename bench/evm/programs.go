// Package evm benchmarks the metered WebAssembly runtime (internal/wasm)
// against what users would pick instead: the same algorithms as EVM
// bytecode run by go-ethereum's interpreter (core/vm/runtime), and as
// native Go. Each algorithm exists three ways, hand-written so they do the
// same work: an EVM program (package evmasm), a WebAssembly module
// (package wasmbin) metered with internal/wasm's meter, and a Go function.
// The Go example contracts (contracts/examples) run too where they match.
//
// It lives in the separate bench module so the main module never depends
// on go-ethereum. Results are compared as 32-byte words: the EVM's return
// value, a digest, or a uint64 in the low 8 bytes (big-endian).
package evm

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/virtual-machine/vm/bench/internal/evmasm"
	"github.com/virtual-machine/vm/bench/internal/wasmbin"
)

// Program names one benchmarked algorithm.
type Program int

// The programs. Each takes one unsigned integer n.
const (
	// Fib is fib(n) by naive double recursion (fib(0)=0, fib(1)=1).
	Fib Program = iota
	// Loop runs n rounds of xorshift64 (13, 7, 17) from XorshiftSeed and
	// returns the sum of the states modulo 2^64.
	Loop
	// SHA256 hashes 32 zero bytes, then each digest again: n SHA-256 calls.
	SHA256
	// Keccak is SHA256 with Keccak-256 (the EVM's SHA3 opcode).
	Keccak
	numPrograms
)

// XorshiftSeed is Loop's initial state.
const XorshiftSeed uint64 = 0x9E3779B97F4A7C15

// String returns the program's name, which is also the wasm export.
func (p Program) String() string {
	switch p {
	case Fib:
		return "fib"
	case Loop:
		return "loop"
	case SHA256:
		return "sha256"
	case Keccak:
		return "keccak"
	}
	return "unknown"
}

// Word is a result: a 32-byte big-endian EVM word or a digest.
type Word [32]byte

// WordOf returns v as a word (big-endian in the last 8 bytes).
func WordOf(v uint64) Word {
	var w Word
	binary.BigEndian.PutUint64(w[24:], v)
	return w
}

// Native runs p in Go.
func Native(p Program, n uint64) Word {
	switch p {
	case Fib:
		return WordOf(FibGo(n))
	case Loop:
		return WordOf(LoopGo(n))
	case SHA256:
		var d Word
		for range n {
			d = sha256.Sum256(d[:])
		}
		return d
	case Keccak:
		// One reused state, as go-ethereum's KECCAK256 opcode does.
		var d Word
		h := crypto.NewKeccakState()
		for range n {
			h.Reset()
			h.Write(d[:])
			_, _ = h.Read(d[:])
		}
		return d
	}
	panic("evm: unknown program")
}

// FibGo is Fib in Go.
func FibGo(n uint64) uint64 {
	if n < 2 {
		return n
	}
	return FibGo(n-1) + FibGo(n-2)
}

// LoopGo is Loop in Go.
func LoopGo(n uint64) uint64 {
	x, sum := XorshiftSeed, uint64(0)
	for ; n != 0; n-- {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		sum += x
	}
	return sum
}

// mask64 keeps the low 64 bits of an EVM word: the EVM computes on 256
// bits, so Loop masks after every operation that can carry past bit 63 —
// exactly what a compiler does for a uint64 variable.
const mask64 = ^uint64(0)

// Code returns p's EVM bytecode. The call data is n as one 32-byte word;
// the program returns one 32-byte word.
func Code(p Program) []byte {
	var a evmasm.Asm
	switch p {
	case Fib:
		// fib(ret, n): n on top of the stack, the return address below;
		// leaves fib(n) where ret was and jumps to ret.
		a.PushLabel("done").Push(0).Op(vm.CALLDATALOAD).PushLabel("fib").Op(vm.JUMP)
		a.Label("done").Push(0).Op(vm.MSTORE).Push(32).Push(0).Op(vm.RETURN)
		a.Label("fib") // [ret n]
		a.Op(vm.DUP1).Push(2).Op(vm.GT).PushLabel("base").Op(vm.JUMPI)
		a.PushLabel("r1").Push(1).Op(vm.DUP3, vm.SUB).PushLabel("fib").Op(vm.JUMP) // fib(n-1)
		a.Label("r1")                                                              // [ret n f1]
		a.PushLabel("r2").Push(2).Op(vm.DUP4, vm.SUB).PushLabel("fib").Op(vm.JUMP) // fib(n-2)
		a.Label("r2")                                                              // [ret n f1 f2]
		a.Op(vm.ADD, vm.SWAP1, vm.POP, vm.SWAP1, vm.JUMP)
		a.Label("base").Op(vm.SWAP1, vm.JUMP) // [ret n] -> return n
	case Loop:
		a.Push(0).Push(XorshiftSeed).Push(0).Op(vm.CALLDATALOAD) // [sum x n]
		a.Label("loop")
		a.Op(vm.DUP1, vm.ISZERO).PushLabel("end").Op(vm.JUMPI)
		a.Push(1).Op(vm.SWAP1, vm.SUB, vm.SWAP1)                          // [sum n-1 x]
		a.Op(vm.DUP1).Push(13).Op(vm.SHL).Push(mask64).Op(vm.AND, vm.XOR) // x ^= x<<13
		a.Op(vm.DUP1).Push(7).Op(vm.SHR, vm.XOR)                          // x ^= x>>7
		a.Op(vm.DUP1).Push(17).Op(vm.SHL).Push(mask64).Op(vm.AND, vm.XOR) // x ^= x<<17
		a.Op(vm.SWAP2, vm.DUP3, vm.ADD).Push(mask64).Op(vm.AND)           // [x n sum+x]
		a.Op(vm.SWAP2, vm.SWAP1).PushLabel("loop").Op(vm.JUMP)            // [sum x n]
		a.Label("end").Op(vm.POP, vm.POP).Push(0).Op(vm.MSTORE).Push(32).Push(0).Op(vm.RETURN)
	case SHA256:
		// The EVM has no SHA-256 instruction: this calls the 0x02
		// precompile (native Go in go-ethereum) on memory[0:32] in place.
		a.Push(0).Op(vm.CALLDATALOAD)
		a.Label("loop")
		a.Op(vm.DUP1, vm.ISZERO).PushLabel("end").Op(vm.JUMPI)
		a.Push(32).Push(0).Push(32).Push(0).Push(2).Op(vm.GAS, vm.STATICCALL)
		a.Op(vm.ISZERO).PushLabel("fail").Op(vm.JUMPI)
		a.Push(1).Op(vm.SWAP1, vm.SUB).PushLabel("loop").Op(vm.JUMP)
		a.Label("end").Push(32).Push(0).Op(vm.RETURN)
		a.Label("fail").Op(vm.INVALID)
	case Keccak:
		a.Push(0).Op(vm.CALLDATALOAD)
		a.Label("loop")
		a.Op(vm.DUP1, vm.ISZERO).PushLabel("end").Op(vm.JUMPI)
		a.Push(32).Push(0).Op(vm.KECCAK256).Push(0).Op(vm.MSTORE)
		a.Push(1).Op(vm.SWAP1, vm.SUB).PushLabel("loop").Op(vm.JUMP)
		a.Label("end").Push(32).Push(0).Op(vm.RETURN)
	default:
		panic("evm: unknown program")
	}
	code, err := a.Bytes()
	if err != nil {
		panic(err) // the programs above are fixed; a failure is a bug here
	}
	return code
}

// Module returns the original (unmetered) WebAssembly module with the
// hand-written programs: exports "fib" and "loop" (Host ABI v1 functions
// of type [] -> []) read n as 8 little-endian input bytes and write the
// result as 8 little-endian output bytes.
func Module() []byte {
	var m wasmbin.Module
	i32, i64 := wasmbin.I32, wasmbin.I64
	inputRead := m.Import("vm", "input_read", []byte{i32}, nil)
	outputWrite := m.Import("vm", "output_write", []byte{i32, i32}, nil)
	m.Memory(1)

	fib := m.Declare([]byte{i64}, []byte{i64})
	var c wasmbin.Code
	c.Idx(wasmbin.OpLocalGet, 0).I64(2).Op(wasmbin.OpI64LtU).Idx(wasmbin.OpIf, uint32(i64))
	c.Idx(wasmbin.OpLocalGet, 0)
	c.Op(wasmbin.OpElse)
	c.Idx(wasmbin.OpLocalGet, 0).I64(1).Op(wasmbin.OpI64Sub).Idx(wasmbin.OpCall, fib)
	c.Idx(wasmbin.OpLocalGet, 0).I64(2).Op(wasmbin.OpI64Sub).Idx(wasmbin.OpCall, fib)
	c.Op(wasmbin.OpI64Add, wasmbin.OpEnd)
	m.Define(fib, nil, &c)

	loop := m.Declare([]byte{i64}, []byte{i64}) // locals: 0 n, 1 x, 2 sum
	c = wasmbin.Code{}
	c.I64(XorshiftSeed).Idx(wasmbin.OpLocalSet, 1)
	c.Idx(wasmbin.OpBlock, uint32(wasmbin.BlockEmpty)).Idx(wasmbin.OpLoop, uint32(wasmbin.BlockEmpty))
	c.Idx(wasmbin.OpLocalGet, 0).Op(wasmbin.OpI64Eqz).Idx(wasmbin.OpBrIf, 1)
	c.Idx(wasmbin.OpLocalGet, 0).I64(1).Op(wasmbin.OpI64Sub).Idx(wasmbin.OpLocalSet, 0)
	for _, s := range []struct {
		op    byte
		shift uint64
	}{{wasmbin.OpI64Shl, 13}, {wasmbin.OpI64ShrU, 7}, {wasmbin.OpI64Shl, 17}} {
		c.Idx(wasmbin.OpLocalGet, 1).Idx(wasmbin.OpLocalGet, 1).I64(s.shift).Op(s.op, wasmbin.OpI64Xor)
		c.Idx(wasmbin.OpLocalSet, 1)
	}
	c.Idx(wasmbin.OpLocalGet, 1).Idx(wasmbin.OpLocalGet, 2).Op(wasmbin.OpI64Add).Idx(wasmbin.OpLocalSet, 2)
	c.Idx(wasmbin.OpBr, 0).Op(wasmbin.OpEnd, wasmbin.OpEnd)
	c.Idx(wasmbin.OpLocalGet, 2)
	m.Define(loop, []byte{i64, i64}, &c)

	for _, e := range []struct {
		name string
		fn   uint32
	}{{"fib", fib}, {"loop", loop}} {
		entry := m.Declare(nil, nil)
		c = wasmbin.Code{}
		c.I32(0).Idx(wasmbin.OpCall, inputRead)
		c.I32(0).I32(0).Mem(wasmbin.OpI64Load, 3, 0).Idx(wasmbin.OpCall, e.fn).Mem(wasmbin.OpI64Store, 3, 0)
		c.I32(0).I32(8).Idx(wasmbin.OpCall, outputWrite)
		m.Define(entry, nil, &c)
		m.Export(e.name, entry)
	}
	return m.Bytes()
}
