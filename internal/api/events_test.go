package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
)

// feed is an api.Backend whose Subscribe hands out one channel the test
// fills with blocks of any size; the rest is apitest's.
type feed struct {
	*apitest.Backend
	subs chan chan apitype.BlockEvents
}

func (f feed) Subscribe(ctx context.Context) (<-chan apitype.BlockEvents, error) {
	ch := make(chan apitype.BlockEvents, 4)
	f.subs <- ch
	return ch, nil
}

// newFeed serves a feed with opts; it returns the server's URL.
func newFeed(t *testing.T, opts api.Options) (feed, string, *prometheus.Registry) {
	t.Helper()
	b, err := apitest.New(apitest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := feed{Backend: b, subs: make(chan chan apitype.BlockEvents, 4)}
	reg := prometheus.NewRegistry()
	opts.Registry = reg
	srv := api.New(f, opts)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
		b.Close()
	})
	return f, ts.URL, reg
}

// bigBlock is block h with n tx results; tx i mentions addr when i%10 == 0.
func bigBlock(h int64, n int, addr string) apitype.BlockEvents {
	b := apitype.BlockEvents{Block: apitype.Block{Height: h, NumTxs: n, Time: time.Now().UTC().Format(time.RFC3339Nano)},
		Txs:    make([]apitype.TxResult, n),
		Events: []apitype.Event{{Type: "request_reopened", Attributes: map[string]string{"id": fmt.Sprintf("%064x", h)}}}}
	for i := range b.Txs {
		hash := fmt.Sprintf("%064X", h<<32|int64(i))
		b.Block.TxHashes = append(b.Block.TxHashes, hash)
		to := "0000000000000000000000000000000000000000"
		if i%10 == 0 {
			to = addr
		}
		b.Txs[i] = apitype.TxResult{Hash: hash, Height: h, Index: uint32(i),
			Events: []apitype.Event{{Type: "transfer", Attributes: map[string]string{"to": to, "amount": "1"}}}}
	}
	return b
}

// TestEventsBigBlocks sends blocks far larger than the stream window
// through a small window: a reader that keeps reading gets every event
// in order, as per-event frames or as block_txs frames, filters applied,
// and is never dropped.
func TestEventsBigBlocks(t *testing.T) {
	const addr = "00112233445566778899aabbccddeeff00112233"
	tests := []struct {
		name       string
		opts       []client.EventOption
		batch      bool
		wantBlocks int // block events (or block_txs with a block)
		wantTxs    int // tx results per block
	}{
		{name: "all events", wantBlocks: 3, wantTxs: 5000},
		{name: "tx only", opts: []client.EventOption{client.OnlyTypes("tx")}, wantTxs: 5000},
		{name: "for address", opts: []client.EventOption{client.ForAddress(mustAddr(t, addr))}, wantTxs: 500},
		{name: "batched", batch: true, wantBlocks: 3, wantTxs: 5000},
		{name: "batched for address", batch: true, opts: []client.EventOption{client.ForAddress(mustAddr(t, addr))}, wantTxs: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, url, reg := newFeed(t, api.Options{StreamWindow: 32 << 10, WriteTimeout: 5 * time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := client.New(url)
			var blocks []apitype.BlockEvents
			done := make(chan error, 1)
			if tc.batch {
				ch, err := c.Blocks(ctx, tc.opts...)
				if err != nil {
					t.Fatal(err)
				}
				go func() {
					for b := range ch {
						blocks = append(blocks, b)
						if len(blocks) == 3 {
							done <- nil
							return
						}
					}
					done <- fmt.Errorf("stream closed after %d blocks", len(blocks))
				}()
			} else {
				ch, err := c.Events(ctx, tc.opts...)
				if err != nil {
					t.Fatal(err)
				}
				go func() { done <- collect(ch, &blocks, 3*tc.wantTxs) }()
			}
			sub := <-f.subs
			for h := int64(1); h <= 3; h++ {
				sub <- bigBlock(h, 5000, addr)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			gotBlocks, gotTxs := 0, 0
			for i, b := range blocks {
				if b.Block.Height != 0 {
					gotBlocks++
					if b.Block.Height != int64(i+1) {
						t.Fatalf("block %d at position %d", b.Block.Height, i)
					}
					// The block's own events travel with the block.
					if len(b.Events) != 1 || b.Events[0].Attributes["id"] != fmt.Sprintf("%064x", i+1) {
						t.Fatalf("block %d events %+v", i+1, b.Events)
					}
				} else if len(b.Events) != 0 {
					t.Fatalf("block events without the block: %+v", b.Events)
				}
				for j, r := range b.Txs {
					if r.Height != int64(i+1) || (tc.wantTxs == 5000 && int(r.Index) != j) {
						t.Fatalf("tx %d of block %d: %+v", j, i+1, r)
					}
				}
				gotTxs += len(b.Txs)
			}
			if gotBlocks != tc.wantBlocks || gotTxs != 3*tc.wantTxs {
				t.Errorf("got %d blocks and %d txs, want %d and %d", gotBlocks, gotTxs, tc.wantBlocks, 3*tc.wantTxs)
			}
			if d := drops(t, reg, "slow"); d != 0 {
				t.Errorf("%v slow drops", d)
			}
		})
	}
}

// collect groups per-event frames by height into blocks until it has n
// tx events; tx events arrive only inside their block's run.
func collect(ch <-chan apitype.StreamEvent, blocks *[]apitype.BlockEvents, n int) error {
	seen := 0
	for ev := range ch {
		switch ev.Type {
		case api.EventBlock:
			*blocks = append(*blocks, apitype.BlockEvents{Block: *ev.Block, Events: ev.Events})
		case api.EventTx:
			h := ev.Tx.Height
			for int64(len(*blocks)) < h {
				*blocks = append(*blocks, apitype.BlockEvents{})
			}
			b := &(*blocks)[h-1]
			b.Txs = append(b.Txs, *ev.Tx)
			seen++
			if seen == n {
				return nil
			}
		default:
			return fmt.Errorf("unexpected event %q", ev.Type)
		}
	}
	return fmt.Errorf("stream closed after %d of %d tx events", seen, n)
}

// TestEventsStalledClient checks that a client that stops reading is
// closed with 1008 about WriteTimeout after the first ping it does not
// answer, and that the drop is counted.
func TestEventsStalledClient(t *testing.T) {
	const bound = 300 * time.Millisecond
	f, url, reg := newFeed(t, api.Options{StreamWindow: 64 << 10, WriteTimeout: bound})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(-1)
	sub := <-f.subs
	start := time.Now()
	sub <- bigBlock(1, 2000, "") // ~300 KiB of frames: more than the window
	for drops(t, reg, "slow") != 1 {
		if time.Since(start) > 10*bound+2*time.Second {
			t.Fatal("stalled client not dropped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	if took < bound {
		t.Errorf("dropped after %v, before the bound %v", took, bound)
	}
	frames := 0
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
				t.Fatalf("after %d frames: %v, want close 1008", frames, err)
			}
			break
		}
		var ev apitype.StreamEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		frames++
	}
	if frames == 0 || frames >= 2001 {
		t.Errorf("%d frames before the close, want some but not all", frames)
	}
	t.Logf("dropped %v after the block, %d frames sent", took, frames)
}

// TestEventsSlowReaderKept checks that a reader that pauses for less than
// WriteTimeout, with more than the window pending, is not dropped.
func TestEventsSlowReaderKept(t *testing.T) {
	f, url, reg := newFeed(t, api.Options{StreamWindow: 16 << 10, WriteTimeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/v1/events?types=tx", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	sub := <-f.subs
	sub <- bigBlock(1, 1000, "")
	for i := range 1000 {
		if i%250 == 0 {
			time.Sleep(500 * time.Millisecond) // a pause, shorter than the bound
		}
		ev := readEvent(t, ctx, c)
		if ev.Tx == nil || int(ev.Tx.Index) != i {
			t.Fatalf("event %d: %+v", i, ev)
		}
	}
	if d := drops(t, reg, "slow"); d != 0 {
		t.Errorf("%v slow drops", d)
	}
}

func TestEventsBadBatch(t *testing.T) {
	_, url, _ := newFeed(t, api.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/v1/events?batch=tx", nil)
	if err == nil || resp == nil || resp.StatusCode != 400 {
		t.Errorf("batch=tx: %v %v, want 400", resp, err)
	}
}

// drops reads vm_api_event_stream_drops_total{reason} from reg.
func drops(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "vm_api_event_stream_drops_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func mustAddr(t *testing.T, s string) crypto.Address {
	t.Helper()
	a, err := crypto.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
