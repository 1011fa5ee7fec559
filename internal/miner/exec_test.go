package miner_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/miner"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

const (
	testGas   = 50_000_000
	testStart = 7
	testTime  = 1_700_000_000
	requester = "00112233445566778899aabbccddeeff00112233"
)

var testSeed = sha256.Sum256([]byte("seed"))

// offer is an offer of name@version.fn(input) at testStart.
func offer(v apitype.ContractVersion, fn, input string) apitype.Request {
	return apitype.Request{ID: strings.Repeat("ab", 32), Requester: requester, Contract: v.Name + "@^1", Name: v.Name,
		Version: v.Version, MeteredCID: v.MeteredHash, Composite: v.MeteredHash == "", Fn: fn, Input: []byte(input),
		GasLimit: strconv.Itoa(testGas), Start: testStart, StartTime: testTime, Seed: hex.EncodeToString(testSeed[:]),
		Replicas: 1, Quorum: 1, Phase: "commit"}
}

// callFor is the wasm.Request a miner must run for offer r, against st.
func callFor(r apitype.Request, st wasm.State) wasm.Request {
	return wasm.Request{Fn: r.Fn, Input: r.Input, GasLimit: testGas, Caller: requester, Contract: r.Name,
		Height: testStart, Time: testTime, Seed: testSeed, State: st}
}

// meter meters orig with rt and publishes it in code as name@version.
func meter(tb testing.TB, rt *wasm.Runtime, code *memCode, name, version string, orig []byte, height int64) (apitype.ContractVersion, []byte) {
	tb.Helper()
	metered, err := rt.Meter(orig)
	if err != nil {
		tb.Fatal(err)
	}
	return code.publish(name, version, metered, nil, height), metered
}

// world is the executor tests' shared setup, built once: compiling and
// initialising the Go examples is the slow part (seconds under -race).
type world struct {
	rt   *wasm.Runtime // the reference runtime
	code *memCode
	data *memData
	exec *miner.Executor // over code and data
	vs   map[string]apitype.ContractVersion
	mods map[string]*wasm.Module // reference modules by name@version
	man  *composite.Manifest     // c3's
}

var (
	worldOnce sync.Once
	theWorld  *world
	worldErr  error
)

// closeWorld releases the shared world (TestMain).
func closeWorld() {
	if theWorld != nil {
		theWorld.exec.Close(context.Background())
		theWorld.rt.Close(context.Background())
	}
}

// sharedWorld publishes hello, counter and fib 1.0.0 (height 1), the
// composite c3 1.0.0 over them (height 2), caller 1.0.0 (height 1) and
// counter 1.1.0 (height 10, the hello module: it has no "increment").
func sharedWorld(tb testing.TB) *world {
	tb.Helper()
	worldOnce.Do(func() {
		ctx := context.Background()
		rt, err := wasm.New(ctx, testConfig())
		if err != nil {
			worldErr = err
			return
		}
		w := &world{rt: rt, code: newMemCode(), data: newMemData(), vs: map[string]apitype.ContractVersion{},
			mods: map[string]*wasm.Module{}}
		theWorld = w
		add := func(name, version string, orig []byte, height int64) {
			if worldErr != nil {
				return
			}
			metered, err := rt.Meter(orig)
			if err != nil {
				worldErr = err
				return
			}
			v := w.code.publish(name, version, metered, nil, height)
			m, err := rt.Compile(ctx, metered)
			if err != nil {
				worldErr = err
				return
			}
			w.vs[name+"@"+version], w.mods[name+"@"+version] = v, m
		}
		for _, name := range []string{"hello", "counter", "fib"} {
			add(name, "1.0.0", example(tb, name), 1)
		}
		add("caller", "1.0.0", callerModule(), 1)
		add("counter", "1.1.0", example(tb, "hello"), 10)
		if worldErr != nil {
			return
		}
		if w.man, worldErr = composite.ParseManifest([]byte(manifest)); worldErr != nil {
			return
		}
		pin := func(contract.Ref) (composite.Pinned, error) { return composite.Pinned{Version: "1.0.0"}, nil }
		if worldErr = w.man.Pin(nil, pin); worldErr != nil {
			return
		}
		w.vs["c3@1.0.0"] = w.code.publish("c3", "1.0.0", nil, w.man.Canonical(), 2)
		w.exec, worldErr = miner.NewExecutor(ctx, testConfig(), w.code, w.data, 0)
	})
	if worldErr != nil {
		tb.Fatal(worldErr)
	}
	return theWorld
}

func newExecutor(tb testing.TB, code miner.Code, data miner.Data, cache int) *miner.Executor {
	tb.Helper()
	e, err := miner.NewExecutor(context.Background(), testConfig(), code, data, cache)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// TestExecuteMatchesRuntime: the executor's result — bytes, hash and gas —
// equals wasm.Runtime.Call of the same metered code on the same request
// and state, and every state read is at the request's start height.
func TestExecuteMatchesRuntime(t *testing.T) {
	ctx := context.Background()
	w := sharedWorld(t)
	w.data.ns("counter").Set([]byte("count"), []byte("41"), 9)
	w.data.mu.Lock()
	clear(w.data.heights)
	w.data.mu.Unlock()

	tests := []struct {
		name, contract, fn, input string
		wantStatus                wasm.Status
		wantOutput                string
	}{
		{"greet", "hello@1.0.0", "greet", `{"name":"ada"}`, wasm.StatusOK, `{"greeting":"Hello, ada!"}`},
		{"abort", "hello@1.0.0", "greet", `{}`, wasm.StatusAbort, ""},
		{"increment reads the start state", "counter@1.0.0", "increment", "1", wasm.StatusOK, "42"},
		{"get", "counter@1.0.0", "get", "", wasm.StatusOK, "41"},
		{"fib", "fib@1.0.0", "fib", "20", wasm.StatusOK, "6765"},
		{"unknown fn", "fib@1.0.0", "nope", "", wasm.StatusBadInput, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := offer(w.vs[tt.contract], tt.fn, tt.input)
			res, raw, hash, err := w.exec.Execute(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.wantStatus || (tt.wantOutput != "" && string(res.Output) != tt.wantOutput) {
				t.Fatalf("result %s, want status %s output %s", res, tt.wantStatus, tt.wantOutput)
			}
			want, err := w.rt.Call(ctx, w.mods[tt.contract], callFor(r, w.data.ns(r.Name)))
			if err != nil {
				t.Fatal(err)
			}
			wantRaw, _ := want.MarshalBinary()
			if res.GasUsed != want.GasUsed || !bytes.Equal(raw, wantRaw) {
				t.Fatalf("executor gas %d, runtime gas %d; bytes equal %v", res.GasUsed, want.GasUsed, bytes.Equal(raw, wantRaw))
			}
			if h, _ := want.Hash(); hash != h || hash != sha256.Sum256(raw) {
				t.Fatalf("hash %x, want %x", hash, h)
			}
		})
	}
	w.data.mu.Lock()
	defer w.data.mu.Unlock()
	if len(w.data.heights) != 1 || w.data.heights[testStart] == 0 {
		t.Fatalf("state read at heights %v, want only %d", w.data.heights, testStart)
	}
}

// manifest is a composite over counter, fib and hello, pinned to 1.0.0.
const manifest = `{"steps":[
	{"id":"inc","contract":"counter@^1","fn":"increment","input":{"pointer":"/input/delta"}},
	{"id":"fib","contract":"fib@^1","fn":"fib","input":{"pointer":"/steps/inc"}},
	{"id":"greet","contract":"hello@^1","fn":"greet","input":{"object":{"name":{"pointer":"/input/who"}}}}],
	"output":{"object":{"count":{"pointer":"/steps/inc"},"fib":{"pointer":"/steps/fib"},"greeting":{"pointer":"/steps/greet/greeting"}}}}`

// TestExecuteComposite: a composite runs its pinned manifest's steps, each
// the pinned version's metered module, exactly as composite.Run does.
func TestExecuteComposite(t *testing.T) {
	ctx := context.Background()
	w := sharedWorld(t)
	w.data.ns("counter").Set([]byte("count"), []byte("5"), 3)
	r := offer(w.vs["c3@1.0.0"], composite.RunFn, `{"delta":5,"who":"ada"}`)
	res, raw, _, err := w.exec.Execute(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"count":10,"fib":55,"greeting":"Hello, ada!"}`; res.Status != wasm.StatusOK || string(res.Output) != want {
		t.Fatalf("result %s, want output %s", res, want)
	}
	load := func(_ context.Context, name, version string) (*wasm.Module, wasm.State, error) {
		return w.mods[name+"@"+version], w.data.ns(name), nil
	}
	want, err := composite.Run(ctx, w.rt, w.man, load, callFor(r, nil))
	if err != nil {
		t.Fatal(err)
	}
	wantRaw, _ := want.Result.MarshalBinary()
	if !bytes.Equal(raw, wantRaw) || res.GasUsed != want.Result.GasUsed {
		t.Fatalf("executor gas %d, composite.Run gas %d", res.GasUsed, want.Result.GasUsed)
	}
}

// callerModule exports "run", which calls counter.increment with an empty
// input and writes the callee's output.
func callerModule() []byte {
	i32 := wt.I32
	m := wt.New()
	call := m.Import("vm", "call", []byte{i32, i32, i32, i32, i32, i32}, []byte{i32})
	retLen := m.Import("vm", "ret_len", nil, []byte{i32})
	retRead := m.Import("vm", "ret_read", []byte{i32}, nil)
	out := m.Import("vm", "output_write", []byte{i32, i32}, nil)
	m.Memory(1, 1)
	m.Data(0, []byte("counterincrement"))
	m.Export("run", m.Func(nil, nil, nil, wt.Code{}.I32(0).I32(7).I32(7).I32(9).I32(0).I32(0).Call(call).Drop().
		I32(100).Call(retRead).I32(100).Call(retLen).Call(out)))
	return m.Bytes()
}

// constModule exports "run", which writes the constant out.
func constModule(out string) []byte {
	i32 := wt.I32
	m := wt.New()
	write := m.Import("vm", "output_write", []byte{i32, i32}, nil)
	m.Memory(1, 1)
	m.Data(0, []byte(out))
	m.Export("run", m.Func(nil, nil, nil, wt.Code{}.I32(0).I32(int32(len(out))).Call(write)))
	return m.Bytes()
}

// TestExecuteCrossContract: a contract-to-contract call resolves the name
// to its highest non-yanked version as of the request's start height.
// (Each case uses its own start height: resolutions at a height are
// cached, and a yank is a change at a later height.)
func TestExecuteCrossContract(t *testing.T) {
	ctx := context.Background()
	w := sharedWorld(t)
	tests := []struct {
		name    string
		start   int64
		yank    bool
		wantOut string
	}{
		{"before 1.1.0 was published", testStart, false, "2"},
		{"after: 1.1.0 has no increment", 12, false, "no such function"},
		{"after, 1.1.0 yanked", 13, true, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.data.ns("counter").Set([]byte("count"), []byte("1"), 1)
			if tt.yank {
				w.code.yank("counter", "1.1.0")
			}
			r := offer(w.vs["caller@1.0.0"], "run", "")
			r.Start = tt.start
			res, _, _, err := w.exec.Execute(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != wasm.StatusOK || string(res.Output) != tt.wantOut {
				t.Fatalf("result %s (output %q), want output %q", res, res.Output, tt.wantOut)
			}
			if tt.wantOut == "2" && (len(res.WriteSet) != 1 || res.WriteSet[0].Contract != "counter") {
				t.Fatalf("write set %+v", res.WriteSet)
			}
		})
	}
}

// TestExecuteRefusals: offers that cannot be run are errors, never results.
func TestExecuteRefusals(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	code := newMemCode()
	v, _ := meter(t, rt, code, "k", "1.0.0", constModule("k"), 1)
	tampered := newMemCode()
	meter(t, rt, tampered, "k", "1.0.0", constModule("k"), 1)
	tampered.tamper = true

	tests := []struct {
		name    string
		code    *memCode
		edit    func(*apitype.Request)
		wantErr vmerr.Kind
	}{
		{"valid", code, func(*apitype.Request) {}, 0},
		{"code not matching its CID", tampered, func(*apitype.Request) {}, vmerr.Unauthorized},
		{"bad gas limit", code, func(r *apitype.Request) { r.GasLimit = "-1" }, vmerr.Invalid},
		{"bad seed", code, func(r *apitype.Request) { r.Seed = "00" }, vmerr.Invalid},
		{"no start", code, func(r *apitype.Request) { r.Start = 0 }, vmerr.Invalid},
		{"no CID", code, func(r *apitype.Request) { r.MeteredCID = "" }, vmerr.Invalid},
		{"bad CID", code, func(r *apitype.Request) { r.MeteredCID = "bafy" }, vmerr.Invalid},
		{"unknown version", code, func(r *apitype.Request) { r.Version = "9.9.9" }, vmerr.NotFound},
		{"composite that is not", code, func(r *apitype.Request) { r.Composite = true }, vmerr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExecutor(t, tt.code, newMemData(), 0)
			r := offer(v, "run", "")
			tt.edit(&r)
			res, _, _, err := e.Execute(ctx, r)
			if vmerr.KindOf(err) != tt.wantErr || (err == nil && string(res.Output) != "k") {
				t.Fatalf("result %v, error %v; want kind %d", res, err, tt.wantErr)
			}
		})
	}
	e := newExecutor(t, code, newMemData(), 0)
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := e.Execute(ctx, offer(v, "run", "")); vmerr.KindOf(err) != vmerr.Unavailable {
		t.Fatalf("after Close: %v", err)
	}
}

// TestExecuteCacheBound: with a cache of one module, alternating contracts
// from many goroutines stay right while code is refetched and runtimes
// replaced, and alternating calls one at a time refetch every time (calls
// at the same time share one compilation, so only the sequential part
// counts fetches).
func TestExecuteCacheBound(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	code, data := newMemCode(), newMemData()
	a, _ := meter(t, rt, code, "a", "1.0.0", constModule("a"), 1)
	b, _ := meter(t, rt, code, "b", "1.0.0", constModule("bb"), 1)
	e := newExecutor(t, code, data, 1)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, want := offer(a, "run", ""), "a"
			if i%2 == 1 {
				r, want = offer(b, "run", ""), "bb"
			}
			res, _, _, err := e.Execute(ctx, r)
			if err == nil && string(res.Output) != want {
				err = vmerr.E("test", vmerr.Internal, "output %s, want %s", res.Output, want)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	code.mu.Lock()
	before := code.fetches
	code.mu.Unlock()
	for i := range 10 {
		r := offer(a, "run", "")
		if i%2 == 1 {
			r = offer(b, "run", "")
		}
		if _, _, _, err := e.Execute(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	code.mu.Lock()
	defer code.mu.Unlock()
	if n := code.fetches - before; n < 9 {
		t.Fatalf("%d code fetches for 10 alternating calls: the cache is not bounded", n)
	}
}

// TestExecuteStepMemos: the executor answers a composite step from the
// node's memo at the start height when its reads still hold there (the
// step does not run; the output is the same), and not when a read is stale.
func TestExecuteStepMemos(t *testing.T) {
	ctx := context.Background()
	w := sharedWorld(t)
	w.data.ns("counter").Set([]byte("count"), []byte("5"), 3)
	t.Cleanup(func() {
		w.data.mu.Lock()
		w.data.memos = nil
		w.data.mu.Unlock()
	})
	r := offer(w.vs["c3@1.0.0"], composite.RunFn, `{"delta":5,"who":"ada"}`)
	first, _, _, err := w.exec.Execute(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	greet, fib := first.Steps[2], first.Steps[1]
	if len(greet.Result) == 0 || first.Steps[0].Result != nil { // inc writes: not recordable
		t.Fatalf("steps recorded: greet %d bytes, inc %d bytes", len(greet.Result), len(first.Steps[0].Result))
	}
	var greetRes wasm.Result
	if err := greetRes.UnmarshalBinary(greet.Result); err != nil {
		t.Fatal(err)
	}
	w.data.setMemo(greet.CodeHash, greet.Fn, greet.InputHash, &greetRes)
	stale := wasm.Result{Status: wasm.StatusOK, Output: []byte("1"), ReadSet: []wasm.Read{{Contract: "counter", Key: []byte("other"), Found: true, Version: 99}}}
	w.data.setMemo(fib.CodeHash, fib.Fn, fib.InputHash, &stale)
	second, _, _, err := w.exec.Execute(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(second.Output, first.Output) || !second.Steps[2].Hit || second.Steps[1].Hit ||
		second.GasUsed != first.GasUsed-greetRes.GasUsed {
		t.Fatalf("with memos: output %s, hits %v %v, gas %d (want %d)", second.Output, second.Steps[1].Hit, second.Steps[2].Hit,
			second.GasUsed, first.GasUsed-greetRes.GasUsed)
	}
}

// TestExecutorWarm: Warm compiles a contract ahead of its first call, which
// then fetches nothing; an unknown contract is the node's error.
func TestExecutorWarm(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	code, data := newMemCode(), newMemData()
	a, _ := meter(t, rt, code, "a", "1.0.0", constModule("a"), 1)
	e := newExecutor(t, code, data, 4)
	if err := e.Warm(ctx, "a", ""); err != nil {
		t.Fatal(err)
	}
	res, _, _, err := e.Execute(ctx, offer(a, "run", ""))
	if err != nil || string(res.Output) != "a" {
		t.Fatalf("call after warm: %v %v", res, err)
	}
	code.mu.Lock()
	fetches := code.fetches
	code.mu.Unlock()
	if fetches != 1 {
		t.Fatalf("%d code fetches, want the warm's one", fetches)
	}
	if err := e.Warm(ctx, "nope", ""); vmerr.KindOf(err) != vmerr.NotFound {
		t.Fatalf("warm of an unknown contract: %v", err)
	}
}
