package evmasm_test

import (
	"bytes"
	"testing"

	"github.com/ethereum/go-ethereum/core/vm"

	"github.com/virtual-machine/vm/bench/internal/evmasm"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestBytes(t *testing.T) {
	tests := []struct {
		name    string
		in      func(a *evmasm.Asm)
		want    []byte
		wantErr bool
	}{
		{"push0", func(a *evmasm.Asm) { a.Push(0) }, []byte{byte(vm.PUSH0)}, false},
		{"push1", func(a *evmasm.Asm) { a.Push(0xFF) }, []byte{byte(vm.PUSH1), 0xFF}, false},
		{"push2", func(a *evmasm.Asm) { a.Push(0x100) }, []byte{byte(vm.PUSH2), 0x01, 0x00}, false},
		{"push8", func(a *evmasm.Asm) { a.Push(^uint64(0)) },
			append([]byte{byte(vm.PUSH8)}, bytes.Repeat([]byte{0xFF}, 8)...), false},
		{"ops", func(a *evmasm.Asm) { a.Op(vm.ADD, vm.STOP) }, []byte{byte(vm.ADD), byte(vm.STOP)}, false},
		{"forward-label", func(a *evmasm.Asm) { a.PushLabel("x").Op(vm.JUMP).Label("x") },
			[]byte{byte(vm.PUSH2), 0, 4, byte(vm.JUMP), byte(vm.JUMPDEST)}, false},
		{"backward-label", func(a *evmasm.Asm) { a.Op(vm.STOP).Label("x").PushLabel("x").Op(vm.JUMP) },
			[]byte{byte(vm.STOP), byte(vm.JUMPDEST), byte(vm.PUSH2), 0, 1, byte(vm.JUMP)}, false},
		{"undefined-label", func(a *evmasm.Asm) { a.PushLabel("nowhere") }, nil, true},
		{"duplicate-label", func(a *evmasm.Asm) { a.Label("x").Label("x") }, nil, true},
		{"too-long", func(a *evmasm.Asm) {
			for range 0x10000 {
				a.Op(vm.STOP)
			}
		}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a evmasm.Asm
			tt.in(&a)
			got, err := a.Bytes()
			if tt.wantErr {
				if vmerr.KindOf(err) != vmerr.Invalid {
					t.Fatalf("err = %v, want kind Invalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("got %x, want %x", got, tt.want)
			}
		})
	}
}
