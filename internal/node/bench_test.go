package node_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/node"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// BenchmarkStatusRoundTrip is the baseline: one GET /v1/status through
// the real API of a devnet node.
func BenchmarkStatusRoundTrip(b *testing.B) {
	env := nodetest.Start(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := env.Client.Status(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSubmitCommit measures submit→commit latency of one pre-signed
// transfer at a time (POST /v1/txs?wait=commit through the client); ns/op
// is the mean, p50 and p99 are reported.
func BenchmarkSubmitCommit(b *testing.B) {
	env := nodetest.Start(b)
	ctx := context.Background()
	to := nodetest.Key(1).Address()
	var lat []time.Duration
	nonce := uint64(0)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		raw, err := tx.Sign(&txpb.TxBody{ChainId: env.Node.ChainID(), Nonce: nonce, Fee: 1, Msgs: transfer(to, 1)}, env.Key)
		if err != nil {
			b.Fatal(err)
		}
		nonce++
		b.StartTimer()
		t0 := time.Now()
		r, err := env.Client.SubmitTx(ctx, raw, true)
		if err != nil || r.Code != 0 {
			b.Fatal(r, err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkThroughput pushes b.N pre-signed transfers from 64 funded
// senders through the HTTP API (no wait) and waits until all are
// committed; it reports committed tx/s.
func BenchmarkThroughput(b *testing.B) {
	const senders = 64
	gen := ledger.DevnetGenesis()
	keys := make([]crypto.PrivKey, senders)
	for i := range keys {
		keys[i] = nodetest.Key(byte(100 + i))
		gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Address: keys[i].Address(), Balance: 1 << 40})
	}
	env := nodetest.StartWith(b, nodetest.Options{Genesis: &gen})
	per := max(1, b.N/senders)
	txs := make([][][]byte, senders)
	to := nodetest.Key(1).Address()
	for i, k := range keys {
		for nonce := range per {
			raw, err := tx.Sign(&txpb.TxBody{ChainId: env.Node.ChainID(), Nonce: uint64(nonce), Fee: 1, Msgs: transfer(to, 1)}, k)
			if err != nil {
				b.Fatal(err)
			}
			txs[i] = append(txs[i], raw)
		}
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	ctx := context.Background()
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, raw := range txs[i] {
				resp, err := hc.Post(env.URL+"/v1/txs", "application/octet-stream", bytes.NewReader(raw))
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
					b.Errorf("submit: HTTP %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Done when every sender's last tx is committed.
	c := client.New(env.URL)
	for i := range senders {
		h := tx.HashOf(txs[i][per-1])
		for {
			r, err := c.Tx(ctx, h)
			if err == nil {
				if r.Code != 0 {
					b.Fatalf("tx failed: %+v", r)
				}
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	el := time.Since(t0)
	b.ReportMetric(float64(per*senders)/el.Seconds(), "tx/s")
}

// BenchmarkStart measures a devnet node from New to its first block
// committed and the API listening, plus Close.
func BenchmarkStart(b *testing.B) {
	// One home, wiped per iteration: b.TempDir per iteration keeps every
	// 18 MB home until the benchmark ends, tens of GB at -benchtime 10s.
	home := filepath.Join(b.TempDir(), "home")
	for b.Loop() {
		b.StopTimer()
		if err := os.RemoveAll(home); err != nil {
			b.Fatal(err)
		}
		if _, err := node.InitDevnet(home, 0); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n, err := node.New(node.TestConfig(home))
		if err != nil {
			b.Fatal(err)
		}
		if err := n.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		if err := n.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
