package wasmbin_test

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/virtual-machine/vm/bench/internal/wasmbin"
	"github.com/virtual-machine/vm/internal/wasm"
)

// constModule exports "run", which writes v as 8 little-endian bytes.
func constModule(v uint64) []byte {
	var m wasmbin.Module
	out := m.Import("vm", "output_write", []byte{wasmbin.I32, wasmbin.I32}, nil)
	m.Memory(1)
	get := m.Declare(nil, []byte{wasmbin.I64})
	var c wasmbin.Code
	c.I64(v)
	m.Define(get, []byte{wasmbin.I32, wasmbin.I32, wasmbin.I64}, &c) // unused locals: RLE path
	run := m.Declare(nil, nil)
	c = wasmbin.Code{}
	c.I32(0).Idx(wasmbin.OpCall, get).Mem(wasmbin.OpI64Store, 3, 0)
	c.I32(0).I32(8).Idx(wasmbin.OpCall, out)
	m.Define(run, nil, &c)
	m.Export("run", run)
	return m.Bytes()
}

// TestRun builds modules, meters and runs them through internal/wasm, so
// the encoding (sections, LEB128 constants, locals) is checked by a real
// validator and engine.
func TestRun(t *testing.T) {
	ctx := context.Background()
	rt, err := wasm.New(ctx, wasm.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(ctx) })
	tests := []struct {
		name string
		in   uint64
	}{
		{"zero", 0},
		{"small", 63},
		{"sign-bit-of-byte", 64},
		{"large", 0x9E3779B97F4A7C15},
		{"top-bit", 1 << 63},
		{"all-ones", ^uint64(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin, err := rt.Meter(constModule(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			m, err := rt.Compile(ctx, bin)
			if err != nil {
				t.Fatal(err)
			}
			res, err := rt.Call(ctx, m, wasm.Request{Fn: "run", GasLimit: 1_000_000})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != wasm.StatusOK || len(res.Output) != 8 {
				t.Fatalf("status %v %q, output %x", res.Status, res.Error, res.Output)
			}
			if got := binary.LittleEndian.Uint64(res.Output); got != tt.in {
				t.Fatalf("got %#x, want %#x", got, tt.in)
			}
		})
	}
}

func TestPanics(t *testing.T) {
	tests := []struct {
		name string
		in   func()
	}{
		{"import-after-func", func() {
			var m wasmbin.Module
			m.Declare(nil, nil)
			m.Import("vm", "x", nil, nil)
		}},
		{"missing-body", func() {
			var m wasmbin.Module
			m.Declare(nil, nil)
			m.Bytes()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("want panic")
				}
			}()
			tt.in()
		})
	}
}
