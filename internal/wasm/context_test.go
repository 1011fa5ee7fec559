package wasm_test

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// contextModule exports one function per context read (caller, height,
// time, seed), "plain" (reads nothing of its context) and "nested" (calls
// "ctx".height and outputs nothing).
func contextModule() []byte {
	i32, i64 := wt.I32, wt.I64
	m := wt.New()
	caller := m.Import("vm", "caller", nil, []byte{i32})
	height := m.Import("vm", "height", nil, []byte{i64})
	tm := m.Import("vm", "time", nil, []byte{i64})
	seed := m.Import("vm", "seed", []byte{i32}, nil)
	call := m.Import("vm", "call", []byte{i32, i32, i32, i32, i32, i32}, []byte{i32})
	m.Memory(1, 1)
	m.Data(0, []byte("ctxheight"))
	m.Export("caller", m.Func(nil, nil, nil, wt.Code{}.Call(caller).Drop()))
	m.Export("height", m.Func(nil, nil, nil, wt.Code{}.Call(height).Drop()))
	m.Export("time", m.Func(nil, nil, nil, wt.Code{}.Call(tm).Drop()))
	m.Export("seed", m.Func(nil, nil, nil, wt.Code{}.I32(64).Call(seed)))
	m.Export("plain", m.Func(nil, nil, nil, wt.Code{}))
	m.Export("nested", m.Func(nil, nil, nil, wt.Code{}.I32(0).I32(3).I32(3).I32(6).I32(0).I32(0).Call(call).Drop()))
	return m.Bytes()
}

// TestResultContext: a call that reads its caller, height, time or seed,
// directly or through a contract it calls, is marked Context (never
// memoized); one that does not is not, and encodes exactly as before.
func TestResultContext(t *testing.T) {
	r := shared(t, "interpreter")
	mod := compileMetered(t, r, contextModule())
	res := wasm.MemResolver{"ctx": {Module: mod}}
	for _, tt := range []struct {
		fn   string
		want bool
	}{
		{"caller", true}, {"height", true}, {"time", true}, {"seed", true}, {"nested", true}, {"plain", false},
	} {
		got := call(t, r, mod, wasm.Request{Fn: tt.fn, GasLimit: 1_000_000, Contract: "ctx", Caller: "alice", Height: 7, Contracts: res})
		if got.Status != wasm.StatusOK || got.Context != tt.want {
			t.Errorf("%s: %s context %v, want %v", tt.fn, got, got.Context, tt.want)
		}
		enc, err := got.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back wasm.Result
		if err := back.UnmarshalBinary(enc); err != nil || back.Context != tt.want {
			t.Errorf("%s: decoded context %v (%v)", tt.fn, back.Context, err)
		}
	}
}

// TestResultTrailer: the context flag and composite steps round-trip; a
// result with neither encodes in the original form; malformed trailers are
// refused.
func TestResultTrailer(t *testing.T) {
	plain := &wasm.Result{Status: wasm.StatusOK, Output: []byte("x"), ReadSet: []wasm.Read{{Contract: "c", Key: []byte("k"), Found: true, Version: 2}}}
	stepEnc, err := plain.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	withSteps := &wasm.Result{Status: wasm.StatusOK, Output: []byte("y"), Steps: []wasm.Step{
		{CodeHash: sha256.Sum256([]byte("a")), Fn: "f", InputHash: sha256.Sum256([]byte("in")), Result: stepEnc},
		{CodeHash: sha256.Sum256([]byte("b")), Fn: "g", InputHash: sha256.Sum256([]byte("x")), Hit: true},
	}}
	enc, err := withSteps.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back wasm.Result
	if err := back.UnmarshalBinary(enc); err != nil || !back.Equal(withSteps) || len(back.Steps) != 2 || !back.Steps[1].Hit {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	// Without context or steps: no trailer at all.
	noTrailer, _ := (&wasm.Result{Status: wasm.StatusOK, Output: []byte("y")}).MarshalBinary()
	if !bytes.HasPrefix(enc, noTrailer) || len(enc) == len(noTrailer) {
		t.Fatal("the trailer does not follow the original encoding")
	}
	notMemo := &wasm.Result{Status: wasm.StatusOK, WriteSet: []wasm.Write{{Contract: "c", Key: []byte("k"), Value: []byte("v")}}}
	notMemoEnc, _ := notMemo.MarshalBinary()
	overlayRead := &wasm.Result{Status: wasm.StatusOK, ReadSet: []wasm.Read{{Contract: "c", Key: []byte("k"), Found: true}}}
	overlayEnc, _ := overlayRead.MarshalBinary()
	step := func(hit bool, res []byte) []byte {
		b := append([]byte{}, noTrailer...)
		b = append(b, 0, 0, 0, 0, 1)
		b = append(b, make([]byte, 32)...)
		b = append(b, 0, 0, 0, 1, 'f')
		b = append(b, make([]byte, 32)...)
		if hit {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = append(b, byte(len(res)>>24), byte(len(res)>>16), byte(len(res)>>8), byte(len(res)))
		return append(b, res...)
	}
	if err := back.UnmarshalBinary(step(false, stepEnc)); err != nil {
		t.Fatalf("hand-built good trailer refused: %v", err)
	}
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"empty trailer", append(append([]byte{}, noTrailer...), 0, 0, 0, 0, 0)},
		{"bad context byte", append(append([]byte{}, noTrailer...), 2, 0, 0, 0, 0)},
		{"hit with a result", step(true, stepEnc)},
		{"step result with writes", step(false, notMemoEnc)},
		{"step result read an earlier step's write", step(false, overlayEnc)},
		{"step result not a result", step(false, []byte("junk"))},
		{"truncated step", step(false, stepEnc)[:len(noTrailer)+20]},
	} {
		var x wasm.Result
		if err := x.UnmarshalBinary(tt.in); vmerr.KindOf(err) != vmerr.Decode {
			t.Errorf("%s: err = %v, want kind decode", tt.name, err)
		}
	}
	big := &wasm.Result{Status: wasm.StatusOK, Output: make([]byte, wasm.MaxStepResult)}
	bigEnc, _ := big.MarshalBinary()
	if err := back.UnmarshalBinary(step(false, bigEnc)); vmerr.KindOf(err) != vmerr.Decode {
		t.Errorf("oversized step result: %v", err)
	}
	if _, err := (&wasm.Result{Steps: []wasm.Step{{Hit: true, Result: stepEnc}}}).MarshalBinary(); err == nil {
		t.Error("a hit with a result encoded")
	}
}
