package ledger_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// module is a small valid contract exporting fns; seed varies its bytes
// (and so its CID).
func module(seed int32, fns ...string) []byte {
	m := wasmtest.New()
	g := m.Global(wasmtest.I32, false, int64(seed))
	f := m.Func(nil, nil, nil, wasmtest.Code{}.GlobalGet(g).Drop())
	for _, fn := range fns {
		m.Export(fn, f)
	}
	return m.Bytes()
}

type deployOpt func(*txpb.Deploy)

func withInterface(s string) deployOpt { return func(d *txpb.Deploy) { d.Interface = []byte(s) } }
func withTags(t ...string) deployOpt   { return func(d *txpb.Deploy) { d.Tags = t } }
func withDesc(s string) deployOpt      { return func(d *txpb.Deploy) { d.Description = s } }
func withManifest(s string) deployOpt {
	return func(d *txpb.Deploy) { d.Code, d.Manifest = nil, []byte(s) }
}

func deploy(name, version string, code []byte, opts ...deployOpt) *txpb.Msg {
	d := &txpb.Deploy{Name: name, Version: version, Code: code}
	for _, o := range opts {
		o(d)
	}
	return &txpb.Msg{Sum: &txpb.Msg_Deploy{Deploy: d}}
}

func yank(name, version string, undo bool) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Yank{Yank: &txpb.Yank{Name: name, Version: version, Undo: undo}}}
}

func owners(name string, add, remove []crypto.Address, newOwner *crypto.Address) *txpb.Msg {
	o := &txpb.ContractOwners{Name: name}
	for _, a := range add {
		o.Add = append(o.Add, bytes.Clone(a[:]))
	}
	for _, a := range remove {
		o.Remove = append(o.Remove, bytes.Clone(a[:]))
	}
	if newOwner != nil {
		o.NewOwner = bytes.Clone(newOwner[:])
	}
	return &txpb.Msg{Sum: &txpb.Msg_ContractOwners{ContractOwners: o}}
}

// fee is the fee a body of msgs must pay under g.
func fee(t testing.TB, g ledger.Genesis, msgs ...*txpb.Msg) uint64 {
	t.Helper()
	f, err := g.Params.RequiredFee(&txpb.TxBody{Msgs: msgs})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// signer tracks one key's nonce across blocks.
type signer struct {
	k     crypto.PrivKey
	nonce uint64
	g     ledger.Genesis
}

func (s *signer) tx(t testing.TB, msgs ...*txpb.Msg) []byte {
	t.Helper()
	b := sign(t, s.k, s.nonce, fee(t, s.g, msgs...), msgs...)
	return b
}

// mustOK runs tx in its own block and fails the test unless it succeeds.
func (n *node) mustOK(s *signer, msgs ...*txpb.Msg) *abcitypes.ExecTxResult {
	n.t.Helper()
	r := n.block(s.tx(n.t, msgs...)).TxResults[0]
	if r.Code != 0 {
		n.t.Fatalf("tx failed: %s", r.Log)
	}
	s.nonce++
	return r
}

func (n *node) query(path string, data string) *abcitypes.QueryResponse {
	n.t.Helper()
	return n.queryProve(path, data, true)
}

func (n *node) queryProve(path string, data string, prove bool) *abcitypes.QueryResponse {
	n.t.Helper()
	q, err := n.app.Query(ctx, &abcitypes.QueryRequest{Path: path, Data: []byte(data), Prove: prove})
	if err != nil {
		n.t.Fatal(err)
	}
	return q
}

// resolve answers "name@range" through the query path: the version or
// the error kind.
func (n *node) resolve(ref string) (string, vmerr.Kind) {
	n.t.Helper()
	q := n.queryProve(ledger.PathVersion, ref, false)
	if q.Code != 0 {
		return "", vmerr.Kind(q.Code)
	}
	v, err := state.DecodeVersion(q.Value)
	if err != nil {
		n.t.Fatal(err)
	}
	return v.Version, 0
}

func (n *node) contract(name string) *statepb.Contract {
	n.t.Helper()
	q := n.query(ledger.PathContract, name)
	if q.Code != 0 {
		n.t.Fatalf("contract %s: %s", name, q.Log)
	}
	c, err := state.DecodeContract(q.Value)
	if err != nil {
		n.t.Fatal(err)
	}
	return c
}

func contractGenesis(t testing.TB) ledger.Genesis {
	return testGenesis(t, 4, 100_000_000)
}

// TestDeployAndResolve publishes a chain, checks the records, the links,
// the stored code, the fee and the proofs.
func TestDeployAndResolve(t *testing.T) {
	g := contractGenesis(t)
	n := newNode(t, g)
	alice := &signer{k: key(t, 0), g: g}
	code := module(1, "greet")
	n.block()
	before := n.account(ledger.FeeCollector()).Balance
	msg := deploy("hello", "1.0.0", code, withTags("demo", "text"), withDesc("says hello"),
		withInterface(`{"functions":[{"name":"greet","input":{"type":"object"},"output":{"type":"string"}}]}`))
	n.mustOK(alice, msg)
	if got, want := n.account(ledger.FeeCollector()).Balance-before, fee(t, g, msg); got != want || want <= g.Params.MinFee {
		t.Errorf("fee collected %d, want %d (> min fee)", got, want)
	}
	n.mustOK(alice, deploy("hello", "1.1.0", module(2, "greet")))
	n.mustOK(alice, deploy("hello", "1.0.1", code)) // same code: stored once
	n.mustOK(alice, deploy("hello", "2.0.0-rc.1", module(3, "greet")))
	n.mustInvariants()

	c := n.contract("hello")
	if c.Versions != 4 || c.Latest != "2.0.0-rc.1" || !bytes.Equal(c.Owner, addrBytes(alice.k.Address())) {
		t.Errorf("registry entry = %+v", c)
	}
	for ref, want := range map[string]string{"hello@^1": "1.1.0", "hello@~1.0": "1.0.1", "hello@1.0.0": "1.0.0",
		"hello": "1.1.0", "hello@*": "1.1.0", "hello@>=2.0.0-0": "2.0.0-rc.1"} {
		if got, kind := n.resolve(ref); got != want {
			t.Errorf("resolve %s = %q (%v), want %s", ref, got, kind, want)
		}
	}
	// The chain links in publish order from the root to the head.
	q := n.query(ledger.PathVersions, "hello")
	items, err := state.DecodeList(q.Value)
	if err != nil || len(items) != 4 {
		t.Fatalf("versions: %v, %d items", err, len(items))
	}
	bySeq := map[uint64]*statepb.Version{}
	for _, raw := range items {
		v, _ := state.DecodeVersion(raw)
		bySeq[v.Seq] = v
	}
	for seq := uint64(1); seq <= 4; seq++ {
		v := bySeq[seq]
		h := state.RecordHash(v)
		switch {
		case seq == 1 && (len(v.Prev) != 0 || !bytes.Equal(c.Root, h[:])):
			t.Errorf("root link broken")
		case seq > 1:
			p := state.RecordHash(bySeq[seq-1])
			if !bytes.Equal(v.Prev, p[:]) {
				t.Errorf("version %d does not link to %d", seq, seq-1)
			}
		}
		if seq == 4 && !bytes.Equal(c.Head, h[:]) {
			t.Errorf("head is not the latest record")
		}
	}
	// Code is stored under its CID and verifies.
	v1 := bySeq[1]
	q = n.query(ledger.PathCode, string(v1.CodeCid))
	if q.Code != 0 || !bytes.Equal(q.Value, code) {
		t.Fatalf("code query: %s", q.Log)
	}
	if !bytes.Equal(v1.CodeCid, bySeq[3].CodeCid) || bytes.Equal(v1.CodeCid, v1.MeteredCid) {
		t.Errorf("CIDs: shared code must share the CID; metered must differ")
	}
	// Locations verify against the app hash.
	q = n.query(ledger.PathVersion, "hello@^1")
	if err := state.VerifyLocation(location(q, n.app.AppHash())); err != nil {
		t.Errorf("version proof: %v", err)
	}
	q = n.query(ledger.PathContract, "hello")
	if err := state.VerifyLocation(location(q, n.app.AppHash())); err != nil {
		t.Errorf("contract proof: %v", err)
	}
}

// TestContractBadInput sends each bad registry tx in its own block: the
// result names the problem and nothing changes (app hash, balances).
func TestContractBadInput(t *testing.T) {
	g := contractGenesis(t)
	n := newNode(t, g)
	alice, bob := &signer{k: key(t, 0), g: g}, &signer{k: key(t, 1), g: g}
	iface := `{"functions":[{"name":"greet","input":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]},"output":{"type":"object","properties":{"message":{"type":"string"}}}}]}`
	n.mustOK(alice, deploy("hello", "1.0.0", module(1, "greet"), withInterface(iface)))
	n.mustOK(alice, deploy("count", "1.0.0", module(2, "add"), withInterface(`{"functions":[{"name":"add","input":{"type":"integer"}}]}`)))

	simd := wasmtest.New()
	simd.Export("f", simd.Func(nil, nil, nil, wasmtest.Code{}.Op(0xFD, 0x0C).Op(make([]byte, 16)...).Drop()))
	foreign := wasmtest.New()
	foreign.Export("f", foreign.Import("env", "steal", nil, nil))
	big := make([]byte, g.Params.CodeLimit()+1)
	copy(big, module(9, "f"))

	tests := []struct {
		name    string
		s       *signer
		msg     *txpb.Msg
		want    vmerr.Kind
		wantLog string
	}{
		{"bad semver", alice, deploy("hello", "1.0", module(3, "greet")), vmerr.Invalid, "version"},
		{"build metadata", alice, deploy("hello", "1.2.0+build", module(3, "greet")), vmerr.Invalid, "build"},
		{"existing version", alice, deploy("hello", "1.0.0", module(3, "greet")), vmerr.Exists, "already exists"},
		{"publish by a non-owner", bob, deploy("hello", "1.1.0", module(3, "greet")), vmerr.Unauthorized, "not the owner"},
		{"invalid wasm", alice, deploy("junk", "1.0.0", []byte("\x00asm\x01\x00\x00\x00garbage")), vmerr.Invalid, "code refused"},
		{"not wasm at all", alice, deploy("junk", "1.0.0", []byte("hello world")), vmerr.Invalid, "code refused"},
		{"SIMD", alice, deploy("junk", "1.0.0", simd.Bytes()), vmerr.Invalid, "SIMD"},
		{"non-ABI import", alice, deploy("junk", "1.0.0", foreign.Bytes()), vmerr.Invalid, "import"},
		{"oversized code", alice, deploy("junk", "1.0.0", big), vmerr.TooLarge, "limit"},
		{"uppercase name", alice, deploy("Hello", "1.0.0", module(3, "f")), vmerr.Invalid, "name"},
		{"name too long", alice, deploy(strings.Repeat("a", 65), "1.0.0", module(3, "f")), vmerr.Invalid, "name"},
		{"name with @", alice, deploy("a@b", "1.0.0", module(3, "f")), vmerr.Invalid, "name"},
		{"no code nor manifest", alice, deploy("junk", "1.0.0", nil), vmerr.Invalid, "neither"},
		{"interface names a missing export", alice, deploy("junk", "1.0.0", module(3, "f"), withInterface(`{"functions":[{"name":"g"}]}`)), vmerr.Invalid, "g"},
		{"interface schema does not compile", alice, deploy("junk", "1.0.0", module(3, "f"), withInterface(`{"functions":[{"name":"f","input":{"type":12}}]}`)), vmerr.Invalid, "schema"},
		{"too many tags", alice, deploy("junk", "1.0.0", module(3, "f"), withTags("a", "b", "c", "d", "e", "f", "g", "h", "i")), vmerr.Invalid, "tags"},
		{"composite with a cycle", alice, deploy("pipe", "1.0.0", nil, withManifest(
			`{"steps":[{"id":"a","contract":"hello@^1","fn":"greet","input":{"pointer":"/steps/b"}},{"id":"b","contract":"hello@^1","fn":"greet","input":{"pointer":"/steps/a"}}]}`)), vmerr.Invalid, "cycle"},
		{"composite with a missing step contract", alice, deploy("pipe", "1.0.0", nil, withManifest(
			`{"steps":[{"id":"a","contract":"nosuch@^1","fn":"f","input":{"pointer":"/input"}}]}`)), vmerr.NotFound, "nosuch"},
		{"composite with an unresolvable range", alice, deploy("pipe", "1.0.0", nil, withManifest(
			`{"steps":[{"id":"a","contract":"hello@^7","fn":"greet","input":{"pointer":"/input"}}]}`)), vmerr.NotFound, "hello"},
		{"composite with incompatible schemas", alice, deploy("pipe", "1.0.0", nil, withManifest(
			`{"steps":[{"id":"a","contract":"hello@^1","fn":"greet","input":{"pointer":"/input"}},{"id":"b","contract":"count@^1","fn":"add","input":{"pointer":"/steps/a/message"}}]}`)), vmerr.Invalid, "b"},
		{"yank of a missing version", alice, yank("hello", "9.9.9", false), vmerr.NotFound, "does not exist"},
		{"yank by a non-owner", bob, yank("hello", "1.0.0", false), vmerr.Unauthorized, "not the owner"},
		{"unyank of a live version", alice, yank("hello", "1.0.0", true), vmerr.Invalid, "already not yanked"},
		{"owners by a non-owner", bob, owners("hello", []crypto.Address{bob.k.Address()}, nil, nil), vmerr.Unauthorized, "only the owner"},
		{"remove a non-maintainer", alice, owners("hello", nil, []crypto.Address{bob.k.Address()}, nil), vmerr.NotFound, "not a maintainer"},
		{"owners of a missing contract", alice, owners("nosuch", []crypto.Address{bob.k.Address()}, nil, nil), vmerr.NotFound, "no contract"},
	}
	watch := []crypto.Address{alice.k.Address(), bob.k.Address(), ledger.FeeCollector()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n.t = t
			before := n.app.AppHash()
			var balances []state.Account
			for _, a := range watch {
				balances = append(balances, n.account(a))
			}
			raw := tt.s.tx(t, tt.msg)
			// Admission refuses it too, with the same kind: a doomed
			// registry tx never reaches a block through an honest mempool.
			chk, err := n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: raw})
			if err != nil || vmerr.Kind(chk.Code) != tt.want {
				t.Errorf("CheckTx = %v (%s), want %v", vmerr.Kind(chk.Code), chk.Log, tt.want)
			}
			r := n.block(raw).TxResults[0]
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
		})
	}
	n.t = t
	// An underpaid deploy is refused at admission too.
	d := deploy("paid", "1.0.0", module(5, "f"))
	low := sign(t, alice.k, alice.nonce, g.Params.MinFee, d)
	chk, _ := n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: low})
	if vmerr.Kind(chk.Code) != vmerr.Invalid || !strings.Contains(chk.Log, "required") {
		t.Errorf("CheckTx of an underpaid deploy: %d %s", chk.Code, chk.Log)
	}
	n.mustInvariants()
}

// TestOwnersAndYank covers maintainers, ownership transfer and yanking.
func TestOwnersAndYank(t *testing.T) {
	g := contractGenesis(t)
	n := newNode(t, g)
	alice, bob, carol := &signer{k: key(t, 0), g: g}, &signer{k: key(t, 1), g: g}, &signer{k: key(t, 2), g: g}
	n.mustOK(alice, deploy("hello", "1.0.0", module(1, "f")))
	n.mustOK(alice, owners("hello", []crypto.Address{bob.k.Address()}, nil, nil))
	n.mustOK(bob, deploy("hello", "1.0.1", module(2, "f"))) // a maintainer publishes
	n.mustOK(bob, yank("hello", "1.0.1", false))
	if v, _ := n.resolve("hello@^1"); v != "1.0.0" {
		t.Errorf("after yank ^1 = %s, want 1.0.0", v)
	}
	if v, _ := n.resolve("hello@1.0.1"); v != "1.0.1" {
		t.Errorf("a yanked version must resolve exactly, got %q", v)
	}
	n.mustOK(alice, yank("hello", "1.0.0", false))
	if _, kind := n.resolve("hello@^1"); kind != vmerr.NotFound {
		t.Errorf("all yanked: kind %v, want NotFound", kind)
	}
	n.mustOK(alice, yank("hello", "1.0.1", true))
	if v, _ := n.resolve("hello@^1"); v != "1.0.1" {
		t.Errorf("after unyank ^1 = %s", v)
	}
	carolAddr := carol.k.Address()
	n.mustOK(alice, owners("hello", nil, nil, &carolAddr))
	c := n.contract("hello")
	if !bytes.Equal(c.Owner, addrBytes(carolAddr)) || len(c.Maintainers) != 1 {
		t.Errorf("after transfer: %+v", c)
	}
	// The old owner can no longer publish; the maintainer still can.
	r := n.block(alice.tx(t, deploy("hello", "1.0.2", module(3, "f")))).TxResults[0]
	if vmerr.Kind(r.Code) != vmerr.Unauthorized {
		t.Errorf("old owner publish: %d %s", r.Code, r.Log)
	}
	n.mustOK(bob, deploy("hello", "1.0.2", module(3, "f")))
	n.mustOK(carol, owners("hello", nil, []crypto.Address{bob.k.Address()}, nil))
	r = n.block(bob.tx(t, deploy("hello", "1.0.3", module(4, "f")))).TxResults[0]
	if vmerr.Kind(r.Code) != vmerr.Unauthorized {
		t.Errorf("removed maintainer publish: %d %s", r.Code, r.Log)
	}
	n.mustInvariants()
}

// TestComposite deploys c3 = (c1, c2) and checks the pinned manifest.
func TestComposite(t *testing.T) {
	g := contractGenesis(t)
	n := newNode(t, g)
	alice := &signer{k: key(t, 0), g: g}
	n.mustOK(alice, deploy("c1", "1.0.0", module(1, "run")))
	n.mustOK(alice, deploy("c1", "1.2.0", module(2, "run")))
	n.mustOK(alice, deploy("c2", "0.3.1", module(3, "run")))
	// A composite may name a contract deployed earlier in the same tx.
	n.mustOK(alice, deploy("c4", "1.0.0", module(4, "run")), deploy("c3", "1.0.0", nil, withManifest(
		`{"steps":[{"id":"one","contract":"c1@^1","fn":"run","input":{"pointer":"/input"}},`+
			`{"id":"two","contract":"c2@~0.3","fn":"run","input":{"object":{"x":{"pointer":"/steps/one"}}}},`+
			`{"id":"three","contract":"c4","fn":"run","input":{"pointer":"/steps/two"}}]}`)))
	q := n.query(ledger.PathVersion, "c3@1.0.0")
	if q.Code != 0 {
		t.Fatal(q.Log)
	}
	v, _ := state.DecodeVersion(q.Value)
	for _, want := range []string{`"version":"1.2.0"`, `"version":"0.3.1"`, `"version":"1.0.0"`} {
		if !strings.Contains(string(v.Manifest), want) {
			t.Errorf("pinned manifest %s lacks %s", v.Manifest, want)
		}
	}
	if len(v.CodeCid) != 0 || !n.contract("c3").Composite {
		t.Errorf("composite has code or is not marked composite")
	}
	// Later versions of a step do not move the pin.
	n.mustOK(alice, deploy("c1", "1.3.0", module(5, "run")))
	q = n.query(ledger.PathVersion, "c3@1.0.0")
	v2, _ := state.DecodeVersion(q.Value)
	if !bytes.Equal(v.Manifest, v2.Manifest) {
		t.Errorf("pinned manifest changed")
	}
}

// TestListContracts pages through the registry by name, query and tag.
func TestListContracts(t *testing.T) {
	g := contractGenesis(t)
	n := newNode(t, g)
	alice := &signer{k: key(t, 0), g: g}
	var msgs []*txpb.Msg
	for i := range 12 {
		tag := "odd"
		if i%2 == 0 {
			tag = "even"
		}
		msgs = append(msgs, deploy(fmt.Sprintf("c%02d", i), "1.0.0", module(int32(i), "f"), withTags(tag), withDesc(fmt.Sprintf("number %d", i))))
	}
	n.mustOK(alice, msgs...)
	list := func(q string) ([]string, string) {
		r := n.query(ledger.PathContracts, q)
		if r.Code != 0 {
			t.Fatalf("list %s: %s", q, r.Log)
		}
		items, err := state.DecodeList(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, raw := range items {
			c, _ := state.DecodeContract(raw)
			names = append(names, c.Name)
		}
		return names, r.Info
	}
	got, next := list(`{"limit":5}`)
	if strings.Join(got, ",") != "c00,c01,c02,c03,c04" || next != "c04" {
		t.Errorf("page 1 = %v next %q", got, next)
	}
	got, _ = list(`{"limit":5,"after":"c04"}`)
	if strings.Join(got, ",") != "c05,c06,c07,c08,c09" {
		t.Errorf("page 2 = %v", got)
	}
	got, _ = list(`{"tag":"odd","query":"NUMBER 1"}`)
	if strings.Join(got, ",") != "c01,c11" {
		t.Errorf("tag odd + query = %v", got)
	}
	if r := n.query(ledger.PathContracts, `{"limit":1000}`); vmerr.Kind(r.Code) != vmerr.Invalid {
		t.Errorf("limit 1000: %d", r.Code)
	}
	// A re-deploy with other tags moves the index.
	n.mustOK(alice, deploy("c01", "1.1.0", module(99, "f"), withTags("even")))
	got, _ = list(`{"tag":"odd"}`)
	if strings.Contains(strings.Join(got, ","), "c01") {
		t.Errorf("c01 still tagged odd: %v", got)
	}
}

// TestRegistrySurvivesRestart reopens the state after deploys: the
// registry, the code and the resolution answer as before, at the same
// app hash.
func TestRegistrySurvivesRestart(t *testing.T) {
	g := contractGenesis(t)
	n := newNode(t, g)
	alice := &signer{k: key(t, 0), g: g}
	n.mustOK(alice, deploy("hello", "1.0.0", module(1, "f")))
	n.mustOK(alice, deploy("hello", "1.1.0", module(2, "f")))
	hash := n.app.AppHash()
	if err := n.app.Close(); err != nil {
		t.Fatal(err)
	}
	n.app = openApp(t, n.dir)
	t.Cleanup(func() { _ = n.app.Close() })
	if !bytes.Equal(n.app.AppHash(), hash) {
		t.Fatalf("app hash after reopen differs")
	}
	if v, kind := n.resolve("hello@^1"); v != "1.1.0" {
		t.Fatalf("after reopen ^1 = %q (%v)", v, kind)
	}
	n.mustOK(alice, deploy("hello", "1.2.0", module(3, "f")))
	if c := n.contract("hello"); c.Versions != 3 {
		t.Fatalf("versions after reopen = %d", c.Versions)
	}
}
