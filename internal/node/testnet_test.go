package node_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestFourValidators writes a network with `vm testnet`, runs it as four
// `vm node` processes, and checks: transfers commit; with one validator
// killed the rest keep committing with no long stall; with two killed
// (under 2/3 of the power) the chain halts; when they come back the
// stuck tx commits. Finally every node stops cleanly on SIGINT.
func TestFourValidators(t *testing.T) {
	bin := vmBinary(t)
	out := filepath.Join(t.TempDir(), "net")
	p2p, http := freePorts(t, 4), freePorts(t, 4)
	if http < p2p+4 && http+4 > p2p {
		http = freePorts(t, 4)
	}
	cmd := exec.Command(bin, "testnet", "--validators", "4", "--out", out,
		"--base-port", fmt.Sprint(p2p), "--http-base-port", fmt.Sprint(http))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vm testnet: %v\n%s", err, b)
	}
	urls := make([]string, 4)
	procs := make([]*proc, 4)
	start := func(i int) {
		urls[i] = fmt.Sprintf("http://127.0.0.1:%d", http+i)
		procs[i] = startProc(t, bin, urls[i], "node", "--home", filepath.Join(out, fmt.Sprintf("node%d", i)), "--log-level", "warn")
	}
	for i := range 4 {
		start(i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	c := client.New(urls[0], client.WithWaitTimeout(20*time.Second))
	k := nodetest.Key(20)
	to := nodetest.Key(21).Address()

	// All four up: fund and transfer through node0; node3 sees the result.
	send := func(what string) time.Duration {
		t.Helper()
		t0 := time.Now()
		r, err := c.Send(ctx, k, transfer(to, 1), 1, true)
		if err != nil || r.Code != 0 {
			t.Fatalf("%s: %+v %v", what, r, err)
		}
		return time.Since(t0)
	}
	t0 := time.Now()
	for {
		st, err := c.Status(ctx)
		if err == nil && st.LatestHeight >= 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no first block: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("4 validators: first block %v after the last node started", time.Since(t0).Round(time.Millisecond))
	if r, err := c.Send(ctx, k, faucetMsg(k.Address(), 1_000_000), 0, true); err != nil || r.Code != 0 {
		t.Fatalf("faucet: %+v %v", r, err)
	}
	for range 3 {
		send("4 of 4")
	}
	acc, err := client.New(urls[3]).AccountNoProof(ctx, to, 0)
	for err == nil && acc.Balance != "3" {
		time.Sleep(50 * time.Millisecond)
		acc, err = client.New(urls[3]).AccountNoProof(ctx, to, 0)
	}
	if err != nil {
		t.Fatalf("node3 account: %v", err)
	}
	checkRegistryAgrees(t, ctx, c, k, urls)

	// One down: still committing; no tx waits longer than a round change.
	procs[3].kill()
	var worst time.Duration
	for range 8 {
		worst = max(worst, send("3 of 4"))
	}
	t.Logf("3 of 4 validators: slowest submit→commit %v", worst)
	if worst > 3*time.Second {
		t.Errorf("with one validator down a tx took %v to commit", worst)
	}

	// Two down: 2 of 4 is under 2/3 of the power, so nothing commits.
	procs[2].kill()
	raw := signedTransfer(t, ctx, c, k, to)
	res, err := c.SubmitTx(ctx, raw, false)
	if err != nil || res.Code != 0 {
		t.Fatalf("submit while halted: %+v %v", res, err)
	}
	h, _ := tx.ParseHash(res.Hash)
	time.Sleep(3 * time.Second)
	if _, err := c.Tx(ctx, h); vmerr.KindOf(err) != vmerr.NotFound {
		t.Fatalf("a tx committed with 2 of 4 validators: %v", err)
	}

	// Both back: the stuck tx commits.
	t0 = time.Now()
	start(2)
	start(3)
	for {
		got, err := c.Tx(ctx, h)
		if err == nil {
			if got.Code != 0 {
				t.Fatalf("stuck tx failed: %+v", got)
			}
			break
		}
		if vmerr.KindOf(err) != vmerr.NotFound || ctx.Err() != nil {
			t.Fatalf("stuck tx: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("halted chain resumed %v after restarting two validators", time.Since(t0).Round(time.Millisecond))
	send("4 of 4 again")

	for _, p := range procs {
		p.stop()
	}
}

// checkRegistryAgrees deploys a 2.5 MB Go contract and two versions of a
// small one through node0 and checks that all four validators resolve
// every range to the same record at the same height and serve code that
// matches its CID: large deploy txs gossip, and resolution is the same on
// every validator.
func checkRegistryAgrees(t *testing.T, ctx context.Context, c *client.Client, k crypto.PrivKey, urls []string) {
	t.Helper()
	path, err := examples.Build(ctx, t.TempDir(), "sha256")
	if err != nil {
		t.Fatal(err)
	}
	goCode, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	small := func(seed byte) []byte { // the smallest valid module, varied by a custom section
		return []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 0, 2, 1, 'x' + seed}
	}
	var height int64
	for _, d := range []*txpb.Deploy{
		{Name: "sha", Version: "1.0.0", Code: goCode},
		{Name: "tiny", Version: "1.0.0", Code: small(0)},
		{Name: "tiny", Version: "1.1.0", Code: small(1)},
	} {
		fee, err := contract.DeployFee(ledger.DevnetDeployFeePerKiB, d)
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Send(ctx, k, []*txpb.Msg{{Sum: &txpb.Msg_Deploy{Deploy: d}}}, fee+1, true)
		if err != nil || r.Code != 0 {
			t.Fatalf("deploy %s@%s: %+v %v", d.Name, d.Version, r, err)
		}
		height = r.Height
	}
	for _, ref := range [][2]string{{"sha", "^1"}, {"tiny", "^1"}, {"tiny", "~1.0"}, {"tiny", "*"}} {
		var want string
		for i, u := range urls {
			nc := client.New(u)
			var v apitype.ContractVersion
			for {
				if v, err = nc.ContractVersion(ctx, ref[0], ref[1], height); vmerr.KindOf(err) != vmerr.NotFound || ctx.Err() != nil {
					break // NotFound: this node has not reached height yet
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("node%d %s@%s: %v", i, ref[0], ref[1], err)
			}
			got := v.Version + " " + v.RecordHash + " " + v.MeteredHash
			if i == 0 {
				want = got
			} else if got != want {
				t.Fatalf("node%d resolves %s@%s to %s, node0 to %s", i, ref[0], ref[1], got, want)
			}
		}
	}
	code, v, err := client.New(urls[3]).ContractCode(ctx, "sha", "1.0.0", true)
	if err != nil || len(code) == 0 || v.MeteredHash == "" {
		t.Fatalf("metered code from node3: %d bytes, %v", len(code), err)
	}
}

// signedTransfer signs a 1-GAS transfer from k with its next nonce.
func signedTransfer(t *testing.T, ctx context.Context, c *client.Client, k crypto.PrivKey, to crypto.Address) []byte {
	t.Helper()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := c.AccountNoProof(ctx, k.Address(), 0)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := tx.Sign(&txpb.TxBody{ChainId: st.ChainID, Nonce: acc.Nonce, Fee: 1, Msgs: transfer(to, 1)}, k)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
