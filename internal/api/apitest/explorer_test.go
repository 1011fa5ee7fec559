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
)

// The explorer part of overHTTP.

func (o overHTTP) AccountTxs(ctx context.Context, addr crypto.Address, q apitype.TxQuery) (apitype.TxList, error) {
	return o.c.AccountTxs(ctx, addr, q)
}

func (o overHTTP) ContractStats(ctx context.Context, name string, q apitype.StatsQuery) (apitype.ContractStats, error) {
	return o.c.ContractStats(ctx, name, q)
}

func (o overHTTP) ContractResults(ctx context.Context, name string, q apitype.ResultQuery) (apitype.ContractResultList, error) {
	return o.c.ContractResults(ctx, name, q)
}

// TestExplorerConformanceFake runs the explorer suite on the fake.
func TestExplorerConformanceFake(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 3, DeployFeePerKiB: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	apitest.ExplorerConformance(t, b, fundedKey(t, b, 1_000_000))
}

// TestExplorerConformanceFakeOverHTTP runs the suite on the fake through
// the API server and the client.
func TestExplorerConformanceFakeOverHTTP(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := api.New(b, api.Options{})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()
	apitest.ExplorerConformance(t, overHTTP{client.New(ts.URL)}, fundedKey(t, b, 1_000_000))
}

// TestExplorerConformanceNode runs the suite on a real devnet node
// through its API and the client.
func TestExplorerConformanceNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	env := nodetest.Start(t)
	apitest.ExplorerConformance(t, overHTTP{env.Client}, env.Key)
}
