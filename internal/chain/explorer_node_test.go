package chain_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/bench"
	"github.com/virtual-machine/vm/internal/chain"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/explorer"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/miner"
	"github.com/virtual-machine/vm/internal/node"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// exNode is a devnet node (real ledger, CometBFT, API) on home with a
// compute miner agent, restartable on the same home.
type exNode struct {
	t     *testing.T
	home  string
	n     *node.Node
	c     *client.Client
	agent *miner.Agent
	mkey  crypto.PrivKey
}

func (e *exNode) start() {
	e.t.Helper()
	n, err := node.New(node.TestConfig(e.home))
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		e.t.Fatal(err)
	}
	e.n, e.c = n, client.New(n.URL())
}

func (e *exNode) startMiner() {
	e.t.Helper()
	a, err := miner.New(miner.Config{Client: e.c, Key: e.mkey, SoftwareVersion: "explorer-test"})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		e.t.Fatal(err)
	}
	e.agent = a
}

func (e *exNode) stop() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if e.agent != nil {
		if err := e.agent.Close(ctx); err != nil {
			e.t.Errorf("miner close: %v", err)
		}
		e.agent = nil
	}
	if e.n != nil {
		if err := e.n.Close(ctx); err != nil {
			e.t.Errorf("node close: %v", err)
		}
		e.n = nil
	}
}

func (e *exNode) send(k crypto.PrivKey, fee uint64, wantOK bool, msg *txpb.Msg) apitype.SubmitResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := e.c.Send(ctx, k, []*txpb.Msg{msg}, fee, true)
	if (wantOK && (err != nil || r.Code != 0)) || (!wantOK && r.Code == 0) || r.Height == 0 {
		e.t.Fatalf("send (want ok %v): %+v %v", wantOK, r, err)
	}
	return r
}

// call submits a request of echo with gasLimit and returns its id.
func (e *exNode) call(k crypto.PrivKey, input string, gasLimit uint64) [32]byte {
	e.t.Helper()
	r := e.send(k, 1, true, &txpb.Msg{Sum: &txpb.Msg_Request{Request: &txpb.Request{Contract: "echo@^1", Fn: "echo",
		Input: []byte(input), GasLimit: gasLimit, Price: 1, Reward: 10, Replicas: 1, Quorum: 1, Deadline: 100}}})
	h, _ := tx.ParseHash(r.Hash)
	return market.RequestID(h, 0)
}

// waitResults waits until echo has n results.
func (e *exNode) waitResults(n int) apitype.ContractResultList {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		l, err := e.c.ContractResults(ctx, "echo", apitype.ResultQuery{Limit: 100})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(l.Results) >= n {
			return l
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("echo has %d results, want %d", len(l.Results), n)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// snapshot is what the explorer answers about a set of accounts and echo.
type snapshot struct {
	History map[string][]apitype.AccountTx
	Stats   apitype.ContractStats
	Results []apitype.ContractResult
	Ghost   apitype.ContractStats
	GhostTx []apitype.AccountTx
}

func (e *exNode) capture(addrs []crypto.Address, window apitype.StatsQuery) snapshot {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := snapshot{History: map[string][]apitype.AccountTx{}}
	for _, a := range addrs {
		s.History[a.String()] = e.history(ctx, a, 2)
	}
	var err error
	if s.Stats, err = e.c.ContractStats(ctx, "echo", window); err != nil {
		e.t.Fatal(err)
	}
	q := apitype.ResultQuery{Limit: 3}
	for {
		l, err := e.c.ContractResults(ctx, "echo", q)
		if err != nil {
			e.t.Fatal(err)
		}
		s.Results = append(s.Results, l.Results...)
		var ok bool
		if q, ok = client.NextResultQuery(q, l); !ok {
			break
		}
	}
	if s.Ghost, err = e.c.ContractStats(ctx, chain.GhostContract, apitype.StatsQuery{From: 60, To: 3600}); err != nil {
		e.t.Fatal(err)
	}
	s.GhostTx = e.history(ctx, crypto.Address(chain.GhostAccount), 0)
	return s
}

func (e *exNode) history(ctx context.Context, a crypto.Address, limit int) []apitype.AccountTx {
	e.t.Helper()
	var out []apitype.AccountTx
	q := apitype.TxQuery{Limit: limit}
	for {
		l, err := e.c.AccountTxs(ctx, a, q)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, l.Txs...)
		var ok bool
		if q, ok = client.NextTxQuery(q, l); !ok {
			return out
		}
	}
}

// TestExplorerNode runs contract calls through a real miner on a devnet
// node and checks the explorer's stats against the results themselves;
// then it checks the index comes back identical after losing its latest
// batches (kill -9 before pebble synced them: the database copied while
// stopped at an earlier height) and after an upgrade from an older index
// format (stale entries planted by DowngradeIndex are gone).
func TestExplorerNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and a miner")
	}
	home := t.TempDir()
	gen := ledger.DevnetGenesis()
	funded := nodetest.Key(0)
	gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Address: funded.Address(), Balance: nodetest.FundedBalance})
	if _, err := node.InitHome(home, nodetest.ChainID, gen, 0); err != nil {
		t.Fatal(err)
	}
	mkey, _ := crypto.GenerateKey(nil)
	alice, _ := crypto.GenerateKey(nil)
	bob, _ := crypto.GenerateKey(nil)
	e := &exNode{t: t, home: home, mkey: mkey}
	t.Cleanup(e.stop)
	e.start()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	st, err := e.c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.send(funded, 1, true, &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: addrBytes(mkey), Amount: 100_000}}})
	e.send(funded, 1, true, &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: addrBytes(alice), Amount: 1_000_000}}})
	d := &txpb.Deploy{Name: "echo", Version: "1.0.0", Code: bench.EchoContract()}
	perKiB := uint64(0)
	if st.DeployFeePerKiB != "" {
		perKiB = mustUint(t, st.DeployFeePerKiB)
	}
	fee, _ := contract.DeployFee(perKiB, d)
	e.send(funded, fee+1, true, &txpb.Msg{Sum: &txpb.Msg_Deploy{Deploy: d}})
	e.startMiner()

	// Phase A: calls (one out of gas) and transfers.
	var ids [][32]byte
	ids = append(ids, e.call(alice, "a1", 100_000), e.call(alice, "a2", 100_000), e.call(alice, "oog", 5))
	e.send(alice, 1, true, &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: addrBytes(bob), Amount: 10}}})
	e.waitResults(3)
	e.stop()
	idx := filepath.Join(home, "data", "vmtx.db")
	early := filepath.Join(t.TempDir(), "vmtx.db")
	if err := os.CopyFS(early, os.DirFS(idx)); err != nil {
		t.Fatal(err)
	}

	// Phase B, after a restart: more calls, a failed tx, transfers.
	e.start()
	e.startMiner()
	ids = append(ids, e.call(alice, "b1", 100_000), e.call(funded, "b2", 100_000), e.call(alice, "oog2", 5))
	failed := e.send(bob, 1, false, &txpb.Msg{Sum: &txpb.Msg_Faucet{Faucet: &txpb.Faucet{To: addrBytes(bob), Amount: 1 << 62}}})
	pay := e.send(bob, 1, true, &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: addrBytes(alice), Amount: 1}}})
	// Seven transfers from bob in one batch: several txs of one account
	// in one block, so paging must split inside a block's entry.
	e.send(funded, 1, true, &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: addrBytes(bob), Amount: 1000}}})
	acc, err := e.c.AccountNoProof(ctx, bob.Address(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var batch [][]byte
	for i := range uint64(7) {
		raw, err := tx.Sign(&txpb.TxBody{ChainId: nodetest.ChainID, Nonce: acc.Nonce + i, Fee: 1, Msgs: []*txpb.Msg{
			{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: addrBytes(alice), Amount: 1}}}}}, bob)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, raw)
	}
	rs, err := e.c.SubmitTxs(ctx, batch, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Code != 0 || r.Height == 0 {
			t.Fatalf("batch transfer: %+v", r)
		}
	}
	list := e.waitResults(len(ids))

	t.Run("stats match the results", func(t *testing.T) {
		var gas uint64
		var lat []int64
		oog := 0
		for _, id := range ids {
			r, err := e.c.Result(ctx, hexID(id), 0)
			if err != nil {
				t.Fatalf("Result: %v", err)
			}
			gas += r.GasUsed
			if r.ExecStatus == "out_of_gas" {
				oog++
			}
		}
		for _, r := range list.Results {
			settled, err1 := e.c.Block(ctx, r.Height)
			included, err2 := e.c.Block(ctx, r.Included)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			want := blockMS(t, settled.Time) - blockMS(t, included.Time)
			if r.LatencyMS != want || r.Contract != "echo@1.0.0" {
				t.Errorf("result %s: latency %d ms, want %d; contract %s", r.RequestID, r.LatencyMS, want, r.Contract)
			}
			lat = append(lat, r.LatencyMS)
		}
		if oog != 2 {
			t.Fatalf("%d calls ran out of gas, want 2", oog)
		}
		s, err := e.c.ContractStats(ctx, "echo", apitype.StatsQuery{})
		if err != nil {
			t.Fatal(err)
		}
		tot := s.Totals
		if tot.Calls != uint64(len(ids)) || tot.OK != uint64(len(ids)-2) || tot.Failed != 2 || tot.ByStatus["out_of_gas"] != 2 ||
			tot.ByStatus["ok"] != uint64(len(ids)-2) || tot.GasUsed != gas || tot.LatencyMS.Samples != uint64(len(ids)) {
			t.Errorf("totals = %+v; want %d calls, 2 out of gas, gas %d", tot, len(ids), gas)
		}
		slices.Sort(lat)
		for _, p := range []struct {
			pct int
			got int64
		}{{50, tot.LatencyMS.P50}, {90, tot.LatencyMS.P90}, {99, tot.LatencyMS.P99}} {
			rank := (p.pct*len(lat) + 99) / 100
			exact := lat[rank-1]
			if d := p.got - exact; d < -exact/8-1 || d > exact/8+1 || p.got != explorer.Estimate(explorer.LatencyBucket(exact)) {
				t.Errorf("p%d = %d ms, exact %d ms: outside the bucket's 12.5%%", p.pct, p.got, exact)
			}
		}
	})

	addrs := []crypto.Address{funded.Address(), alice.Address(), bob.Address(), mkey.Address()}
	first, err := time.Parse(time.RFC3339Nano, list.Results[len(list.Results)-1].Time)
	if err != nil {
		t.Fatal(err)
	}
	window := apitype.StatsQuery{From: first.Unix() - 600, To: first.Unix() + 3000, Step: 60}
	clean := e.capture(addrs, window)
	t.Run("history", func(t *testing.T) {
		bobs := clean.History[bob.Address().String()]
		if len(bobs) != 4+len(rs) || !sameHash(bobs[len(rs)+1].Hash, pay.Hash) || !sameHash(bobs[len(rs)+2].Hash, failed.Hash) || bobs[len(rs)+2].Code == 0 {
			t.Errorf("bob's history = %+v", bobs)
		}
		for i, r := range rs { // newest first: the batch in reverse
			if got := bobs[len(rs)-1-i]; !sameHash(got.Hash, r.Hash) || got.Height != r.Height {
				t.Errorf("bob's history[%d] = %s at %d, want %s at %d", len(rs)-1-i, got.Hash, got.Height, r.Hash, r.Height)
			}
		}
		// Every page size gives the same sequence.
		for _, limit := range []int{1, 2, 3, 100} {
			if got := e.history(ctx, bob.Address(), limit); !reflect.DeepEqual(got, bobs) {
				t.Errorf("bob's history paged by %d differs:\n%s", limit, js(got))
			}
		}
		if rs[0].Height != rs[len(rs)-1].Height {
			t.Logf("the batch spans blocks %d..%d", rs[0].Height, rs[len(rs)-1].Height)
		}
		// The miner's history: its registration, and each Result tx.
		if n := len(clean.History[mkey.Address().String()]); n < 1+len(ids) {
			t.Errorf("miner's history has %d txs, want at least %d", n, 1+len(ids))
		}
		if clean.Stats.Totals.Calls != uint64(len(ids)) || len(clean.Results) != len(ids) {
			t.Errorf("window stats %+v, %d results", clean.Stats.Totals, len(clean.Results))
		}
	})
	e.stop()

	t.Run("re-explored heights count once", func(t *testing.T) {
		app, err := ledger.New(ledger.Config{Dir: filepath.Join(home, "data", "app"), ChainID: nodetest.ChainID})
		if err != nil {
			t.Fatal(err)
		}
		cn, err := chain.New(home, app, nil, chain.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cn.Start(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := cn.Status(ctx)
		if err == nil {
			err = cn.ReExplore(1, st.LatestHeight)
		}
		if err := cn.Stop(); err != nil {
			t.Error(err)
		}
		if err := app.Close(); err != nil {
			t.Error(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		e.start()
		defer e.stop()
		if got := e.capture(addrs, window); !reflect.DeepEqual(got, clean) {
			t.Errorf("after re-exploring every height:\n%s\nclean run:\n%s", js(got), js(clean))
		}
	})

	t.Run("lost batches", func(t *testing.T) {
		if err := os.RemoveAll(idx); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(idx, os.DirFS(early)); err != nil {
			t.Fatal(err)
		}
		e.start()
		defer e.stop()
		if got := e.capture(addrs, window); !reflect.DeepEqual(got, clean) {
			t.Errorf("after losing batches:\n%s\nclean run:\n%s", js(got), js(clean))
		}
	})

	t.Run("upgrade", func(t *testing.T) {
		if err := chain.DowngradeIndex(home); err != nil {
			t.Fatal(err)
		}
		e.start()
		defer e.stop()
		if got := e.capture(addrs, window); !reflect.DeepEqual(got, clean) {
			t.Errorf("after the upgrade:\n%s\nclean run:\n%s", js(got), js(clean))
		}
	})
}

func hexID(id [32]byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 64)
	for i, b := range id {
		out[2*i], out[2*i+1] = digits[b>>4], digits[b&15]
	}
	return string(out)
}

func blockMS(t *testing.T, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixMilli()
}

func sameHash(a, b string) bool {
	ha, err1 := tx.ParseHash(a)
	hb, err2 := tx.ParseHash(b)
	return err1 == nil && err2 == nil && ha == hb
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + uint64(c-'0')
	}
	return n
}

func js(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

func addrBytes(k crypto.PrivKey) []byte {
	a := k.Address()
	return a[:]
}
