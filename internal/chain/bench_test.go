package chain_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/chain"
)

// BenchmarkSubmitCommitKV measures SubmitTx(wait) latency on the chain
// alone, over the small test app: the consensus + indexing share of the
// node's submit→commit latency.
func BenchmarkSubmitCommitKV(b *testing.B) {
	n, _ := startNodeB(b)
	ctx := context.Background()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		t0 := time.Now()
		if r, err := n.SubmitTx(ctx, []byte(fmt.Sprintf("k%d=v", i)), true); err != nil || r.Code != 0 {
			b.Fatal(r, err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func startNodeB(b *testing.B) (*chain.Node, *kvApp) {
	home := b.TempDir()
	if err := chain.InitHome(home, testChain, nil, chain.InitOptions{P2PListen: "tcp://127.0.0.1:0"}); err != nil {
		b.Fatal(err)
	}
	app := newKVApp(home)
	n, err := chain.New(home, app, nil, chain.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Stop() })
	return n, app
}
