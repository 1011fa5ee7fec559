package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/tx"
)

// EventsResult is what a GET /v1/events reader saw during a run.
// Durations are in milliseconds.
type EventsResult struct {
	Batch    bool `json:"batch"`    // read with ?batch=block (one message per block)
	Received int  `json:"received"` // tx events of the run's transfers received
	Expected int  `json:"expected"` // the run's transfers committed with code 0
	Messages int  `json:"messages"` // WebSocket messages read, all blocks included
	Blocks   int  `json:"blocks"`   // blocks with at least one of the run's transfers
	// Dropped is set when the stream ended before every expected event
	// arrived (the server dropped the reader, or the connection failed).
	Dropped bool `json:"dropped"`
	// Lag of a block: from its header time (set by the proposer) to the
	// arrival of its last tx event.
	LagP50MS float64 `json:"lag_p50_ms"`
	LagP99MS float64 `json:"lag_p99_ms"`
	LagMaxMS float64 `json:"lag_max_ms"`
	// TailMS is from the last batch answer of the run (every transfer
	// committed) to the arrival of the last expected event: how far the
	// stream trailed the chain at the end (negative when it was ahead).
	TailMS float64 `json:"tail_ms"`
}

// Follower reads /v1/events during a run. Start it with Follow before
// Run, and call Wait after it.
type Follower struct {
	batch  bool
	want   map[string]bool
	cancel context.CancelFunc
	done   chan struct{} // closed when the reader goroutine ends

	mu       sync.Mutex
	all      chan struct{} // closed when every wanted event arrived
	received int
	messages int
	lags     []time.Duration
	last     time.Time // arrival of the last wanted event
	ended    bool      // the stream closed
}

// Follow opens the event stream for the transfers of p (one message per
// event, or with batch one per block) and records them until Wait. Errors
// are the client's (stream refused).
func Follow(ctx context.Context, c *client.Client, p *Plan, batch bool) (*Follower, error) {
	f := &Follower{batch: batch, want: map[string]bool{}, done: make(chan struct{}), all: make(chan struct{})}
	for _, w := range p.Work {
		for _, raw := range w {
			f.want[tx.HashOf(raw).String()] = true
		}
	}
	ctx, f.cancel = context.WithCancel(ctx)
	if batch {
		ch, err := c.Blocks(ctx, client.OnlyTypes("block", "tx"))
		if err != nil {
			f.cancel()
			return nil, err
		}
		go f.readBlocks(ch)
	} else {
		ch, err := c.Events(ctx)
		if err != nil {
			f.cancel()
			return nil, err
		}
		go f.readEvents(ch)
	}
	return f, nil
}

// Wait waits up to grace for the events of the run's transfers, then
// closes the stream and reports against res (the run's report); runEnd is
// when Run returned, the last batch answer in hand.
func (f *Follower) Wait(res Result, runEnd time.Time, grace time.Duration) EventsResult {
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-f.all:
	case <-f.done:
	case <-t.C:
	}
	f.cancel()
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	out := EventsResult{Batch: f.batch, Received: f.received, Expected: res.Committed, Messages: f.messages,
		Blocks: len(f.lags), Dropped: f.ended && f.received < res.Committed}
	if len(f.lags) > 0 {
		lags := slices.Clone(f.lags)
		slices.Sort(lags)
		out.LagP50MS, out.LagP99MS, out.LagMaxMS = ms(lags[len(lags)/2]), ms(lags[min(len(lags)-1, len(lags)*99/100)]), ms(lags[len(lags)-1])
	}
	if !f.last.IsZero() {
		out.TailMS = ms(f.last.Sub(runEnd))
	}
	return out
}

func (f *Follower) readEvents(ch <-chan apitype.StreamEvent) {
	defer close(f.done)
	var (
		blockTime time.Time
		numTxs    int
		mine      bool // the current block holds a wanted tx
	)
	for ev := range ch {
		now := time.Now()
		f.mu.Lock()
		f.messages++
		switch {
		case ev.Type == "block" && ev.Block != nil:
			blockTime, _ = time.Parse(time.RFC3339Nano, ev.Block.Time)
			numTxs, mine = ev.Block.NumTxs, false
		case ev.Type == "tx" && ev.Tx != nil:
			mine = f.got(ev.Tx.Hash, now) || mine
			if int(ev.Tx.Index) == numTxs-1 && mine && !blockTime.IsZero() {
				f.lags = append(f.lags, now.Sub(blockTime))
			}
		}
		f.mu.Unlock()
	}
	f.mu.Lock()
	f.ended = true
	f.mu.Unlock()
}

func (f *Follower) readBlocks(ch <-chan apitype.BlockEvents) {
	defer close(f.done)
	for b := range ch {
		now := time.Now()
		f.mu.Lock()
		f.messages++
		mine := false
		for _, r := range b.Txs {
			mine = f.got(r.Hash, now) || mine
		}
		if bt, err := time.Parse(time.RFC3339Nano, b.Block.Time); err == nil && mine {
			f.lags = append(f.lags, now.Sub(bt))
		}
		f.mu.Unlock()
	}
	f.mu.Lock()
	f.ended = true
	f.mu.Unlock()
}

// got records the arrival of tx hash h; it reports whether h was wanted.
// Callers hold f.mu.
func (f *Follower) got(h string, now time.Time) bool {
	if !f.want[h] {
		return false
	}
	delete(f.want, h)
	f.received++
	f.last = now
	if len(f.want) == 0 {
		close(f.all)
	}
	return true
}

// String is the text report of e.
func (e EventsResult) String() string {
	mode := "one message per event"
	if e.Batch {
		mode = "batch=block"
	}
	s := fmt.Sprintf("  events (/v1/events, %s): %d/%d tx events received in %d messages", mode, e.Received, e.Expected, e.Messages)
	if e.Dropped {
		s += " — DROPPED by the server"
	}
	return s + fmt.Sprintf("\n  stream lag (block time → its last tx event): p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d blocks; tail after the last commit answer %.1f ms\n",
		e.LagP50MS, e.LagP99MS, e.LagMaxMS, e.Blocks, e.TailMS)
}
