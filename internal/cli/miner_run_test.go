package cli_test

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/bench"
	"github.com/virtual-machine/vm/internal/cli"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// mrDevnet runs `vm devnet` in home with extra flags until the test ends
// and returns its API URL and stdout.
func mrDevnet(t testing.TB, home string, flags ...string) (string, *dnBuf) {
	t.Helper()
	addr := dnFreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb dnBuf
	done := make(chan int, 1)
	args := append([]string{"--home", home, "--log-level", "warn", "devnet", "--http", addr, "--p2p-port", "0"}, flags...)
	go func() { done <- cli.Run(ctx, args, strings.NewReader(""), &out, &errb) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("devnet exit %d\n%s", code, errb.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("devnet did not stop")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Ctrl-C") {
		select {
		case code := <-done:
			t.Fatalf("devnet exited %d\n%s\n%s", code, out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("devnet did not start\n%s", errb.String())
		}
	}
	return "http://" + addr, &out
}

// mrEcho is a module exporting "echo", which writes its input.
func mrEcho() []byte { return bench.EchoContract() }

// mrCall funds a fresh key from the faucet, deploys echo, submits one
// quorum-1 request and returns its settled result; then it deploys a
// composite of two echo steps and checks a call of it settles too.
func mrCall(t *testing.T, url string) (paidTo string, output string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := client.New(url)
	key, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := key.Address()
	send := func(fee uint64, msg *txpb.Msg) [32]byte {
		r, err := c.Send(ctx, key, []*txpb.Msg{msg}, fee, true)
		if err != nil || r.Code != 0 {
			t.Fatalf("send: %+v %v", r, err)
		}
		h, _ := tx.ParseHash(r.Hash)
		return h
	}
	send(0, &txpb.Msg{Sum: &txpb.Msg_Faucet{Faucet: &txpb.Faucet{To: addr[:], Amount: 1_000_000}}})
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	perKiB, _ := strconv.ParseUint(st.DeployFeePerKiB, 10, 64)
	d := &txpb.Deploy{Name: "echo", Version: "1.0.0", Code: mrEcho()}
	fee, _ := contract.DeployFee(perKiB, d)
	send(fee+1, &txpb.Msg{Sum: &txpb.Msg_Deploy{Deploy: d}})
	h := send(1, &txpb.Msg{Sum: &txpb.Msg_Request{Request: &txpb.Request{Contract: "echo@^1", Fn: "echo",
		Input: []byte("hi"), GasLimit: 100_000, Price: 1, Reward: 10, Replicas: 1, Quorum: 1, Deadline: 100}}})
	paidTo, output = mrSettled(ctx, t, c, market.RequestID(h, 0))
	// A composite of two echo steps runs as one request through the same
	// miner: (twice@^1).run({"x":1}) = echo(echo(input)).
	d = &txpb.Deploy{Name: "twice", Version: "1.0.0", Manifest: []byte(`{"steps":[
		{"id":"a","contract":"echo@^1","fn":"echo","input":{"pointer":"/input"}},
		{"id":"b","contract":"echo@^1","fn":"echo","input":{"pointer":"/steps/a"}}]}`)}
	fee, _ = contract.DeployFee(perKiB, d)
	send(fee+1, &txpb.Msg{Sum: &txpb.Msg_Deploy{Deploy: d}})
	h = send(1, &txpb.Msg{Sum: &txpb.Msg_Request{Request: &txpb.Request{Contract: "twice@^1", Fn: "run",
		Input: []byte(`{"x":1}`), GasLimit: 100_000, Price: 1, Reward: 10, Replicas: 1, Quorum: 1, Deadline: 100}}})
	if _, out := mrSettled(ctx, t, c, market.RequestID(h, 0)); out != `{"x":1}` {
		t.Fatalf("composite output %q, want {\"x\":1}", out)
	}
	return paidTo, output
}

// mrSettled waits for request id's result and checks it settled with one
// miner paid.
func mrSettled(ctx context.Context, t *testing.T, c *client.Client, id [32]byte) (paidTo, output string) {
	t.Helper()
	for {
		r, err := c.Result(ctx, hex.EncodeToString(id[:]), 0)
		if err == nil {
			if r.Status != "settled" || len(r.Paid) != 1 || r.ExecStatus != "ok" {
				t.Fatalf("result %+v", r)
			}
			return r.Paid[0].Miner, string(r.Output)
		}
		if vmerr.KindOf(err) != vmerr.NotFound {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			t.Fatal("the request did not settle")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestDevnetBuiltInMiner: `vm devnet` runs a miner (its key kept in the
// home, funded at genesis) that settles a quorum-1 call with nothing else
// started.
func TestDevnetBuiltInMiner(t *testing.T) {
	home := t.TempDir()
	url, out := mrDevnet(t, home, "--miner-capacity", "2", "--warm=false")
	b, err := os.ReadFile(filepath.Join(home, cli.DevnetMinerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := hex.DecodeString(strings.TrimSpace(string(b)))
	key, err := crypto.KeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Miner:   "+key.Address().String()) {
		t.Fatalf("output does not name the miner:\n%s", out.String())
	}
	paidTo, output := mrCall(t, url)
	if paidTo != key.Address().String() || output != "hi" {
		t.Fatalf("paid %s output %q; want the built-in miner %s and \"hi\"", paidTo, output, key.Address())
	}
}

// TestMinerRun: `vm miner --key --min-gas` runs the agent against a devnet
// without its built-in miner, settles a call and prints its counters on
// Ctrl-C; bad flags are refused and a bare `vm miner` prints help.
func TestMinerRun(t *testing.T) {
	home := t.TempDir()
	url, _ := mrDevnet(t, home, "--miner=false")
	t.Setenv(cli.EnvPass, "correct horse")
	run := func(ctx context.Context, args ...string) (int, string, string) {
		var out, errb dnBuf
		code := cli.Run(ctx, append([]string{"--home", home, "--node", url}, args...), strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"bare prints help", []string{"miner"}, 0, "Usage:"},
		{"no min gas", []string{"miner", "--key", "m1"}, 1, "--min-gas"},
		{"bad capacity", []string{"miner", "--key", "m1", "--min-gas", "0", "--capacity", "0"}, 1, "--capacity"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errb := run(context.Background(), tt.args...)
			if code != tt.wantCode || !strings.Contains(out+errb, tt.want) {
				t.Fatalf("exit %d, output %s %s; want %d and %q", code, out, errb, tt.wantCode, tt.want)
			}
		})
	}
	if code, _, errb := run(context.Background(), "keys", "add", "m1"); code != 0 {
		t.Fatalf("keys add: %s", errb)
	}
	if code, _, errb := run(context.Background(), "gas", "faucet", "m1"); code != 0 {
		t.Fatalf("faucet: %s", errb)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb dnBuf
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"--home", home, "--node", url, "--log-level", "warn", "miner", "--key", "m1",
			"--min-gas", "0", "--capacity", "2", "--warm=false"}, strings.NewReader(""), &out, &errb)
	}()
	re := regexp.MustCompile(`Miner ([0-9a-f]{40}) mining`)
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == ""; {
		if m := re.FindStringSubmatch(errb.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("miner exited %d: %s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("miner did not start: %s", errb.String())
		}
	}
	paidTo, output := mrCall(t, url)
	if paidTo != addr || output != "hi" {
		t.Fatalf("paid %s output %q; want %s", paidTo, output, addr)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(out.String(), "results: 2") { // the echo call and the composite call
			t.Fatalf("exit %d, output %s %s", code, out.String(), errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("miner did not stop")
	}
}
