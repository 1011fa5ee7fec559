package api_test

import (
	"context"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/nodetest"
	reg "github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// TestOffersNode follows the offer stream of a real node whose market
// rounds last 2+2 blocks, with the example hello contract deployed: a
// request included before the stream opens arrives first (the listing),
// a request included while it is open arrives from its block's tx event,
// and both arrive again, as round 2, when their first round lapses with one
// seal of the two needed (the block event request_reopened). Each offer reads back with a
// verified location through the client.
func TestOffersNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and builds an example contract")
	}
	gen := ledger.DevnetGenesis()
	gen.Params.Market = market.Default()
	gen.Params.Market.CommitWindow, gen.Params.Market.RevealWindow = 2, 2
	env := nodetest.StartWith(t, nodetest.Options{Genesis: &gen})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	path, err := examples.Build(ctx, t.TempDir(), "hello")
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := env.Client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	send := func(msg *txpb.Msg) apitype.SubmitResult {
		t.Helper()
		var perKiB uint64
		if msg.GetDeploy() != nil {
			perKiB = ledger.DevnetDeployFeePerKiB
		}
		extra, err := reg.DeployFees(perKiB, &txpb.TxBody{Msgs: []*txpb.Msg{msg}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := env.Client.Send(ctx, env.Key, []*txpb.Msg{msg}, 1+extra, true)
		if err != nil || res.Code != 0 {
			t.Fatalf("send: %+v %v (status %+v)", res, err, st)
		}
		return res
	}
	idOf := func(res apitype.SubmitResult) string {
		h, err := tx.ParseHash(res.Hash)
		if err != nil {
			t.Fatal(err)
		}
		id := market.RequestID(h, 0)
		return hex.EncodeToString(id[:])
	}
	send(apitest.Deploy("hello", "1.0.0", code, nil))
	send(&txpb.Msg{Sum: &txpb.Msg_MinerRegister{MinerRegister: &txpb.MinerRegister{Kind: "cpu", Capacity: 1, Active: true}}})
	// A round lapses CommitWindow blocks after its first seal when fewer
	// than the quorum sealed: one seal per round (quorum 2) re-offers it.
	sealOnce := func(o apitype.Request) {
		id, err := hex.DecodeString(o.ID)
		if err != nil {
			t.Fatal(err)
		}
		var rid [32]byte
		copy(rid[:], id)
		sl := market.Seal(env.Key.Address(), rid, [32]byte{1})
		send(&txpb.Msg{Sum: &txpb.Msg_Seal{Seal: &txpb.Seal{RequestId: id, Seal: sl[:], Start: o.Start}}})
	}
	greet := apitest.Request("hello@^1", "greet", []byte(`{"name":"ada"}`), 1_000_000, 1, 10, 2, 2, 200)
	a := idOf(send(greet))

	offers, err := env.Client.Offers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := <-offers
	if first.ID != a || first.Round != 1 || first.Name != "hello" || first.Fn != "greet" || first.Location != nil {
		t.Fatalf("first offer %+v, want the open request %s in round 1", first, a)
	}
	sealOnce(first)
	b := idOf(send(greet))

	// The devnet makes no empty blocks: a transfer every 100 ms keeps
	// blocks (and so the rounds' windows) going.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	other := nodetest.Key(1).Address()
	seen := map[string]uint32{} // id -> highest round offered
	for seen[a] < 2 || seen[b] < 2 {
		select {
		case <-tick.C:
			if _, err := env.Client.Send(ctx, env.Key, []*txpb.Msg{apitest.Transfer(other, 1)}, 1, false); err != nil {
				t.Fatalf("transfer: %v", err)
			}
		case o, ok := <-offers:
			if !ok {
				t.Fatalf("offer stream closed; seen %v", seen)
			}
			if o.ID != a && o.ID != b {
				t.Errorf("offer of unknown request %s", o.ID)
				continue
			}
			if o.ID == a && o.Round < 2 {
				t.Errorf("request %s offered again in round %d", a, o.Round)
			}
			if o.Round <= seen[o.ID] || o.Status != "open" || o.Start != o.Height {
				t.Errorf("offer %s round %d (seen %d), status %s, start %d at height %d", o.ID, o.Round, seen[o.ID], o.Status, o.Start, o.Height)
			}
			if o.Round == 1 {
				sealOnce(o)
			}
			seen[o.ID] = o.Round
			got, err := env.Client.Request(ctx, o.ID, o.Height)
			if err != nil || got.Round != o.Round || got.Seed != o.Seed {
				t.Errorf("Request(%s at %d) = round %d, %v; offer round %d", o.ID, o.Height, got.Round, err, o.Round)
			}
		case <-ctx.Done():
			t.Fatalf("offers seen %v; want rounds 1 and 2 of %s and %s", seen, a, b)
		}
	}
	if seen[b] < 1 {
		t.Error("no offer of the request included while streaming")
	}
}
