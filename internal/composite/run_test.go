package composite_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// The example contracts are built once per test binary and compiled once
// into one shared runtime: compiling a multi-MB Go contract takes seconds.
var (
	buildDir string
	envMu    sync.Mutex
	envRT    *wasm.Runtime
	envMods  = map[string]*wasm.Module{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "composite-test-")
	if err != nil {
		panic(err)
	}
	buildDir = dir
	code := m.Run()
	envMu.Lock()
	if envRT != nil {
		envRT.Close(context.Background())
	}
	envMu.Unlock()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runtime returns the shared runtime: the compiler, or the interpreter under
// -race (wazero's compiler is very slow when instrumented).
func runtime(tb testing.TB) *wasm.Runtime {
	tb.Helper()
	envMu.Lock()
	defer envMu.Unlock()
	if envRT == nil {
		cfg := wasm.TestConfig()
		cfg.CacheDir = filepath.Join(buildDir, "cache")
		if raceEnabled {
			cfg.Engine, cfg.CacheDir = wasm.EngineInterpreter, ""
		}
		r, err := wasm.New(context.Background(), cfg)
		if err != nil {
			tb.Fatal(err)
		}
		envRT = r
	}
	return envRT
}

// module returns the metered, compiled example contract name, or a
// hand-assembled one ("notjson").
func module(tb testing.TB, name string) *wasm.Module {
	tb.Helper()
	r := runtime(tb)
	envMu.Lock()
	defer envMu.Unlock()
	if m, ok := envMods[name]; ok {
		return m
	}
	var orig []byte
	switch name {
	case "notjson":
		orig = notJSONModule()
	case "caller":
		orig = callerModule()
	default:
		path, err := examples.Build(context.Background(), buildDir, name)
		if err != nil {
			tb.Fatal(err)
		}
		if orig, err = os.ReadFile(filepath.Clean(path)); err != nil {
			tb.Fatal(err)
		}
	}
	metered, err := r.Meter(orig)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := r.Compile(context.Background(), metered)
	if err != nil {
		tb.Fatal(err)
	}
	envMods[name] = m
	return m
}

// notJSONModule exports "emit", which writes the bytes "not json".
func notJSONModule() []byte {
	i32 := wt.I32
	m := wt.New()
	out := m.Import("vm", "output_write", []byte{i32, i32}, nil)
	m.Memory(1, 1)
	m.Data(0, []byte("not json"))
	m.Export("emit", m.Func(nil, nil, nil, wt.Code{}.I32(0).I32(8).Call(out)))
	return m.Bytes()
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

// world is a set of deployed contracts at version 1.0.0 with their
// namespaces: a Loader for Run.
type world struct {
	mods   map[string]*wasm.Module
	states map[string]*wasm.MemState
	loads  int
}

func newWorld(tb testing.TB, names ...string) *world {
	w := &world{mods: map[string]*wasm.Module{}, states: map[string]*wasm.MemState{}}
	for _, n := range names {
		w.mods[n] = module(tb, n)
		w.states[n] = &wasm.MemState{}
	}
	return w
}

func (w *world) load(_ context.Context, name, version string) (*wasm.Module, wasm.State, error) {
	w.loads++
	m, ok := w.mods[name]
	if !ok || version != "1.0.0" {
		return nil, nil, vmerr.E("test.load", vmerr.NotFound, "no %s@%s", name, version)
	}
	return m, w.states[name], nil
}

// pinned parses a manifest and pins every step to 1.0.0.
func pinned(tb testing.TB, s string) *composite.Manifest {
	tb.Helper()
	m := mustManifest(tb, s)
	reg := registry{}
	for _, st := range m.Steps {
		name, _, _ := strings.Cut(st.Contract, "@")
		reg[name] = composite.Pinned{Version: "1.0.0"}
	}
	if err := m.Pin(nil, reg.lookup); err != nil {
		tb.Fatal(err)
	}
	return m
}

// pipeline: increment a counter by /input/delta, read it back (a state
// dependency only: manifest order), fib of the value read, greet /input/name.
const pipeline = `{"steps":[
	{"id":"inc","contract":"counter@^1","fn":"increment","input":{"pointer":"/input/delta"}},
	{"id":"read","contract":"counter@^1","fn":"get","input":{"value":null}},
	{"id":"fib","contract":"fib@^1","fn":"fib","input":{"pointer":"/steps/read"}},
	{"id":"greet","contract":"hello@^1","fn":"greet","input":{"object":{"name":{"pointer":"/input/who/0"}}}}],
	"output":{"object":{"count":{"pointer":"/steps/read"},"fib":{"pointer":"/steps/fib"},"greeting":{"pointer":"/steps/greet/greeting"}}}}`

const gas = 50_000_000

func call(t testing.TB, m *wasm.Module, req wasm.Request) *wasm.Result {
	t.Helper()
	res, err := runtime(t).Call(context.Background(), m, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != wasm.StatusOK {
		t.Fatalf("%s %s: %s", req.Contract, req.Fn, res)
	}
	return res
}

// TestRunPipeline runs a 4-step composite over real example contracts and
// checks it against running the same steps by hand.
func TestRunPipeline(t *testing.T) {
	w := newWorld(t, "counter", "fib", "hello")
	w.states["counter"].Set([]byte("count"), []byte("5"), 3)
	m := pinned(t, pipeline)
	req := wasm.Request{Input: []byte(`{"delta": 5, "who": ["Ada", "Bob"]}`), GasLimit: gas, Contract: "c3", Caller: "alice"}
	got, err := composite.Run(context.Background(), runtime(t), m, w.load, req)
	if err != nil {
		t.Fatal(err)
	}
	res := got.Result
	if res.Status != wasm.StatusOK {
		t.Fatalf("composite: %s", res)
	}

	// By hand: the same calls, applying writes between them.
	st := &wasm.MemState{}
	st.Set([]byte("count"), []byte("5"), 3)
	inc := call(t, module(t, "counter"), wasm.Request{Fn: "increment", Input: []byte("5"), GasLimit: gas, State: st, Contract: "counter"})
	st.Apply("counter", inc.WriteSet, 4)
	read := call(t, module(t, "counter"), wasm.Request{Fn: "get", Input: []byte("null"), GasLimit: gas, State: st, Contract: "counter"})
	fib := call(t, module(t, "fib"), wasm.Request{Fn: "fib", Input: read.Output, GasLimit: gas, Contract: "fib"})
	greet := call(t, module(t, "hello"), wasm.Request{Fn: "greet", Input: []byte(`{"name":"Ada"}`), GasLimit: gas, Contract: "hello"})
	byHand := []*wasm.Result{inc, read, fib, greet}

	if want := `{"count":10,"fib":55,"greeting":"Hello, Ada!"}`; string(res.Output) != want {
		t.Fatalf("output %s, want %s", res.Output, want)
	}
	if len(got.Steps) != 4 {
		t.Fatalf("%d steps", len(got.Steps))
	}
	var sum uint64
	for i, s := range got.Steps {
		h := byHand[i]
		if s.ID != m.Steps[i].ID || s.Version != "1.0.0" || !bytes.Equal(s.Result.Output, h.Output) || s.Result.GasUsed != h.GasUsed {
			t.Errorf("step %d %s: output %q gas %d, by hand %q gas %d", i, s.ID, s.Result.Output, s.Result.GasUsed, h.Output, h.GasUsed)
		}
		sum += s.Result.GasUsed
	}
	if string(got.Steps[3].Input) != `{"name":"Ada"}` || string(got.Steps[0].Input) != "5" {
		t.Errorf("step inputs %q %q", got.Steps[0].Input, got.Steps[3].Input)
	}
	if res.GasUsed != sum {
		t.Errorf("gas %d, want the sum %d", res.GasUsed, sum)
	}
	// Overlay: "read" saw inc's write; only inc's read reached the State.
	if len(res.ReadSet) != 1 || string(res.ReadSet[0].Key) != "count" || res.ReadSet[0].Version != 3 || !res.ReadSet[0].Found {
		t.Errorf("read set %+v", res.ReadSet)
	}
	if len(res.WriteSet) != 1 || res.WriteSet[0].Contract != "counter" || string(res.WriteSet[0].Value) != "10" {
		t.Errorf("write set %+v", res.WriteSet)
	}
	if len(res.Events) != 1 || res.Events[0].Topic != "incremented" || string(res.Events[0].Data) != "10" {
		t.Errorf("events %+v", res.Events)
	}
	if v, _, _, _ := w.states["counter"].Get([]byte("count")); string(v) != "5" {
		t.Errorf("Run changed the State: %q", v)
	}
	if _, err := res.MarshalBinary(); err != nil {
		t.Errorf("result does not encode: %v", err)
	}
}

// TestRunDeterministic: two runs give byte-identical results.
func TestRunDeterministic(t *testing.T) {
	w := newWorld(t, "counter", "fib", "hello")
	w.states["counter"].Set([]byte("count"), []byte("1"), 1)
	m := pinned(t, pipeline)
	req := wasm.Request{Input: []byte(`{"delta":2,"who":["Eve"]}`), GasLimit: gas, Contract: "c3", Seed: [32]byte{7}}
	var first []byte
	for i := 0; i < 2; i++ {
		got, err := composite.Run(context.Background(), runtime(t), m, w.load, req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := got.Result.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
			continue
		}
		if !bytes.Equal(first, b) {
			t.Fatal("two runs differ")
		}
	}
}

// TestRunSharedGas: the budget is shared; running out in any step fails the
// whole composite with out_of_gas and keeps no writes.
func TestRunSharedGas(t *testing.T) {
	w := newWorld(t, "counter", "fib", "hello")
	m := pinned(t, pipeline)
	req := wasm.Request{Input: []byte(`{"delta":3,"who":["Ada"]}`), GasLimit: gas, Contract: "c3"}
	full, err := composite.Run(context.Background(), runtime(t), m, w.load, req)
	if err != nil || full.Result.Status != wasm.StatusOK {
		t.Fatalf("%v %v", full, err)
	}
	total := full.Result.GasUsed
	first := full.Steps[0].Result.GasUsed
	tests := []struct {
		name      string
		limit     uint64
		want      wasm.Status
		wantSteps int
		failIn    string
	}{
		{name: "exact budget", limit: total, want: wasm.StatusOK, wantSteps: 4},
		{name: "one short: last step", limit: total - 1, want: wasm.StatusOutOfGas, wantSteps: 4, failIn: "step greet "},
		{name: "first step short", limit: first - 1, want: wasm.StatusOutOfGas, wantSteps: 1, failIn: "step inc "},
		{name: "nothing left for step two", limit: first, want: wasm.StatusOutOfGas, wantSteps: 2, failIn: "step read "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := req
			r.GasLimit = tc.limit
			got, err := composite.Run(context.Background(), runtime(t), m, w.load, r)
			if err != nil {
				t.Fatal(err)
			}
			res := got.Result
			if res.Status != tc.want || len(got.Steps) != tc.wantSteps || !strings.HasPrefix(res.Error, tc.failIn) {
				t.Fatalf("status %s, %d steps, error %q; want %s, %d steps, error %q", res.Status, len(got.Steps), res.Error, tc.want, tc.wantSteps, tc.failIn)
			}
			if res.GasUsed > tc.limit {
				t.Fatalf("used %d of %d", res.GasUsed, tc.limit)
			}
			if tc.want != wasm.StatusOK && (len(res.WriteSet) != 0 || len(res.Events) != 0 || len(res.Output) != 0) {
				t.Fatalf("a failed composite kept effects: %+v", res)
			}
			if tc.want != wasm.StatusOK && tc.wantSteps > 1 && got.Steps[0].Result.Status != wasm.StatusOK {
				t.Fatal("the first step should have succeeded on its own")
			}
		})
	}
}

// TestRunFailures: each way a run fails names where it failed and keeps
// nothing.
func TestRunFailures(t *testing.T) {
	w := newWorld(t, "counter", "fib", "hello", "notjson")
	tests := []struct {
		name      string
		manifest  string
		input     string
		gasLimit  uint64
		want      wasm.Status
		errHas    string
		wantSteps int
	}{
		{name: "failing step names itself", manifest: pipeline, input: `{"delta":99,"who":["Ada"]}`,
			want: wasm.StatusAbort, errHas: "step fib (fib@1.0.0.fib): ", wantSteps: 3},
		{name: "input not JSON", manifest: pipeline, input: `{"delta":`, want: wasm.StatusBadInput, errHas: "not JSON"},
		{name: "input too large", manifest: pipeline, input: `"` + strings.Repeat("x", runtime(t).Config().MaxInputSize) + `"`, want: wasm.StatusBadInput, errHas: "at most"},
		{name: "out of gas names the step", manifest: `{"steps":[{"id":"f","contract":"fib","fn":"fib","input":{"value":30}}]}`, input: `null`,
			gasLimit: 1000, want: wasm.StatusOutOfGas, errHas: "step f (fib@1.0.0.fib): ", wantSteps: 1},
		{name: "pointer selects nothing", manifest: pipeline, input: `{"delta":1,"who":[]}`,
			want: wasm.StatusAbort, errHas: `step greet: input: pointer "/input/who/0" selects nothing`, wantSteps: 3},
		{name: "pointer into non-JSON output", manifest: `{"steps":[{"id":"a","contract":"notjson","fn":"emit","input":{"value":null}},
			{"id":"b","contract":"hello","fn":"greet","input":{"pointer":"/steps/a"}}]}`,
			want: wasm.StatusAbort, errHas: "output of step a is not JSON", wantSteps: 1},
		{name: "output source into non-JSON output", manifest: `{"steps":[{"id":"a","contract":"notjson","fn":"emit","input":{"value":null}}],
			"output":{"object":{"x":{"pointer":"/steps/a"}}}}`,
			want: wasm.StatusAbort, errHas: "output: pointer", wantSteps: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := pinned(t, tc.manifest)
			limit := tc.gasLimit
			if limit == 0 {
				limit = gas
			}
			got, err := composite.Run(context.Background(), runtime(t), m, w.load, wasm.Request{Input: []byte(tc.input), GasLimit: limit, Contract: "c3"})
			if err != nil {
				t.Fatal(err)
			}
			res := got.Result
			if res.Status != tc.want || !strings.Contains(res.Error, tc.errHas) || len(got.Steps) != tc.wantSteps {
				t.Fatalf("status %s error %q steps %d; want %s containing %q, %d steps", res.Status, res.Error, len(got.Steps), tc.want, tc.errHas, tc.wantSteps)
			}
			if len(res.WriteSet) != 0 || len(res.Events) != 0 || len(res.Output) != 0 {
				t.Fatalf("a failed composite kept effects: %+v", res)
			}
			if _, err := res.MarshalBinary(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRunCrossCallOverlay: a contract a step calls sees the composite's
// earlier writes to that contract's namespace, and its writes land in the
// composite's write set.
func TestRunCrossCallOverlay(t *testing.T) {
	w := newWorld(t, "counter", "caller")
	m := pinned(t, `{"steps":[{"id":"inc","contract":"counter","fn":"increment","input":{"value":5}},
		{"id":"via","contract":"caller","fn":"run","input":{"value":null}},
		{"id":"get","contract":"counter","fn":"get","input":{"value":null}}],
		"output":{"object":{"inc":{"pointer":"/steps/inc"},"via":{"pointer":"/steps/via"},"get":{"pointer":"/steps/get"}}}}`)
	resolver := wasm.MemResolver{"counter": {Module: w.mods["counter"], State: w.states["counter"]}}
	got, err := composite.Run(context.Background(), runtime(t), m, w.load, wasm.Request{GasLimit: gas, Contract: "c3", Contracts: resolver})
	if err != nil {
		t.Fatal(err)
	}
	res := got.Result
	if res.Status != wasm.StatusOK || string(res.Output) != `{"get":6,"inc":5,"via":6}` {
		t.Fatalf("%s %s", res, res.Output)
	}
	if len(res.WriteSet) != 1 || string(res.WriteSet[0].Value) != "6" || len(res.ReadSet) != 1 || res.ReadSet[0].Found {
		t.Fatalf("writes %+v reads %+v", res.WriteSet, res.ReadSet)
	}
	if len(res.Events) != 2 {
		t.Fatalf("events %+v", res.Events)
	}
}

// TestRunDefaultOutput: without an output source the last step's output is
// the composite's, byte for byte, JSON or not.
func TestRunDefaultOutput(t *testing.T) {
	w := newWorld(t, "notjson", "fib")
	m := pinned(t, `{"steps":[{"id":"f","contract":"fib","fn":"fib","input":{"pointer":"/input"}},{"id":"a","contract":"notjson","fn":"emit","input":{"pointer":"/steps/f"}}]}`)
	got, err := composite.Run(context.Background(), runtime(t), m, w.load, wasm.Request{Input: []byte("12"), GasLimit: gas})
	if err != nil {
		t.Fatal(err)
	}
	if got.Result.Status != wasm.StatusOK || string(got.Result.Output) != "not json" || string(got.Steps[0].Result.Output) != "144" {
		t.Fatalf("%s %q", got.Result, got.Result.Output)
	}
}

// TestRunHostErrors: loader failures and unpinned manifests are Go errors.
func TestRunHostErrors(t *testing.T) {
	w := newWorld(t, "fib")
	boom := errors.New("disk on fire")
	tests := []struct {
		name     string
		manifest *composite.Manifest
		load     composite.Loader
		wantKind vmerr.Kind
		errHas   string
	}{
		{name: "loader fails", manifest: pinned(t, `{"steps":[{"id":"f","contract":"fib","fn":"fib","input":{"value":3}}]}`),
			load: func(context.Context, string, string) (*wasm.Module, wasm.State, error) {
				return nil, nil, vmerr.Wrap("test.load", vmerr.Unavailable, boom)
			}, wantKind: vmerr.Unavailable, errHas: `step "f": load fib@1.0.0: `},
		{name: "not pinned", manifest: mustManifest(t, `{"steps":[{"id":"f","contract":"fib","fn":"fib","input":{"value":3}}]}`),
			load: w.load, wantKind: vmerr.Invalid, errHas: "not pinned"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := composite.Run(context.Background(), runtime(t), tc.manifest, tc.load, wasm.Request{Input: []byte("1"), GasLimit: gas})
			if got != nil || vmerr.KindOf(err) != tc.wantKind || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("got %v err %v, want kind %v containing %q", got, err, tc.wantKind, tc.errHas)
			}
		})
	}
	if _, err := composite.Run(context.Background(), runtime(t), pinned(t, `{"steps":[{"id":"f","contract":"fib","fn":"fib","input":{"value":3}}]}`),
		func(context.Context, string, string) (*wasm.Module, wasm.State, error) { return nil, nil, boom }, wasm.Request{GasLimit: gas}); !errors.Is(err, boom) {
		t.Fatalf("loader error not wrapped: %v", err)
	}
}
