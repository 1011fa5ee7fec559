package ledger_test

import (
	"fmt"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// BenchmarkMarketCalls measures the ledger's share of a settled call: a
// block of 1,000 Request txs (echo, distinct inputs, quorum 1) then a
// block carrying their results in work txs of up to 200 messages from 4
// miners, both with CheckTx first (as the mempool does), against a block
// of 1,000 transfers to new accounts in the same run. The execution itself
// is the miners' (not timed). Reports settled calls/s and the ratio to
// transfers/s.
func BenchmarkMarketCalls(b *testing.B) {
	const calls = 1000
	n := newMarketNetCache(b, ledger.DefaultCacheSize, false) // the node's default cache

	rt := newRuntime(b)
	var ledgerTime, transferTime time.Duration
	checkAll := func(txs [][]byte) {
		for _, t := range txs {
			if r, _ := n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: t}); r.Code != 0 {
				b.Fatal(r.Log)
			}
		}
	}
	round := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		round++
		msgs := make([]*txpb.Msg, calls)
		txs := make([][]byte, 0, calls)
		for i := range calls {
			msgs[i] = requestMsg("echo@^1", "echo", fmt.Sprintf(`{"name":"r%d-%d"}`, round, i), 100_000, 1, 10, 1, 1, 50)
			txs = append(txs, n.requester.tx(b, msgs[i]))
			n.requester.nonce++
		}
		checkAll(txs)
		b.StartTimer()
		start := time.Now()
		resp := n.block(txs...)
		ledgerTime += time.Since(start)
		b.StopTimer()
		for _, r := range resp.TxResults {
			if r.Code != 0 {
				b.Fatal(r.Log)
			}
		}
		work := make([][]*txpb.Msg, len(n.miners)-1)
		for i, raw := range txs {
			out, _, _ := n.execute(rt, requestID(raw, 0))
			work[i%len(work)] = append(work[i%len(work)], resultMsg(requestID(raw, 0), out, n.start(requestID(raw, 0))))
		}
		var wtxs [][]byte
		for m, ms := range work {
			for len(ms) > 0 {
				k := min(200, len(ms))
				wtxs = append(wtxs, n.miners[m].tx(b, ms[:k]...))
				n.miners[m].nonce++
				ms = ms[k:]
			}
		}
		checkAll(wtxs)
		b.StartTimer()
		start = time.Now()
		resp = n.block(wtxs...)
		ledgerTime += time.Since(start)
		b.StopTimer()
		for _, r := range resp.TxResults {
			if r.Code != 0 {
				b.Fatal(r.Log)
			}
		}
		// The baseline: 1,000 transfers, each to a new account (one state
		// write per transfer besides the sender's).
		ttx := make([][]byte, 0, calls)
		for i := range calls {
			to := key(b, 1000+round*calls+i).Address()
			ttx = append(ttx, n.requester.tx(b, transfer(to, 1)))
			n.requester.nonce++
		}
		checkAll(ttx)
		start = time.Now()
		n.block(ttx...)
		transferTime += time.Since(start)
		b.StartTimer()
	}
	b.StopTimer()
	callsPerSec := float64(calls*b.N) / ledgerTime.Seconds()
	transfersPerSec := float64(calls*b.N) / transferTime.Seconds()
	b.ReportMetric(callsPerSec, "calls/s")
	b.ReportMetric(transfersPerSec, "transfers/s")
	b.ReportMetric(callsPerSec/transfersPerSec, "ratio")
}
