package bench_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/bench"
)

// TestFollow runs small loads against a real devnet node while a
// Follower reads /v1/events, per event and per block: it must count every
// committed transfer once, report lags, and not call the stream dropped;
// a follower whose node goes away reports Dropped.
func TestFollow(t *testing.T) {
	const accounts = 20
	env, keys := startFunded(t, accounts)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	start := make([]uint64, accounts)
	for _, batch := range []bool{false, true} {
		p, err := bench.Sign(bench.Config{N: 200, Accounts: accounts, Concurrency: 2, Batch: 50, ChainID: env.Node.ChainID()}, keys, start)
		if err != nil {
			t.Fatal(err)
		}
		for i := range start {
			start[i] += uint64(p.Config.Count(i))
		}
		f, err := bench.Follow(ctx, env.Client, p, batch)
		if err != nil {
			t.Fatal(err)
		}
		res, err := bench.Run(ctx, env.Client, p)
		if err != nil || res.Committed != 200 {
			t.Fatalf("run: %+v %v", res, err)
		}
		e := f.Wait(res, time.Now(), 20*time.Second)
		if e.Batch != batch || e.Received != 200 || e.Expected != 200 || e.Dropped || e.Blocks == 0 ||
			e.LagP50MS <= 0 || e.LagMaxMS < e.LagP99MS || e.LagP99MS < e.LagP50MS {
			t.Errorf("batch %v: %+v", batch, e)
		}
		if e.Messages < e.Blocks || (!batch && e.Messages < 200) || (batch && e.Messages >= 200) {
			t.Errorf("batch %v: %d messages for %d blocks", batch, e.Messages, e.Blocks)
		}
		res.Events = &e
		if s := res.String(); !strings.Contains(s, "200/200 tx events received") || strings.Contains(s, "DROPPED") {
			t.Errorf("report:\n%s", s)
		}
	}

	// A stream that ends before the run's events arrive is reported dropped.
	p, err := bench.Sign(bench.Config{N: 20, Accounts: accounts, ChainID: env.Node.ChainID()}, keys, start)
	if err != nil {
		t.Fatal(err)
	}
	f, err := bench.Follow(ctx, env.Client, p, false)
	if err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	if err := env.Node.Close(cctx); err != nil {
		t.Fatal(err)
	}
	if e := f.Wait(bench.Result{Committed: 20}, time.Now(), 10*time.Second); !e.Dropped || e.Received != 0 {
		t.Errorf("after the node closed: %+v", e)
	}
}
