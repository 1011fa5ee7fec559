package apitest_test

import (
	"context"
	"encoding/hex"
	"net/http/httptest"
	"testing"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// The market part of overHTTP: the client verifies every Location it
// receives, so the suite over HTTP also checks the client accepts honest
// answers. The client always asks for proofs.

func (o overHTTP) Requests(ctx context.Context, q apitype.RequestQuery) (apitype.RequestList, error) {
	return o.c.Requests(ctx, q)
}

func (o overHTTP) Request(ctx context.Context, id [32]byte, height int64, _ bool) (apitype.Request, error) {
	return o.c.Request(ctx, hex.EncodeToString(id[:]), height)
}

func (o overHTTP) Result(ctx context.Context, id [32]byte, height int64, _ bool) (apitype.Result, error) {
	return o.c.Result(ctx, hex.EncodeToString(id[:]), height)
}

func (o overHTTP) Data(ctx context.Context, contract string, key []byte, height int64, _ bool) (apitype.DataEntry, error) {
	if len(key) == 0 {
		// The client refuses an empty key itself; ask the server anyway, so
		// the route's own check is what the suite sees.
		_, err := o.c.DataRange(ctx, contract, nil, nil, -1, height)
		return apitype.DataEntry{}, vmerr.E("overHTTP", vmerr.KindOf(err), "empty key")
	}
	return o.c.Data(ctx, contract, key, height)
}

func (o overHTTP) Memo(ctx context.Context, code [32]byte, fn string, input [32]byte, height int64, _ bool) (apitype.Memo, error) {
	return o.c.Memo(ctx, code, fn, input, height)
}

func (o overHTTP) DataRange(ctx context.Context, contract string, start, end []byte, limit int, height int64) (apitype.DataRange, error) {
	return o.c.DataRange(ctx, contract, start, end, limit, height)
}

// TestMarketConformanceFake runs the market suite on the fake.
func TestMarketConformanceFake(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 3, DeployFeePerKiB: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	apitest.MarketConformance(t, b, fundedKey(t, b, 1_000_000))
}

// TestMarketConformanceFakeOverHTTP runs the suite on the fake through the
// API server and the client.
func TestMarketConformanceFakeOverHTTP(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := api.New(b, api.Options{})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()
	apitest.MarketConformance(t, overHTTP{client.New(ts.URL)}, fundedKey(t, b, 1_000_000))
}

// TestMarketConformanceNode runs the suite on a real devnet node through
// its API and the client.
func TestMarketConformanceNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	env := nodetest.Start(t)
	apitest.MarketConformance(t, overHTTP{env.Client}, env.Key)
}
