package meter_test

import (
	"testing"

	"github.com/virtual-machine/vm/internal/wasm/meter"
)

// TestUncountedDepth pins which functions skip depth accounting. rec
// recurses to exactly MaxCallDepth frames and then calls top: when top
// (and everything it calls) is uncounted the call succeeds; when top is
// counted it is frame MaxCallDepth+1 and traps with status 2.
func TestUncountedDepth(t *testing.T) {
	const maxDepth = 16
	leaf := asm{}.i32(1)
	tests := []struct {
		name     string
		build    func(b *builder) uint32 // adds top and its callees, returns top
		wantTrap bool
	}{
		{name: "leaf", build: func(b *builder) uint32 { return b.fn(nil, []byte{tI32}, nil, leaf) }},
		{name: "chain of MaxUncountedHeight", build: func(b *builder) uint32 { return chain(b, meter.MaxUncountedHeight) }},
		{name: "chain of MaxUncountedHeight+1", build: func(b *builder) uint32 { return chain(b, meter.MaxUncountedHeight+1) }, wantTrap: true},
		{name: "calls an import", wantTrap: true, build: func(b *builder) uint32 {
			return b.fn(nil, []byte{tI32}, nil, asm{}.call(0).i32(1))
		}},
		{name: "call_indirect", wantTrap: true, build: func(b *builder) uint32 {
			g := b.fn(nil, []byte{tI32}, nil, leaf)
			b.table = []byte{0x70, 0, 1}
			b.elems = append(b.elems, []uint32{g})
			return b.fn(nil, []byte{tI32}, nil, asm{}.i32(0).callInd(b.typ(nil, []byte{tI32})))
		}},
		{name: "self-recursive with a zero argument", wantTrap: true, build: func(b *builder) uint32 {
			idx := uint32(len(b.imports) + len(b.funcs))
			return b.fn(nil, []byte{tI32}, nil, asm{}.i32(0).if_(tI32).call(idx).else_().i32(1).end())
		}},
	}
	cfg := meter.TestConfig() // allows any import
	cfg.MaxCallDepth = maxDepth
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b builder
			b.imports = append(b.imports, rawImport{"env", "f", 0, uleb(nil, b.typ(nil, nil))})
			top := tt.build(&b)
			rec := uint32(len(b.imports) + len(b.funcs))
			b.export("run", b.fn([]byte{tI32}, []byte{tI32}, nil, asm{}.get(0).op(0x45).if_(tI32).call(top).
				else_().get(0).i32(1).op(0x6B).call(rec).end()))
			metered, _, err := meter.Instrument(b.bytes(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range engines {
				o := instantiate(t, e, metered).call("run", 1<<30, maxDepth-1)
				if tt.wantTrap {
					if !o.trapped || o.status != meter.StatusCallDepth || o.depth != maxDepth+1 {
						t.Fatalf("%s: %+v, want a depth trap at %d", e.name, o, maxDepth+1)
					}
					continue
				}
				if o.trapped || o.results[0] != 1 || o.status != 0 || o.depth != 0 {
					t.Fatalf("%s: %+v, want 1 and depth 0", e.name, o)
				}
			}
		})
	}
}

// chain adds functions c1 (a leaf) ... ch (calls c(h-1)) and returns ch.
func chain(b *builder, h int) uint32 {
	idx := b.fn(nil, []byte{tI32}, nil, asm{}.i32(1))
	for k := 2; k <= h; k++ {
		idx = b.fn(nil, []byte{tI32}, nil, asm{}.call(idx))
	}
	return idx
}
