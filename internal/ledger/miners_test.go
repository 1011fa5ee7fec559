package ledger_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func minerReg(kind string, capacity uint32, endpoint string, minGas uint64, version string, active bool) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_MinerRegister{MinerRegister: &txpb.MinerRegister{Kind: kind, Capacity: capacity,
		Endpoint: endpoint, MinGas: minGas, SoftwareVersion: version, Active: active}}}
}

// miner reads addr's record through /miner with a proof, and checks the
// proof against the latest app hash.
func (n *node) miner(addr crypto.Address) *statepb.Miner {
	n.t.Helper()
	q := n.queryProve(ledger.PathMiner, string(addr[:]), true)
	if q.Code != 0 {
		n.t.Fatalf("miner %s: %s", addr, q.Log)
	}
	if !bytes.Equal(q.Key, state.MinerKey(addr)) {
		n.t.Fatalf("miner key %x", q.Key)
	}
	if err := state.VerifyLocation(location(q, n.app.AppHash())); err != nil {
		n.t.Fatalf("miner proof: %v", err)
	}
	m, err := state.DecodeMiner(q.Value)
	if err != nil {
		n.t.Fatal(err)
	}
	return m
}

// miners lists through /miners and verifies each item's proof.
func (n *node) miners(q apitype.MinerQuery) ([]*statepb.Miner, string) {
	n.t.Helper()
	data, _ := json.Marshal(q)
	res := n.queryProve(ledger.PathMiners, string(data), true)
	if res.Code != 0 {
		n.t.Fatalf("miners %+v: %s", q, res.Log)
	}
	items, err := state.DecodeList(res.Value)
	if err != nil {
		n.t.Fatal(err)
	}
	if len(items) > 0 && (res.ProofOps == nil || len(res.ProofOps.Ops) != len(items)) {
		n.t.Fatalf("%d items, proof ops %v", len(items), res.ProofOps)
	}
	var out []*statepb.Miner
	for i, raw := range items {
		m, err := state.DecodeMiner(raw)
		if err != nil {
			n.t.Fatal(err)
		}
		op := res.ProofOps.Ops[i]
		addr, _ := crypto.AddressFromBytes(m.Address)
		loc := &apitype.Location{ChainID: chainID, Height: res.Height, Namespace: state.NamespaceMiners,
			Key: hex.EncodeToString(op.Key), Value: hex.EncodeToString(raw), AppHash: hex.EncodeToString(n.app.AppHash()),
			Proof: hex.EncodeToString(op.Data)}
		if !bytes.Equal(op.Key, state.MinerKey(addr)) || state.VerifyLocation(loc) != nil {
			n.t.Fatalf("item %d: proof of %x does not verify", i, op.Key)
		}
		out = append(out, m)
	}
	return out, res.Info
}

func TestMinerRegister(t *testing.T) {
	g := contractGenesis(t)
	n := newNode(t, g)
	alice, bob := &signer{k: key(t, 0), g: g}, &signer{k: key(t, 1), g: g}
	n.block()
	fees := n.account(ledger.FeeCollector()).Balance
	bal := n.account(alice.k.Address()).Balance
	r := n.mustOK(alice, minerReg("cpu", 4, "https://alice.example:8443/ws", 50, "vm/0.1.0", true))
	registered := n.height
	if got := n.account(ledger.FeeCollector()).Balance - fees; got != g.Params.MinFee {
		t.Errorf("fee collected %d, want the min fee %d", got, g.Params.MinFee)
	}
	if got := bal - n.account(alice.k.Address()).Balance; got != g.Params.MinFee {
		t.Errorf("registration cost %d, want %d", got, g.Params.MinFee)
	}
	var ev *abcitypes.Event
	for i := range r.Events {
		if r.Events[i].Type == "miner_register" {
			ev = &r.Events[i]
		}
	}
	if ev == nil || len(ev.Attributes) != 6 || ev.Attributes[0].Value != alice.k.Address().String() || ev.Attributes[5].Value != "true" {
		t.Errorf("events %+v", r.Events)
	}
	m := n.miner(alice.k.Address())
	if m.Kind != "cpu" || m.Capacity != 4 || m.Endpoint != "https://alice.example:8443/ws" || m.MinGas != 50 ||
		m.SoftwareVersion != "vm/0.1.0" || !m.Active || m.Registered != registered || m.Updated != registered ||
		m.JobsTaken+m.Agreed+m.Disagreed+m.TimedOut+m.Earned != 0 || !bytes.Equal(m.Address, addrBytes(alice.k.Address())) {
		t.Errorf("record %+v", m)
	}
	// An update replaces the attributes, keeps `registered`.
	n.mustOK(alice, minerReg("gpu", 16, "", 0, "", false))
	m = n.miner(alice.k.Address())
	if m.Kind != "gpu" || m.Capacity != 16 || m.Endpoint != "" || m.Active || m.Registered != registered || m.Updated != n.height {
		t.Errorf("after update %+v", m)
	}
	n.mustOK(bob, minerReg("browser", 1, "wss://bob.example", 7, "", true))
	// Two registrations in one block, by two signers, both land.
	carol, dave := &signer{k: key(t, 2), g: g}, &signer{k: key(t, 3), g: g}
	res := n.block(carol.tx(t, minerReg("relay", 2, "", 1, "", true)), dave.tx(t, minerReg("cpu", 3, "", 1, "", true)))
	for i, r := range res.TxResults {
		if r.Code != 0 {
			t.Fatalf("tx %d: %s", i, r.Log)
		}
	}
	all, next := n.miners(apitype.MinerQuery{})
	if len(all) != 4 || next != "" {
		t.Fatalf("list: %d miners, next %q", len(all), next)
	}
	for i := 1; i < len(all); i++ {
		if bytes.Compare(all[i-1].Address, all[i].Address) >= 0 {
			t.Errorf("list not in address order")
		}
	}
	cpus, _ := n.miners(apitype.MinerQuery{Kind: "cpu"})
	if len(cpus) != 1 || !bytes.Equal(cpus[0].Address, addrBytes(dave.k.Address())) {
		t.Errorf("cpu miners: %+v", cpus)
	}
	page, next := n.miners(apitype.MinerQuery{Limit: 3})
	if len(page) != 3 || next == "" {
		t.Fatalf("page: %d, next %q", len(page), next)
	}
	rest, next2 := n.miners(apitype.MinerQuery{Limit: 3, After: next})
	if len(rest) != 1 || next2 != "" || !bytes.Equal(rest[0].Address, all[3].Address) {
		t.Errorf("second page: %+v next %q", rest, next2)
	}
	// Query refusals.
	for _, tc := range []struct {
		path, data string
		want       vmerr.Kind
	}{
		{ledger.PathMiner, "short", vmerr.Invalid},
		{ledger.PathMiner, string(make([]byte, 20)), vmerr.NotFound},
		{ledger.PathMiners, "{not json", vmerr.Invalid},
		{ledger.PathMiners, `{"kind":"tpu"}`, vmerr.Invalid},
		{ledger.PathMiners, `{"after":"zz"}`, vmerr.Invalid},
		{ledger.PathMiners, `{"limit":1000}`, vmerr.Invalid},
	} {
		if q := n.queryProve(tc.path, tc.data, true); vmerr.Kind(q.Code) != tc.want || q.Log == "" {
			t.Errorf("%s %q: code %d %s, want %v", tc.path, tc.data, q.Code, q.Log, tc.want)
		}
	}
	// The record at the registration height is the first one.
	q, err := n.app.Query(ctx, &abcitypes.QueryRequest{Path: ledger.PathMiner, Data: addrBytes(alice.k.Address()), Height: registered})
	if err != nil || q.Code != 0 {
		t.Fatalf("old height: %v %s", err, q.GetLog())
	}
	if old, _ := state.DecodeMiner(q.Value); old.Kind != "cpu" {
		t.Errorf("at height %d: %+v", registered, old)
	}
	n.mustInvariants()
}

// TestMinerBadInput sends each bad registration in its own block: the
// result names the problem and nothing changes (app hash, balances).
func TestMinerBadInput(t *testing.T) {
	g := contractGenesis(t)
	n := newNode(t, g)
	alice := &signer{k: key(t, 0), g: g}
	n.mustOK(alice, minerReg("cpu", 4, "", 50, "", true))
	poor, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	good := minerReg("cpu", 4, "", 50, "", true)
	tests := []struct {
		name    string
		raw     func() []byte
		want    vmerr.Kind
		wantLog string
	}{
		{"unknown kind", func() []byte { return alice.tx(t, minerReg("quantum", 4, "", 50, "", true)) }, vmerr.Invalid, "quantum"},
		{"zero capacity", func() []byte { return alice.tx(t, minerReg("cpu", 0, "", 50, "", true)) }, vmerr.Invalid, "capacity"},
		{"capacity 1025", func() []byte { return alice.tx(t, minerReg("cpu", 1025, "", 50, "", true)) }, vmerr.Invalid, "capacity"},
		{"min gas overflow", func() []byte { return alice.tx(t, minerReg("cpu", 4, "", tx.MaxAmount+1, "", true)) }, vmerr.Overflow, "min_gas"},
		{"file endpoint", func() []byte { return alice.tx(t, minerReg("cpu", 4, "file:///etc/passwd", 50, "", true)) }, vmerr.Invalid, "scheme"},
		{"endpoint without host", func() []byte { return alice.tx(t, minerReg("cpu", 4, "http://", 50, "", true)) }, vmerr.Invalid, "host"},
		{"endpoint with credentials", func() []byte { return alice.tx(t, minerReg("cpu", 4, "https://a:b@x.example", 50, "", true)) }, vmerr.Invalid, "credentials"},
		{"endpoint too long", func() []byte {
			return alice.tx(t, minerReg("cpu", 4, "https://x.example/"+strings.Repeat("a", 300), 50, "", true))
		}, vmerr.TooLarge, "endpoint"},
		{"version too long", func() []byte { return alice.tx(t, minerReg("cpu", 4, "", 50, strings.Repeat("1", 65), true)) }, vmerr.TooLarge, "software version"},
		{"version not printable", func() []byte { return alice.tx(t, minerReg("cpu", 4, "", 50, "v1\tbeta", true)) }, vmerr.Invalid, "printable"},
		{"fee below the minimum", func() []byte { return sign(t, alice.k, alice.nonce, g.Params.MinFee-1, good) }, vmerr.Invalid, "fee"},
		{"no funds for the fee", func() []byte { return sign(t, poor, 0, g.Params.MinFee, good) }, vmerr.InsufficientFunds, "GAS"},
		{"stale nonce", func() []byte { return sign(t, alice.k, alice.nonce-1, g.Params.MinFee, good) }, vmerr.BadNonce, "nonce"},
		{"invalid second message", func() []byte {
			return sign(t, alice.k, alice.nonce, g.Params.MinFee, minerReg("gpu", 2, "", 1, "", true), minerReg("gpu", 0, "", 1, "", true))
		}, vmerr.Invalid, "message 1"},
		{"update then an unaffordable transfer", func() []byte {
			return sign(t, alice.k, alice.nonce, g.Params.MinFee, minerReg("gpu", 2, "", 1, "", false), transfer(poor.Address(), tx.MaxAmount))
		}, vmerr.InsufficientFunds, "message 1"},
	}
	watch := []crypto.Address{alice.k.Address(), poor.Address(), ledger.FeeCollector()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n.t = t
			before := n.app.AppHash()
			var balances []state.Account
			for _, a := range watch {
				balances = append(balances, n.account(a))
			}
			r := n.block(tt.raw()).TxResults[0]
			if vmerr.Kind(r.Code) != tt.want {
				t.Errorf("code = %v (%s), want %v", vmerr.Kind(r.Code), r.Log, tt.want)
			}
			if !strings.Contains(r.Log, tt.wantLog) {
				t.Errorf("log %q does not mention %q", r.Log, tt.wantLog)
			}
			if got := n.app.AppHash(); !bytes.Equal(got, before) {
				t.Errorf("app hash changed")
			}
			for i, a := range watch {
				if got := n.account(a); got != balances[i] {
					t.Errorf("account %s changed: %+v -> %+v", a, balances[i], got)
				}
			}
			if m := n.miner(alice.k.Address()); m.Kind != "cpu" || m.Capacity != 4 {
				t.Errorf("record changed: %+v", m)
			}
		})
	}
	n.t = t
	// CheckTx refuses a bad registration before it reaches a block.
	chk, _ := n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: alice.tx(t, minerReg("cpu", 0, "", 1, "", true))})
	if vmerr.Kind(chk.Code) != vmerr.Invalid || !strings.Contains(chk.Log, "capacity") {
		t.Errorf("CheckTx: %d %s", chk.Code, chk.Log)
	}
	n.mustInvariants()
}

// modelMiner is what the randomized test expects of a record.
type modelMiner struct {
	kind                string
	capacity            uint32
	active              bool
	registered, updated int64
}

// TestMinersRandomized applies the same random registrations (valid and
// invalid, several per block, updates and leaves) to two independent
// ledgers: every block gives both the same app hash and results, every
// record matches a model on both, and supply is conserved.
func TestMinersRandomized(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { minersRun(t, seed) })
	}
}

func minersRun(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 5))
	g := contractGenesis(t)
	a, b := newNode(t, g), newNode(t, g)
	keys := []crypto.PrivKey{key(t, 0), key(t, 1), key(t, 2), key(t, 3)}
	nonces := make([]uint64, len(keys))
	model := map[crypto.Address]*modelMiner{}
	kinds := append(tx.MinerKinds(), "tpu")
	failed := 0
	for block := range 30 {
		var txs [][]byte
		var signers []int
		var msgs []*txpb.MinerRegister
		for _, s := range r.Perm(len(keys))[:1+r.IntN(len(keys))] {
			capacity := uint32(r.IntN(1100))
			m := &txpb.MinerRegister{Kind: kinds[r.IntN(len(kinds))], Capacity: capacity, MinGas: r.Uint64N(1 << 63),
				Active: r.IntN(4) > 0, SoftwareVersion: fmt.Sprintf("v%d", r.IntN(9))}
			if r.IntN(3) == 0 {
				m.Endpoint = []string{"https://m.example", "ws://10.0.0.1:9", "gopher://x", "https://a@b"}[r.IntN(4)]
			}
			msg := &txpb.Msg{Sum: &txpb.Msg_MinerRegister{MinerRegister: m}}
			txs = append(txs, sign(t, keys[s], nonces[s], g.Params.MinFee, msg))
			signers, msgs = append(signers, s), append(msgs, m)
		}
		ra, rb := a.block(txs...), b.block(txs...)
		if !bytes.Equal(ra.AppHash, rb.AppHash) {
			t.Fatalf("block %d: app hashes differ", block)
		}
		for i, res := range ra.TxResults {
			if res.Code != rb.TxResults[i].Code || res.Log != rb.TxResults[i].Log {
				t.Fatalf("block %d tx %d: results differ: %s / %s", block, i, res.Log, rb.TxResults[i].Log)
			}
			valid := tx.ValidateMinerRegister(msgs[i]) == nil
			if (res.Code == 0) != valid {
				t.Fatalf("block %d tx %d: code %d (%s) for a message that is valid=%v: %+v", block, i, res.Code, res.Log, valid, msgs[i])
			}
			if res.Code != 0 {
				failed++
				continue
			}
			nonces[signers[i]]++
			addr := keys[signers[i]].Address()
			mm := model[addr]
			if mm == nil {
				mm = &modelMiner{registered: a.height}
				model[addr] = mm
			}
			mm.kind, mm.capacity, mm.active, mm.updated = msgs[i].Kind, msgs[i].Capacity, msgs[i].Active, a.height
		}
		a.mustInvariants()
		for _, n := range []*node{a, b} {
			listed, _ := n.miners(apitype.MinerQuery{})
			if len(listed) != len(model) {
				t.Fatalf("block %d: %d listed, model has %d", block, len(listed), len(model))
			}
			for addr, mm := range model {
				got := n.miner(addr)
				if got.Kind != mm.kind || got.Capacity != mm.capacity || got.Active != mm.active ||
					got.Registered != mm.registered || got.Updated != mm.updated {
					t.Fatalf("block %d: %s = %+v, model %+v", block, addr, got, mm)
				}
			}
		}
	}
	if len(model) < 3 || failed == 0 {
		t.Fatalf("the run exercised too little: %d miners, %d refused", len(model), failed)
	}
}

// FuzzMiners applies arbitrary registrations through FinalizeBlock: no
// Go error, a refused tx changes nothing, an accepted one is stored as
// sent, supply is conserved and queries never fail internally.
func FuzzMiners(f *testing.F) {
	f.Add("cpu", uint32(4), "https://m.example", uint64(50), "v1", true, uint8(0))
	f.Add("gpu", uint32(0), "ftp://x", uint64(1<<63), "\x00", false, uint8(1))
	f.Add("relay", uint32(1024), "wss://[::1]:9/%zz", uint64(0), "", true, uint8(2))
	g := contractGenesis(f)
	n := newNode(f, g)
	n.block()
	keys := []crypto.PrivKey{key(f, 0), key(f, 1)}
	nonces := make([]uint64, len(keys))
	f.Fuzz(func(t *testing.T, kind string, capacity uint32, endpoint string, minGas uint64, version string, active bool, who uint8) {
		n.t = t
		s := int(who) % len(keys)
		m := &txpb.MinerRegister{Kind: kind, Capacity: capacity, Endpoint: endpoint, MinGas: minGas, SoftwareVersion: version, Active: active}
		before := n.app.AppHash()
		raw, err := tx.Sign(&txpb.TxBody{ChainId: chainID, Nonce: nonces[s], Fee: g.Params.MinFee,
			Msgs: []*txpb.Msg{{Sum: &txpb.Msg_MinerRegister{MinerRegister: m}}}}, keys[s])
		if err != nil {
			t.Skip("not encodable (invalid UTF-8)")
		}
		resp, err := n.app.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: n.height + 1, Txs: [][]byte{raw}})
		if err != nil {
			t.Fatalf("Go error: %v", err)
		}
		n.commit(resp)
		res := resp.TxResults[0]
		switch {
		case res.Code == 0:
			nonces[s]++
			got := n.miner(keys[s].Address())
			if got.Kind != kind || got.Capacity != capacity || got.Endpoint != endpoint || got.MinGas != minGas ||
				got.SoftwareVersion != version || got.Active != active || got.Updated != n.height {
				t.Fatalf("stored %+v for %+v", got, m)
			}
		case vmerr.Kind(res.Code) == vmerr.Internal:
			t.Fatalf("internal error: %s", res.Log)
		case !bytes.Equal(resp.AppHash, before):
			t.Fatalf("failed tx changed the app hash: %s", res.Log)
		}
		n.mustInvariants()
		data, _ := json.Marshal(apitype.MinerQuery{Kind: kind})
		if q := n.queryProve(ledger.PathMiners, string(data), true); vmerr.Kind(q.Code) == vmerr.Internal {
			t.Fatalf("list failed internally: %s", q.Log)
		}
	})
}

// TestMinersSurviveRestart: records are in the committed tree; a reopened
// ledger serves them with the same app hash and keeps `registered` on
// the next update.
func TestMinersSurviveRestart(t *testing.T) {
	g := contractGenesis(t)
	n := newNode(t, g)
	alice := &signer{k: key(t, 0), g: g}
	n.mustOK(alice, minerReg("cpu", 4, "", 50, "", true))
	registered := n.height
	hash := n.app.AppHash()
	if err := n.app.Close(); err != nil {
		t.Fatal(err)
	}
	n.app = openApp(t, n.dir)
	t.Cleanup(func() { _ = n.app.Close() })
	if !bytes.Equal(n.app.AppHash(), hash) {
		t.Fatalf("app hash after reopen differs")
	}
	if m := n.miner(alice.k.Address()); m.Kind != "cpu" || m.Registered != registered {
		t.Fatalf("after reopen: %+v", m)
	}
	n.mustOK(alice, minerReg("relay", 2, "", 1, "", true))
	if m := n.miner(alice.k.Address()); m.Kind != "relay" || m.Registered != registered || m.Updated != n.height {
		t.Fatalf("update after reopen: %+v", m)
	}
}
