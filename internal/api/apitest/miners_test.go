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

func (o overHTTP) Miners(ctx context.Context, q apitype.MinerQuery) (apitype.MinerList, error) {
	return o.c.Miners(ctx, q)
}

func (o overHTTP) Miner(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Miner, error) {
	if prove {
		return o.c.Miner(ctx, addr, height)
	}
	return o.c.MinerNoProof(ctx, addr, height)
}

// TestMinerConformanceFake runs the miner registry suite on the fake.
func TestMinerConformanceFake(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	apitest.MinerConformance(t, b, fundedKey(t, b, 1_000_000))
}

// TestMinerConformanceFakeOverHTTP runs the suite on the fake through the
// API server and the client.
func TestMinerConformanceFakeOverHTTP(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := api.New(b, api.Options{})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()
	apitest.MinerConformance(t, overHTTP{client.New(ts.URL)}, fundedKey(t, b, 1_000_000))
}

// TestMinerConformanceNode runs the suite on a real devnet node through
// its API and the client.
func TestMinerConformanceNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	env := nodetest.Start(t)
	apitest.MinerConformance(t, overHTTP{env.Client}, env.Key)
}
