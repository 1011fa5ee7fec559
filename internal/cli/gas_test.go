package cli_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/cli"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// gtNode serves the API over b on a loopback httptest server.
func gtNode(t *testing.T, b api.Backend) string {
	t.Helper()
	srv := api.New(b, api.Options{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	return ts.URL
}

func gtBackend(t *testing.T) *apitest.Backend {
	t.Helper()
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 1, FaucetMax: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func gtHeight(t *testing.T, b *apitest.Backend) int64 {
	t.Helper()
	st, err := b.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.LatestHeight
}

func gtBalance(t *testing.T, home, node, who string) map[string]any {
	t.Helper()
	r := ktRun(t, home, "--node", node, "gas", "balance", who, "-o", "json")
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("balance %s: %+v: %v", who, r, err)
	}
	if r.code != 0 {
		t.Fatalf("balance %s: %+v", who, r)
	}
	return v
}

func TestGas(t *testing.T) {
	home := t.TempDir()
	b := gtBackend(t)
	node := gtNode(t, b)
	t.Setenv(cli.EnvPass, "pw")
	alice := ktKey(t, home, "alice", "pw")
	bob := ktKey(t, home, "bob", "pw")
	carol, _ := crypto.GenerateKey(nil) // no local key

	r := ktRun(t, home, "--node", node, "gas", "faucet", "alice", "--amount", "500", "-o", "json")
	var res apitype.SubmitResult
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Code != 0 || res.Height == 0 || len(res.Hash) != 64 {
		t.Fatalf("faucet: %+v", r)
	}

	// balance -o json has exactly the documented shape and is verified.
	v := gtBalance(t, home, node, "alice")
	keys := []string{}
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "address,balance,height,nonce,verified" {
		t.Errorf("balance keys %v", keys)
	}
	if v["address"] != alice.Address().String() || v["balance"] != "500" || v["nonce"] != 1.0 || v["verified"] != true || v["height"].(float64) < 2 {
		t.Errorf("balance = %v", v)
	}

	// send by key name with the chain's minimum fee, then by address with --fee.
	if r := ktRun(t, home, "--node", node, "gas", "send", "--from", "alice", "bob", "7"); r.code != 0 || !strings.Contains(r.stdout, "status: committed") {
		t.Fatalf("send: %+v", r)
	}
	if r := ktRun(t, home, "--node", node, "gas", "send", "--from", "alice", bob.Address().String(), "3", "--fee", "2"); r.code != 0 {
		t.Fatalf("send to address: %+v", r)
	}
	if v := gtBalance(t, home, node, "bob"); v["balance"] != "10" || v["verified"] != true {
		t.Errorf("bob = %v", v)
	}
	if v := gtBalance(t, home, node, alice.Address().String()); v["balance"] != "487" || v["nonce"] != 3.0 {
		t.Errorf("alice = %v (500 - 7 - 1 - 3 - 2)", v)
	}

	// the faucet for a bare address needs --from.
	if r := ktRun(t, home, "--node", node, "gas", "faucet", carol.Address().String()); r.code == 0 || !strings.Contains(r.stderr, "--from") {
		t.Fatalf("faucet to an address without --from: %+v", r)
	}
	if r := ktRun(t, home, "--node", node, "gas", "faucet", carol.Address().String(), "--from", "bob", "--amount", "9"); r.code != 0 {
		t.Fatalf("faucet to an address: %+v", r)
	}
	if v := gtBalance(t, home, node, carol.Address().String()); v["balance"] != "9" {
		t.Errorf("carol = %v", v)
	}

	// an old height, text output.
	r = ktRun(t, home, "--node", node, "gas", "balance", "alice", "--height", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "balance:  0 GAS") || !strings.Contains(r.stdout, "verified: yes") {
		t.Errorf("balance at height 1: %+v", r)
	}

	// status.
	r = ktRun(t, home, "--node", node, "status", "-o", "json")
	var st apitype.Status
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.ChainID != b.ChainID() || st.LatestHeight != gtHeight(t, b) {
		t.Errorf("status: %+v", r)
	}
	if r := ktRun(t, home, "--node", node, "status"); r.code != 0 || !strings.Contains(r.stdout, "chain:         "+b.ChainID()) {
		t.Errorf("status text: %+v", r)
	}
}

// TestGasBadInput checks that bad input fails clearly and sends nothing.
func TestGasBadInput(t *testing.T) {
	home := t.TempDir()
	b := gtBackend(t)
	node := gtNode(t, b)
	t.Setenv(cli.EnvPass, "pw")
	ktKey(t, home, "alice", "pw")
	ktKey(t, home, "bob", "pw")
	if r := ktRun(t, home, "--node", node, "gas", "faucet", "alice", "--amount", "100"); r.code != 0 {
		t.Fatalf("faucet: %+v", r)
	}
	tests := []struct {
		name    string
		in      []string
		noPass  bool
		pass    string
		wantErr string
		sends   bool // reaches the chain (and is rejected there)
	}{
		{name: "zero", in: []string{"gas", "send", "--from", "alice", "bob", "0"}, wantErr: "must be positive"},
		{name: "negative", in: []string{"gas", "send", "--from", "alice", "bob", "--", "-5"}, wantErr: "cannot be negative"},
		{name: "negative as a flag", in: []string{"gas", "send", "--from", "alice", "bob", "-5"}, wantErr: "unknown shorthand flag"},
		{name: "not a number", in: []string{"gas", "send", "--from", "alice", "bob", "ten"}, wantErr: "whole number"},
		{name: "fraction", in: []string{"gas", "send", "--from", "alice", "bob", "1.5"}, wantErr: "whole number"},
		{name: "uint64 overflow", in: []string{"gas", "send", "--from", "alice", "bob", "18446744073709551616"}, wantErr: "too large"},
		{name: "over MaxAmount", in: []string{"gas", "send", "--from", "alice", "bob", "4611686018427387905"}, wantErr: "too large"},
		{name: "bad fee", in: []string{"gas", "send", "--from", "alice", "bob", "1", "--fee", "-1"}, wantErr: "--fee"},
		{name: "faucet zero", in: []string{"gas", "faucet", "alice", "--amount", "0"}, wantErr: "must be positive"},
		{name: "faucet garbage", in: []string{"gas", "faucet", "alice", "--amount", "lots"}, wantErr: "whole number"},
		{name: "no --from", in: []string{"gas", "send", "bob", "1"}, wantErr: "--from NAME is required"},
		{name: "unknown recipient", in: []string{"gas", "send", "--from", "alice", "zed", "1"}, wantErr: "neither a key"},
		{name: "unknown sender", in: []string{"gas", "send", "--from", "zed", "bob", "1"}, wantErr: "key not found"},
		{name: "bad address", in: []string{"gas", "balance", "0xabc"}, wantErr: "neither a key"},
		{name: "negative height", in: []string{"gas", "balance", "alice", "--height", "-1"}, wantErr: "--height"},
		{name: "future height", in: []string{"gas", "balance", "alice", "--height", "99999"}, wantErr: "no state at height"},
		{name: "wrong passphrase", in: []string{"gas", "send", "--from", "alice", "bob", "1"}, pass: "nope", wantErr: "wrong passphrase"},
		{name: "no passphrase", in: []string{"gas", "send", "--from", "alice", "bob", "1"}, noPass: true, wantErr: "no passphrase"},
		{name: "insufficient funds", in: []string{"gas", "send", "--from", "alice", "bob", "1000"}, wantErr: "insufficient_funds", sends: true},
		{name: "faucet over the cap", in: []string{"gas", "faucet", "bob", "--amount", "2000000"}, wantErr: "(limit)", sends: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.noPass {
				ktNoPassphrase(t)
			}
			if tc.pass != "" {
				t.Setenv(cli.EnvPass, tc.pass)
			}
			before := gtHeight(t, b)
			r := ktRun(t, home, append([]string{"--node", node}, tc.in...)...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.wantErr) {
				t.Fatalf("%+v, want error %q", r, tc.wantErr)
			}
			if after := gtHeight(t, b); (after != before) != tc.sends {
				t.Errorf("height %d -> %d: sent=%v, want %v", before, after, after != before, tc.sends)
			}
		})
	}
	if v := gtBalance(t, home, node, "alice"); v["balance"] != "100" {
		t.Errorf("alice = %v after only bad input", v)
	}
}

// liar is a node that lies about accounts in one way.
type liar struct {
	*apitest.Backend
	lie       func(*apitype.Account)
	blk       func(*apitype.Block)
	hideAbove int64 // blocks above this height are "not there yet" (0: none)
}

func (l liar) Account(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Account, error) {
	a, err := l.Backend.Account(ctx, addr, height, prove)
	if err == nil && l.lie != nil {
		l.lie(&a)
	}
	return a, err
}

func (l liar) Block(ctx context.Context, height int64) (apitype.Block, error) {
	if l.hideAbove > 0 && height > l.hideAbove {
		return apitype.Block{}, vmerr.E("liar", vmerr.NotFound, "no block at height %d", height)
	}
	b, err := l.Backend.Block(ctx, height)
	if err == nil && l.blk != nil {
		l.blk(&b)
	}
	return b, err
}

// TestGasBalanceVerification checks each lie a node can tell about a
// balance is caught: exit status 2 and verified false.
func TestGasBalanceVerification(t *testing.T) {
	home := t.TempDir()
	b := gtBackend(t)
	t.Setenv(cli.EnvPass, "pw")
	ktKey(t, home, "alice", "pw")
	if r := ktRun(t, home, "--node", gtNode(t, b), "gas", "faucet", "alice", "--amount", "50"); r.code != 0 {
		t.Fatalf("faucet: %+v", r)
	}
	other := func(hexs string) string { // flip the last hex digit
		c := "0"
		if strings.HasSuffix(hexs, "0") {
			c = "1"
		}
		return hexs[:len(hexs)-1] + c
	}
	tests := []struct {
		name    string
		in      liar
		height  string
		wantErr string
	}{
		{name: "honest", in: liar{}},
		// Block 2 holds the faucet tx; block 3 is empty, its header holds
		// the state after block 2, unchanged by block 3.
		{name: "next block not made, empty block anchors", in: liar{hideAbove: 3}, height: "3"},
		{name: "next block not made, block with txs does not anchor", in: liar{hideAbove: 2}, height: "2", wantErr: "no block commits"},
		{name: "inflated balance", in: liar{lie: func(a *apitype.Account) { a.Balance = "5000" }}, wantErr: "the proof is of balance 50"},
		{name: "value and balance both changed", in: liar{lie: func(a *apitype.Account) {
			a.Balance = "256"
			a.Location.Value = strings.Repeat("0", 12) + "0100" + a.Location.Value[16:]
		}}, wantErr: "proof does not verify"},
		{name: "proof for another key", in: liar{lie: func(a *apitype.Account) { a.Location.Key = other(a.Location.Key) }}, wantErr: "not account"},
		{name: "forged app hash", in: liar{lie: func(a *apitype.Account) { a.Location.AppHash = other(a.Location.AppHash) }}, wantErr: "proof does not verify"},
		{name: "header disagrees", in: liar{blk: func(b *apitype.Block) { b.AppHash = other(b.AppHash) }}, wantErr: "is not block"},
		{name: "no proof", in: liar{lie: func(a *apitype.Account) { a.Location = nil }}, wantErr: "no location"},
		{name: "wrong chain", in: liar{lie: func(a *apitype.Account) { a.Location.ChainID = "elsewhere" }}, wantErr: "on chain \"elsewhere\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Backend = b
			args := []string{"--node", gtNode(t, tc.in), "gas", "balance", "alice", "-o", "json"}
			if tc.height != "" {
				args = append(args, "--height", tc.height)
			}
			r := ktRun(t, home, args...)
			var v map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
				t.Fatalf("%+v: %v", r, err)
			}
			if tc.wantErr == "" {
				if r.code != 0 || v["verified"] != true {
					t.Fatalf("%+v", r)
				}
				return
			}
			msg, _ := v["verify_error"].(string)
			if r.code != 2 || v["verified"] != false || !strings.Contains(msg, tc.wantErr) {
				t.Fatalf("code %d, %v; want verify_error containing %q", r.code, v, tc.wantErr)
			}
		})
	}
	// --no-verify reports unverified without failing.
	r := ktRun(t, home, "--node", gtNode(t, b), "gas", "balance", "alice", "--no-verify", "-o", "json")
	var v map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &v) != nil || v["verified"] != false || v["balance"] != "50" {
		t.Fatalf("--no-verify: %+v", r)
	}
}

func TestStatusNodeDown(t *testing.T) {
	r := ktRun(t, t.TempDir(), "--node", "http://127.0.0.1:1", "status")
	if r.code == 0 || !strings.Contains(r.stderr, "client.status") {
		t.Fatalf("%+v", r)
	}
}

// TestGasEndToEnd runs keys, faucet, send, balance (verified) and status
// against a real devnet node: CometBFT, the ledger and the API.
func TestGasEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	env := nodetest.Start(t)
	home := t.TempDir()
	t.Setenv(cli.EnvPass, "pw")
	run := func(args ...string) ktResult {
		t.Helper()
		return ktRun(t, home, append([]string{"--node", env.URL}, args...)...)
	}
	ktKey(t, home, "alice", "pw")
	r := run("keys", "add", "bob") // the real KDF once
	bob := strings.TrimSpace(r.stdout)
	if r.code != 0 || !hexAddr.MatchString(bob) {
		t.Fatalf("keys add: %+v", r)
	}
	if r := run("gas", "faucet", "alice", "--amount", "1000", "-o", "json"); r.code != 0 {
		t.Fatalf("faucet: %+v", r)
	}
	if r := run("gas", "send", "--from", "alice", "bob", "250", "-o", "json"); r.code != 0 {
		t.Fatalf("send: %+v", r)
	}
	st, err := env.Client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fee, _ := strconv.ParseUint(st.MinFee, 10, 64)
	for _, tc := range []struct {
		who, balance string
		nonce        float64
	}{
		{"bob", "250", 0},
		{"alice", strconv.FormatUint(1000-250-fee, 10), 2},
	} {
		v := gtBalance(t, home, env.URL, tc.who)
		if v["balance"] != tc.balance || v["nonce"] != tc.nonce || v["verified"] != true {
			t.Errorf("%s: %v, want balance %s nonce %v verified", tc.who, v, tc.balance, tc.nonce)
		}
	}
	if r := run("gas", "send", "--from", "bob", "alice", "1000000"); r.code == 0 || !strings.Contains(r.stderr, "insufficient_funds") {
		t.Errorf("overspend: %+v", r)
	}
	r = run("status", "-o", "json")
	var got apitype.Status
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil || got.ChainID != nodetest.ChainID || got.LatestHeight < 2 {
		t.Errorf("status: %+v", r)
	}
}
