package ledger_test

import (
	"path/filepath"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtcrypto "github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	cmttypes "github.com/cometbft/cometbft/types"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/state"
)

// cometHome writes a one-validator CometBFT home (loopback only, no RPC,
// create_empty_blocks=false) whose genesis carries g.
func cometHome(t *testing.T, g ledger.Genesis) *cmtcfg.Config {
	t.Helper()
	home := t.TempDir()
	cfg := cmtcfg.DefaultConfig()
	cmtcfg.EnsureRoot(home)
	cfg.Consensus = cmtcfg.TestConsensusConfig()
	cfg.SetRoot(home) // after replacing Consensus, whose RootDir places the WAL
	cfg.Consensus.CreateEmptyBlocks = false
	cfg.P2P.ListenAddress = "tcp://127.0.0.1:0"
	cfg.RPC.ListenAddress = ""
	cfg.DBBackend = "goleveldb"
	cfg.TxIndex.Indexer = "null"
	pv, err := privval.GenFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile(),
		func() (cmtcrypto.PrivKey, error) { return ed25519.GenPrivKey(), nil })
	if err != nil {
		t.Fatal(err)
	}
	pv.Save()
	pub, err := pv.GetPubKey()
	if err != nil {
		t.Fatal(err)
	}
	doc := &cmttypes.GenesisDoc{
		ChainID: chainID, GenesisTime: time.Now(), InitialHeight: 1,
		ConsensusParams: cmttypes.DefaultConsensusParams(),
		Validators:      []cmttypes.GenesisValidator{{Address: pub.Address(), PubKey: pub, Power: 10}},
		AppState:        g.JSON(),
	}
	if err := doc.SaveAs(cfg.GenesisFile()); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startComet runs a CometBFT v1 node over app until the test ends or stop
// is called.
func startComet(t *testing.T, cfg *cmtcfg.Config, app *ledger.App) (n *cmtnode.Node, stop func()) {
	t.Helper()
	nk, err := p2p.LoadOrGenNodeKey(cfg.NodeKeyFile())
	if err != nil {
		t.Fatal(err)
	}
	pv := privval.LoadFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile())
	n, err = cmtnode.NewNode(ctx, cfg, pv, nk, proxy.NewLocalClientCreator(app),
		cmtnode.DefaultGenesisDocProviderFunc(cfg), cmtcfg.DefaultDBProvider,
		cmtnode.DefaultMetricsProvider(cfg.Instrumentation), cmtlog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = n.Stop()
			n.Wait()
		}
	}
	t.Cleanup(stop)
	return n, stop
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestCometBFTNode runs the App under a real CometBFT v1.0.1 node:
// transactions go through the mempool (CheckTx) into blocks, every
// /account proof at height H verifies against the AppHash in the header of
// block H+1 as CometBFT stored it, the chain goes quiet once the app hash
// stops changing (create_empty_blocks=false), and after a restart the
// handshake resumes from the app's Info without replaying from zero.
func TestCometBFTNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	cfg := cometHome(t, testGenesis(t, 2, 1000))
	appDir := filepath.Join(cfg.RootDir, "ledger")
	app := openApp(t, appDir)
	node, stop := startComet(t, cfg, app)
	k0, k1 := key(t, 0), key(t, 1)
	for i := range uint64(5) {
		if _, err := node.Mempool().CheckTx(sign(t, k0, i, 2, transfer(k1.Address(), 10)), ""); err != nil {
			t.Fatal(err)
		}
	}
	balanceAt := func(a *ledger.App, h int64) uint64 {
		q, _ := a.Query(ctx, &abcitypes.QueryRequest{Path: ledger.PathAccount, Data: addrBytes(k1.Address()), Height: h})
		acc, _ := state.DecodeAccount(q.Value)
		return acc.Balance
	}
	balance := func(a *ledger.App) uint64 { return balanceAt(a, 0) }
	// firstHeight is the first height whose state has k1's balance at want.
	firstHeight := func(a *ledger.App, want uint64) int64 {
		h := a.Height()
		for h > 1 && balanceAt(a, h-1) == want {
			h--
		}
		return h
	}
	waitFor(t, "the transfers to commit", func() bool { return balance(app) == 1050 })
	// The block after the last change carries its app hash, then the chain
	// goes quiet.
	txHeight := firstHeight(app, 1050)
	waitFor(t, "the header carrying the last app hash", func() bool { return node.BlockStore().Height() > txHeight })
	quiet := node.BlockStore().Height()
	time.Sleep(500 * time.Millisecond)
	if h := node.BlockStore().Height(); h > quiet+1 {
		t.Fatalf("chain kept making empty blocks: %d -> %d (app hash changes on empty blocks?)", quiet, h)
	}
	checkProofs := func(a *ledger.App, n *cmtnode.Node) {
		t.Helper()
		if n.BlockStore().Height() < 2 {
			t.Fatalf("only %d blocks", n.BlockStore().Height())
		}
		for h := int64(1); h < n.BlockStore().Height(); h++ {
			header := n.BlockStore().LoadBlockMeta(h + 1).Header
			q, _ := a.Query(ctx, &abcitypes.QueryRequest{Path: ledger.PathAccount, Data: addrBytes(k1.Address()), Height: h, Prove: true})
			if q.Code != 0 {
				t.Fatalf("query at %d: %s", h, q.Log)
			}
			if err := state.VerifyLocation(location(q, header.AppHash)); err != nil {
				t.Fatalf("proof at height %d against header %d: %v", h, h+1, err)
			}
		}
	}
	checkProofs(app, node)
	storeHeight := node.BlockStore().Height()
	stop()
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart on the same homes: the handshake must accept the app's Info.
	app = openApp(t, appDir)
	defer app.Close()
	if got := info(t, app); got.LastBlockHeight < storeHeight-1 || got.LastBlockHeight > storeHeight {
		t.Fatalf("app reopened at %d, store at %d", got.LastBlockHeight, storeHeight)
	}
	node, _ = startComet(t, cfg, app)
	if _, err := node.Mempool().CheckTx(sign(t, k0, 5, 2, transfer(k1.Address(), 10)), ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a transfer after the restart", func() bool { return balance(app) == 1060 })
	txHeight = firstHeight(app, 1060)
	waitFor(t, "the next header", func() bool { return node.BlockStore().Height() > txHeight })
	checkProofs(app, node)
	if err := app.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
