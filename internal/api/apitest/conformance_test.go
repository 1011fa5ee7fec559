package apitest_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/virtual-machine/vm/internal/api"

	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestConformanceFake runs the Backend conformance suite on the fake.
func TestConformanceFake(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	k, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Sign(k, 0, 0, apitest.Faucet(k.Address(), 10_000))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := b.SubmitTx(context.Background(), raw, true); err != nil || res.Code != 0 {
		t.Fatalf("fund: %+v %v", res, err)
	}
	apitest.Conformance(t, b, k)
}

// TestConformanceNode runs the same suite on a real devnet node's
// Backend (internal/chain.Node behind internal/node), so the fake the
// API, client and CLI tests use is held to what the real node does.
func TestConformanceNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	env := nodetest.Start(t)
	apitest.Conformance(t, overHTTP{env.Client}, env.Key)
}

// TestConformanceFakeOverHTTP runs the suite on the fake through the API
// server and the client.
func TestConformanceFakeOverHTTP(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := api.New(b, api.Options{})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()
	k, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := b.Sign(k, 0, 0, apitest.Faucet(k.Address(), 10_000))
	if _, err := b.SubmitTx(context.Background(), raw, true); err != nil {
		t.Fatal(err)
	}
	apitest.Conformance(t, overHTTP{client.New(ts.URL)}, k)
}

// overHTTP is a Backend that reaches a node through its API with the
// client: the suite then covers node, API server and client together.
type overHTTP struct{ c *client.Client }

var _ api.Backend = overHTTP{}

func (o overHTTP) SubmitTx(ctx context.Context, raw []byte, wait bool) (apitype.SubmitResult, error) {
	res, err := o.c.SubmitTx(ctx, raw, wait)
	if err != nil && res.Hash != "" && res.Code != 0 {
		return res, nil // a rejected tx is a result, not an error, for a Backend
	}
	return res, err
}

func (o overHTTP) Account(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Account, error) {
	if prove {
		return o.c.Account(ctx, addr, height)
	}
	return o.c.AccountNoProof(ctx, addr, height)
}

func (o overHTTP) Block(ctx context.Context, height int64) (apitype.Block, error) {
	return o.c.Block(ctx, height)
}

func (o overHTTP) Commit(ctx context.Context, height int64) (apitype.Commit, error) {
	return o.c.Commit(ctx, height)
}

func (o overHTTP) Genesis(ctx context.Context) (apitype.Genesis, error) { return o.c.Genesis(ctx) }

func (o overHTTP) Tx(ctx context.Context, hash tx.Hash) (apitype.Tx, error) { return o.c.Tx(ctx, hash) }

func (o overHTTP) Status(ctx context.Context) (apitype.Status, error) { return o.c.Status(ctx) }

func (o overHTTP) Subscribe(ctx context.Context) (<-chan apitype.BlockEvents, error) {
	return o.c.Blocks(ctx)
}

// TestContractConformanceFake runs the registry suite on the fake, with a
// deploy fee so fees are checked.
func TestContractConformanceFake(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 2, DeployFeePerKiB: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	k := fundedKey(t, b, 1_000_000)
	apitest.ContractConformance(t, b, k)
}

// TestContractConformanceFakeOverHTTP runs the registry suite on the fake
// through the API server and the client.
func TestContractConformanceFakeOverHTTP(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 1, DeployFeePerKiB: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := api.New(b, api.Options{})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()
	k := fundedKey(t, b, 1_000_000)
	apitest.ContractConformance(t, overHTTP{client.New(ts.URL)}, k)
}

// TestContractConformanceNode runs the registry suite on a real devnet
// node through its API and the client.
func TestContractConformanceNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	env := nodetest.Start(t)
	apitest.ContractConformance(t, overHTTP{env.Client}, env.Key)
}

func fundedKey(t *testing.T, b *apitest.Backend, amount uint64) crypto.PrivKey {
	t.Helper()
	k, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Sign(k, 0, 0, apitest.Faucet(k.Address(), amount))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := b.SubmitTx(context.Background(), raw, true); err != nil || res.Code != 0 {
		t.Fatalf("fund: %+v %v", res, err)
	}
	return k
}

var _ apitest.RegistryBackend = overHTTP{}

func (o overHTTP) Contracts(ctx context.Context, q apitype.ContractQuery) (apitype.ContractList, error) {
	return o.c.Contracts(ctx, q)
}

func (o overHTTP) Contract(ctx context.Context, name string, height int64, _ bool) (apitype.Contract, error) {
	return o.c.Contract(ctx, name, height)
}

func (o overHTTP) ContractVersions(ctx context.Context, name string, height int64) (apitype.VersionList, error) {
	if height != 0 {
		return apitype.VersionList{}, vmerr.E("overHTTP", vmerr.Invalid, "the client lists versions at the latest height only")
	}
	return o.c.ContractVersions(ctx, name)
}

func (o overHTTP) ContractVersion(ctx context.Context, name, rng string, height int64, _ bool) (apitype.ContractVersion, error) {
	return o.c.ContractVersion(ctx, name, rng, height)
}

func (o overHTTP) ContractCode(ctx context.Context, name, rng string, metered bool, height int64) (apitype.ContractVersion, []byte, error) {
	if height != 0 {
		return apitype.ContractVersion{}, nil, vmerr.E("overHTTP", vmerr.Invalid, "the client fetches code at the latest height only")
	}
	code, v, err := o.c.ContractCode(ctx, name, rng, metered)
	return v, code, err
}

// everywhere runs a conformance suite on the fake (configured by cfg),
// on the fake through the API server and the client, and on a real
// devnet node through its API (skipped with -short).
func everywhere(t *testing.T, cfg apitest.Config, suite func(*testing.T, api.Backend, crypto.PrivKey)) {
	t.Run("fake", func(t *testing.T) {
		b, err := apitest.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		suite(t, b, fundedKey(t, b, 1_000_000))
	})
	t.Run("fake over HTTP", func(t *testing.T) {
		b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		srv := api.New(b, api.Options{})
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		defer srv.Close()
		suite(t, overHTTP{client.New(ts.URL)}, fundedKey(t, b, 1_000_000))
	})
	t.Run("node", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts a node")
		}
		env := nodetest.Start(t)
		suite(t, overHTTP{env.Client}, env.Key)
	})
}

func TestMarketConformance(t *testing.T) {
	everywhere(t, apitest.Config{Faucet: true, MinFee: 3, DeployFeePerKiB: 2}, apitest.MarketConformance)
}

func TestMinerConformance(t *testing.T) {
	everywhere(t, apitest.Config{Faucet: true, MinFee: 3}, apitest.MinerConformance)
}

func TestExplorerConformance(t *testing.T) {
	everywhere(t, apitest.Config{Faucet: true, MinFee: 3, DeployFeePerKiB: 2}, apitest.ExplorerConformance)
}
