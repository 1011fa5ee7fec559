package chain_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/chain"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

const testChain = "test-chain"

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startNode initialises home if needed and starts a node on it; Stop runs
// at cleanup (a second Stop is a no-op).
func startNode(t *testing.T, home string, opts chain.Options) (*chain.Node, *kvApp) {
	t.Helper()
	if err := chain.InitHome(home, testChain, nil, chain.InitOptions{P2PListen: "tcp://127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	app := newKVApp(home)
	n, err := chain.New(home, app, testLogger(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Error(err)
		}
	})
	return n, app
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSingleValidatorCommits(t *testing.T) {
	n, _ := startNode(t, t.TempDir(), chain.Options{})
	ctx := ctxT(t)
	events, err := n.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		in       string
		wait     bool
		wantCode uint32
		wantErr  vmerr.Kind
	}{
		{name: "commit", in: "a=1", wait: true},
		{name: "commit second", in: "b=2", wait: true},
		{name: "rejected by CheckTx", in: "no-equals", wait: true, wantCode: 2},
		{name: "failed in block", in: "c=bad", wait: true, wantCode: 2},
		{name: "no wait", in: "d=4"},
		{name: "empty", in: "", wantErr: vmerr.Invalid},
		{name: "too large", in: "x=" + strings.Repeat("y", 5<<20), wantErr: vmerr.TooLarge},
	}
	committed := map[string]int64{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := n.SubmitTx(ctx, []byte(tc.in), tc.wait)
			if tc.wantErr != vmerr.OK {
				if vmerr.KindOf(err) != tc.wantErr {
					t.Fatalf("err = %v, want kind %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Code != tc.wantCode {
				t.Fatalf("code = %d (%s), want %d", got.Code, got.Log, tc.wantCode)
			}
			if want := tx.HashOf([]byte(tc.in)).String(); got.Hash != want {
				t.Fatalf("hash = %s, want %s", got.Hash, want)
			}
			if tc.wait && tc.wantCode == 0 && got.Height < 1 {
				t.Fatalf("committed with height %d", got.Height)
			}
			if tc.wait && got.Height > 0 {
				committed[tc.in] = got.Height
			}
		})
	}

	// A committed tx is found by hash with its result; an unknown one is NotFound.
	for in, h := range committed {
		got, err := n.Tx(ctx, tx.HashOf([]byte(in)))
		if err != nil {
			t.Fatalf("Tx(%q): %v", in, err)
		}
		if got.Height != h || got.Tx != fmt.Sprintf("%x", in) {
			t.Fatalf("Tx(%q) = %+v, want height %d", in, got, h)
		}
	}
	if _, err := n.Tx(ctx, tx.HashOf([]byte("never"))); vmerr.KindOf(err) != vmerr.NotFound {
		t.Fatalf("unknown tx: err = %v, want not_found", err)
	}
	// Resubmitting a committed tx answers with its recorded result.
	again, err := n.SubmitTx(ctx, []byte("a=1"), true)
	if err != nil || again.Height != committed["a=1"] {
		t.Fatalf("resubmit = %+v, %v; want height %d", again, err, committed["a=1"])
	}

	st, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ChainID != testChain || st.LatestHeight < committed["c=bad"] || st.Validators != 1 || len(st.LatestAppHash) != 64 {
		t.Fatalf("status = %+v", st)
	}

	blockTests := []struct {
		name    string
		in      int64
		wantErr vmerr.Kind
	}{
		{name: "latest", in: 0},
		{name: "first", in: 1},
		{name: "with txs", in: committed["a=1"]},
		{name: "future", in: 1 << 40, wantErr: vmerr.NotFound},
		{name: "negative", in: -1, wantErr: vmerr.Invalid},
	}
	for _, tc := range blockTests {
		t.Run("block/"+tc.name, func(t *testing.T) {
			b, err := n.Block(ctx, tc.in)
			if vmerr.KindOf(err) != tc.wantErr {
				t.Fatalf("err = %v, want %s", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if b.Height < 1 || len(b.Hash) != 64 || b.NumTxs != len(b.TxHashes) {
				t.Fatalf("block = %+v", b)
			}
			if tc.in > 0 && b.Height != tc.in {
				t.Fatalf("height = %d, want %d", b.Height, tc.in)
			}
		})
	}
	blk, _ := n.Block(ctx, committed["a=1"])
	if !contains(blk.TxHashes, tx.HashOf([]byte("a=1")).String()) {
		t.Fatalf("block %d does not list a=1: %+v", blk.Height, blk)
	}

	// The stream saw the blocks and the txs, in order.
	seenTx := map[string]bool{}
	var last int64
	deadline := time.After(5 * time.Second)
	for len(seenTx) < 3 {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("stream closed early")
			}
			if ev.Block.Height <= last {
				t.Fatalf("block %d after %d", ev.Block.Height, last)
			}
			last = ev.Block.Height
			if len(ev.Txs) != ev.Block.NumTxs {
				t.Fatalf("block %d: %d tx results for %d txs", last, len(ev.Txs), ev.Block.NumTxs)
			}
			for i, r := range ev.Txs {
				if r.Height != last || int(r.Index) != i || r.Hash != ev.Block.TxHashes[i] {
					t.Fatalf("tx result %d of block %d: %+v", i, last, r)
				}
				seenTx[r.Hash] = true
			}
		case <-deadline:
			t.Fatalf("stream saw %d txs", len(seenTx))
		}
	}
}

func TestAccountQuery(t *testing.T) {
	n, _ := startNode(t, t.TempDir(), chain.Options{})
	ctx := ctxT(t)
	res, err := n.SubmitTx(ctx, []byte("k=v"), true)
	if err != nil || res.Code != 0 {
		t.Fatal(res, err)
	}
	var addr crypto.Address
	acc, err := n.Account(ctx, addr, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Balance != "1" || acc.Height < res.Height || acc.Location != nil {
		t.Fatalf("account = %+v", acc)
	}
	if _, err := n.Account(ctx, addr, -1, false); vmerr.KindOf(err) != vmerr.Invalid {
		t.Fatalf("negative height: %v", err)
	}
	if _, err := n.Account(ctx, addr, 1<<40, false); vmerr.KindOf(err) != vmerr.NotFound {
		t.Fatalf("future height: %v", err)
	}
	// The test app gives no proof: asking for one is an Internal error, not a fake location.
	if _, err := n.Account(ctx, addr, 0, true); vmerr.KindOf(err) != vmerr.Internal {
		t.Fatalf("prove without proof: %v", err)
	}
}

func TestRestartResumes(t *testing.T) {
	home := t.TempDir()
	n, _ := startNode(t, home, chain.Options{})
	ctx := ctxT(t)
	var hashes []tx.Hash
	for i := range 5 {
		b := []byte(fmt.Sprintf("k%d=v%d", i, i))
		if r, err := n.SubmitTx(ctx, b, true); err != nil || r.Code != 0 {
			t.Fatal(r, err)
		}
		hashes = append(hashes, tx.HashOf(b))
	}
	before, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Status(ctx); vmerr.KindOf(err) != vmerr.Unavailable {
		t.Fatalf("status after stop: %v", err)
	}

	n2, _ := startNode(t, home, chain.Options{})
	after, err := n2.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.LatestHeight != before.LatestHeight || after.LatestAppHash != before.LatestAppHash {
		t.Fatalf("after restart %d/%s, before %d/%s", after.LatestHeight, after.LatestAppHash, before.LatestHeight, before.LatestAppHash)
	}
	for _, h := range hashes {
		if _, err := n2.Tx(ctx, h); err != nil {
			t.Fatalf("tx %s after restart: %v", h, err)
		}
	}
	if r, err := n2.SubmitTx(ctx, []byte("after=restart"), true); err != nil || r.Code != 0 || r.Height <= before.LatestHeight {
		t.Fatalf("commit after restart = %+v, %v", r, err)
	}
}

func TestSlowSubscriberDropped(t *testing.T) {
	n, _ := startNode(t, t.TempDir(), chain.Options{SubscriberBuf: 1})
	ctx := ctxT(t)
	slow, err := n.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := n.SubmitTx(ctx, []byte(fmt.Sprintf("s%d=1", i)), true); err != nil {
			t.Fatal(err)
		}
	}
	n.SubmitTx(ctx, []byte("s=x"), true) // give the index time to publish
	got := 0
	for range slow {
		got++
	}
	if got != 1 {
		t.Fatalf("slow subscriber got %d blocks before being dropped, want 1", got)
	}
	// A subscription ends with its context.
	sctx, cancel := context.WithCancel(ctx)
	ch, err := n.Subscribe(sctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("event after cancel") // nothing was committed meanwhile
		}
	case <-time.After(2 * time.Second):
		t.Fatal("stream not closed after ctx cancel")
	}
}

func TestNotRunning(t *testing.T) {
	home := t.TempDir()
	if err := chain.InitHome(home, testChain, nil, chain.InitOptions{P2PListen: "tcp://127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	n, err := chain.New(home, newKVApp(home), nil, chain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if _, err := n.SubmitTx(ctx, []byte("a=b"), false); vmerr.KindOf(err) != vmerr.Unavailable {
		t.Fatalf("submit before start: %v", err)
	}
	if _, err := n.Subscribe(ctx); vmerr.KindOf(err) != vmerr.Unavailable {
		t.Fatalf("subscribe before start: %v", err)
	}
	if err := n.Stop(); err != nil {
		t.Fatalf("stop before start: %v", err)
	}
	if _, err := chain.New(t.TempDir(), newKVApp(home), nil, chain.Options{}); vmerr.KindOf(err) != vmerr.Invalid {
		t.Fatalf("New on empty dir: %v", err)
	}
}

func TestInitHome(t *testing.T) {
	home := t.TempDir()
	state := []byte(`{"x":1}`)
	if err := chain.InitHome(home, testChain, state, chain.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	files := []string{"config/config.toml", "config/genesis.json", "config/priv_validator_key.json", "config/node_key.json", "data/priv_validator_state.json"}
	mtimes := map[string]time.Time{}
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(home, f))
		if err != nil {
			t.Fatal(err)
		}
		mtimes[f] = fi.ModTime()
	}
	gen, _ := os.ReadFile(filepath.Join(home, "config/genesis.json"))
	cfg, _ := os.ReadFile(filepath.Join(home, "config/config.toml"))
	if !strings.Contains(string(gen), `"x": 1`) && !strings.Contains(string(gen), `"x":1`) {
		t.Fatalf("app state missing from genesis: %s", gen)
	}
	for _, want := range []string{`laddr = "tcp://127.0.0.1:26656"`, `create_empty_blocks = true`, `create_empty_blocks_interval = "1s"`, `indexer = "null"`} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config.toml lacks %s", want)
		}
	}
	// Second call: nothing rewritten, even with other arguments.
	if err := chain.InitHome(home, "other", []byte(`{}`), chain.InitOptions{P2PListen: "tcp://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		fi, _ := os.Stat(filepath.Join(home, f))
		if !fi.ModTime().Equal(mtimes[f]) {
			t.Errorf("%s rewritten", f)
		}
	}
	gen2, _ := os.ReadFile(filepath.Join(home, "config/genesis.json"))
	if string(gen2) != string(gen) {
		t.Error("genesis changed")
	}

	bad := []struct {
		name          string
		home, chainID string
		appState      []byte
	}{
		{name: "no home", chainID: "c"},
		{name: "no chain id", home: t.TempDir()},
		{name: "bad app state", home: t.TempDir(), chainID: "c", appState: []byte("{")},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := chain.InitHome(tc.home, tc.chainID, tc.appState, chain.InitOptions{}); vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("err = %v, want invalid", err)
			}
		})
	}
}

func TestWriteTestnet(t *testing.T) {
	out := t.TempDir()
	homes, err := chain.WriteTestnet(out, 4, "tn", []byte(`{}`), 30000)
	if err != nil {
		t.Fatal(err)
	}
	if len(homes) != 4 {
		t.Fatalf("homes = %v", homes)
	}
	var genesis string
	for i, h := range homes {
		cfg, err := os.ReadFile(filepath.Join(h, "config/config.toml"))
		if err != nil {
			t.Fatal(err)
		}
		s := string(cfg)
		if !strings.Contains(s, fmt.Sprintf(`laddr = "tcp://127.0.0.1:%d"`, 30000+i)) {
			t.Errorf("node%d: wrong p2p address", i)
		}
		if !strings.Contains(s, "allow_duplicate_ip = true") {
			t.Errorf("node%d: allow_duplicate_ip not set", i)
		}
		for j := range homes {
			has := strings.Contains(s, fmt.Sprintf("@127.0.0.1:%d", 30000+j))
			if has != (i != j) {
				t.Errorf("node%d: peer %d listed = %v", i, j, has)
			}
		}
		g, _ := os.ReadFile(filepath.Join(h, "config/genesis.json"))
		if i == 0 {
			genesis = string(g)
		} else if string(g) != genesis {
			t.Errorf("node%d has a different genesis", i)
		}
		if strings.Count(string(g), `"power": "10"`) != 4 {
			t.Errorf("genesis does not have 4 validators of power 10: %s", g)
		}
	}
	bad := []struct {
		name string
		out  string
		n    int
		port int
	}{
		{name: "zero validators", out: t.TempDir(), n: 0, port: 30000},
		{name: "port overflow", out: t.TempDir(), n: 4, port: 65534},
		{name: "no out", n: 4, port: 30000},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := chain.WriteTestnet(tc.out, tc.n, "tn", nil, tc.port); vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("err = %v, want invalid", err)
			}
		})
	}
	if _, err := chain.WriteTestnet(out, 4, "tn", nil, 30000); vmerr.KindOf(err) != vmerr.Exists {
		t.Fatalf("second write: %v, want exists", err)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestSubmitWaitEnds(t *testing.T) {
	n, _ := startNode(t, t.TempDir(), chain.Options{CommitTimeout: 300 * time.Millisecond})
	ctx := ctxT(t)
	// Accepted by CheckTx, never proposed: the wait ends with Timeout.
	if _, err := n.SubmitTx(ctx, []byte("hold=1"), true); vmerr.KindOf(err) != vmerr.Timeout {
		t.Fatalf("commit timeout: %v, want timeout", err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := n.SubmitTx(short, []byte("hold=2"), true); vmerr.KindOf(err) != vmerr.Timeout {
		t.Fatalf("ctx deadline: %v, want timeout", err)
	}
	// Stop while waiting: Unavailable, promptly.
	n2, _ := startNode(t, t.TempDir(), chain.Options{})
	errc := make(chan error, 1)
	go func() {
		_, err := n2.SubmitTx(ctx, []byte("hold=3"), true)
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if err := n2.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if vmerr.KindOf(err) != vmerr.Unavailable {
			t.Fatalf("stopped while waiting: %v, want unavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SubmitTx still waiting after Stop")
	}
}

// TestIndexRebuiltOnStart loses the chain's tx index entirely (as a crash
// could lose its unsynced tail) and checks that Start rebuilds it from
// CometBFT's stores before answering.
func TestIndexRebuiltOnStart(t *testing.T) {
	home := t.TempDir()
	n, _ := startNode(t, home, chain.Options{})
	ctx := ctxT(t)
	var hashes []tx.Hash
	for i := range 4 {
		b := []byte(fmt.Sprintf("r%d=v", i))
		if r, err := n.SubmitTx(ctx, b, true); err != nil || r.Code != 0 {
			t.Fatal(r, err)
		}
		hashes = append(hashes, tx.HashOf(b))
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(home, "data", "vmtx.db")); err != nil {
		t.Fatal(err)
	}
	n2, _ := startNode(t, home, chain.Options{})
	for _, h := range hashes {
		if _, err := n2.Tx(ctx, h); err != nil {
			t.Fatalf("tx %s not re-indexed: %v", h, err)
		}
	}
}

// TestBadValidatorFiles checks that damaged key files are errors, not the
// os.Exit CometBFT's loader would do.
func TestBadValidatorFiles(t *testing.T) {
	ctx := ctxT(t)
	tests := []struct {
		name    string
		file    string
		content string // "" removes the file
		initErr vmerr.Kind
	}{
		{name: "garbage key", file: "config/priv_validator_key.json", content: "{garbage", initErr: vmerr.Invalid},
		{name: "empty key", file: "config/priv_validator_key.json", content: "{}", initErr: vmerr.Invalid},
		{name: "garbage state", file: "data/priv_validator_state.json", content: "[", initErr: vmerr.Invalid},
		{name: "missing state", file: "data/priv_validator_state.json", content: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			if err := chain.InitHome(home, testChain, nil, chain.InitOptions{P2PListen: "tcp://127.0.0.1:0"}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(home, tc.file)
			if tc.content == "" {
				os.Remove(path)
			} else if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			n, err := chain.New(home, newKVApp(home), nil, chain.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Start(ctx); vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("start: %v, want invalid", err)
			}
			err = chain.InitHome(home, testChain, nil, chain.InitOptions{})
			if vmerr.KindOf(err) != tc.initErr {
				t.Fatalf("InitHome: %v, want %s", err, tc.initErr)
			}
			if err == nil { // repaired: the node starts
				n2, _ := startNode(t, home, chain.Options{})
				if _, err := n2.Status(ctx); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestSubscriberBufferCountsBlocks checks that a subscriber's buffer is
// in blocks: blocks of many txs fill it no faster than empty ones, so a
// reader that looks only at the end still gets every tx result.
func TestSubscriberBufferCountsBlocks(t *testing.T) {
	n, _ := startNode(t, t.TempDir(), chain.Options{SubscriberBuf: 4})
	ctx := ctxT(t)
	events, err := n.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	txs := make([][]byte, 300)
	for i := range txs {
		txs[i] = []byte(fmt.Sprintf("big%d=%d", i, i))
	}
	res, err := n.SubmitTxs(ctx, txs, true)
	if err != nil {
		t.Fatal(err)
	}
	last := int64(0)
	for _, r := range res {
		if r.Code != 0 {
			t.Fatalf("tx %s: %+v", r.Hash, r)
		}
		last = max(last, r.Height)
	}
	seen := 0
	for seen < len(txs) {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("dropped after %d of %d txs", seen, len(txs))
			}
			seen += len(ev.Txs)
		case <-ctx.Done():
			t.Fatalf("saw %d of %d txs", seen, len(txs))
		}
	}
	t.Logf("%d txs in blocks up to %d", seen, last)
}

// TestReplayedTxKeepsItsSuccess: the same bytes included again by a
// faulty proposer, failing the second time, must not hide the first,
// successful inclusion from a lookup by hash.
func TestReplayedTxKeepsItsSuccess(t *testing.T) {
	n, app := startNode(t, t.TempDir(), chain.Options{})
	ctx := ctxT(t)
	once := []byte("once=1")
	first, err := n.SubmitTx(ctx, once, true)
	if err != nil || first.Code != 0 {
		t.Fatal(first, err)
	}
	app.mu.Lock()
	app.replay = [][]byte{once, once} // twice: also within one block
	app.mu.Unlock()
	if r, err := n.SubmitTx(ctx, []byte("next=1"), true); err != nil || r.Code != 0 {
		t.Fatal(r, err)
	}
	got, err := n.Tx(ctx, tx.HashOf(once))
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != 0 || got.Height != first.Height {
		t.Fatalf("Tx(once) = height %d code %d, want the first inclusion: height %d code 0", got.Height, got.Code, first.Height)
	}
}
