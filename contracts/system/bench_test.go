package system_test

import (
	"context"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/wasm"
)

// BenchmarkCreate runs idchain.create of fresh names through the metered
// runtime (compiler engine; the interpreter under -race) against the
// hello example's greet, the baseline, in the same run: "greet",
// "create" (a new ID each iteration), "create-existing" (the memoizable
// answer) and "create-bad-input" (an abort right after decoding: the
// floor of any call of this module). Each reports ns/op and gas/op.
func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	em := shared.engines[0]
	b.Logf("engine %s", em.rt.Config().Engine)
	acct := newAccount(b, 1)
	hello := compileHello(b, em)

	existing := &wasm.MemState{}
	res := shared.call(b, existing, idchain.FnCreate, acct.addr, 1, []byte(`{"name":"alice","pubkey":"`+acct.pub+`"}`))
	if res.Status != wasm.StatusOK {
		b.Fatalf("setup: %s", res)
	}
	existing.Apply(idchain.Contract, res.WriteSet, 1)

	run := func(b *testing.B, m *wasm.Module, fn string, st wasm.State, want wasm.Status, input func(i int) []byte) {
		var gas uint64
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			res, err := em.rt.Call(ctx, m, wasm.Request{
				Fn: fn, Input: input(i), GasLimit: gasLimit, Caller: acct.addr,
				Contract: idchain.Contract, Height: 2, State: st,
			})
			if err != nil || res.Status != want {
				b.Fatalf("%v %v", res, err)
			}
			gas = res.GasUsed
		}
		b.ReportMetric(float64(gas), "gas/op")
	}
	b.Run("greet", func(b *testing.B) {
		in := []byte(`{"name":"Ada"}`)
		run(b, hello, "greet", nil, wasm.StatusOK, func(int) []byte { return in })
	})
	b.Run("create", func(b *testing.B) {
		st := &wasm.MemState{}
		run(b, em.mod, idchain.FnCreate, st, wasm.StatusOK, func(i int) []byte {
			return []byte(`{"name":"user` + strconv.Itoa(i) + `","pubkey":"` + acct.pub + `"}`)
		})
	})
	b.Run("create-existing", func(b *testing.B) {
		in := []byte(`{"name":"alice","pubkey":"` + acct.pub + `"}`)
		run(b, em.mod, idchain.FnCreate, existing, wasm.StatusOK, func(int) []byte { return in })
	})
	b.Run("create-bad-input", func(b *testing.B) {
		in := []byte(`{"nam":"alice"}`)
		run(b, em.mod, idchain.FnCreate, existing, wasm.StatusAbort, func(int) []byte { return in })
	})
}

// BenchmarkCreateVsGreet alternates a create of a fresh name with the
// hello example's greet in every iteration and times each call, so both
// see the same machine noise; it reports ns per create, ns per greet and
// their ratio (create-x).
func BenchmarkCreateVsGreet(b *testing.B) {
	ctx := context.Background()
	em := shared.engines[0]
	b.Logf("engine %s", em.rt.Config().Engine)
	acct := newAccount(b, 1)
	hello := compileHello(b, em)
	st := &wasm.MemState{}
	greetIn := []byte(`{"name":"Ada"}`)
	var tCreate, tGreet time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		res, err := em.rt.Call(ctx, em.mod, wasm.Request{
			Fn: idchain.FnCreate, Input: []byte(`{"name":"user` + strconv.Itoa(i) + `","pubkey":"` + acct.pub + `"}`),
			GasLimit: gasLimit, Caller: acct.addr, Contract: idchain.Contract, Height: 2, State: st,
		})
		t1 := time.Now()
		if err != nil || res.Status != wasm.StatusOK {
			b.Fatalf("create: %v %v", res, err)
		}
		res, err = em.rt.Call(ctx, hello, wasm.Request{Fn: "greet", Input: greetIn, GasLimit: gasLimit})
		t2 := time.Now()
		if err != nil || res.Status != wasm.StatusOK {
			b.Fatalf("greet: %v %v", res, err)
		}
		tCreate += t1.Sub(t0)
		tGreet += t2.Sub(t1)
	}
	b.ReportMetric(float64(tCreate.Nanoseconds())/float64(b.N), "create-ns/op")
	b.ReportMetric(float64(tGreet.Nanoseconds())/float64(b.N), "greet-ns/op")
	b.ReportMetric(float64(tCreate)/float64(tGreet), "create-x")
}

// compileHello builds the hello example and compiles it, metered, on
// em's runtime.
func compileHello(b *testing.B, em engineMod) *wasm.Module {
	b.Helper()
	ctx := context.Background()
	path, err := examples.Build(ctx, b.TempDir(), "hello")
	if err != nil {
		b.Fatal(err)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	metered, err := em.rt.Meter(orig)
	if err != nil {
		b.Fatal(err)
	}
	m, err := em.rt.Compile(ctx, metered)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkCreateParallel runs creates of fresh names from two goroutines
// at once, like the miner's two execution slots: the pooled instances'
// resets then compete for memory bandwidth and, had they used page
// faults or madvise, for the other core (TLB shootdowns).
func BenchmarkCreateParallel(b *testing.B) {
	ctx := context.Background()
	em := shared.engines[0]
	acct := newAccount(b, 1)
	var n atomic.Int64
	b.SetParallelism(1)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		st := &wasm.MemState{}
		for pb.Next() {
			i := n.Add(1)
			res, err := em.rt.Call(ctx, em.mod, wasm.Request{
				Fn: idchain.FnCreate, Input: []byte(`{"name":"user` + strconv.FormatInt(i, 10) + `","pubkey":"` + acct.pub + `"}`),
				GasLimit: gasLimit, Caller: acct.addr, Contract: idchain.Contract, Height: 2, State: st,
			})
			if err != nil || res.Status != wasm.StatusOK {
				b.Errorf("create: %v %v", res, err)
				return
			}
		}
	})
}
