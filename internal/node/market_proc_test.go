package node_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/bench"
	"github.com/virtual-machine/vm/internal/cli"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/miner"
	"github.com/virtual-machine/vm/internal/node"
)

// callOut is the part of `vm call --output json` and `vm result show
// --output json` the market tests read.
type callOut struct {
	RequestID string            `json:"request_id"`
	Status    string            `json:"status"`
	Output    json.RawMessage   `json:"output"`
	GasUsed   uint64            `json:"gas_used"`
	Memo      bool              `json:"memo"`
	Applied   bool              `json:"applied"`
	Cost      string            `json:"cost"`
	Fee       string            `json:"fee"`
	Miners    []apitype.Payment `json:"miners"`
	Rounds    uint32            `json:"rounds"`
	Height    int64             `json:"height"`
}

// marketNet is a devnet process with a keystore home beside it, driven
// through the vm CLI and read through the Go client.
type marketNet struct {
	t    *testing.T
	bin  string
	url  string
	keys string // the CLI's --home: the keystore
	c    *client.Client
	ctx  context.Context

	mu      sync.Mutex
	addrs   map[string]crypto.Address // key name → address
	results []string                  // every request id answered (for the miner counters)
}

// vm runs the vm binary against the devnet with the keystore home and
// returns its stdout; a non-zero exit is an *exec.ExitError wrapped with
// stderr.
func (n *marketNet) vm(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(n.ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.bin, append([]string{"--home", n.keys, "--node", n.url, "--log-level", "warn"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("vm %s: %w\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// mustVM is vm that fails the test on any error.
func (n *marketNet) mustVM(args ...string) []byte {
	n.t.Helper()
	out, err := n.vm(args...)
	if err != nil {
		n.t.Fatal(err)
	}
	return out
}

// addFunded creates key name (`vm keys add`) and funds it from the faucet
// (`vm gas faucet`).
func (n *marketNet) addFunded(name string) crypto.Address {
	n.t.Helper()
	var kv struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal(n.mustVM("keys", "add", name, "--output", "json"), &kv); err != nil {
		n.t.Fatalf("keys add %s: %v", name, err)
	}
	a, err := crypto.ParseAddress(kv.Address)
	if err != nil {
		n.t.Fatal(err)
	}
	n.mustVM("gas", "faucet", name)
	n.mu.Lock()
	n.addrs[name] = a
	n.mu.Unlock()
	return a
}

// call runs `vm call ... --wait --output json` and decodes its answer;
// the error is the command's (a call that expired exits 1 but still
// prints its entry).
func (n *marketNet) call(args ...string) (callOut, error) {
	out, err := n.vm(append(append([]string{"call"}, args...), "--wait", "--output", "json")...)
	var v callOut
	if jerr := json.Unmarshal(out, &v); jerr != nil {
		return v, errors.Join(err, fmt.Errorf("decode %q: %w", out, jerr))
	}
	n.mu.Lock()
	n.results = append(n.results, v.RequestID)
	n.mu.Unlock()
	return v, err
}

// balance reads addr's balance at height (0 = latest).
func (n *marketNet) balance(addr crypto.Address, height int64) uint64 {
	n.t.Helper()
	acc, err := n.c.AccountNoProof(n.ctx, addr, height)
	if err != nil {
		n.t.Fatalf("account %s: %v", addr, err)
	}
	b, err := strconv.ParseUint(acc.Balance, 10, 64)
	if err != nil {
		n.t.Fatal(err)
	}
	return b
}

// miner reads addr's miner record.
func (n *marketNet) miner(addr crypto.Address) apitype.Miner {
	n.t.Helper()
	m, err := n.c.MinerNoProof(n.ctx, addr, 0)
	if err != nil {
		n.t.Fatalf("miner %s: %v", addr, err)
	}
	return m
}

// waitMiner waits until addr is registered and active.
func (n *marketNet) waitMiner(addr crypto.Address, p *proc) {
	n.t.Helper()
	for {
		m, err := n.c.MinerNoProof(n.ctx, addr, 0)
		if err == nil && m.Active {
			return
		}
		if p != nil {
			select {
			case <-p.done:
				n.t.Fatalf("miner %s exited: %v\n%s", addr, p.err, p.stderr)
			default:
			}
		}
		if n.ctx.Err() != nil {
			n.t.Fatalf("miner %s never registered: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startMiner runs `vm miner --key name ...` with its stdout kept (its
// counters, printed as JSON when it stops).
func (n *marketNet) startMiner(name string, extra ...string) (*proc, *bytes.Buffer) {
	n.t.Helper()
	args := append([]string{"--home", n.keys, "--node", n.url, "--log-level", "debug", "--output", "json",
		"miner", "--key", name, "--warm=false"}, extra...)
	p := &proc{t: n.t, cmd: exec.Command(n.bin, args...), stderr: &bytes.Buffer{}, done: make(chan struct{})}
	stdout := &bytes.Buffer{}
	p.cmd.Stdout, p.cmd.Stderr = &lockedWriter{w: stdout}, &lockedWriter{w: p.stderr}
	if err := p.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	n.t.Cleanup(p.kill)
	n.waitMiner(n.addrs[name], p)
	return p, stdout
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// paidTo returns the GAS r pays addr and whether addr is among the paid.
func paidTo(t *testing.T, r apitype.Result, addr crypto.Address) (uint64, bool) {
	t.Helper()
	for _, p := range r.Paid {
		if p.Miner == addr.String() {
			rw, err1 := strconv.ParseUint(p.Reward, 10, 64)
			g, err2 := strconv.ParseUint(p.Gas, 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("payment %+v: %v %v", p, err1, err2)
			}
			return rw + g, true
		}
	}
	return 0, false
}

func contains(list []string, addr crypto.Address) bool {
	for _, s := range list {
		if s == addr.String() {
			return true
		}
	}
	return false
}

// TestMarketProcesses runs issue 5's must-hold cases with real processes
// on loopback: a `vm devnet` and `vm miner` processes, driven by the vm
// CLI (call --wait, result show, contract run/deploy, keys, gas faucet)
// and checked through the Go client.
//
//  1. Built-in miner: a call settles, paid to that miner; the same call
//     again is a memo hit costing exactly 1 GAS; result show agrees; gas
//     used equals a local `contract run` (and so does the result hash).
//  2. The devnet reopened with --miner=false and six miner processes:
//     three honest, one --fault wrong, one --min-gas far above any offer,
//     one --fault copy. Calls with 3 replicas and quorum 2 from three
//     requesters all settle; m1 (honest) is SIGKILLed while it holds an
//     unrevealed seal of a 5-replica request and calls are in flight; it
//     is penalised, never paid for it, and later calls still settle. Each
//     settled round obeys the rule (checkRule): every revealer is paid or
//     marked disagreed, so the wrong miner is never paid and always marked
//     when it revealed; the copier and the picky miner never seal or earn;
//     every miner's agreed, disagreed and earned equal what the
//     resultChain entries say.
//  3. With every miner stopped a request expires at its deadline and its
//     requester is out of the fee only.
//  4. GAS is conserved: the known accounts hold the genesis supply, the
//     escrow is empty, and the stopped node's ledger passes
//     CheckInvariants (supply and escrow).
func TestMarketProcesses(t *testing.T) {
	bin := vmBinary(t)
	t.Setenv(cli.EnvPass, "market-proc-test")
	dir := t.TempDir()
	home := filepath.Join(dir, "devnet")
	port := freePorts(t, 1)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	devArgs := []string{"devnet", "--home", home, "--http", fmt.Sprintf("127.0.0.1:%d", port), "--p2p-port", "0",
		"--log-level", "warn", "--miner-capacity", "2", "--warm=false"}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	n := &marketNet{t: t, bin: bin, url: url, keys: filepath.Join(dir, "keys"), ctx: ctx,
		c: client.New(url, client.WithTimeout(10*time.Second)), addrs: map[string]crypto.Address{}}
	t0 := time.Now()

	dev := startProc(t, bin, url, devArgs...)
	seed, err := os.ReadFile(filepath.Join(home, cli.DevnetMinerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := hex.DecodeString(strings.TrimSpace(string(seed)))
	if err != nil {
		t.Fatal(err)
	}
	bk, err := crypto.KeyFromSeed(sb)
	if err != nil {
		t.Fatal(err)
	}
	builtin := bk.Address()

	// 1. The built-in miner.
	alice := n.addFunded("alice")
	wasmPath := filepath.Join(dir, "echo.wasm")
	if err := os.WriteFile(wasmPath, bench.EchoContract(), 0o600); err != nil {
		t.Fatal(err)
	}
	n.mustVM("contract", "deploy", wasmPath, "--name", "echo", "--version", "1.0.0", "--from", "alice")
	n.waitMiner(builtin, nil)
	callArgs := []string{"echo@^1", "--fn", "echo", "--input", `{"x":1}`, "--from", "alice", "--gas", "100000"}
	before := n.balance(alice, 0)
	first, err := n.call(callArgs...)
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != "settled" || first.Memo || !sameJSON(first.Output, []byte(`{"x":1}`)) || !first.Applied {
		t.Fatalf("first call: %+v, want settled, not memo, output {\"x\":1}", first)
	}
	if len(first.Miners) != 1 || first.Miners[0].Miner != builtin.String() {
		t.Fatalf("first call paid %+v, want the built-in miner %s alone", first.Miners, builtin)
	}
	cost, _ := strconv.ParseUint(first.Cost, 10, 64)
	fee, _ := strconv.ParseUint(first.Fee, 10, 64)
	if p := first.Miners[0]; p.Gas != strconv.FormatUint(first.GasUsed, 10) || first.Cost != sumStr(t, p.Reward, p.Gas) {
		t.Fatalf("first call: payment %+v, cost %s, gas used %d: want gas = gas used × price 1, cost = reward + gas", p, first.Cost, first.GasUsed)
	}
	if got := before - n.balance(alice, 0); got != cost+fee || fee == 0 {
		t.Fatalf("first call took %d GAS from alice, want cost %d + fee %d", got, cost, fee)
	}

	before = n.balance(alice, 0)
	again, err := n.call(callArgs...)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Memo || again.Status != "memo" || again.Cost != "1" || !sameJSON(again.Output, first.Output) || again.GasUsed != first.GasUsed {
		t.Fatalf("same call again: %+v, want a memo hit costing 1 with the first output", again)
	}
	if got := before - n.balance(alice, 0); got != 1 {
		t.Fatalf("memo hit took %d GAS from alice, want exactly 1", got)
	}
	for _, want := range []callOut{first, again} {
		var shown callOut
		if err := json.Unmarshal(n.mustVM("result", "show", want.RequestID, "--output", "json"), &shown); err != nil {
			t.Fatal(err)
		}
		if shown.RequestID != want.RequestID || shown.Status != want.Status || shown.Memo != want.Memo || shown.Cost != want.Cost ||
			shown.GasUsed != want.GasUsed || shown.Height != want.Height || !sameJSON(shown.Output, want.Output) ||
			fmt.Sprint(shown.Miners) != fmt.Sprint(want.Miners) {
			t.Fatalf("result show %s:\n %+v\nvm call printed\n %+v", want.RequestID, shown, want)
		}
	}
	var run struct {
		Status     string  `json:"status"`
		Output     *string `json:"output"`
		GasUsed    uint64  `json:"gas_used"`
		ResultHash string  `json:"result_hash"`
	}
	if err := json.Unmarshal(n.mustVM("contract", "run", "echo@^1", "--fn", "echo", "--input", `{"x":1}`, "--output", "json"), &run); err != nil {
		t.Fatal(err)
	}
	res1, err := n.c.Result(ctx, first.RequestID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if run.GasUsed != first.GasUsed || run.Output == nil || *run.Output != `{"x":1}` || run.ResultHash != res1.ResultHash {
		t.Fatalf("contract run: %+v (output %v); the network settled gas %d, hash %s", run, run.Output, first.GasUsed, res1.ResultHash)
	}
	t.Logf("built-in miner: settled, memo hit, result show, contract run agree (gas %d); %v", first.GasUsed, time.Since(t0).Round(time.Millisecond))

	// 2. Reopen without the built-in miner; six miner processes.
	dev.stop()
	dev = startProc(t, bin, url, append(devArgs, "--miner=false")...)
	t1 := time.Now()
	names := []string{"m1", "m2", "m3", "wrong", "picky", "copier", "r1", "r2", "r3"}
	for _, name := range names {
		n.addFunded(name)
	}
	a := n.addrs
	// --fault is hidden from the help and takes wrong or copy only.
	if help := n.mustVM("miner", "--help"); bytes.Contains(help, []byte("--fault")) {
		t.Fatalf("vm miner --help shows the hidden --fault flag:\n%s", help)
	}
	if out, err := n.vm("miner", "--key", "m1", "--min-gas", "0", "--fault", "lazy"); err == nil || !strings.Contains(err.Error(), "want wrong or copy") {
		t.Fatalf("vm miner --fault lazy: %v\n%s", err, out)
	}
	miners := map[string]*proc{}
	stats := map[string]*bytes.Buffer{}
	for name, extra := range map[string][]string{
		"m1": {"--min-gas", "0"}, "m2": {"--min-gas", "0"}, "m3": {"--min-gas", "0"},
		"wrong":  {"--min-gas", "0", "--fault", "wrong"},
		"picky":  {"--min-gas", "1000000000000"},
		"copier": {"--min-gas", "0", "--fault", "copy"},
	} {
		miners[name], stats[name] = n.startMiner(name, extra...)
	}
	t.Logf("keys funded, six miners registered in %v", time.Since(t1).Round(time.Millisecond))

	// Three requesters each make calls one after another. Alice also asks
	// for 5 replicas, which the 4 executing miners cannot fill, so its
	// commit phase stays open for the whole commit window: once m1 has
	// sealed it (and cannot reveal yet) m1 is SIGKILLed, with other calls
	// in flight too.
	const perRequester = 4
	type outcome struct {
		v         callOut
		err       error
		afterKill bool
	}
	var (
		omu      sync.Mutex
		outcomes []outcome
		killed   bool
		wg       sync.WaitGroup
	)
	defer func() { cancel(); wg.Wait() }() // on a failure: stop the calls and wait for them
	for r := 1; r <= 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// At least perRequester calls, and on until one starts after
			// the kill (at most 3 × perRequester).
			madeAfter := false
			for i := 0; i < 3*perRequester && (i < perRequester || !madeAfter); i++ {
				omu.Lock()
				after := killed
				omu.Unlock()
				madeAfter = madeAfter || after
				v, err := n.call("echo@^1", "--fn", "echo", "--input", fmt.Sprintf(`{"r":%d,"i":%d}`, r, i),
					"--from", fmt.Sprintf("r%d", r), "--gas", "20000", "--replicas", "3", "--quorum", "2", "--deadline", "100")
				omu.Lock()
				outcomes = append(outcomes, outcome{v, err, after})
				omu.Unlock()
			}
		}()
	}
	// The commit window is 5 blocks, a fraction of a second while calls
	// flow: m1's seal events are pushed to the test, which then checks the
	// request still waits for m1's reveal. Up to 5 tries.
	sealEvents, err := n.c.Events(ctx, client.OnlyTypes("tx"), client.ForAddress(a["m1"]))
	if err != nil {
		t.Fatal(err)
	}
	var (
		sealedOut callOut
		sealedErr error
		sealedID  string
	)
	for try := 0; sealedID == "" && try < 5; try++ {
		sealedDone := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(sealedDone)
			sealedOut, sealedErr = n.call("echo@^1", "--fn", "echo", "--input", fmt.Sprintf(`{"five":%d}`, try), "--from", "alice",
				"--gas", "20000", "--replicas", "5", "--quorum", "2", "--deadline", "100")
		}()
	watch:
		for {
			select {
			case ev, ok := <-sealEvents:
				if !ok {
					t.Fatal("the event stream closed")
				}
				for _, e := range ev.Tx.Events {
					if e.Type != "seal" || e.Attributes["miner"] != a["m1"].String() {
						continue
					}
					r, err := n.c.Request(ctx, e.Attributes["id"], 0)
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range r.Seals {
						if r.Replicas == 5 && s.Miner == a["m1"].String() && !s.Revealed {
							sealedID = r.ID
							break watch
						}
					}
				}
			case <-sealedDone:
				t.Logf("try %d: the 5-replica call %s ended before m1 was seen holding its seal (%v)", try, sealedOut.RequestID, sealedErr)
				break watch
			case <-ctx.Done():
				t.Fatal("m1 never sealed a 5-replica request")
			}
		}
	}
	if sealedID == "" {
		t.Fatal("m1 was never seen holding an unrevealed seal in 5 tries")
	}
	miners["m1"].kill()
	omu.Lock()
	killed = true
	doneAtKill := len(outcomes)
	omu.Unlock()
	tKill := time.Now()
	wg.Wait()
	t.Logf("%d calls (3 replicas, quorum 2) done in %v; m1 SIGKILLed holding a seal of %s when %d had settled; the rest took %v",
		len(outcomes), time.Since(t1).Round(time.Millisecond), sealedID[:8], doneAtKill, time.Since(tKill).Round(time.Millisecond))

	// The 5-replica request settles when its reveal window closes, without
	// m1, which is penalised; the wrong miner's reveal is marked.
	sr, err := n.c.Result(ctx, sealedID, 0)
	if err != nil {
		n.dumpMiners(miners)
		t.Fatalf("5-replica request %s: %v (vm call: %v)", sealedID, err, sealedErr)
	}
	if _, ok := paidTo(t, sr, a["m1"]); ok {
		t.Fatalf("5-replica request paid m1: %+v", sr.Paid)
	}
	var u []string
	switch {
	case sealedOut.RequestID != sealedID:
		t.Fatalf("vm call printed request %s, the test saw m1 seal %s", sealedOut.RequestID, sealedID)
	case sr.Status == "expired" && sr.Rounds > 1 && sealedErr != nil:
		// Every round lapsed until the deadline: live miners sealed
		// and did not reveal (see lateSeal). The escrow went back.
		t.Logf("NOTE: the 5-replica request expired after %d lapsed rounds", sr.Rounds)
		n.history(sealedID)
	case sealedErr != nil || sr.Status != "settled":
		n.history(sealedID)
		n.dumpMiners(miners)
		t.Fatalf("5-replica request: %+v / %+v (%v); want settled", sealedOut, sr, sealedErr)
	default:
		u = n.checkRule(sr)
	}
	switch {
	case sr.Status == "expired":
	case sr.Rounds > 1: // round 1 lapsed without a quorum (a slow honest miner); m1 is dead since
		if slices.Contains(u, a["m1"].String()) {
			t.Fatalf("5-replica request, round %d: dead m1 sealed it: %v", sr.Rounds, n.names(u))
		}
		t.Logf("the 5-replica request's round 1 lapsed; it settled in round %d", sr.Rounds)
		if len(u) > 0 {
			n.lateSeal(sr.RequestID, u)
		} else {
			n.history(sealedID)
		}
	case !slices.Contains(u, a["m1"].String()):
		n.history(sealedID)
		t.Fatalf("5-replica request: unrevealed sealers %v, want m1 among them", n.names(u))
	default:
		// The round settled when its reveal window closed, charging m1
		// the penalty in that block (m1, dead, pays nothing else).
		if len(u) > 1 { // see lateSeal
			n.lateSeal(sr.RequestID, u)
		}
		pen := n.balance(a["m1"], sr.Settled-1) - n.balance(a["m1"], sr.Settled)
		if pen == 0 || pen%market.Default().UnrevealedPenalty != 0 {
			t.Fatalf("m1 paid %d GAS in block %d, where it should be penalised %d", pen, sr.Settled, market.Default().UnrevealedPenalty)
		}
		if !contains(sr.Unrevealed, a["m1"]) {
			t.Fatalf("the settled entry of %s does not name the penalised m1 as unrevealed: %v", sealedID[:8], sr.Unrevealed)
		}
	}

	var afterKill int
	for _, o := range outcomes {
		if o.err != nil {
			n.history(o.v.RequestID)
			n.dumpMiners(miners)
			t.Fatalf("call: %v", o.err)
		}
		r, err := n.c.Result(ctx, o.v.RequestID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if o.v.Status != "settled" || r.Status != "settled" || o.v.Memo || !r.Applied {
			t.Fatalf("call %s: %+v / %+v, want settled", o.v.RequestID, o.v, r)
		}
		if len(r.Paid) < 2 || len(r.Paid) > 3 {
			t.Fatalf("call %s paid %d miners, want the 2..3 agreeing of 3 replicas", r.RequestID, len(r.Paid))
		}
		for _, bad := range []string{"wrong", "picky", "copier"} {
			if _, ok := paidTo(t, r, a[bad]); ok {
				t.Fatalf("call %s paid %s: %+v", r.RequestID, bad, r.Paid)
			}
		}
		for _, d := range r.Disagreed {
			if d != a["wrong"].String() {
				t.Fatalf("call %s marks %s disagreed; only the wrong miner may be: %+v", r.RequestID, d, r)
			}
		}
		for _, u := range n.checkRule(r) {
			if u != a["m1"].String() {
				n.lateSeal(r.RequestID, []string{u})
			} else if o.afterKill {
				t.Fatalf("call %s, made after m1 was killed, has m1's seal", r.RequestID)
			}
		}
		if o.afterKill {
			afterKill++
			if _, ok := paidTo(t, r, a["m1"]); ok || contains(r.Unrevealed, a["m1"]) {
				t.Fatalf("call %s, made after m1 was killed, names m1: %+v", r.RequestID, r)
			}
		}
	}
	if afterKill == 0 {
		t.Fatal("no call was made after the kill")
	}
	if m1 := n.miner(a["m1"]); m1.TimedOut == 0 {
		t.Fatalf("m1 held an unrevealed seal when killed but was not penalised: %+v", m1)
	}

	// 3. Every miner stopped: a request nobody answers expires.
	for name, p := range miners {
		if name != "m1" {
			p.stop()
		}
	}
	r1 := a["r1"]
	before = n.balance(r1, 0)
	exp, err := n.call("echo@^1", "--fn", "echo", "--input", `{"nobody":true}`, "--from", "r1", "--gas", "20000",
		"--replicas", "1", "--quorum", "1", "--deadline", "10")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("expired call: exit %v, want 1", err)
	}
	expFee, _ := strconv.ParseUint(exp.Fee, 10, 64)
	if exp.Status != "expired" || len(exp.Miners) != 0 || expFee == 0 {
		t.Fatalf("unanswered call: %+v, want expired, no miner, a fee", exp)
	}
	if got := before - n.balance(r1, 0); got != expFee {
		t.Fatalf("expired call took %d GAS from r1, want the fee %d only", got, expFee)
	}
	t.Logf("unanswered call expired at height %d; r1 paid only its fee %d", exp.Height, expFee)

	// Miner counters against the resultChain: agreed = settled results
	// paying the miner, earned = what they paid it (memo fees included).
	all := map[string]apitype.Result{}
	for _, id := range n.results {
		r, err := n.c.Result(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		all[id] = r
	}
	recs := map[string]apitype.Miner{}
	minerNames := []string{"builtin", "m1", "m2", "m3", "wrong", "picky", "copier"}
	a["builtin"] = builtin
	for _, name := range minerNames {
		m := n.miner(a[name])
		recs[name] = m
		var agreed, earned, disagreed uint64
		for _, r := range all {
			if g, ok := paidTo(t, r, a[name]); ok {
				earned += g
				if r.Status == "settled" {
					agreed++
				}
			}
			if contains(r.Disagreed, a[name]) {
				disagreed++
			}
		}
		if m.Agreed != agreed || m.Earned != strconv.FormatUint(earned, 10) || m.Disagreed != disagreed {
			t.Errorf("%s: record agreed %d earned %s disagreed %d; the resultChain says %d, %d, %d",
				name, m.Agreed, m.Earned, m.Disagreed, agreed, earned, disagreed)
		}
		t.Logf("%-7s jobs_taken %2d agreed %2d disagreed %2d timed_out %d earned %s", name, m.JobsTaken, m.Agreed, m.Disagreed, m.TimedOut, m.Earned)
	}
	for _, name := range []string{"m2", "m3"} {
		if recs[name].Agreed == 0 || recs[name].Earned == "0" {
			t.Errorf("honest %s never agreed or earned: %+v", name, recs[name])
		}
	}
	w := recs["wrong"]
	wrongDisagreed := 0
	for _, r := range all {
		if contains(r.Disagreed, a["wrong"]) {
			wrongDisagreed++
		}
	}
	if w.Agreed != 0 || w.Earned != "0" || w.Disagreed == 0 || w.Disagreed != uint64(wrongDisagreed) || w.JobsTaken < w.Disagreed+w.TimedOut {
		t.Errorf("wrong miner: %+v; want never paid, disagreed on each of the %d results naming it (> 0)", w, wrongDisagreed)
	}
	if w.TimedOut != 0 { // see lateSeal
		t.Logf("NOTE: the wrong miner was penalised %d times for a seal it did not reveal", w.TimedOut)
	}
	if p := recs["picky"]; p.JobsTaken != 0 || p.Agreed != 0 || p.Earned != "0" {
		t.Errorf("picky miner sealed: %+v", p)
	}
	if c := recs["copier"]; c.JobsTaken != 0 || c.Agreed != 0 || c.Earned != "0" {
		t.Errorf("copying miner sealed or earned: %+v", c)
	}
	for name, check := range map[string]func(s miner.Stats) bool{
		"picky": func(s miner.Stats) bool { return s.Taken == 0 && s.Seals == 0 && s.BelowMinGas > 0 },
		"copier": func(s miner.Stats) bool {
			return s.Taken > 0 && s.Seals == 0 && s.Reveals == 0 && s.Executed == 0 && s.Refused > 0
		},
		"wrong": func(s miner.Stats) bool { return s.Seals > 0 && s.Reveals > 0 },
		"m2":    func(s miner.Stats) bool { return s.Seals > 0 && s.Reveals > 0 && s.Executed > 0 },
	} {
		var s miner.Stats
		if err := json.Unmarshal(stats[name].Bytes(), &s); err != nil {
			t.Fatalf("%s stats %q: %v", name, stats[name], err)
		}
		t.Logf("%-7s agent: %+v", name, s)
		if !check(s) {
			t.Errorf("%s agent counters: %+v", name, s)
		}
		if name != "wrong" {
			continue
		}
		// Every reveal the ledger took from the wrong miner is in a round
		// that settled (none was re-offered), so each was marked.
		rounds := uint32(1)
		for _, r := range all {
			rounds = max(rounds, r.Rounds)
		}
		if rounds == 1 && s.Reveals != w.Disagreed {
			t.Errorf("the wrong miner revealed %d times in rounds that settled but is marked disagreed %d times", s.Reveals, w.Disagreed)
		}
	}

	// 4. GAS conservation.
	stt, err := n.c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := stt.LatestHeight
	known := map[string]crypto.Address{"fees": ledger.FeeCollector(), "escrow": ledger.EscrowAccount(), "faucet": ledger.FaucetPool()}
	for name, addr := range a {
		known[name] = addr
	}
	var sum uint64
	for _, addr := range known {
		sum += n.balance(addr, h)
	}
	if esc := n.balance(ledger.EscrowAccount(), h); esc != 0 {
		t.Errorf("escrow holds %d GAS with no request open", esc)
	}
	want := ledger.DevnetFaucetSupply + cli.DevnetMinerFunds
	if sum != want {
		t.Errorf("the %d known accounts hold %d GAS at height %d, genesis supply is %d", len(known), sum, h, want)
	}
	dev.stop()
	app, err := ledger.New(ledger.Config{Dir: filepath.Join(home, "data", "app"), ChainID: node.DevnetChainID})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	q, err := app.Query(ctx, &abcitypes.QueryRequest{Path: ledger.PathSupply})
	if err != nil || q.Code != 0 {
		t.Fatalf("supply query: %+v %v", q, err)
	}
	var supply ledger.Supply
	if err := json.Unmarshal(q.Value, &supply); err != nil {
		t.Fatal(err)
	}
	if supply.Total != want {
		t.Errorf("supply %d, want %d", supply.Total, want)
	}
	if err := app.CheckInvariants(); err != nil {
		t.Errorf("ledger invariants after the run: %v", err)
	}
	t.Logf("GAS conserved: %d known accounts hold the supply %d; escrow empty; invariants hold; total %v", len(known), want, time.Since(t0).Round(time.Millisecond))
}

// checkRule checks settled result r (quorum above 1) against the
// settlement rule, using the request's final round as stored at the
// settling height: every sealer that revealed is either paid (it agreed)
// or marked disagreed, at least the quorum is paid, and no one outside
// the round is named. It returns the round's sealers that never revealed.
func (n *marketNet) checkRule(r apitype.Result) (unrevealed []string) {
	n.t.Helper()
	req, err := n.c.Request(n.ctx, r.RequestID, r.Settled)
	if err != nil {
		n.t.Fatalf("request %s at %d: %v", r.RequestID, r.Settled, err)
	}
	if req.Round != r.Rounds || req.Status != "settled" {
		n.t.Fatalf("request %s at its settling height: round %d status %s; the result says round %d", r.RequestID, req.Round, req.Status, r.Rounds)
	}
	revealed := map[string]bool{}
	for _, s := range req.Seals {
		if s.Revealed {
			revealed[s.Miner] = true
		} else {
			unrevealed = append(unrevealed, s.Miner)
		}
	}
	named := map[string]bool{}
	for _, p := range r.Paid {
		named[p.Miner] = true
	}
	for _, d := range r.Disagreed {
		if named[d] {
			n.t.Fatalf("request %s: %s both paid and disagreed: %+v", r.RequestID, d, r)
		}
		named[d] = true
	}
	if len(named) != len(revealed) || len(r.Paid) < int(req.Quorum) {
		n.t.Fatalf("request %s: paid %+v, disagreed %v; the round's revealed sealers are %v (quorum %d)", r.RequestID, r.Paid, r.Disagreed, revealed, req.Quorum)
	}
	for m := range named {
		if !revealed[m] {
			n.t.Fatalf("request %s names %s, which did not reveal in the round: seals %+v", r.RequestID, m, req.Seals)
		}
	}
	return unrevealed
}

// history logs request id's round, phase and seals at each height from
// its inclusion to its result (a diagnostic for a failed check).
func (n *marketNet) history(id string) {
	n.t.Helper()
	r, err := n.c.Request(n.ctx, id, 0)
	if err != nil {
		n.t.Logf("history of %s: %v", id, err)
		return
	}
	last := ""
	for h := r.Included; h <= r.Height; h++ {
		v, err := n.c.Request(n.ctx, id, h)
		if err != nil {
			n.t.Logf("history of %s at %d: %v", id, h, err)
			continue
		}
		line := fmt.Sprintf("round %d start %d closed %d phase %s status %s seals %+v", v.Round, v.Start, v.ClosedAt, v.Phase, v.Status, v.Seals)
		if line != last {
			n.t.Logf("%s @%d: %s", id[:8], h, line)
			last = line
		}
		if v.Status != "open" {
			break
		}
	}
}

// lateSeal notes live miners that sealed request id's settling round and
// never revealed it (they are penalised like a dead one). A seal computed
// for an earlier round used to land in the next one (now refused: seals
// name their round's start); a live miner can still be too slow to reveal
// within the window on a saturated machine, so this is logged, not failed.
func (n *marketNet) lateSeal(id string, miners []string) {
	n.t.Helper()
	n.t.Logf("NOTE: request %s: live miners %v sealed its settling round and never revealed", id[:8], n.names(miners))
	n.history(id)
}

// names maps addresses to the test's key names, for messages.
func (n *marketNet) names(addrs []string) []string {
	out := make([]string, len(addrs))
	for i, s := range addrs {
		out[i] = s
		for name, a := range n.addrs {
			if a.String() == s {
				out[i] = name
			}
		}
	}
	return out
}

// dumpMiners logs the miner processes' stderr (a diagnostic).
func (n *marketNet) dumpMiners(miners map[string]*proc) {
	for name, p := range miners {
		lw := p.cmd.Stderr.(*lockedWriter)
		lw.mu.Lock()
		b := bytes.Clone(lw.w.Bytes())
		lw.mu.Unlock()
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		n.t.Logf("miner %s (%s) stderr:\n%s", name, n.addrs[name], b)
	}
}

// sumStr adds two decimal amounts.
func sumStr(t *testing.T, a, b string) string {
	t.Helper()
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("amounts %q %q", a, b)
	}
	return strconv.FormatUint(x+y, 10)
}
