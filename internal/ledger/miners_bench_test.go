package ledger_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/tx"
)

// BenchmarkMinerRegisterBlock applies blocks of 1,000 signed MinerRegister
// txs (one per account: the first block registers 1,000 miners, later
// blocks update them) and, interleaved in the same loop on a second
// chain, blocks of 1,000 signed transfers among the same accounts: the
// baseline. FinalizeBlock verifies every signature in both. Reports both
// rates and reg/transfer-x, the ratio of registration to transfer time
// per block.
func BenchmarkMinerRegisterBlock(b *testing.B) {
	const perBlock = benchAccounts
	reg, xfer := newBenchChain(b), newBenchChain(b)
	kinds := tx.MinerKinds()
	var dr, dt time.Duration
	round := 0
	for range b.N {
		b.StopTimer()
		regTxs := make([][]byte, 0, perBlock)
		for i := range perBlock {
			m := minerReg(kinds[(i+round)%len(kinds)], uint32(1+(i+round)%64), fmt.Sprintf("https://m%d.example:8443/jobs", i),
				uint64(10+round), "vm/0.1.0", true)
			regTxs = append(regTxs, sign(b, reg.keys[i], reg.nonces[i], 2, m))
			reg.nonces[i]++
		}
		xferTxs := make([][]byte, 0, perBlock)
		for i := range perBlock {
			to := xfer.keys[xfer.rng.IntN(benchAccounts)].Address()
			xferTxs = append(xferTxs, sign(b, xfer.keys[i], xfer.nonces[i], 2, transfer(to, 1)))
			xfer.nonces[i]++
		}
		round++
		b.StartTimer()
		t0 := time.Now()
		rr := reg.n.block(regTxs...)
		t1 := time.Now()
		rx := xfer.n.block(xferTxs...)
		dr, dt = dr+t1.Sub(t0), dt+time.Since(t1)
		b.StopTimer()
		for i := range rr.TxResults {
			if rr.TxResults[i].Code != 0 || rx.TxResults[i].Code != 0 {
				b.Fatalf("tx %d failed: %s %s", i, rr.TxResults[i].Log, rx.TxResults[i].Log)
			}
		}
		b.StartTimer()
	}
	n := float64(b.N * perBlock)
	b.ReportMetric(n/dr.Seconds(), "reg-txs/s")
	b.ReportMetric(n/dt.Seconds(), "transfer-txs/s")
	b.ReportMetric(dr.Seconds()/dt.Seconds(), "reg/transfer-x")
}
