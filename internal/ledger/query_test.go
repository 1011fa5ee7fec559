package ledger_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sync"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestQueryProofs checks that /account answers with proofs verify with
// state.VerifyLocation against the app hash FinalizeBlock returned for the
// queried height (the hash CometBFT puts in the header of height+1), for
// present and absent accounts, at the latest and at older heights, and
// that a tampered answer does not verify.
func TestQueryProofs(t *testing.T) {
	n := newNode(t, testGenesis(t, 3, 1000))
	k0, k1 := key(t, 0), key(t, 1)
	absent := key(t, 77).Address()
	for h := uint64(0); h < 4; h++ {
		n.block(sign(t, k0, h, 2, transfer(k1.Address(), 10)))
	}
	tests := []struct {
		name      string
		height    int64
		addr      []byte
		wantH     int64
		wantValue state.Account
		wantEmpty bool
	}{
		{"latest, present", 0, addrBytes(k1.Address()), 4, state.Account{Balance: 1040}, false},
		{"old height, present", 2, addrBytes(k1.Address()), 2, state.Account{Balance: 1020}, false},
		{"first height, sender", 1, addrBytes(k0.Address()), 1, state.Account{Balance: 988, Nonce: 1}, false},
		{"latest, absent", 0, addrBytes(absent), 4, state.Account{}, true},
		{"old height, absent", 3, addrBytes(absent), 3, state.Account{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := n.app.Query(ctx, &abcitypes.QueryRequest{Path: ledger.PathAccount, Data: tt.addr, Height: tt.height, Prove: true})
			if err != nil || q.Code != 0 {
				t.Fatalf("query: %v %d %s", err, q.GetCode(), q.GetLog())
			}
			if q.Height != tt.wantH {
				t.Fatalf("height %d, want %d", q.Height, tt.wantH)
			}
			if (len(q.Value) == 0) != tt.wantEmpty {
				t.Fatalf("value %X, want empty=%v", q.Value, tt.wantEmpty)
			}
			if got, _ := state.DecodeAccount(q.Value); got != tt.wantValue {
				t.Fatalf("account %+v, want %+v", got, tt.wantValue)
			}
			if len(q.ProofOps.GetOps()) != 1 || q.ProofOps.Ops[0].Type != ledger.ProofOpType || !bytes.Equal(q.ProofOps.Ops[0].Key, q.Key) {
				t.Fatalf("proof ops %+v", q.ProofOps)
			}
			loc := location(q, n.hashes[q.Height])
			if err := state.VerifyLocation(loc); err != nil {
				t.Fatalf("proof does not verify: %v", err)
			}
			// The same proof against another height's hash, or with a
			// forged value, must fail.
			other := location(q, n.hashes[q.Height-1])
			if err := state.VerifyLocation(other); err == nil {
				t.Fatal("proof verified against the wrong app hash")
			}
			forged := location(q, n.hashes[q.Height])
			forged.Value = "00000000000f424000000000000000ff"
			if err := state.VerifyLocation(forged); err == nil {
				t.Fatal("forged value verified")
			}
		})
	}
}

func TestQueryOther(t *testing.T) {
	n := newNode(t, testGenesis(t, 2, 1000))
	if q, _ := n.app.Query(ctx, &abcitypes.QueryRequest{Path: ledger.PathSupply}); vmerr.Kind(q.Code) != vmerr.Unavailable {
		t.Fatalf("query before first commit: %d %s", q.Code, q.Log)
	}
	n.block()
	k := key(t, 0).Address()
	tests := []struct {
		name    string
		in      *abcitypes.QueryRequest
		want    string
		wantErr vmerr.Kind
	}{
		{"supply", &abcitypes.QueryRequest{Path: ledger.PathSupply}, `{"total":"1000000000002000"}`, vmerr.OK},
		{"params", &abcitypes.QueryRequest{Path: ledger.PathParams}, `{"min_fee":"2","faucet_enabled":true,"faucet_per_window":"1000","faucet_window":10,"deploy_fee_per_kib":"100","id_create_fee":"1000","market":{"tiers":[5000,2500,1250,625,312,156,78,39,20,10,5,1,1,1,1,1],"commit_window":5,"reveal_window":5,"max_replicas":16,"max_deadline":1000,"max_gas_limit":"10000000000","max_input_size":1048576,"unrevealed_penalty":"100","memo_fee":"1"}}`, vmerr.OK},
		{"unknown path", &abcitypes.QueryRequest{Path: "/nope"}, "", vmerr.NotFound},
		{"short address", &abcitypes.QueryRequest{Path: ledger.PathAccount, Data: []byte{1}}, "", vmerr.Invalid},
		{"future height", &abcitypes.QueryRequest{Path: ledger.PathAccount, Data: k[:], Height: 9}, "", vmerr.NotFound},
		{"negative height", &abcitypes.QueryRequest{Path: ledger.PathAccount, Data: k[:], Height: -1}, "", vmerr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := n.app.Query(ctx, tt.in)
			if err != nil {
				t.Fatalf("Go error: %v", err)
			}
			if vmerr.Kind(q.Code) != tt.wantErr {
				t.Fatalf("code %v (%s), want %v", vmerr.Kind(q.Code), q.Log, tt.wantErr)
			}
			if tt.wantErr != vmerr.OK {
				if q.Log == "" || q.Codespace != ledger.Codespace {
					t.Fatalf("error without log/codespace: %+v", q)
				}
				return
			}
			if string(q.Value) != tt.want {
				t.Fatalf("value %s, want %s", q.Value, tt.want)
			}
		})
	}
	var p ledger.Params
	q, _ := n.app.Query(ctx, &abcitypes.QueryRequest{Path: ledger.PathParams})
	if err := json.Unmarshal(q.Value, &p); err != nil || !reflect.DeepEqual(p, n.app.Params()) {
		t.Fatalf("params %+v (%v), want %+v", p, err, n.app.Params())
	}
}

// TestConcurrentReads runs CheckTx and Query while blocks are finalized
// and committed (run with -race).
func TestConcurrentReads(t *testing.T) {
	n := newNode(t, testGenesis(t, 2, 1_000_000))
	n.block()
	k0, k1 := key(t, 0), key(t, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := uint64(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			for _, h := range []int64{0, 1} {
				q, _ := n.app.Query(ctx, &abcitypes.QueryRequest{Path: ledger.PathAccount, Data: addrBytes(k1.Address()), Height: h, Prove: true})
				if q.Code != 0 {
					t.Errorf("query at %d: %s", h, q.Log)
					return
				}
			}
			_, _ = n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: sign(t, k0, 100+i, 2, transfer(k1.Address(), 1))})
		}
	}()
	for h := uint64(0); h < 20; h++ {
		n.block(sign(t, k0, h, 2, transfer(k1.Address(), 1)))
	}
	close(stop)
	wg.Wait()
	n.mustInvariants()
	if got := n.account(k1.Address()); got.Balance != 1_000_020 {
		t.Fatalf("balance %d", got.Balance)
	}
}
