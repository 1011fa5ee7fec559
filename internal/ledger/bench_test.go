package ledger_test

import (
	"math/rand/v2"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx"
)

const (
	benchAccounts = 1000
	benchBlockTxs = 5000
)

// benchChain is a ledger with benchAccounts funded accounts and the keys
// to sign blocks of transfers among them.
type benchChain struct {
	n      *node
	keys   []crypto.PrivKey
	nonces []uint64
	rng    *rand.Rand
}

func newBenchChain(b *testing.B) *benchChain {
	g := testGenesis(b, benchAccounts, 1<<40)
	c := &benchChain{n: newNode(b, g), nonces: make([]uint64, benchAccounts), rng: rand.New(rand.NewPCG(1, 2))}
	for i := range benchAccounts {
		c.keys = append(c.keys, key(b, i))
	}
	c.n.block()
	return c
}

// nextBlock signs benchBlockTxs transfers: every account sends the same
// number, with sequential nonces, to random accounts.
func (c *benchChain) nextBlock(b *testing.B) [][]byte {
	txs := make([][]byte, 0, benchBlockTxs)
	for j := range benchBlockTxs {
		i := j % benchAccounts
		to := c.keys[c.rng.IntN(benchAccounts)].Address()
		txs = append(txs, sign(b, c.keys[i], c.nonces[i], 2, transfer(to, 1+uint64(c.rng.IntN(1000)))))
		c.nonces[i]++
	}
	return txs
}

// BenchmarkFinalizeBlock applies blocks of 5,000 signed transfers among
// 1,000 accounts (FinalizeBlock + Commit). "verify" checks every signature
// inside FinalizeBlock (txs from another proposer); "checktx-cached" first
// runs CheckTx on each tx untimed, as the mempool does, so FinalizeBlock
// finds the signatures verified. Reports txs/s.
func BenchmarkFinalizeBlock(b *testing.B) {
	for _, mode := range []string{"verify", "checktx-cached"} {
		b.Run(mode, func(b *testing.B) {
			c := newBenchChain(b)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				txs := c.nextBlock(b)
				if mode == "checktx-cached" {
					for _, t := range txs {
						if r, _ := c.n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: t}); r.Code != 0 {
							b.Fatal(r.Log)
						}
					}
				}
				b.StartTimer()
				resp := c.n.block(txs...)
				b.StopTimer()
				for _, r := range resp.TxResults {
					if r.Code != 0 {
						b.Fatalf("tx failed: %s", r.Log)
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*benchBlockTxs)/b.Elapsed().Seconds(), "txs/s")
		})
	}
}

// BenchmarkFinalizeBlockInterleaved runs the two modes of
// BenchmarkFinalizeBlock on two chains in alternation within one loop, so
// both see the same machine load; the ratio is the figure to trust on a
// noisy machine.
func BenchmarkFinalizeBlockInterleaved(b *testing.B) {
	v, c := newBenchChain(b), newBenchChain(b)
	var dv, dc time.Duration
	for range b.N {
		b.StopTimer()
		txsV, txsC := v.nextBlock(b), c.nextBlock(b)
		for _, t := range txsC {
			if r, _ := c.n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: t}); r.Code != 0 {
				b.Fatal(r.Log)
			}
		}
		b.StartTimer()
		t0 := time.Now()
		v.n.block(txsV...)
		t1 := time.Now()
		c.n.block(txsC...)
		dv, dc = dv+t1.Sub(t0), dc+time.Since(t1)
	}
	txs := float64(b.N * benchBlockTxs)
	b.ReportMetric(txs/dv.Seconds(), "verify-txs/s")
	b.ReportMetric(txs/dc.Seconds(), "cached-txs/s")
	b.ReportMetric(dv.Seconds()/dc.Seconds(), "cached/verify-x")
}

// BenchmarkCheckTx measures CheckTx of new transactions (signature
// verified every time), serially and from GOMAXPROCS goroutines, after
// PreVerify of a 500-tx batch (as SubmitTxs does), and rechecks
// (signature found in the cache).
func BenchmarkCheckTx(b *testing.B) {
	c := newBenchChain(b)
	txs := c.nextBlock(b)
	b.Run("serial", func(b *testing.B) {
		for i := range b.N {
			if r, _ := c.n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: txs[i%len(txs)]}); r.Code != 0 {
				b.Fatal(r.Log)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "txs/s")
	})
	b.Run("recheck", func(b *testing.B) {
		for i := range b.N {
			r, _ := c.n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: txs[i%len(txs)], Type: abcitypes.CHECK_TX_TYPE_RECHECK})
			if r.Code != 0 {
				b.Fatal(r.Log)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "txs/s")
	})
	// A submitted batch: PreVerify (batched signatures) then CheckTx of
	// each tx, per tx; compare with serial.
	b.Run("preverified-batch", func(b *testing.B) {
		const batch = 500
		var fresh [][]byte // not seen by the runs above
		for len(fresh) < b.N {
			fresh = append(fresh, c.nextBlock(b)...)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i += batch {
			lo := i % len(fresh)
			part := fresh[lo:min(lo+batch, len(fresh), lo+b.N-i)]
			c.n.app.PreVerify(part)
			for _, t := range part {
				if r, _ := c.n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: t}); r.Code != 0 {
					b.Fatal(r.Log)
				}
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "txs/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if r, _ := c.n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: txs[i%len(txs)]}); r.Code != 0 {
					b.Error(r.Log)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "txs/s")
	})
}

// BenchmarkVerify compares verifying 5,000 transaction signatures one by
// one (crypto.Verify), one by one from GOMAXPROCS goroutines (the ceiling
// of parallel CheckTx), and as one ZIP-215 batch (what FinalizeBlock uses
// per worker). Reports signatures/s.
func BenchmarkVerify(b *testing.B) {
	c := newBenchChain(b)
	var signed []*tx.Signed
	for _, raw := range c.nextBlock(b) {
		s, err := tx.Decode(raw, chainID)
		if err != nil {
			b.Fatal(err)
		}
		signed = append(signed, s)
	}
	opts := &voi.Options{Verify: voi.VerifyOptionsZIP_215}
	b.Run("single", func(b *testing.B) {
		for range b.N {
			for _, s := range signed {
				if !crypto.Verify(s.PubKey, s.BodyBytes, s.Signature) {
					b.Fatal("bad signature")
				}
			}
		}
		b.ReportMetric(float64(b.N*len(signed))/b.Elapsed().Seconds(), "sigs/s")
	})
	b.Run("single-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				s := signed[i%len(signed)]
				if !crypto.Verify(s.PubKey, s.BodyBytes, s.Signature) {
					b.Error("bad signature")
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
	})
	b.Run("interleaved", func(b *testing.B) {
		var ds, db time.Duration
		for range b.N {
			t0 := time.Now()
			for _, s := range signed {
				if !crypto.Verify(s.PubKey, s.BodyBytes, s.Signature) {
					b.Fatal("bad signature")
				}
			}
			t1 := time.Now()
			bv := voi.NewBatchVerifierWithCapacity(len(signed))
			for _, s := range signed {
				bv.AddWithOptions(voi.PublicKey(s.PubKey), s.BodyBytes, s.Signature, opts)
			}
			if ok, _ := bv.Verify(nil); !ok {
				b.Fatal("batch failed")
			}
			ds, db = ds+t1.Sub(t0), db+time.Since(t1)
		}
		n := float64(b.N * len(signed))
		b.ReportMetric(n/ds.Seconds(), "single-sigs/s")
		b.ReportMetric(n/db.Seconds(), "batch-sigs/s")
		b.ReportMetric(ds.Seconds()/db.Seconds(), "batch/single-x")
	})
	b.Run("batch", func(b *testing.B) {
		for range b.N {
			bv := voi.NewBatchVerifierWithCapacity(len(signed))
			for _, s := range signed {
				bv.AddWithOptions(voi.PublicKey(s.PubKey), s.BodyBytes, s.Signature, opts)
			}
			if ok, _ := bv.Verify(nil); !ok {
				b.Fatal("batch failed")
			}
		}
		b.ReportMetric(float64(b.N*len(signed))/b.Elapsed().Seconds(), "sigs/s")
	})
}
