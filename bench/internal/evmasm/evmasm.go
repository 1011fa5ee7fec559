// Package evmasm is a tiny EVM assembler with labels: it emits opcodes,
// minimal-width pushes and jump targets, and resolves label references to
// two-byte PUSH2 immediates when the program is finished. It lets the
// benchmarks hand-write EVM bytecode (recursion with return addresses on
// the stack) readably.
package evmasm

import (
	"github.com/ethereum/go-ethereum/core/vm"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// Asm builds one program. The zero value is ready to use.
type Asm struct {
	code   []byte
	labels map[string]int
	refs   []ref
	err    error
}

type ref struct {
	label string
	at    int // offset of the two immediate bytes
}

// Op appends opcodes without immediates.
func (a *Asm) Op(ops ...vm.OpCode) *Asm {
	for _, op := range ops {
		a.code = append(a.code, byte(op))
	}
	return a
}

// Push appends the shortest push of v: PUSH0 for 0, else PUSH1..PUSH8.
func (a *Asm) Push(v uint64) *Asm {
	if v == 0 {
		return a.Op(vm.PUSH0)
	}
	n := 0
	for x := v; x != 0; x >>= 8 {
		n++
	}
	a.code = append(a.code, byte(vm.PUSH1)+byte(n-1))
	for i := n - 1; i >= 0; i-- {
		a.code = append(a.code, byte(v>>(8*i)))
	}
	return a
}

// PushLabel appends a PUSH2 of the label's offset, resolved by Bytes.
func (a *Asm) PushLabel(name string) *Asm {
	a.code = append(a.code, byte(vm.PUSH2))
	a.refs = append(a.refs, ref{label: name, at: len(a.code)})
	a.code = append(a.code, 0, 0)
	return a
}

// Label defines name at the current offset and appends a JUMPDEST there.
// Defining a label twice makes Bytes fail.
func (a *Asm) Label(name string) *Asm {
	if a.labels == nil {
		a.labels = make(map[string]int)
	}
	if _, dup := a.labels[name]; dup && a.err == nil {
		a.err = vmerr.E("evmasm.label", vmerr.Invalid, "label %q defined twice", name)
	}
	a.labels[name] = len(a.code)
	return a.Op(vm.JUMPDEST)
}

// Bytes resolves the label references and returns the bytecode. It fails
// with vmerr.Invalid for a label defined twice, a reference to an undefined
// label, or a program longer than a PUSH2 can address (64 KiB).
func (a *Asm) Bytes() ([]byte, error) {
	if a.err != nil {
		return nil, a.err
	}
	if len(a.code) > 0xFFFF {
		return nil, vmerr.E("evmasm.bytes", vmerr.Invalid, "program of %d bytes exceeds 64 KiB", len(a.code))
	}
	out := append([]byte(nil), a.code...)
	for _, r := range a.refs {
		off, ok := a.labels[r.label]
		if !ok {
			return nil, vmerr.E("evmasm.bytes", vmerr.Invalid, "undefined label %q", r.label)
		}
		out[r.at], out[r.at+1] = byte(off>>8), byte(off)
	}
	return out, nil
}
