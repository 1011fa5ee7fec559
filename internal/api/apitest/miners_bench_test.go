package apitest_test

import (
	"context"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// BenchmarkMinerRead reads one miner (GET /v1/miners/{id}) and one account
// (GET /v1/accounts/{addr}, the baseline) alternately from a real devnet
// node through the client, with and without the proof. Reports the mean
// latency of each and miner/account-x, their ratio.
func BenchmarkMinerRead(b *testing.B) {
	env := nodetest.Start(b)
	ctx := context.Background()
	msg := apitest.MinerRegister("cpu", 4, "https://m.example:8443/jobs", 50, "vm/0.1.0", true)
	if res, err := env.Client.Send(ctx, env.Key, []*txpb.Msg{msg}, 1, true); err != nil || res.Code != 0 {
		b.Fatalf("register: %+v %v", res, err)
	}
	addr := env.Key.Address()
	for _, prove := range []bool{true, false} {
		name := "prove"
		if !prove {
			name = "no-proof"
		}
		b.Run(name, func(b *testing.B) {
			var dm, da time.Duration
			for range b.N {
				t0 := time.Now()
				var err error
				if prove {
					_, err = env.Client.Miner(ctx, addr, 0)
				} else {
					_, err = env.Client.MinerNoProof(ctx, addr, 0)
				}
				t1 := time.Now()
				if err == nil {
					if prove {
						_, err = env.Client.Account(ctx, addr, 0)
					} else {
						_, err = env.Client.AccountNoProof(ctx, addr, 0)
					}
				}
				if err != nil {
					b.Fatal(err)
				}
				dm, da = dm+t1.Sub(t0), da+time.Since(t1)
			}
			b.ReportMetric(float64(dm.Microseconds())/float64(b.N), "miner-µs")
			b.ReportMetric(float64(da.Microseconds())/float64(b.N), "account-µs")
			b.ReportMetric(dm.Seconds()/da.Seconds(), "miner/account-x")
		})
	}
}
