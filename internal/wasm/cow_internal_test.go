//go:build linux

package wasm

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero/api"

	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// cowModule has a data segment across the boundary of its first two
// pages, an initialiser that writes the second page (so the snapshot
// differs from a fresh instance), bump, which adds 1 to the data word,
// writes 7 next to the initialiser's word and outputs [65528, 65552), and
// grow, which grows memory by a page and writes to it before bumping.
func cowModule() []byte {
	i32 := wt.I32
	m := wt.New()
	out := m.Import("vm", "output_write", []byte{i32, i32}, nil)
	m.Memory(2, 4)
	m.Data(65528, []byte("ABCDEFGH"))
	store := func(off int32, v int64) wt.Code { return wt.Code{}.I32(off).I64(v).Op(0x37, 3, 0) }
	bump := slices.Concat(
		wt.Code{}.I32(65528).I32(65528).Op(0x29, 3, 0).I64(1).Op(0x7C).Op(0x37, 3, 0),
		store(65544, 7),
		wt.Code{}.I32(65528).I32(24).Call(out))
	m.Export("_initialize", m.Func(nil, nil, nil, store(65536, 99)))
	m.Export("bump", m.Func(nil, nil, nil, bump))
	grow := slices.Concat(wt.Code{}.I32(1).MemoryGrow().Drop(), store(131072, 42), bump)
	m.Export("grow", m.Func(nil, nil, nil, grow))
	return m.Bytes()
}

// TestCopyOnWriteReset: pooled instances map the snapshot image copy on
// write; a reset drops what a call wrote and the memory reads as the image
// again, one instance's writes never show in another, an instance whose
// memory grew is not pooled, and every call equals a fresh instance's.
func TestCopyOnWriteReset(t *testing.T) {
	ctx := context.Background()
	for _, engine := range []Engine{EngineCompiler, EngineInterpreter} {
		t.Run(string(engine), func(t *testing.T) {
			newRT := func(noSnap bool) *Runtime {
				cfg := TestConfig()
				cfg.Engine, cfg.NoSnapshot = engine, noSnap
				r, err := New(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = r.Close(ctx) })
				return r
			}
			pooled, fresh := newRT(false), newRT(true)
			compile := func(r *Runtime) *Module {
				metered, err := r.Meter(cowModule())
				if err != nil {
					t.Fatal(err)
				}
				m, err := r.Compile(ctx, metered)
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			mp, mf := compile(pooled), compile(fresh)
			want := append([]byte("BBCDEFGH"), make([]byte, 16)...)
			binary.LittleEndian.PutUint64(want[8:], 99)
			binary.LittleEndian.PutUint64(want[16:], 7)
			run := func(fn string) {
				t.Helper()
				req := Request{Fn: fn, GasLimit: 100_000}
				a, err := pooled.Call(ctx, mp, req)
				if err != nil {
					t.Fatal(err)
				}
				b, err := fresh.Call(ctx, mf, req)
				if err != nil {
					t.Fatal(err)
				}
				if !a.Equal(b) || a.Status != StatusOK || !bytes.Equal(a.Output, want) {
					t.Fatalf("%s: pooled %s, fresh %s, want output %x", fn, a, b, want)
				}
			}
			run("bump")
			snap := mp.snap
			if snap == nil || snap.cow == nil {
				t.Fatal("no copy-on-write image for the snapshot")
			}
			if len(mp.pool) != 1 {
				t.Fatalf("pool holds %d instances, want 1", len(mp.pool))
			}

			a := <-mp.pool
			b, err := pooled.restore(ctx, mp, snap)
			if err != nil {
				t.Fatal(err)
			}
			if a.cow == nil || b.cow == nil {
				t.Fatal("pooled instances are not copy on write")
			}
			memA, memB := memoryOf(a), memoryOf(b)
			image := func(mem api.Memory) []byte {
				got, _ := mem.Read(0, uint32(len(snap.image)))
				return got
			}
			if err := pooled.reset(a, mp, snap); err != nil {
				t.Fatal(err)
			}
			for _, off := range []uint32{0, 4096, 65536, uint32(len(snap.image)) - 8} {
				if !memA.Write(off, []byte("scribble")) {
					t.Fatalf("write at %d failed", off)
				}
			}
			if !bytes.Equal(image(memB), snap.image) {
				t.Fatal("one instance's writes show in another")
			}
			if bytes.Equal(image(memA), snap.image) {
				t.Fatal("writes did not land")
			}
			if err := pooled.reset(a, mp, snap); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(image(memA), snap.image) {
				t.Fatal("reset memory differs from the snapshot image")
			}
			pooled.release(ctx, mp, snap, a, true)
			pooled.release(ctx, mp, snap, b, true)

			n := len(mp.pool)
			run("grow")
			if len(mp.pool) != n-1 {
				t.Fatalf("after grow the pool holds %d instances, want %d (a grown instance is not reused)", len(mp.pool), n-1)
			}
			for range 2 * cap(mp.pool) {
				run("bump")
			}
			run("grow")
			run("bump")
		})
	}
}
