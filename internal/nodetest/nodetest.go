// Package nodetest starts real devnet nodes for integration tests: real
// CometBFT, real ledger, real HTTP API on a free loopback port, in a
// temporary home, stopped when the test ends. Tests of other packages use
// it instead of fakes when they need the whole path.
package nodetest

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/node"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// FundedBalance is the genesis balance of Env.Key.
const FundedBalance uint64 = 1_000_000_000_000

// ChainID is the chain id of every nodetest node (the devnet's).
const ChainID = node.DevnetChainID

// Env is a running devnet node.
type Env struct {
	Node   *node.Node
	URL    string         // API base URL, e.g. http://127.0.0.1:41234
	Client *client.Client // client of URL
	Home   string
	// Key is an account funded with FundedBalance at genesis, so tests
	// can transfer without the faucet. Its seed is fixed (see Key).
	Key crypto.PrivKey
}

// Options tune Start; the zero value is the default.
type Options struct {
	// Genesis replaces the devnet genesis; Env.Key is still added to it.
	Genesis *ledger.Genesis
	// Logger receives the node's logs; nil: discard, or stderr at Info
	// when the test runs with -v.
	Logger *slog.Logger
}

// Fund transfers amount GAS from e.Key to addr (fee: the devnet minimum,
// 1) and waits for the block; it fails the test if the transfer does not
// commit with code 0.
func (e *Env) Fund(t testing.TB, addr crypto.Address, amount uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs := []*txpb.Msg{{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: addr[:], Amount: amount}}}}
	r, err := e.Client.Send(ctx, e.Key, msgs, 1, true)
	if err != nil || r.Code != 0 {
		t.Fatalf("nodetest: fund %s: %+v %v", addr, r, err)
	}
}

// Key returns the deterministic test key number i (0 is Env.Key).
func Key(i byte) crypto.PrivKey {
	seed := sha256.Sum256([]byte{'n', 'o', 'd', 'e', 't', 'e', 's', 't', i})
	k, err := crypto.KeyFromSeed(seed[:])
	if err != nil {
		panic(err) // a 32-byte seed always works
	}
	return k
}

// Start starts a devnet node in t.TempDir() and stops it at cleanup. It
// fails the test if the node does not start.
func Start(t testing.TB) *Env { return StartWith(t, Options{}) }

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Env {
	t.Helper()
	home := t.TempDir()
	gen := ledger.DevnetGenesis()
	if opts.Genesis != nil {
		gen = *opts.Genesis
	}
	key := Key(0)
	gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Address: key.Address(), Balance: FundedBalance})
	if _, err := node.InitHome(home, ChainID, gen, 0); err != nil {
		t.Fatalf("nodetest: init: %v", err)
	}
	cfg := node.TestConfig(home)
	cfg.Logger = opts.Logger
	if cfg.Logger == nil && testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	n, err := node.New(cfg)
	if err != nil {
		t.Fatalf("nodetest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatalf("nodetest: start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Close(ctx); err != nil {
			t.Errorf("nodetest: close: %v", err)
		}
	})
	return &Env{Node: n, URL: n.URL(), Client: client.New(n.URL()), Home: home, Key: key}
}
