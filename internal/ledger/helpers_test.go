package ledger_test

import (
	"context"
	"encoding/binary"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

const chainID = "vm-test"

var ctx = context.Background()

// key returns the deterministic test key number i.
func key(t testing.TB, i int) crypto.PrivKey {
	t.Helper()
	seed := make([]byte, crypto.SeedSize)
	binary.BigEndian.PutUint64(seed, uint64(i)+1)
	k, err := crypto.KeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func transfer(to crypto.Address, amount uint64) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: to[:], Amount: amount}}}
}

func faucet(to crypto.Address, amount uint64) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Faucet{Faucet: &txpb.Faucet{To: to[:], Amount: amount}}}
}

// sign builds a signed tx for chainID.
func sign(t testing.TB, k crypto.PrivKey, nonce, fee uint64, msgs ...*txpb.Msg) []byte {
	t.Helper()
	return signFor(t, chainID, k, nonce, fee, msgs...)
}

func signFor(t testing.TB, chain string, k crypto.PrivKey, nonce, fee uint64, msgs ...*txpb.Msg) []byte {
	t.Helper()
	b, err := tx.Sign(&txpb.TxBody{ChainId: chain, Nonce: nonce, Fee: fee, Msgs: msgs}, k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testGenesis is the devnet genesis plus n funded test accounts.
func testGenesis(t testing.TB, n int, balance uint64) ledger.Genesis {
	g := ledger.DevnetGenesis()
	g.Params.MinFee = 2
	g.Params.FaucetPerWindow = 1000
	g.Params.FaucetWindow = 10
	for i := range n {
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: key(t, i).Address(), Balance: balance})
	}
	return g
}

// node drives an App the way CometBFT does and remembers the app hash
// each height produced.
type node struct {
	t      testing.TB
	app    *ledger.App
	dir    string
	height int64
	hashes map[int64][]byte // height -> app hash after that block
}

func openApp(t testing.TB, dir string) *ledger.App { return openAppCache(t, dir, 10_000) }

func openAppCache(t testing.TB, dir string, cacheSize int) *ledger.App {
	t.Helper()
	app, err := ledger.New(ledger.Config{Dir: dir, ChainID: chainID, CacheSize: cacheSize})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// newNode opens an App in a fresh directory and runs InitChain with g.
func newNode(t testing.TB, g ledger.Genesis) *node { return newNodeCache(t, g, 10_000) }

// newNodeCache is newNode with an iavl node cache of cacheSize nodes.
func newNodeCache(t testing.TB, g ledger.Genesis, cacheSize int) *node {
	t.Helper()
	dir := t.TempDir()
	app := openAppCache(t, dir, cacheSize)
	t.Cleanup(func() { _ = app.Close() })
	resp, err := app.InitChain(ctx, &abcitypes.InitChainRequest{ChainId: chainID, AppStateBytes: g.JSON(), InitialHeight: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &node{t: t, app: app, dir: dir, hashes: map[int64][]byte{0: resp.AppHash}}
}

// finalize runs FinalizeBlock for the next height without committing.
func (n *node) finalize(txs ...[]byte) *abcitypes.FinalizeBlockResponse {
	n.t.Helper()
	resp, err := n.app.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: n.height + 1, Txs: txs})
	if err != nil {
		n.t.Fatal(err)
	}
	if len(resp.TxResults) != len(txs) {
		n.t.Fatalf("%d results for %d txs", len(resp.TxResults), len(txs))
	}
	return resp
}

// block finalizes and commits the next height.
func (n *node) block(txs ...[]byte) *abcitypes.FinalizeBlockResponse {
	n.t.Helper()
	resp := n.finalize(txs...)
	n.commit(resp)
	return resp
}

func (n *node) commit(resp *abcitypes.FinalizeBlockResponse) {
	n.t.Helper()
	if _, err := n.app.Commit(ctx, &abcitypes.CommitRequest{}); err != nil {
		n.t.Fatal(err)
	}
	n.height++
	n.hashes[n.height] = resp.AppHash
}

// account reads addr at the latest height through Query.
func (n *node) account(addr crypto.Address) state.Account {
	n.t.Helper()
	q, err := n.app.Query(ctx, &abcitypes.QueryRequest{Path: ledger.PathAccount, Data: addr[:]})
	if err != nil || q.Code != 0 {
		n.t.Fatalf("query %s: %v %d %s", addr, err, q.GetCode(), q.GetLog())
	}
	a, err := state.DecodeAccount(q.Value)
	if err != nil {
		n.t.Fatal(err)
	}
	return a
}

func (n *node) mustInvariants() {
	n.t.Helper()
	if err := n.app.CheckInvariants(); err != nil {
		n.t.Fatal(err)
	}
}
