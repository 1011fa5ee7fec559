package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/cli"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// chainEnv is a node the registry scenario runs against.
type chainEnv struct {
	node, home string
	fund       func(t *testing.T, addr crypto.Address, amount uint64)
	modules    [3]string // three module files: versions 1.0.0, 1.0.1, 1.1.0
	fn         string    // a function the modules export
}

func (e *chainEnv) run(t *testing.T, args ...string) ktResult {
	t.Helper()
	return ktRun(t, e.home, append([]string{"--node", e.node}, args...)...)
}

// runJSON runs args with -o json, wants exit 0 and decodes stdout into v.
func (e *chainEnv) runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	r := e.run(t, append(args, "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("vm %s: %+v", strings.Join(args, " "), r)
	}
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("vm %s: %v in %q", strings.Join(args, " "), err, r.stdout)
	}
}

// showView is `contract show NAME@RANGE -o json`.
type showView struct {
	apitype.ContractVersion
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error"`
}

// publishView is what deploy, compose, yank and owner print with -o json.
type publishView struct {
	Hash     string                   `json:"hash"`
	Height   int64                    `json:"height"`
	Fee      string                   `json:"fee"`
	Version  *apitype.ContractVersion `json:"version"`
	Contract *apitype.Contract        `json:"contract"`
}

// chainScenario runs the registry commands end to end against e.
func chainScenario(t *testing.T, e *chainEnv) {
	t.Setenv(cli.EnvPass, "pw")
	alice := ktKey(t, e.home, "alice", "pw")
	bob := ktKey(t, e.home, "bob", "pw")
	e.fund(t, alice.Address(), 50_000_000)
	e.fund(t, bob.Address(), 50_000_000)
	st, err := client.New(e.node).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	minFee, _ := strconv.ParseUint(st.MinFee, 10, 64)
	perKiB, _ := strconv.ParseUint(st.DeployFeePerKiB, 10, 64)
	code0, err := os.ReadFile(e.modules[0])
	if err != nil {
		t.Fatal(err)
	}

	// deploy: the fee is min_fee plus the deploy fee of the payload.
	var dep publishView
	e.runJSON(t, &dep, "contract", "deploy", e.modules[0], "--name", "hello", "--version", "1.0.0", "--from", "alice",
		"--description", "Greets people", "--tag", "greeting", "--tag", "example")
	df, _ := contract.DeployFee(perKiB, &txpb.Deploy{Name: "hello", Version: "1.0.0", Code: code0,
		Description: "Greets people", Tags: []string{"greeting", "example"}})
	firstHeight := dep.Height
	if dep.Hash == "" || dep.Height == 0 || dep.Fee != strconv.FormatUint(minFee+df, 10) || dep.Version == nil ||
		dep.Version.CodeHash != contract.CID(code0).String() || dep.Version.MeteredHash == "" || dep.Version.Version != "1.0.0" {
		t.Fatalf("deploy: %+v (want fee %d)", dep, minFee+df)
	}
	for i, v := range []string{"1.0.1", "1.1.0"} {
		if r := e.run(t, "contract", "deploy", e.modules[i+1], "--name", "hello", "--version", v, "--from", "alice"); r.code != 0 ||
			!strings.Contains(r.stdout, "contract:     hello@"+v) || !strings.Contains(r.stdout, "code_hash:") {
			t.Fatalf("deploy %s: %+v", v, r)
		}
	}
	// An existing version is refused by the ledger: non-zero exit, its message.
	if r := e.run(t, "contract", "deploy", e.modules[0], "--name", "hello", "--version", "1.0.0", "--from", "alice"); r.code == 0 ||
		!strings.Contains(r.stderr, "exists") {
		t.Errorf("redeploy 1.0.0: %+v", r)
	}

	// show resolves ranges and verifies the location.
	for _, tc := range []struct{ ref, want string }{
		{"hello@^1", "1.1.0"}, {"hello@~1.0", "1.0.1"}, {"hello@1.0.0", "1.0.0"}, {"hello@>=1.0.0 <1.1.0", "1.0.1"}, {"hello@*", "1.1.0"},
	} {
		var v showView
		e.runJSON(t, &v, "contract", "show", tc.ref)
		if v.Version != tc.want || !v.Verified || v.Location == nil || v.Owner != alice.Address().String() {
			t.Errorf("show %s: %+v, want %s verified", tc.ref, v, tc.want)
		}
	}
	var entry struct {
		apitype.Contract
		Verified bool `json:"verified"`
	}
	e.runJSON(t, &entry, "contract", "show", "hello")
	if entry.Latest != "1.1.0" || entry.Versions != 3 || !entry.Verified || entry.Owner != alice.Address().String() {
		t.Errorf("show hello: %+v", entry)
	}
	if r := e.run(t, "contract", "show", "hello@^1"); r.code != 0 || !strings.Contains(r.stdout, "contract:     hello@1.1.0") ||
		!strings.Contains(r.stdout, "verified:     yes") {
		t.Errorf("show text: %+v", r)
	}
	if r := e.run(t, "contract", "show", "hello@^7"); r.code == 0 || !strings.Contains(r.stderr, "not_found") && !strings.Contains(r.stderr, "no version") {
		t.Errorf("show hello@^7: %+v", r)
	}

	// versions -o json is an array, one entry per version, in semver order.
	var vs []apitype.ContractVersion
	e.runJSON(t, &vs, "contract", "versions", "hello")
	if len(vs) != 3 || vs[0].Version != "1.0.0" || vs[1].Version != "1.0.1" || vs[2].Version != "1.1.0" || vs[2].Prev != vs[1].RecordHash {
		t.Fatalf("versions: %+v", vs)
	}

	// yank: ranges skip the version, the exact version still resolves.
	if r := e.run(t, "contract", "yank", "hello@1.1.0", "--from", "alice"); r.code != 0 || !strings.Contains(r.stdout, "yanked:       yes") {
		t.Fatalf("yank: %+v", r)
	}
	var v showView
	e.runJSON(t, &v, "contract", "show", "hello@^1")
	if v.Version != "1.0.1" || !v.Verified {
		t.Errorf("hello@^1 after yank: %+v", v)
	}
	e.runJSON(t, &v, "contract", "show", "hello@1.1.0")
	if v.Version != "1.1.0" || !v.Yanked {
		t.Errorf("hello@1.1.0 after yank: %+v", v)
	}

	// A non-owner cannot publish; after `owner --add` the maintainer can.
	if r := e.run(t, "contract", "deploy", e.modules[1], "--name", "hello", "--version", "2.0.0", "--from", "bob"); r.code == 0 ||
		!strings.Contains(r.stderr, "unauthorized") {
		t.Errorf("non-owner deploy: %+v", r)
	}
	var own publishView
	e.runJSON(t, &own, "contract", "owner", "hello", "--add", "bob", "--from", "alice")
	if own.Contract == nil || len(own.Contract.Maintainers) != 1 || own.Contract.Maintainers[0] != bob.Address().String() {
		t.Fatalf("owner --add: %+v", own)
	}
	// The same command again (the same tx bytes: the refusal spent no nonce) now commits.
	e.runJSON(t, &dep, "contract", "deploy", e.modules[1], "--name", "hello", "--version", "2.0.0", "--from", "bob")
	if dep.Version == nil || dep.Version.Publisher != bob.Address().String() || dep.Version.Owner != alice.Address().String() {
		t.Errorf("maintainer deploy: %+v", dep)
	}
	if r := e.run(t, "contract", "owner", "hello", "--remove", "alice", "--from", "bob"); r.code == 0 || !strings.Contains(r.stderr, "unauthorized") {
		t.Errorf("maintainer changing owners: %+v", r)
	}

	// get writes a file whose CID is the version's.
	dir := t.TempDir()
	out := filepath.Join(dir, "hello.wasm")
	if r := e.run(t, "contract", "get", "hello@1.0.0", "-o", out); r.code != 0 || !strings.Contains(r.stdout, "verified: yes") {
		t.Fatalf("get: %+v", r)
	}
	got, err := os.ReadFile(out)
	if err != nil || contract.CID(got).String() != contract.CID(code0).String() {
		t.Fatalf("get wrote %d bytes (%v), CID %s", len(got), err, contract.CID(got))
	}
	metered := filepath.Join(dir, "hello.metered.wasm")
	if r := e.run(t, "contract", "get", "hello@~1.0", "--metered", "-o", metered); r.code != 0 || !strings.Contains(r.stdout, "hello@1.0.1, metered") {
		t.Fatalf("get --metered: %+v", r)
	}
	e.runJSON(t, &v, "contract", "show", "hello@1.0.1")
	if got, _ := os.ReadFile(metered); contract.CID(got).String() != v.MeteredHash {
		t.Errorf("metered file CID %s, version %s", contract.CID(got), v.MeteredHash)
	}

	// compose two deployed contracts, then show the pinned composite.
	e.runJSON(t, &dep, "contract", "deploy", e.modules[2], "--name", "world", "--version", "0.1.0", "--from", "bob")
	manifest := filepath.Join(dir, "pipeline.json")
	os.WriteFile(manifest, []byte(`{"steps":[`+
		`{"id":"one","contract":"hello@^1","fn":"`+e.fn+`","input":{"pointer":"/input"}},`+
		`{"id":"two","contract":"world@~0.1","fn":"`+e.fn+`","input":{"pointer":"/input"}}],`+
		`"output":{"pointer":"/steps/two"}}`), 0o644)
	e.runJSON(t, &dep, "contract", "compose", manifest, "--name", "c3", "--version", "1.0.0", "--from", "alice", "--tag", "pipeline")
	if dep.Version == nil || dep.Version.CodeHash != "" || len(dep.Version.Manifest) == 0 {
		t.Fatalf("compose: %+v", dep)
	}
	e.runJSON(t, &v, "contract", "show", "c3@^1")
	var m struct {
		Steps []struct{ Contract, Version string }
	}
	if err := json.Unmarshal(v.Manifest, &m); err != nil || len(m.Steps) != 2 || m.Steps[0].Version != "1.0.1" || m.Steps[1].Version != "0.1.0" || !v.Verified {
		t.Errorf("show c3: %s verified %v (%v)", v.Manifest, v.Verified, err)
	}
	if r := e.run(t, "contract", "get", "c3", "-o", filepath.Join(dir, "c3.wasm")); r.code == 0 || !strings.Contains(r.stderr, "composite") {
		t.Errorf("get composite: %+v", r)
	}

	// run: a deployed contract, then the composite as one call, locally.
	var run struct {
		Status, Contract string
		Output           *string
		GasUsed          uint64 `json:"gas_used"`
		Steps            []struct {
			ID, Version string
			GasUsed     uint64 `json:"gas_used"`
		}
	}
	e.runJSON(t, &run, "contract", "run", "hello@^1", "--fn", e.fn, "--input", `{"name":"ada"}`)
	if run.Status != "ok" || run.Contract != "hello@1.0.1" || run.Output == nil || !strings.Contains(*run.Output, "ada") {
		t.Errorf("run hello@^1: %+v", run)
	}
	single := run.GasUsed
	e.runJSON(t, &run, "contract", "run", "c3@^1", "--fn", "run", "--input", `{"name":"ada"}`)
	if run.Status != "ok" || run.Contract != "c3@1.0.0" || len(run.Steps) != 2 || run.Steps[0].Version != "1.0.1" ||
		run.Output == nil || !strings.Contains(*run.Output, "ada") || run.GasUsed != run.Steps[0].GasUsed+run.Steps[1].GasUsed || run.Steps[0].GasUsed != single {
		t.Errorf("run c3@^1: %+v", run)
	}
	if r := e.run(t, "contract", "run", "c3@^1", "--fn", "run", "--gas", "10", "--input", `{"name":"ada"}`); r.code != 2 || !strings.Contains(r.stdout, "out_of_gas") {
		t.Errorf("run c3 with 10 gas: %+v", r)
	}
	if r := e.run(t, "contract", "run", "c3@^1", "--fn", e.fn); r.code != 1 || !strings.Contains(r.stderr, "composite") {
		t.Errorf("run c3 with another fn: %+v", r)
	}

	// list: by query, by tag, one page.
	var list []apitype.Contract
	e.runJSON(t, &list, "contract", "list")
	var names []string
	for _, c := range list {
		if c.Name != "idchain" { // a real node's genesis publishes the IDChain; the fake has none
			names = append(names, c.Name)
		}
	}
	if !slices.Equal(names, []string{"c3", "hello", "world"}) {
		t.Errorf("list: %+v", list)
	}
	e.runJSON(t, &list, "contract", "list", "--query", "GREETS")
	if len(list) != 0 { // the description is the latest publish's: 2.0.0 has none
		t.Errorf("list --query GREETS: %+v", list)
	}
	e.runJSON(t, &list, "contract", "list", "--query", "wor")
	if len(list) != 1 || list[0].Name != "world" {
		t.Errorf("list --query wor: %+v", list)
	}
	e.runJSON(t, &list, "contract", "list", "--tag", "pipeline")
	if len(list) != 1 || list[0].Name != "c3" || !list[0].Composite {
		t.Errorf("list --tag pipeline: %+v", list)
	}
	e.runJSON(t, &list, "contract", "list", "--limit", "2")
	if len(list) != 2 {
		t.Errorf("list --limit 2: %+v", list)
	}
	if r := e.run(t, "contract", "list"); r.code != 0 || !strings.Contains(r.stdout, "composite") || !strings.Contains(r.stdout, "NAME") {
		t.Errorf("list text: %+v", r)
	}

	// --undo a yank; an old height still shows the past.
	if r := e.run(t, "contract", "yank", "hello@1.1.0", "--undo", "--from", "bob"); r.code != 0 || !strings.Contains(r.stdout, "yanked:       no") {
		t.Errorf("yank --undo: %+v", r)
	}
	e.runJSON(t, &v, "contract", "show", "hello@~1")
	if v.Version != "1.1.0" || !v.Verified {
		t.Errorf("hello@~1 after undo: %+v", v)
	}
	e.runJSON(t, &v, "contract", "show", "hello@*", "--height", strconv.FormatInt(firstHeight, 10))
	if v.Version != "1.0.0" || v.Height != firstHeight || !v.Verified {
		t.Errorf("hello@* at height %d: %+v", firstHeight, v)
	}

	// remove a maintainer, transfer a chain by address.
	e.runJSON(t, &own, "contract", "owner", "hello", "--remove", "bob", "--from", "alice")
	if own.Contract == nil || len(own.Contract.Maintainers) != 0 {
		t.Errorf("owner --remove: %+v", own)
	}
	e.runJSON(t, &own, "contract", "owner", "world", "--transfer", alice.Address().String(), "--from", "bob")
	if own.Contract == nil || own.Contract.Owner != alice.Address().String() {
		t.Errorf("owner --transfer: %+v", own)
	}
	e.runJSON(t, &entry, "contract", "show", "world")
	if entry.Owner != alice.Address().String() || !entry.Verified {
		t.Errorf("world after transfer: %+v", entry)
	}
	if r := e.run(t, "contract", "yank", "world@0.1.0", "--from", "bob"); r.code == 0 || !strings.Contains(r.stderr, "unauthorized") {
		t.Errorf("former owner yanks: %+v", r)
	}
}

// fakeChainEnv serves the fake backend with a deploy fee.
func fakeChainEnv(t *testing.T) (*chainEnv, *apitest.Backend) {
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 2, DeployFeePerKiB: 3, FaucetMax: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	dir := t.TempDir()
	e := &chainEnv{node: gtNode(t, b), home: t.TempDir(), fn: "echo"}
	for i, extra := range []string{"a", "b", "c"} {
		e.modules[i] = filepath.Join(dir, "m"+extra+".wasm")
		if err := os.WriteFile(e.modules[i], apitest.EchoModule(extra), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.fund = func(t *testing.T, addr crypto.Address, amount uint64) {
		k, _ := crypto.GenerateKey(nil)
		raw, _ := b.Sign(k, 0, 0, apitest.Faucet(addr, amount))
		if res, err := b.SubmitTx(context.Background(), raw, true); err != nil || res.Code != 0 {
			t.Fatalf("fund: %+v %v", res, err)
		}
	}
	return e, b
}

func TestContractChainFake(t *testing.T) {
	e, _ := fakeChainEnv(t)
	chainScenario(t, e)
}

// TestContractChainBadInput checks that bad input fails clearly, locally
// or from the ledger, and that nothing local-checkable reaches the chain.
func TestContractChainBadInput(t *testing.T) {
	e, b := fakeChainEnv(t)
	t.Setenv(cli.EnvPass, "pw")
	alice := ktKey(t, e.home, "alice", "pw")
	e.fund(t, alice.Address(), 1_000_000)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	junk := write("junk.wasm", "not wasm at all")
	badIface := write("iface.json", `{"functions":[{"name":"echo","input":{"type":"nope"}}]}`)
	cycle := write("cycle.json", `{"steps":[{"id":"a","contract":"x1@^1","fn":"f","input":{"pointer":"/steps/b"}},`+
		`{"id":"b","contract":"x1@^1","fn":"f","input":{"pointer":"/steps/a"}}]}`)
	missing := write("missing.json", `{"steps":[{"id":"a","contract":"nobody@^1","fn":"f","input":{"pointer":"/input"}}]}`)
	dep := []string{"contract", "deploy", e.modules[0], "--from", "alice"}
	before := gtHeight(t, b)
	local := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no name", append(dep, "--version", "1.0.0"), "--name"},
		{"bad name", append(dep, "--name", "Hello", "--version", "1.0.0"), "lowercase"},
		{"bad version", append(dep, "--name", "hello", "--version", "1.0"), "version"},
		{"build metadata", append(dep, "--name", "hello", "--version", "1.0.0+b1"), "build"},
		{"bad tag", append(dep, "--name", "hello", "--version", "1.0.0", "--tag", "UP"), "tag"},
		{"newline in description", append(dep, "--name", "hello", "--version", "1.0.0", "--description", "a\nb"), "description"},
		{"bad interface", append(dep, "--name", "hello", "--version", "1.0.0", "--interface", badIface), "iface.json"},
		{"missing file", []string{"contract", "deploy", filepath.Join(dir, "none.wasm"), "--name", "hello", "--version", "1.0.0", "--from", "alice"}, "no such file"},
		{"unknown key", []string{"contract", "deploy", e.modules[0], "--name", "hello", "--version", "1.0.0", "--from", "zed"}, "zed"},
		{"bad fee", append(dep, "--name", "hello", "--version", "1.0.0", "--fee", "-1"), "negative"},
		{"cyclic manifest", []string{"contract", "compose", cycle, "--name", "c3", "--version", "1.0.0", "--from", "alice"}, "cycle"},
		{"yank without version", []string{"contract", "yank", "hello", "--from", "alice"}, "NAME@VERSION"},
		{"yank a range", []string{"contract", "yank", "hello@^1", "--from", "alice"}, "version"},
		{"yank without from", []string{"contract", "yank", "hello@1.0.0"}, "--from"},
		{"owner nothing", []string{"contract", "owner", "hello", "--from", "alice"}, "nothing to change"},
		{"owner bad who", []string{"contract", "owner", "hello", "--add", "nobody-here", "--from", "alice"}, "neither a key"},
		{"get without -o", []string{"contract", "get", "hello"}, "-o"},
		{"show bad range", []string{"contract", "show", "hello@^^1"}, "range"},
		{"show bad name", []string{"contract", "show", "He"}, "lowercase"},
		{"versions bad name", []string{"contract", "versions", "x-"}, "name"},
		{"list bad limit", []string{"contract", "list", "--limit", "500"}, "--limit"},
	}
	for _, tc := range local {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, tc.args...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.wantErr) {
				t.Errorf("%v: %+v, want failure mentioning %q", tc.args, r, tc.wantErr)
			}
		})
	}
	if h := gtHeight(t, b); h != before {
		t.Errorf("height moved from %d to %d: a locally refused command reached the chain", before, h)
	}
	// Refused by the ledger: non-zero exit and its message.
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"not wasm", []string{"contract", "deploy", junk, "--name", "hello", "--version", "1.0.0", "--from", "alice"}, "invalid"},
		{"fee too low", append(dep, "--name", "hello", "--version", "1.0.0", "--fee", "2"), "fee"},
		{"missing step", []string{"contract", "compose", missing, "--name", "c3", "--version", "1.0.0", "--from", "alice"}, "nobody"},
		{"yank unknown", []string{"contract", "yank", "hello@1.0.0", "--from", "alice"}, "not_found"},
		{"owner of unknown", []string{"contract", "owner", "hello", "--add", "alice", "--from", "alice"}, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, tc.args...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.wantErr) || !strings.Contains(r.stderr, "rejected") {
				t.Errorf("%v: %+v, want a rejection mentioning %q", tc.args, r, tc.wantErr)
			}
		})
	}
	// Nothing was published.
	if r := e.run(t, "contract", "show", "hello"); r.code == 0 || !strings.Contains(r.stderr, "not_found") && !strings.Contains(r.stderr, "no contract") {
		t.Errorf("show after refusals: %+v", r)
	}
	// A node that is down.
	if r := ktRun(t, e.home, "--node", "http://127.0.0.1:1", "contract", "show", "hello@^1"); r.code == 0 || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("node down: %+v", r)
	}
}

// TestContractChainEndToEnd runs the registry commands against a real
// devnet node (CometBFT, the ledger, the API) with the hello example
// contract compiled by the Go toolchain.
func TestContractChainEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go contract and starts a node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	hello, err := examples.Build(ctx, dir, "hello")
	if err != nil {
		t.Fatal(err)
	}
	env := nodetest.Start(t)
	e := &chainEnv{node: env.URL, home: t.TempDir(), fn: "greet", modules: [3]string{hello, hello, hello}}
	e.fund = func(t *testing.T, addr crypto.Address, amount uint64) { env.Fund(t, addr, amount) }
	chainScenario(t, e)
}

// slowCommit is the fake as a node that accepts txs but gives up waiting
// for their block: SubmitTx with wait runs the tx, then answers Timeout.
type slowCommit struct{ *apitest.Backend }

func (s slowCommit) SubmitTx(ctx context.Context, raw []byte, wait bool) (apitype.SubmitResult, error) {
	res, err := s.Backend.SubmitTx(ctx, raw, false)
	if err != nil || !wait {
		return res, err
	}
	return apitype.SubmitResult{}, vmerr.E("chain.submit_tx", vmerr.Timeout, "tx %s accepted but not committed yet", res.Hash)
}

// TestContractDeploySlowCommit checks deploy keeps waiting (by polling the
// tx) when the node times out waiting for the block, and reports a refusal
// found that way.
func TestContractDeploySlowCommit(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	e := &chainEnv{node: gtNode(t, slowCommit{b}), home: t.TempDir()}
	t.Setenv(cli.EnvPass, "pw")
	alice := ktKey(t, e.home, "alice", "pw")
	raw, _ := b.Sign(alice, 0, 0, apitest.Faucet(alice.Address(), 1_000_000))
	if res, err := b.SubmitTx(context.Background(), raw, true); err != nil || res.Code != 0 {
		t.Fatal(res, err)
	}
	mod := filepath.Join(t.TempDir(), "m.wasm")
	os.WriteFile(mod, apitest.EchoModule("m"), 0o644)
	var dep publishView
	e.runJSON(t, &dep, "contract", "deploy", mod, "--name", "slow", "--version", "1.0.0", "--from", "alice")
	if dep.Height == 0 || dep.Version == nil || dep.Version.Version != "1.0.0" {
		t.Fatalf("deploy through a timeout: %+v", dep)
	}
	r := e.run(t, "contract", "deploy", mod, "--name", "slow", "--version", "1.0.0", "--from", "alice")
	if r.code == 0 || !strings.Contains(r.stderr, "exists") || !strings.Contains(r.stderr, "waiting for its block") {
		t.Errorf("refused deploy through a timeout: %+v", r)
	}
}

// TestContractShowNotVerified checks show and get exit 2 when the node's
// answer does not match what its proof proves.
func TestContractShowNotVerified(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	honest := gtNode(t, b)
	var lieVal atomic.Value
	lieVal.Store("")
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uri := r.URL.RequestURI()
		if lieVal.Load().(string) == "range" { // a real, provable version that ^1 does not match
			uri = strings.Replace(uri, "hello@%5E1", "hello@2.0.0", 1)
			uri = strings.Replace(uri, "hello@^1", "hello@2.0.0", 1)
		}
		resp, err := http.Get(honest + uri)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		lie := lieVal.Load().(string)
		if strings.HasPrefix(r.URL.Path, "/v1/contracts/") && resp.StatusCode == 200 {
			switch {
			case lie == "owner" && !strings.Contains(r.URL.Path, "@"):
				body = []byte(strings.Replace(string(body), `"owner":"`, `"owner":"00`, 1))
			case lie == "version-owner" && strings.Contains(r.URL.Path, "@"):
				// A well-formed address that is not the owner.
				body = []byte(regexp.MustCompile(`"owner":"[0-9a-f]{40}"`).ReplaceAllString(string(body), `"owner":"`+strings.Repeat("ab", 20)+`"`))
			case lie == "yanked":
				body = []byte(strings.Replace(string(body), `"yanked":false`, `"yanked":true`, 1))
			case lie == "code" && strings.HasSuffix(r.URL.Path, "/code"):
				body[len(body)-1] ^= 1
			}
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
	t.Cleanup(ts.Close)
	k, _ := crypto.GenerateKey(nil)
	for i, m := range []*txpb.Msg{apitest.Faucet(k.Address(), 1000), apitest.Deploy("hello", "1.0.0", apitest.EchoModule("a"), nil),
		apitest.Deploy("hello", "2.0.0", apitest.EchoModule("b"), nil)} {
		raw, _ := b.Sign(k, uint64(i), 0, m)
		if res, err := b.SubmitTx(context.Background(), raw, true); err != nil || res.Code != 0 {
			t.Fatal(res, err)
		}
	}
	home := t.TempDir()
	out := filepath.Join(t.TempDir(), "x.wasm")
	for _, tc := range []struct {
		lie  string
		args []string
	}{
		{"owner", []string{"contract", "show", "hello"}},
		{"yanked", []string{"contract", "show", "hello@^1"}},
		{"version-owner", []string{"contract", "show", "hello@^1"}},
		{"range", []string{"contract", "show", "hello@^1"}},
		{"range", []string{"contract", "get", "hello@^1", "-o", out}},
		{"code", []string{"contract", "get", "hello@^1", "-o", out}},
	} {
		lieVal.Store("")
		if r := ktRun(t, home, append([]string{"--node", ts.URL}, tc.args...)...); r.code != 0 {
			t.Fatalf("%v, honest: %+v", tc.args, r)
		}
		os.Remove(out)
		lieVal.Store(tc.lie)
		r := ktRun(t, home, append([]string{"--node", ts.URL}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "verified") {
			t.Errorf("%v with a lying node (%s): %+v, want exit 2", tc.args, tc.lie, r)
		}
		if _, err := os.Stat(out); tc.lie == "code" && err == nil {
			t.Errorf("get wrote %s from a lying node", out)
		}
	}
}
