package node_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/node"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func transfer(to crypto.Address, amount uint64) []*txpb.Msg {
	return []*txpb.Msg{{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: to[:], Amount: amount}}}}
}

func TestDevnetEndToEnd(t *testing.T) {
	env := nodetest.Start(t)
	ctx := ctxT(t, 30*time.Second)
	c := env.Client

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ChainID != node.DevnetChainID || !st.FaucetEnabled || st.FaucetAddress != ledger.FaucetPool().String() || st.MinFee != "1" || st.Validators != 1 {
		t.Fatalf("status = %+v", st)
	}
	events, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}

	bob := nodetest.Key(1)
	res, err := c.Send(ctx, env.Key, transfer(bob.Address(), 1234), 1, true)
	if err != nil || res.Code != 0 || res.Height < 1 {
		t.Fatalf("transfer = %+v, %v", res, err)
	}
	// The faucet pays a fresh key (fee 0: faucet-only tx on a faucet chain).
	carol := nodetest.Key(2)
	fres, err := c.Send(ctx, carol, []*txpb.Msg{{Sum: &txpb.Msg_Faucet{Faucet: &txpb.Faucet{To: addrBytes(carol), Amount: 500}}}}, 0, true)
	if err != nil || fres.Code != 0 {
		t.Fatalf("faucet = %+v, %v", fres, err)
	}

	// Balance with a location that verifies offline against the header of block height+1.
	acc, err := c.Account(ctx, bob.Address(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Balance != "1234" || acc.Location == nil {
		t.Fatalf("account = %+v", acc)
	}
	if err := state.VerifyLocation(acc.Location); err != nil {
		t.Fatal(err)
	}
	if !state.SameKey(acc.Location, state.AccountKey(bob.Address())) {
		t.Fatal("location is about another key")
	}
	next := waitBlock(t, c, acc.Location.Height+1)
	if next.AppHash != acc.Location.AppHash {
		t.Fatalf("location app hash %s, header of %d has %s", acc.Location.AppHash, next.Height, next.AppHash)
	}
	// A past height answers the past.
	old, err := c.Account(ctx, bob.Address(), res.Height-1)
	if err != nil || old.Balance != "0" || state.VerifyLocation(old.Location) != nil {
		t.Fatalf("account at %d = %+v, %v", res.Height-1, old, err)
	}

	h, _ := tx.ParseHash(res.Hash)
	got, err := c.Tx(ctx, h)
	if err != nil || got.Height != res.Height || got.Code != 0 || len(got.Body) == 0 {
		t.Fatalf("tx = %+v, %v", got, err)
	}

	// Rejected input: a garbage tx gets a code, a replay gets BadNonce, nothing commits.
	bad, err := c.SubmitTx(ctx, []byte("garbage"), true)
	if err == nil && bad.Code == 0 {
		t.Fatalf("garbage accepted: %+v", bad)
	}
	raw, _ := tx.Sign(&txpb.TxBody{ChainId: env.Node.ChainID(), Nonce: 0, Fee: 1, Msgs: transfer(bob.Address(), 1)}, env.Key)
	if r, err := c.SubmitTx(ctx, raw, true); vmerr.KindOf(err) != vmerr.BadNonce && r.Code != uint32(vmerr.BadNonce) {
		t.Fatalf("replayed nonce: %+v, %v", r, err)
	}

	seen := false
	for !seen {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("event stream closed")
			}
			seen = ev.Type == "tx" && ev.Tx.Hash == res.Hash
		case <-ctx.Done():
			t.Fatal("transfer not seen on the event stream")
		}
	}

	body := get(t, env.URL+"/metrics")
	for _, want := range []string{`vm_txs_total{code="0",type="transfer"} 1`, `vm_txs_total{code="0",type="faucet"} 1`, "vm_block_height", "vm_mempool_size", "vm_block_interval_seconds"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestRestartKeepsState(t *testing.T) {
	home := t.TempDir()
	if _, err := node.InitDevnet(home, 0); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 60*time.Second)
	n := startNode(t, home)
	c := client.New(n.URL())
	alice := nodetest.Key(7)
	for i := range 3 {
		r, err := c.Send(ctx, alice, []*txpb.Msg{{Sum: &txpb.Msg_Faucet{Faucet: &txpb.Faucet{To: addrBytes(alice), Amount: uint64(10 + i)}}}}, 0, true)
		if err != nil || r.Code != 0 {
			t.Fatal(r, err)
		}
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A tx committed before the restart, submitted again after it, must
	// answer its recorded result, not "nonce already used".
	raw, err := tx.Sign(&txpb.TxBody{ChainId: st.ChainID, Nonce: 3,
		Msgs: []*txpb.Msg{{Sum: &txpb.Msg_Faucet{Faucet: &txpb.Faucet{To: addrBytes(alice), Amount: 1}}}}}, alice)
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.SubmitTx(ctx, raw, true)
	if err != nil || first.Code != 0 || first.Height == 0 {
		t.Fatal(first, err)
	}
	before, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(ctx); err == nil {
		t.Fatal("API still answers after Close")
	}

	n2 := startNode(t, home)
	c2 := client.New(n2.URL())
	after, err := c2.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.LatestHeight != before.LatestHeight || after.LatestAppHash != before.LatestAppHash {
		t.Fatalf("restart: %d %s, before %d %s", after.LatestHeight, after.LatestAppHash, before.LatestHeight, before.LatestAppHash)
	}
	again, err := c2.SubmitTx(ctx, raw, true)
	if err != nil || again.Code != 0 || again.Height != first.Height {
		t.Fatalf("resubmitted after restart: %+v, %v; first %+v", again, err, first)
	}
	acc, err := c2.Account(ctx, alice.Address(), 0)
	if err != nil || acc.Balance != "34" || acc.Nonce != 4 {
		t.Fatalf("account after restart = %+v, %v", acc, err)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		in      func(c *node.Config)
		wantErr bool
	}{
		{name: "default with home", in: func(c *node.Config) {}},
		{name: "no home", in: func(c *node.Config) { c.Home = "" }, wantErr: true},
		{name: "no port", in: func(c *node.Config) { c.HTTPAddr = "127.0.0.1" }, wantErr: true},
		{name: "no host", in: func(c *node.Config) { c.HTTPAddr = ":8080" }, wantErr: true},
		{name: "negative cache", in: func(c *node.Config) { c.LedgerCache = -1 }, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := node.Default()
			c.Home = "/tmp/x"
			tc.in(&c)
			err := c.Validate()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("kind = %s", vmerr.KindOf(err))
			}
		})
	}
	if _, err := node.New(node.TestConfig(t.TempDir())); vmerr.KindOf(err) != vmerr.Invalid {
		t.Fatalf("New on an empty dir: %v", err)
	}
}

func TestInitTestnetWritesHTTPAddr(t *testing.T) {
	out := t.TempDir()
	homes, err := node.InitTestnet(out, 3, "tn", 31000, 32000)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range homes {
		c, err := node.LoadFile(node.Default(), h)
		if err != nil {
			t.Fatal(err)
		}
		if want := "127.0.0.1:" + strconv.Itoa(32000+i); c.HTTPAddr != want {
			t.Errorf("%s: http = %s, want %s", h, c.HTTPAddr, want)
		}
	}
	if err := os.WriteFile(filepath.Join(homes[0], node.ConfigFile), []byte("http_addr = ["), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := node.LoadFile(node.Default(), homes[0]); vmerr.KindOf(err) != vmerr.Invalid {
		t.Fatalf("bad vm.toml: %v", err)
	}
	if c, err := node.LoadFile(node.Default(), t.TempDir()); err != nil || c.HTTPAddr != node.DefaultHTTPAddr {
		t.Fatalf("no vm.toml: %+v, %v", c, err)
	}
}

func TestAddressInUse(t *testing.T) {
	env := nodetest.Start(t)
	home := t.TempDir()
	if _, err := node.InitDevnet(home, 0); err != nil {
		t.Fatal(err)
	}
	cfg := node.TestConfig(home)
	cfg.HTTPAddr = env.Node.APIAddr()
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(ctxT(t, 30*time.Second)); vmerr.KindOf(err) != vmerr.Unavailable {
		t.Fatalf("start on a taken address: %v", err)
	}
	// The failed start released the home: it starts on a free port.
	n2 := startNode(t, home)
	if n2.URL() == "" {
		t.Fatal("no URL")
	}
}

func startNode(t *testing.T, home string) *node.Node {
	t.Helper()
	n, err := node.New(node.TestConfig(home))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(ctxT(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return n
}

// waitBlock polls until block h exists.
func waitBlock(t *testing.T, c *client.Client, h int64) apitype.Block {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := c.Block(context.Background(), h)
		if err == nil {
			return b
		}
		if vmerr.KindOf(err) != vmerr.NotFound || time.Now().After(deadline) {
			t.Fatalf("block %d: %v", h, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

func addrBytes(k crypto.PrivKey) []byte {
	a := k.Address()
	return a[:]
}
