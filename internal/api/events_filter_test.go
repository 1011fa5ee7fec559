package api_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
)

// mixedBlock is block h with three tx results: tx 0 has events tx and
// request, tx 1 tx, result_committed and fee (naming addr), tx 2 transfer;
// the block's own events are request_reopened and request_expired.
func mixedBlock(h int64, addr string) apitype.BlockEvents {
	ev := func(typ string, kv ...string) apitype.Event {
		e := apitype.Event{Type: typ, Attributes: map[string]string{}}
		for i := 0; i+1 < len(kv); i += 2 {
			e.Attributes[kv[i]] = kv[i+1]
		}
		return e
	}
	return apitype.BlockEvents{Block: apitype.Block{Height: h, NumTxs: 3},
		Events: []apitype.Event{ev("request_reopened", "id", "a"), ev("request_expired", "id", "b")},
		Txs: []apitype.TxResult{
			{Hash: "00", Height: h, Index: 0, Events: []apitype.Event{ev("tx", "nonce", "1"), ev("request", "id", "c")}},
			{Hash: "01", Height: h, Index: 1, Events: []apitype.Event{ev("tx", "nonce", "2"), ev("result_committed", "id", "d"), ev("fee", "payer", addr)}},
			{Hash: "02", Height: h, Index: 2, Events: []apitype.Event{ev("transfer", "to", "x")}},
		}}
}

// types lists the event types of evs, in order.
func types(evs []apitype.Event) string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return strings.Join(out, ",")
}

// TestEventsTypeFilter checks ?events=: only the named ledger event types
// pass, a tx result only with one of them, and the block keeps just the
// named ones of its own events; with ?address= both filters apply.
func TestEventsTypeFilter(t *testing.T) {
	const addr = "00112233445566778899aabbccddeeff00112233"
	tests := []struct {
		name       string
		opts       []client.EventOption
		batch      bool
		wantBlock  string   // the block's own events kept
		wantTxs    []string // per passing tx: hash:its events
		wantNoBlk  bool     // no block (address filter)
		wantFrames int      // non-batched: frames expected
	}{
		{name: "no filter, batched", batch: true, wantBlock: "request_reopened,request_expired",
			wantTxs: []string{"00:tx,request", "01:tx,result_committed,fee", "02:transfer"}},
		{name: "two types, batched", batch: true, opts: []client.EventOption{client.WithEvents("result_committed", "request_reopened")},
			wantBlock: "request_reopened", wantTxs: []string{"01:result_committed"}},
		{name: "no match, batched", batch: true, opts: []client.EventOption{client.WithEvents("seal")}, wantBlock: ""},
		{name: "two types, per event", opts: []client.EventOption{client.WithEvents("result_committed", "request_reopened")},
			wantBlock: "request_reopened", wantTxs: []string{"01:result_committed"}, wantFrames: 2},
		{name: "with address, batched", batch: true,
			opts:      []client.EventOption{client.WithEvents("tx", "transfer"), client.ForAddress(mustAddr(t, addr))},
			wantNoBlk: true, wantTxs: []string{"01:tx"}},
		{name: "with address, no kept event", batch: true,
			opts:      []client.EventOption{client.WithEvents("transfer"), client.ForAddress(mustAddr(t, addr))},
			wantNoBlk: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, url, _ := newFeed(t, api.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := client.New(url)
			var got apitype.BlockEvents
			var frames int
			if tc.batch {
				ch, err := c.Blocks(ctx, tc.opts...)
				if err != nil {
					t.Fatal(err)
				}
				sub := <-f.subs
				sub <- mixedBlock(1, addr)
				sub <- apitype.BlockEvents{Block: apitype.Block{Height: 3},
					Txs: []apitype.TxResult{{Hash: "ff", Height: 3, Events: []apitype.Event{{Type: "seal"}, {Type: "tx"}, {Type: "transfer"},
						{Type: "x", Attributes: map[string]string{"a": addr}}}}}}
				for b := range ch { // block 1, then the sentinel (always passes)
					h := b.Block.Height
					if len(b.Txs) > 0 {
						h = b.Txs[0].Height
					}
					if h == 3 {
						break
					}
					if h == 1 {
						got = b
					}
				}
			} else {
				ch, err := c.Events(ctx, tc.opts...)
				if err != nil {
					t.Fatal(err)
				}
				sub := <-f.subs
				sub <- mixedBlock(1, addr)
				for frames < tc.wantFrames {
					ev, ok := <-ch
					if !ok {
						t.Fatal("stream closed")
					}
					frames++
					switch ev.Type {
					case api.EventBlock:
						got.Block, got.Events = *ev.Block, ev.Events
					case api.EventTx:
						got.Txs = append(got.Txs, *ev.Tx)
					}
				}
			}
			if tc.wantNoBlk {
				if got.Block.Height != 0 || len(got.Events) != 0 {
					t.Errorf("block %+v with the address filter", got.Block)
				}
			} else if types(got.Events) != tc.wantBlock {
				t.Errorf("block events %q, want %q", types(got.Events), tc.wantBlock)
			}
			var txs []string
			for _, r := range got.Txs {
				txs = append(txs, r.Hash+":"+types(r.Events))
			}
			if !slices.Equal(txs, tc.wantTxs) {
				t.Errorf("txs %q, want %q", txs, tc.wantTxs)
			}
		})
	}
}

func TestEventsBadTypeFilter(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{name: "empty type", in: "seal,,reveal"},
		{name: "too long", in: strings.Repeat("x", 65)},
		{name: "too many", in: manyTypes(33)},
	}
	_, url, _ := newFeed(t, api.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/v1/events?events="+tc.in, nil)
			if err == nil || resp == nil || resp.StatusCode != 400 {
				t.Errorf("events=%.40s: %v %v, want 400", tc.in, resp, err)
			}
		})
	}
}

// manyTypes is n distinct event types, comma-separated.
func manyTypes(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("t%d", i)
	}
	return strings.Join(s, ",")
}
