package miner_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// BenchmarkAgentSettle measures quorum-1 calls settled per second through
// one agent on an in-process devnet (echo contract, one Request per tx,
// submitted in batches of 100 signed txs; settled = its result_committed
// event seen on the block stream), against the baseline of the same
// number of plain signed transfers, submitted the same way and counted
// when their block arrives on the stream, in the same run. It reports
// calls/s and transfers/s; docs/benchmarks-miner.md has the ratio.
func BenchmarkAgentSettle(b *testing.B) {
	n := startNet(b)
	env := n.Env
	key := env.Key
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	a := n.agent(1, nil)

	sign := func(msgs func(i int) *txpb.Msg, count int) [][]byte {
		acc, err := env.Client.AccountNoProof(ctx, key.Address(), 0)
		if err != nil {
			b.Fatal(err)
		}
		out := make([][]byte, count)
		for i := range out {
			raw, err := tx.Sign(&txpb.TxBody{ChainId: nodetest.ChainID, Nonce: acc.Nonce + uint64(i), Fee: 1,
				Msgs: []*txpb.Msg{msgs(i)}}, key)
			if err != nil {
				b.Fatal(err)
			}
			out[i] = raw
		}
		return out
	}
	submit := func(txs [][]byte, wait bool) {
		for i := 0; i < len(txs); i += 100 {
			rs, err := env.Client.SubmitTxs(ctx, txs[i:min(i+100, len(txs))], wait)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range rs {
				if r.Code != 0 {
					b.Fatalf("tx refused: %+v", r)
				}
			}
		}
	}
	to := nodetest.Key(9).Address()
	b.Run("transfers", func(b *testing.B) {
		txs := sign(func(int) *txpb.Msg {
			return &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: to[:], Amount: 1}}}
		}, b.N)
		want := make(map[string]bool, len(txs))
		for _, raw := range txs {
			want[tx.HashOf(raw).String()] = true
		}
		blocks, err := env.Client.Blocks(ctx)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		submit(txs, false)
		for len(want) > 0 {
			be, ok := <-blocks
			if !ok {
				b.Fatal("block stream ended")
			}
			for _, tr := range be.Txs {
				if want[strings.ToUpper(tr.Hash)] || want[strings.ToLower(tr.Hash)] {
					if tr.Code != 0 {
						b.Fatalf("transfer failed: %+v", tr)
					}
					delete(want, strings.ToUpper(tr.Hash))
					delete(want, strings.ToLower(tr.Hash))
				}
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "transfers/s")
	})
	b.Run("calls", func(b *testing.B) {
		base := n.seq
		n.seq += b.N
		txs := sign(func(i int) *txpb.Msg {
			return &txpb.Msg{Sum: &txpb.Msg_Request{Request: &txpb.Request{Contract: "echo@^1", Fn: "echo",
				Input: []byte(strconv.Itoa(base + i)), GasLimit: 100_000, Price: 1, Reward: 1, Replicas: 1, Quorum: 1, Deadline: 500}}}
		}, b.N)
		want := make(map[string]bool, len(txs))
		for _, raw := range txs {
			want[hexID(market.RequestID(tx.HashOf(raw), 0))] = true
		}
		blocks, err := env.Client.Blocks(ctx)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		submit(txs, false)
		for len(want) > 0 {
			be, ok := <-blocks
			if !ok {
				b.Fatal("block stream ended")
			}
			for _, tr := range be.Txs {
				for _, ev := range tr.Events {
					if ev.Type == jobs.EventResult && ev.Attributes["status"] == jobs.StatusSettled {
						delete(want, ev.Attributes["id"])
					}
				}
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
		s := a.Stats()
		b.Logf("agent stats %+v", s)
	})
}
