package wasm_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/wasm"
)

var (
	abiOnce sync.Once
	abiBin  []byte
	abiErr  error
)

// abiContract builds testdata/abi, a Go contract using the whole SDK.
func abiContract(t testing.TB) []byte {
	t.Helper()
	abiOnce.Do(func() {
		out := filepath.Join(buildDir, "abi.wasm")
		if abiErr = examples.BuildPackage(context.Background(), filepath.Join("testdata", "abi"), out); abiErr == nil {
			abiBin, abiErr = os.ReadFile(out)
		}
	})
	if abiErr != nil {
		t.Fatal(abiErr)
	}
	return abiBin
}

func TestABIFromGo(t *testing.T) {
	r := shared(t, "compiler")
	m := compileMetered(t, r, abiContract(t))
	var seed [32]byte
	seed[0] = 9

	t.Run("env", func(t *testing.T) {
		req := wasm.Request{Fn: "env", GasLimit: 50_000_000, Caller: "alice", Height: 42, Time: 1_700_000_000, Seed: seed}
		res := call(t, r, m, req)
		if res.Status != wasm.StatusOK {
			t.Fatalf("%s logs %q", res, res.Logs)
		}
		var got map[string]any
		if err := json.Unmarshal(res.Output, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"caller": "alice", "height": 42.0, "time": 1.7e9, "now": 1.7e9 + 2,
			"slept": "2s", "gas_left_positive": true, "args": 0.0, "env": 0.0}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		if !strings.HasPrefix(got["seed"].(string), "09") {
			t.Errorf("seed %v", got["seed"])
		}
		wantLogs := []string{"hello from stdout", "hello from stderr", "a log line"}
		if strings.Join(res.Logs, "|") != strings.Join(wantLogs, "|") {
			t.Errorf("logs %q, want %q", res.Logs, wantLogs)
		}
		// A different seed changes the random stream; the same one does not.
		again := call(t, r, m, req)
		if !again.Equal(res) {
			t.Error("not reproducible")
		}
		req.Seed[0] = 10
		other := call(t, r, m, req)
		var o map[string]any
		json.Unmarshal(other.Output, &o)
		if o["rand"] == got["rand"] {
			t.Error("random stream ignores the seed")
		}
	})

	t.Run("kv", func(t *testing.T) {
		st := &wasm.MemState{}
		st.Set([]byte("b"), []byte("old"), 3)
		st.Set([]byte("bb"), []byte("kept"), 4)
		res := call(t, r, m, wasm.Request{Fn: "kv", GasLimit: 50_000_000, State: st})
		if want := "b=vb,bb=kept,d=vd,false,vdtrue"; string(res.Output) != want {
			t.Fatalf("%s output %q, want %q", res, res.Output, want)
		}
		if len(res.WriteSet) != 5 {
			t.Errorf("write set %+v", res.WriteSet)
		}
		// Only bb came from the State (b was overwritten first).
		if len(res.ReadSet) != 1 || string(res.ReadSet[0].Key) != "bb" || res.ReadSet[0].Version != 4 {
			t.Errorf("read set %+v", res.ReadSet)
		}
		st.Apply("", res.WriteSet, 5)
		res = call(t, r, m, wasm.Request{Fn: "scan", GasLimit: 50_000_000, State: st})
		if want := "a=va,b=vb,bb=kept,d=vd,e=ve,"; string(res.Output) != want {
			t.Errorf("scan %q, want %q", res.Output, want)
		}
	})

	t.Run("forward", func(t *testing.T) {
		fib := compileMetered(t, r, example(t, "fib"))
		res := call(t, r, m, wasm.Request{Fn: "forward", Input: []byte("fib fib"), GasLimit: 50_000_000,
			Contracts: wasm.MemResolver{"fib": {Module: fib}}})
		if string(res.Output) != "13" {
			t.Errorf("forward: %s %q", res, res.Output)
		}
		res = call(t, r, m, wasm.Request{Fn: "forward", Input: []byte("fib nope"), GasLimit: 50_000_000,
			Contracts: wasm.MemResolver{"fib": {Module: fib}}})
		if !strings.Contains(string(res.Output), "bad_input") {
			t.Errorf("forward to a bad function: %q", res.Output)
		}
	})

	t.Run("crash", func(t *testing.T) {
		res := call(t, r, m, wasm.Request{Fn: "crash", GasLimit: 50_000_000})
		if res.Status != wasm.StatusTrap || len(res.Logs) == 0 || res.Logs[0] != "panic: assignment to entry in nil map" {
			t.Errorf("crash: %s logs %q", res, res.Logs)
		}
	})

	t.Run("hog", func(t *testing.T) {
		res := call(t, r, m, wasm.Request{Fn: "hog", GasLimit: 1_000_000_000})
		if res.Status != wasm.StatusMemoryLimit {
			t.Errorf("hog: %s", res)
		}
		t.Logf("hog: %s", res)
	})
}
