package system_test

import (
	"testing"

	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/wasm"
)

// FuzzIDChain feeds arbitrary inputs to every function of the contract,
// as the owner, a controller, a stranger and a contract, over a state
// with two IDs and records. Whatever the input: the call ends ok, abort
// or out_of_gas (never a trap or another status); an abort or
// out_of_gas writes and emits nothing; and what an ok call writes,
// applied, still decodes with the rules of internal/idchain.
func FuzzIDChain(f *testing.F) {
	fns := []string{idchain.FnCreate, idchain.FnSet, idchain.FnRemove, idchain.FnRotate, idchain.FnControllers, idchain.FnAttrs}
	owner, ctl, stranger := newAccount(f, 1), newAccount(f, 3), newAccount(f, 4)
	callers := []string{owner.addr, ctl.addr, stranger.addr, "hello", ""}
	seeds := []struct {
		fn, caller uint8
		in         string
		gas        uint32
	}{
		{0, 2, `{"name":"carol","pubkey":"` + stranger.pub + `","attrs":{"a":"b"}}`, 0},
		{0, 3, `{"name":"alice","pubkey":"` + owner.pub + `"}`, 0},
		{1, 1, `{"name":"alice","record":{"key":"k","private":true,"ciphertext":"AAEC","readers":["bob"]}}`, 0},
		{2, 0, `{"name":"alice","key":"email"}`, 0},
		{3, 0, `{"name":"alice","pubkey":"` + stranger.pub + `"}`, 0},
		{4, 0, `{"name":"alice","add":["` + stranger.addr + `"],"remove":["` + ctl.addr + `"]}`, 0},
		{5, 1, `{"name":"alice","set":{"x":"y"},"remove":["site"]}`, 0},
		{0, 0, `{"name":"alice","pubkey":"` + owner.pub + `"}`, 40_000}, // runs out of gas
		{1, 0, `{"name":"alice","record":{"key":"k"}}{`, 0},
	}
	for _, s := range seeds {
		f.Add(s.fn, s.caller, []byte(s.in), s.gas)
	}
	base := &wasm.MemState{}
	for _, s := range []struct{ fn, caller, in string }{
		{"create", owner.addr, `{"name":"alice","pubkey":"` + owner.pub + `","attrs":{"site":"x"}}`},
		{"create", ctl.addr, `{"name":"bob","pubkey":"` + ctl.pub + `"}`},
		{"controllers", owner.addr, `{"name":"alice","add":["` + ctl.addr + `"]}`},
		{"set", owner.addr, `{"name":"alice","record":{"key":"email","value":"a@example.org"}}`},
	} {
		res := shared.call(f, base, s.fn, s.caller, 1, []byte(s.in))
		if res.Status != wasm.StatusOK {
			f.Fatalf("setup %s: %s %s", s.fn, res.Status, res.Error)
		}
		base.Apply(idchain.Contract, res.WriteSet, 1)
	}
	start, err := base.Range(nil, nil, 100)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, fn, caller uint8, in []byte, gas uint32) {
		st := &wasm.MemState{}
		for _, e := range start {
			st.Set(e.Key, e.Value, e.Version)
		}
		limit := uint64(gasLimit)
		if gas != 0 {
			limit = uint64(gas)
		}
		name := fns[int(fn)%len(fns)]
		var res *wasm.Result
		for _, em := range shared.engines {
			r, err := em.rt.Call(t.Context(), em.mod, wasm.Request{
				Fn: name, Input: in, GasLimit: limit, Caller: callers[int(caller)%len(callers)],
				Contract: idchain.Contract, Height: 2, State: st,
			})
			if err != nil {
				t.Fatalf("host error: %v", err)
			}
			if res != nil && !res.Equal(r) {
				t.Fatalf("engines disagree:\n%s\n%s", res, r)
			}
			res = r
		}
		switch res.Status {
		case wasm.StatusOK:
			st.Apply(idchain.Contract, res.WriteSet, 2)
			checkStored(t, st)
		case wasm.StatusAbort, wasm.StatusOutOfGas:
			if len(res.WriteSet) != 0 || len(res.Events) != 0 || len(res.Output) != 0 {
				t.Fatalf("%s wrote: %s", res.Status, res)
			}
		default:
			t.Fatalf("%s(%q): status %s %q", name, in, res.Status, res.Error)
		}
	})
}
