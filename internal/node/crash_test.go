package node_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/tx"
)

// committedTx is a transfer the node reported committed.
type committedTx struct {
	hash   string
	height int64
}

// TestCrashSafety runs `vm devnet` as a subprocess, streams signed
// transfers with ?wait=commit from several senders, SIGKILLs the process
// mid-stream, restarts it, and checks that every tx reported committed is
// still there at the same height, that the blocks (hash and app hash) at
// those heights are unchanged, and that the chain goes on. Two rounds.
func TestCrashSafety(t *testing.T) {
	bin := vmBinary(t)
	home := filepath.Join(t.TempDir(), "devnet")
	port := freePorts(t, 1)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	args := []string{"devnet", "--home", home, "--http", fmt.Sprintf("127.0.0.1:%d", port), "--p2p-port", "0", "--log-level", "warn", "--warm=false"}
	c := client.New(url, client.WithTimeout(5*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	const senders = 4
	p := startProc(t, bin, url, args...)
	for i := range senders {
		k := nodetest.Key(byte(10 + i))
		if r, err := c.Send(ctx, k, faucetMsg(k.Address(), 1_000_000), 0, true); err != nil || r.Code != 0 {
			t.Fatalf("fund sender %d: %+v %v", i, r, err)
		}
	}

	var all []committedTx
	blocks := map[int64]apitype.Block{}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2 {
		var mu sync.Mutex
		var got []committedTx
		var wg sync.WaitGroup
		sctx, stopSending := context.WithCancel(ctx)
		for i := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := nodetest.Key(byte(10 + i))
				sc := client.New(url, client.WithTimeout(5*time.Second))
				to := nodetest.Key(byte(50 + i)).Address()
				for sctx.Err() == nil {
					r, err := sc.Send(sctx, k, transfer(to, 1), 1, true)
					if err != nil {
						return // the node died
					}
					if r.Code == 0 && r.Height > 0 {
						mu.Lock()
						got = append(got, committedTx{r.Hash, r.Height})
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(700+rng.IntN(800)) * time.Millisecond)
		// Record the blocks reported so far, then kill without warning.
		mu.Lock()
		for _, ct := range got {
			if _, ok := blocks[ct.height]; !ok {
				if b, err := c.Block(ctx, ct.height); err == nil {
					blocks[ct.height] = b
				}
			}
		}
		mu.Unlock()
		p.kill()
		stopSending()
		wg.Wait()
		all = append(all, got...)
		if len(got) < 5 {
			t.Fatalf("round %d: only %d txs committed before the kill", round, len(got))
		}
		t.Logf("round %d: %d txs reported committed, then SIGKILL", round, len(got))

		p = startProc(t, bin, url, args...)
		for _, ct := range all {
			h, _ := tx.ParseHash(ct.hash)
			got, err := c.Tx(ctx, h)
			if err != nil {
				t.Fatalf("tx %s (height %d) lost after crash: %v", ct.hash, ct.height, err)
			}
			if got.Height != ct.height || got.Code != 0 {
				t.Fatalf("tx %s: now height %d code %d, was reported at %d", ct.hash, got.Height, got.Code, ct.height)
			}
		}
		for h, want := range blocks {
			b, err := c.Block(ctx, h)
			if err != nil {
				t.Fatalf("block %d after crash: %v", h, err)
			}
			if b.Hash != want.Hash || b.AppHash != want.AppHash {
				t.Fatalf("block %d changed: %s/%s, was %s/%s", h, b.Hash, b.AppHash, want.Hash, want.AppHash)
			}
		}
	}
	// The chain goes on after the crashes.
	k := nodetest.Key(10)
	if r, err := c.Send(ctx, k, transfer(k.Address(), 1), 1, true); err != nil || r.Code != 0 {
		t.Fatalf("after restart: %+v %v", r, err)
	}
	p.stop()
}
