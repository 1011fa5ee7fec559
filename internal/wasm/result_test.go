package wasm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

func sampleResult() *wasm.Result {
	return &wasm.Result{
		Status: wasm.StatusOK, Output: []byte("out"), GasUsed: 1234,
		ReadSet: []wasm.Read{
			{Contract: "b", Key: []byte("k"), Found: true, Version: 3},
			{Contract: "a", Key: []byte("z")},
		},
		WriteSet: []wasm.Write{
			{Contract: "a", Key: []byte("y"), Delete: true},
			{Contract: "a", Key: []byte("x"), Value: []byte("v")},
		},
		Logs:   []string{"one", "two"},
		Events: []wasm.Event{{Contract: "a", Topic: "t", Data: []byte{1}}},
	}
}

func TestResultEncoding(t *testing.T) {
	r := sampleResult()
	enc, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// Set order does not matter: a shuffled copy encodes the same.
	s := sampleResult()
	s.ReadSet[0], s.ReadSet[1] = s.ReadSet[1], s.ReadSet[0]
	s.WriteSet[0], s.WriteSet[1] = s.WriteSet[1], s.WriteSet[0]
	if enc2, _ := s.MarshalBinary(); !bytes.Equal(enc, enc2) {
		t.Error("encoding depends on set order")
	}
	var back wasm.Result
	if err := back.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(r) {
		t.Errorf("round trip: %+v", back)
	}
	h1, _ := r.Hash()
	r.GasUsed++
	h2, _ := r.Hash()
	if h1 == h2 {
		t.Error("hash ignores gas")
	}

	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"bad magic", append([]byte("XXXX"), enc[4:]...)},
		{"unknown status", append(append([]byte{}, enc[:4]...), append([]byte{99}, enc[5:]...)...)},
		{"truncated", enc[:len(enc)-1]},
		{"trailing", append(append([]byte{}, enc...), 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var x wasm.Result
			if err := x.UnmarshalBinary(tc.in); vmerr.KindOf(err) != vmerr.Decode {
				t.Fatalf("err = %v, want kind decode", err)
			}
		})
	}
	dup := sampleResult()
	dup.WriteSet = append(dup.WriteSet, dup.WriteSet[0])
	if _, err := dup.MarshalBinary(); err == nil {
		t.Error("duplicate write encoded")
	}
}

func TestStatusNames(t *testing.T) {
	for s := wasm.StatusOK; s <= wasm.StatusBadInput; s++ {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back wasm.Status
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%s: round trip %s, %v", s, back, err)
		}
	}
	if _, err := wasm.ParseStatus("fine"); err == nil {
		t.Error("unknown name parsed")
	}
}

// FuzzResultDecode: decoding never panics, and whatever decodes encodes
// back to the same bytes (the encoding is canonical).
func FuzzResultDecode(f *testing.F) {
	enc, _ := sampleResult().MarshalBinary()
	f.Add(enc)
	empty, _ := (&wasm.Result{Status: wasm.StatusTrap}).MarshalBinary()
	f.Add(empty)
	step, _ := (&wasm.Result{Status: wasm.StatusOK, Output: []byte("s")}).MarshalBinary()
	steps, _ := (&wasm.Result{Status: wasm.StatusOK, Context: true, Steps: []wasm.Step{{Fn: "f", Result: step}, {Fn: "g", Hit: true}}}).MarshalBinary()
	f.Add(steps)
	f.Fuzz(func(t *testing.T, data []byte) {
		var r wasm.Result
		if err := r.UnmarshalBinary(data); err != nil {
			return
		}
		again, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded result does not encode: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("not canonical:\n in %x\nout %x", data, again)
		}
	})
}

// FuzzCall sends random input to the real hello contract: every run ends
// with a status (never a Go error or a crash) and is reproducible.
func FuzzCall(f *testing.F) {
	r := shared(f, "compiler")
	m := compileMetered(f, r, example(f, "hello"))
	f.Add([]byte(`{"name":"Ada"}`), uint64(50_000_000))
	f.Add([]byte(`{"name":`), uint64(2_000_000))
	f.Add([]byte{0xff, 0}, uint64(0))
	f.Fuzz(func(t *testing.T, in []byte, gas uint64) {
		gas %= 100_000_000
		req := wasm.Request{Fn: "greet", Input: in, GasLimit: gas}
		a, err := r.Call(context.Background(), m, req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := r.Call(context.Background(), m, req)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Equal(b) {
			t.Fatalf("not reproducible: %s vs %s", a, b)
		}
		if a.GasUsed > gas {
			t.Fatalf("used %d of %d", a.GasUsed, gas)
		}
	})
}
