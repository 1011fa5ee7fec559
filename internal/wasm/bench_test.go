package wasm_test

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/virtual-machine/vm/internal/wasm"
	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// fibModule is recursive fib(n) in plain WebAssembly; run computes fib(n)
// for the i32 n given as the first byte of the input.
func fibModule() []byte {
	i32, i64 := wt.I32, wt.I64
	m := wt.New()
	inRead := m.Import("vm", "input_read", []byte{i32}, nil)
	m.Memory(1, 1)
	fib := uint32(1)                               // index after the one import
	body := wt.Code{}.LocalGet(0).I32(2).Op(0x49). // i32.lt_u
							Op(0x04, 0x7E).LocalGet(0).Op(0xAD). // if (result i64) i64.extend_i32_u
							Op(0x05).LocalGet(0).I32(1).Op(0x6B).Call(fib).
							LocalGet(0).I32(2).Op(0x6B).Call(fib).Op(0x7C).End()
	m.Func([]byte{i32}, []byte{i64}, nil, body)
	m.Export("run", m.Func(nil, nil, nil, wt.Code{}.I32(0).Call(inRead).I32(0).Op(0x2D, 0, 0).Call(fib).Drop()))
	return m.Bytes()
}

// smallModule is an echo contract padded with filler functions to a few KB.
func smallModule() []byte {
	i32 := wt.I32
	m := wt.New()
	inLen := m.Import("vm", "input_len", nil, []byte{i32})
	inRead := m.Import("vm", "input_read", []byte{i32}, nil)
	out := m.Import("vm", "output_write", []byte{i32, i32}, nil)
	m.Memory(1, 1)
	m.Export("echo", m.Func(nil, nil, nil, wt.Code{}.I32(0).Call(inRead).I32(0).Call(inLen).Call(out)))
	for i := 0; i < 60; i++ {
		var c wt.Code
		for j := 0; j < 10; j++ {
			c = c.LocalGet(0).I32(int32(i * j)).Op(0x6A).LocalSet(0)
		}
		m.Func([]byte{i32}, nil, nil, c)
	}
	return m.Bytes()
}

func benchCall(b *testing.B, r *wasm.Runtime, m *wasm.Module, req wasm.Request) {
	b.Helper()
	ctx := context.Background()
	res, err := r.Call(ctx, m, req)
	if err != nil || res.Status != wasm.StatusOK {
		b.Fatalf("%v %v", res, err)
	}
	b.ReportMetric(float64(res.GasUsed), "gas/op")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Call(ctx, m, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSmallCall: instantiate + call of a few-KB contract.
func BenchmarkSmallCall(b *testing.B) {
	r := newRuntime(b, wasm.EngineCompiler)
	bin := smallModule()
	b.Logf("module %d bytes", len(bin))
	m := compileMetered(b, r, bin)
	benchCall(b, r, m, wasm.Request{Fn: "echo", Input: []byte("hello"), GasLimit: 1_000_000})
}

// BenchmarkGoCall: a Go contract (hello.greet) restored from its snapshot,
// against the same call initialising from scratch.
func BenchmarkGoCall(b *testing.B) {
	req := wasm.Request{Fn: "greet", Input: []byte(`{"name":"Ada"}`), GasLimit: 50_000_000}
	b.Run("restored", func(b *testing.B) {
		r := newRuntime(b, wasm.EngineCompiler)
		benchCall(b, r, compileMetered(b, r, example(b, "hello")), req)
	})
	b.Run("fresh-init", func(b *testing.B) {
		cfg := wasm.TestConfig()
		cfg.NoSnapshot = true
		r := newRuntimeCfg(b, cfg)
		benchCall(b, r, compileMetered(b, r, example(b, "hello")), req)
	})
}

// BenchmarkCompile: a cache hit for a multi-MB Go module (in memory and
// from wazero's on-disk cache in a new runtime) against a cold compile.
func BenchmarkCompile(b *testing.B) {
	ctx := context.Background()
	r := newRuntime(b, wasm.EngineCompiler)
	metered, err := r.Meter(example(b, "hello"))
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("metered module %d bytes", len(metered))
	b.Run("memory-hit", func(b *testing.B) {
		if _, err := r.Compile(ctx, metered); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := r.Compile(ctx, metered); err != nil {
				b.Fatal(err)
			}
		}
	})
	cacheDir := b.TempDir()
	b.Run("disk-hit", func(b *testing.B) {
		cfg := wasm.TestConfig()
		cfg.CacheDir = cacheDir
		warm := newRuntimeCfg(b, cfg)
		if _, err := warm.Compile(ctx, metered); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r2, err := wasm.New(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r2.Compile(ctx, metered); err != nil {
				b.Fatal(err)
			}
			r2.Close(ctx)
		}
	})
	b.Run("cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r2, err := wasm.New(ctx, wasm.TestConfig())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r2.Compile(ctx, metered); err != nil {
				b.Fatal(err)
			}
			r2.Close(ctx)
		}
	})
}

func nativeFib(n uint32) uint64 {
	if n < 2 {
		return uint64(n)
	}
	return nativeFib(n-1) + nativeFib(n-2)
}

var sink uint64

// BenchmarkFib30: fib(30) metered vs unmetered (compiler), plain wasm and
// the Go example contract, and native Go.
func BenchmarkFib30(b *testing.B) {
	ctx := context.Background()
	wasmReq := wasm.Request{Fn: "run", Input: []byte{30}, GasLimit: 1 << 40}
	goReq := wasm.Request{Fn: "fib", Input: []byte("30"), GasLimit: 1 << 40}
	b.Run("native", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sink += nativeFib(30)
		}
	})
	b.Run("wasm-metered", func(b *testing.B) {
		r := newRuntime(b, wasm.EngineCompiler)
		benchCall(b, r, compileMetered(b, r, fibModule()), wasmReq)
	})
	b.Run("wasm-unmetered", func(b *testing.B) {
		r := newRuntime(b, wasm.EngineCompiler)
		m, err := r.Compile(ctx, fibModule())
		if err != nil {
			b.Fatal(err)
		}
		benchCall(b, r, m, wasmReq)
	})
	b.Run("go-metered", func(b *testing.B) {
		r := newRuntime(b, wasm.EngineCompiler)
		benchCall(b, r, compileMetered(b, r, example(b, "fib")), goReq)
	})
	b.Run("go-unmetered", func(b *testing.B) {
		r := newRuntime(b, wasm.EngineCompiler)
		m, err := r.Compile(ctx, example(b, "fib"))
		if err != nil {
			b.Fatal(err)
		}
		benchCall(b, r, m, goReq)
	})
}

// BenchmarkSHA256Loop: 20000 chained SHA-256 rounds in the Go example
// contract, metered vs unmetered, and native Go.
func BenchmarkSHA256Loop(b *testing.B) {
	ctx := context.Background()
	req := wasm.Request{Fn: "hash", Input: []byte("20000"), GasLimit: 1 << 40}
	b.Run("native", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var d [32]byte
			for j := 0; j < 20000; j++ {
				d = sha256.Sum256(d[:])
			}
			sink += uint64(d[0])
		}
	})
	b.Run("go-metered", func(b *testing.B) {
		r := newRuntime(b, wasm.EngineCompiler)
		benchCall(b, r, compileMetered(b, r, example(b, "sha256")), req)
	})
	b.Run("go-unmetered", func(b *testing.B) {
		r := newRuntime(b, wasm.EngineCompiler)
		m, err := r.Compile(ctx, example(b, "sha256"))
		if err != nil {
			b.Fatal(err)
		}
		benchCall(b, r, m, req)
	})
}
