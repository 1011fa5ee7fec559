package system_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/wasm"
)

// TestCreateFromContract calls create through another contract (the
// runtime names the calling contract as caller): creating is refused,
// while asking for an existing ID answers it.
func TestCreateFromContract(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go contract")
	}
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "proxy.wasm")
	if err := examples.BuildPackage(ctx, filepath.Join("testdata", "proxy"), out); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	em := shared.engines[len(shared.engines)-1] // the interpreter: compiles fastest
	metered, err := em.rt.Meter(bin)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := em.rt.Compile(ctx, metered)
	if err != nil {
		t.Fatal(err)
	}

	alice, bob := newAccount(t, 1), newAccount(t, 3)
	st := &wasm.MemState{}
	res := shared.call(t, st, idchain.FnCreate, alice.addr, 1, []byte(`{"name":"alice","pubkey":"`+alice.pub+`"}`))
	if res.Status != wasm.StatusOK {
		t.Fatalf("create alice: %s", res)
	}
	st.Apply(idchain.Contract, res.WriteSet, 1)
	contracts := wasm.MemResolver{idchain.Contract: {Module: em.mod, State: st}}

	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{"create refused", `{"name":"bob","pubkey":"` + bob.pub + `"}`, "",
			`call failed: status abort: create bob: only an account can create an ID (caller "proxy" is not an account address)`},
		{"existing answered", `{"name":"alice","pubkey":"` + bob.pub + `"}`, `{"created":false,"id":{"id":"alice"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := em.rt.Call(ctx, proxy, wasm.Request{
				Fn: "forward", Input: []byte(idchain.Contract + " " + idchain.FnCreate + "\n" + tt.in),
				GasLimit: gasLimit, Caller: bob.addr, Contract: "proxy", Height: 2, Contracts: contracts,
			})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" {
				if res.Status != wasm.StatusAbort || res.Error != tt.wantErr || len(res.WriteSet) != 0 {
					t.Fatalf("got %s, want abort %q", res, tt.wantErr)
				}
				return
			}
			if res.Status != wasm.StatusOK || !strings.HasPrefix(string(res.Output), tt.want) || len(res.WriteSet) != 0 {
				t.Fatalf("got %s %s, want ok %s…", res, res.Output, tt.want)
			}
		})
	}
}
