package bench_test

import (
	"context"
	"testing"

	"github.com/virtual-machine/vm/internal/bench"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/nodetest"
)

// BenchmarkTransfers runs the load generator against an in-process devnet
// node (generator and node share the process): b.N transfers from 1000
// genesis-funded accounts, 8 submitters, batches of 500. It reports
// committed tx/s and p50/p99 submit→commit latency. Profile it with
// -cpuprofile to see where a committed transfer's time goes.
func BenchmarkTransfers(b *testing.B) {
	const accounts = 1000
	keys := bench.Keys(accounts)
	gen := ledger.DevnetGenesis()
	for _, k := range keys {
		gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Address: k.Address(), Balance: 1 << 40})
	}
	env := nodetest.StartWith(b, nodetest.Options{Genesis: &gen})
	p, err := bench.Sign(bench.Config{N: max(b.N, accounts), Accounts: accounts, ChainID: env.Node.ChainID()}, keys, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	res, err := bench.Run(context.Background(), env.Client, p)
	if err != nil {
		b.Fatal(err)
	}
	if res.Failed > 0 {
		b.Fatalf("%d failed: %s", res.Failed, res.FirstFailure)
	}
	b.ReportMetric(res.TxPerSec, "tx/s")
	b.ReportMetric(res.P50MS, "p50-ms")
	b.ReportMetric(res.P99MS, "p99-ms")
}
