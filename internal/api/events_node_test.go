package api_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/bench"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/tx"
)

// TestEventsKeepUpWithNode runs a burst of 5,000 transfers through a real
// node's batch route while two WebSocket readers follow /v1/events: one
// through client.Events that reads everything, one that never reads. The
// reader must get every block and tx event, in order, without being
// dropped; the stalled one must be closed with 1008 within a bound, and
// its stall must not hold up consensus (the burst commits meanwhile).
func TestEventsKeepUpWithNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and commits 5,000 transfers")
	}
	env := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	const n, accounts = 5000, 50
	keys := bench.Keys(accounts)
	cfg, err := bench.Config{N: n, Accounts: accounts, Batch: 1000, Concurrency: 2, ChainID: nodetest.ChainID}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	before, err := bench.Snapshot(ctx, env.Client, keys, 8)
	if err != nil {
		t.Fatal(err)
	}
	start, err := bench.Fund(ctx, env.Client, nodetest.ChainID, keys, before, cfg.Need, 1000)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := bench.Sign(cfg, keys, start)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, w := range plan.Work {
		for _, raw := range w {
			want[tx.HashOf(raw).String()] = true
		}
	}

	events, err := env.Client.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stalled := dialStalled(t, ctx, env.URL)

	got := make(chan followed, 1)
	go func() { got <- follow(events, want) }()

	res, err := bench.Run(ctx, env.Client, plan)
	if err != nil || res.Committed != n {
		t.Fatalf("burst: %+v %v", res, err)
	}
	// The whole burst committed while the stalled stream was attached.
	if d := metric(t, env.URL, `vm_api_event_stream_drops_total{reason="slow"} `); d > 0 {
		t.Errorf("stalled stream dropped before the burst committed (%d drops): the bound is too tight", d)
	}
	select {
	case o := <-got:
		if o.err != "" {
			t.Fatalf("reader after %d blocks, %d of %d txs: %s", o.blocks, o.txs, n, o.err)
		}
		t.Logf("reader: %d blocks, %d txs of the burst, in order; burst %s", o.blocks, o.txs, res)
	case <-ctx.Done():
		t.Fatal("reader did not get every tx event")
	}

	// The stalled stream: it has not answered the server's ping, so the
	// server gives up on it WriteTimeout (10 s by default) after the ping
	// and closes it with 1008, while the chain went on committing (the
	// burst above finished). The drop is counted before the close
	// handshake, which waits 5 s for the client: read then, to see 1008.
	bound := time.Now().Add(api10s + 10*time.Second)
	for metric(t, env.URL, `vm_api_event_stream_drops_total{reason="slow"} `) != 1 {
		if time.Now().After(bound) {
			t.Fatalf("stalled stream not dropped: %d streams open", metric(t, env.URL, "vm_api_event_streams "))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := metric(t, env.URL, "vm_api_event_streams "); got != 2 && got != 1 {
		t.Errorf("%d streams open, want the reader's (and the stalled one closing)", got)
	}
	var frames int
	for {
		_, _, err := stalled.Read(ctx)
		if err != nil {
			if got := websocket.CloseStatus(err); got != websocket.StatusPolicyViolation {
				t.Fatalf("stalled stream ended with %v (status %d) after %d frames, want 1008", err, got, frames)
			}
			break
		}
		frames++
	}
	if frames >= n {
		t.Errorf("stalled stream got %d frames: it was never stalled", frames)
	}
	t.Logf("stalled stream closed with 1008 after %d frames", frames)
}

// api10s is api.DefaultWriteTimeout, the node's stream write bound.
const api10s = 10 * time.Second

// followed is what follow saw.
type followed struct {
	blocks, txs int
	err         string // why it stopped early; "" when it saw every tx
}

// follow reads events until it has seen every hash of want, checking
// that each block is followed by exactly its tx events in index order and
// that heights increase. It returns what it saw and, on failure, why.
func follow(events <-chan apitype.StreamEvent, want map[string]bool) (o followed) {
	var (
		height int64
		block  *apitype.Block
		next   int
	)
	for ev := range events {
		switch ev.Type {
		case "block":
			if block != nil && next != block.NumTxs {
				o.err = "block " + strconv.FormatInt(block.Height, 10) + ": only " + strconv.Itoa(next) + " tx events"
				return o
			}
			if ev.Block.Height <= height {
				o.err = "block height " + strconv.FormatInt(ev.Block.Height, 10) + " after " + strconv.FormatInt(height, 10)
				return o
			}
			block, height, next = ev.Block, ev.Block.Height, 0
			o.blocks++
		case "tx":
			if block == nil || ev.Tx.Height != height || int(ev.Tx.Index) != next || block.TxHashes[next] != ev.Tx.Hash {
				o.err = "tx event out of order: " + ev.Tx.Hash + " at " + strconv.FormatInt(ev.Tx.Height, 10) + "/" + strconv.Itoa(int(ev.Tx.Index))
				return o
			}
			next++
			if want[ev.Tx.Hash] {
				if ev.Tx.Code != 0 {
					o.err = "tx " + ev.Tx.Hash + " failed: " + ev.Tx.Log
					return o
				}
				delete(want, ev.Tx.Hash)
				o.txs++
				if len(want) == 0 {
					return o
				}
			}
		default:
			o.err = "unknown event type " + ev.Type
			return o
		}
	}
	o.err = "stream closed (reader dropped)"
	return o
}

// dialStalled opens /v1/events and never reads from it.
func dialStalled(t *testing.T, ctx context.Context, base string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// metric reads the value of the /metrics line starting with prefix; -1
// when there is none.
func metric(t *testing.T, base, prefix string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(f)
		}
	}
	return -1
}
