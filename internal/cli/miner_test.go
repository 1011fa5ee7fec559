package cli_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/cli"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// minerRegisterView is what `miner register -o json` prints.
type minerRegisterView struct {
	Hash   string         `json:"hash"`
	Height int64          `json:"height"`
	Fee    string         `json:"fee"`
	Miner  *apitype.Miner `json:"miner"`
}

// minerShowView is `miner show -o json`.
type minerShowView struct {
	apitype.Miner
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error"`
}

// minerScenario runs the miner commands end to end against e.
func minerScenario(t *testing.T, e *chainEnv) {
	t.Setenv(cli.EnvPass, "pw")
	m1 := ktKey(t, e.home, "m1", "pw")
	m2 := ktKey(t, e.home, "m2", "pw")
	e.fund(t, m1.Address(), 1_000_000)
	e.fund(t, m2.Address(), 1_000_000)
	st, err := client.New(e.node).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	if r := e.run(t, "miner"); r.code != 0 || !strings.Contains(r.stdout, "register") || !strings.Contains(r.stdout, "runs the compute miner agent") {
		t.Errorf("vm miner: %+v", r)
	}
	var reg minerRegisterView
	e.runJSON(t, &reg, "miner", "register", "--key", "m1", "--min-gas", "50", "--kind", "cpu", "--capacity", "4",
		"--endpoint", "https://m1.example:8443/jobs", "--version", "vm/0.1.0")
	if reg.Hash == "" || reg.Height == 0 || reg.Fee != st.MinFee || reg.Miner == nil || reg.Miner.Address != m1.Address().String() ||
		reg.Miner.Kind != "cpu" || reg.Miner.Capacity != 4 || reg.Miner.MinGas != "50" || reg.Miner.Endpoint != "https://m1.example:8443/jobs" ||
		reg.Miner.SoftwareVersion != "vm/0.1.0" || !reg.Miner.Active || reg.Miner.Registered != reg.Height || reg.Miner.Earned != "0" {
		t.Fatalf("register: %+v %+v", reg, reg.Miner)
	}
	var show minerShowView
	e.runJSON(t, &show, "miner", "show", "--key", "m1")
	if !show.Verified || show.Location == nil || show.Kind != "cpu" || show.Registered != reg.Height || show.JobsTaken != 0 {
		t.Errorf("show m1: %+v", show)
	}
	if r := e.run(t, "miner", "show", m1.Address().String()); r.code != 0 || !strings.Contains(r.stdout, "kind:         cpu") ||
		!strings.Contains(r.stdout, "verified:     yes") || !strings.Contains(r.stdout, "earned:       0 GAS") {
		t.Errorf("show by address: %+v", r)
	}
	// An update: new attributes, same `registered`, leaves.
	if r := e.run(t, "miner", "register", "--key", "m1", "--min-gas", "70", "--kind", "gpu", "--capacity", "8", "--inactive"); r.code != 0 ||
		!strings.Contains(r.stdout, "kind:         gpu") || !strings.Contains(r.stdout, "active:       no") {
		t.Fatalf("update: %+v", r)
	}
	show = minerShowView{}
	e.runJSON(t, &show, "miner", "show", "m1")
	if show.Kind != "gpu" || show.Capacity != 8 || show.Active || show.Endpoint != "" || show.Registered != reg.Height ||
		show.Updated <= reg.Height || !show.Verified {
		t.Errorf("after update: %+v", show)
	}
	// The old record at its height.
	show = minerShowView{}
	e.runJSON(t, &show, "miner", "show", "m1", "--height", strconv.FormatInt(reg.Height, 10))
	if show.Kind != "cpu" || !show.Verified {
		t.Errorf("show --height: %+v", show)
	}
	e.runJSON(t, &reg, "miner", "register", "--key", "m2", "--min-gas", "0", "--kind", "storage")
	if reg.Miner == nil || reg.Miner.Kind != "storage" || reg.Miner.Capacity != 1 || reg.Miner.MinGas != "0" {
		t.Errorf("register m2: %+v", reg.Miner)
	}

	var all []apitype.Miner
	e.runJSON(t, &all, "miner", "list")
	var addrs []string
	for _, m := range all {
		addrs = append(addrs, m.Address)
	}
	if !slices.Contains(addrs, m1.Address().String()) || !slices.Contains(addrs, m2.Address().String()) || !slices.IsSorted(addrs) {
		t.Errorf("list: %v", addrs)
	}
	e.runJSON(t, &all, "miner", "list", "--kind", "gpu")
	if len(all) != 1 || all[0].Address != m1.Address().String() {
		t.Errorf("list --kind gpu: %+v", all)
	}
	e.runJSON(t, &all, "miner", "list", "--limit", "1")
	if len(all) != 1 {
		t.Errorf("list --limit 1: %d", len(all))
	}
	if r := e.run(t, "miner", "list"); r.code != 0 || !strings.Contains(r.stdout, "ADDRESS") || !strings.Contains(r.stdout, m2.Address().String()) {
		t.Errorf("list text: %+v", r)
	}
}

func TestMinerFake(t *testing.T) {
	e, _ := fakeChainEnv(t)
	minerScenario(t, e)
}

// TestMinerEndToEnd runs the miner commands against a real devnet node.
func TestMinerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	env := nodetest.Start(t)
	e := &chainEnv{node: env.URL, home: t.TempDir()}
	e.fund = func(t *testing.T, addr crypto.Address, amount uint64) { env.Fund(t, addr, amount) }
	minerScenario(t, e)
}

// TestMinerBadInput: bad input fails clearly, locally or from the ledger,
// and nothing local-checkable reaches the chain.
func TestMinerBadInput(t *testing.T) {
	e, b := fakeChainEnv(t)
	t.Setenv(cli.EnvPass, "pw")
	m1 := ktKey(t, e.home, "m1", "pw")
	e.fund(t, m1.Address(), 1_000_000)
	reg := []string{"miner", "register", "--key", "m1"}
	before := gtHeight(t, b)
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no key", []string{"miner", "register", "--min-gas", "1"}, "key"},
		{"no min gas", reg, "min-gas"},
		{"negative min gas", append(reg, "--min-gas", "-5"), "negative"},
		{"min gas too large", append(reg, "--min-gas", "99999999999999999999"), "too large"},
		{"bad kind", append(reg, "--min-gas", "1", "--kind", "tpu"), "tpu"},
		{"zero capacity", append(reg, "--min-gas", "1", "--capacity", "0"), "--capacity"},
		{"capacity too large", append(reg, "--min-gas", "1", "--capacity", "5000"), "--capacity"},
		{"ftp endpoint", append(reg, "--min-gas", "1", "--endpoint", "ftp://x.example"), "scheme"},
		{"endpoint with credentials", append(reg, "--min-gas", "1", "--endpoint", "https://u:p@x.example"), "credentials"},
		{"version too long", append(reg, "--min-gas", "1", "--version", strings.Repeat("v", 65)), "software version"},
		{"unknown key", []string{"miner", "register", "--key", "zed", "--min-gas", "1"}, "zed"},
		{"show nobody", []string{"miner", "show", "nobody-here"}, "neither a key"},
		{"show two args", []string{"miner", "show", "a", "b"}, "accepts at most 1 arg"},
		{"show nothing", []string{"miner", "show"}, "which miner"},
		{"show arg and key", []string{"miner", "show", "m1", "--key", "m1"}, "not both"},
		{"list bad kind", []string{"miner", "list", "--kind", "CPU"}, "--kind"},
		{"list bad limit", []string{"miner", "list", "--limit", "500"}, "--limit"},
		{"list bad after", []string{"miner", "list", "--after", "xyz"}, "--after"},
		{"show bad height", []string{"miner", "show", "m1", "--height", "-1"}, "--height"},
	} {
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
	// Refused by the ledger: the fee is below the chain's minimum (2).
	if r := e.run(t, append(reg, "--min-gas", "1", "--fee", "1")...); r.code == 0 || !strings.Contains(r.stderr, "rejected") ||
		!strings.Contains(r.stderr, "fee") {
		t.Errorf("low fee: %+v", r)
	}
	// Not registered.
	if r := e.run(t, "miner", "show", "m1"); r.code == 0 || !strings.Contains(r.stderr, "not_found") && !strings.Contains(r.stderr, "no miner") {
		t.Errorf("show unregistered: %+v", r)
	}
	// A node that is down.
	if r := ktRun(t, e.home, "--node", "http://127.0.0.1:1", "miner", "list"); r.code == 0 || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("node down: %+v", r)
	}
}

// lyingMiner is the fake with Miner answers altered after their proof
// was made.
type lyingMiner struct {
	*apitest.Backend
	lie func(*apitype.Miner)
}

func (l lyingMiner) Miner(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Miner, error) {
	m, err := l.Backend.Miner(ctx, addr, height, prove)
	if err == nil {
		l.lie(&m)
	}
	return m, err
}

// TestMinerShowNotVerified: show exits 2 when the answer does not match
// what its proof proves.
func TestMinerShowNotVerified(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	k, _ := crypto.GenerateKey(nil)
	for i, m := range []*txpb.Msg{apitest.Faucet(k.Address(), 1000), apitest.MinerRegister("cpu", 2, "", 5, "", true)} {
		raw, _ := b.Sign(k, uint64(i), 0, m)
		if res, err := b.SubmitTx(context.Background(), raw, true); err != nil || res.Code != 0 {
			t.Fatal(res, err)
		}
	}
	for _, tc := range []struct {
		name string
		lie  func(*apitype.Miner)
	}{
		{"capacity", func(m *apitype.Miner) { m.Capacity = 64 }},
		{"earned", func(m *apitype.Miner) { m.Earned = "1000000" }},
		{"location of another key", func(m *apitype.Miner) { m.Location.Key = "01" + m.Location.Key[2:] }},
		{"no location", func(m *apitype.Miner) { m.Location = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := gtNode(t, lyingMiner{Backend: b, lie: tc.lie})
			r := ktRun(t, t.TempDir(), "--node", node, "miner", "show", k.Address().String())
			if r.code != 2 || !strings.Contains(r.stdout, "verified:     NO") {
				t.Errorf("%+v, want exit 2 and NO", r)
			}
		})
	}
	// Honest: exit 0.
	if r := ktRun(t, t.TempDir(), "--node", gtNode(t, b), "miner", "show", k.Address().String()); r.code != 0 {
		t.Errorf("honest: %+v", r)
	}
}

var _ api.Backend = lyingMiner{}
