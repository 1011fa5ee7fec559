package wasm

import (
	"testing"

	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

func TestInstanceStateOutsideSnapshot(t *testing.T) {
	plain := wt.New()
	plain.Memory(1, -1)
	plain.Export("run", plain.Func(nil, nil, nil, wt.Code{}.I32(1).MemoryGrow().Drop().I64(-5).Drop().
		Block().Loop().I32(0).Op(0x28, 2, 4).Drop().End().End()))
	tset := wt.New()
	tset.Table(1)
	tset.Export("run", tset.Func(nil, nil, nil, wt.Code{}.I32(0).Op(0xD0, 0x70, 0x26, 0x00)))
	tgrow := wt.New()
	tgrow.Table(1)
	tgrow.Export("run", tgrow.Func(nil, nil, nil, wt.Code{}.Op(0xD0, 0x70).I32(1).Op(0xFC, 15, 0).Drop()))
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"plain", plain.Bytes(), false},
		{"table.set", tset.Bytes(), true},
		{"table.grow", tgrow.Bytes(), true},
		{"truncated", tset.Bytes()[:20], true},
		{"short", []byte{0, 'a'}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := instanceStateOutsideSnapshot(tc.in); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzInstanceStateOutsideSnapshot: the code scanner never panics.
func FuzzInstanceStateOutsideSnapshot(f *testing.F) {
	m := wt.New()
	m.Table(1)
	m.Export("run", m.Func(nil, nil, nil, wt.Code{}.I32(0).Op(0xD0, 0x70, 0x26, 0x00)))
	f.Add(m.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		instanceStateOutsideSnapshot(b)
		_, _ = exportedNames(b, 3)
	})
}
