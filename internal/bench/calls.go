package bench

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// CallSpec is the Request every transaction of a calls run carries; the
// input differs per transaction ({"a":i,"n":k}), so no call is answered
// from a memo.
type CallSpec struct {
	Contract string // name@range
	Fn       string
	GasLimit uint64
	Price    uint64
	Reward   uint64
	Replicas uint32
	Quorum   uint32
	Deadline int64
	// Input, when set, is every call's input (so all but the first are
	// answered from its memo); otherwise each call's input differs.
	Input []byte
	// Inputs, when set, makes the input of account's call number round
	// (and overrides Input).
	Inputs func(account, round int) []byte `json:"-"`
}

// Escrow is what each call locks at inclusion.
func (s CallSpec) Escrow() uint64 {
	e, _ := market.Escrow(market.Request{GasLimit: s.GasLimit, Price: s.Price, Reward: s.Reward, Replicas: s.Replicas})
	return e
}

func (s CallSpec) msg(account, round int) *txpb.Msg {
	in := s.Input
	if s.Inputs != nil {
		in = s.Inputs(account, round)
	} else if in == nil {
		in = fmt.Appendf(nil, `{"a":%d,"n":%d}`, account, round)
	}
	return &txpb.Msg{Sum: &txpb.Msg_Request{Request: &txpb.Request{Contract: s.Contract, Fn: s.Fn,
		Input: in, GasLimit: s.GasLimit, Price: s.Price,
		Reward: s.Reward, Replicas: s.Replicas, Quorum: s.Quorum, Deadline: s.Deadline}}}
}

// EchoContract is the small contract of `vm bench calls`: one function,
// echo, that writes its input back as its output — a hand-assembled
// module of a few hundred bytes using the host ABI like an AssemblyScript
// contract would (input_len, input_read, output_write). Inputs up to 64
// KiB fit its one page of memory.
func EchoContract() []byte {
	m := wasmtest.New()
	m.Memory(1, 1)
	inLen := m.Import("vm", "input_len", nil, []byte{wasmtest.I32})
	inRead := m.Import("vm", "input_read", []byte{wasmtest.I32}, nil)
	out := m.Import("vm", "output_write", []byte{wasmtest.I32, wasmtest.I32}, nil)
	body := wasmtest.Code{}.I32(0).Call(inRead).I32(0).Call(inLen).Call(out)
	m.Export("echo", m.Func(nil, nil, nil, body))
	return m.Bytes()
}

// CallsResult is the report of a calls run: the inclusion side (Run's
// Result of the Request transactions) and the settlement side, measured
// from each Request's submission to the block stream's result_committed
// event for it. Durations are in milliseconds.
type CallsResult struct {
	Submit  Result `json:"submit"`  // the Request transactions (committed = included)
	Settled int    `json:"settled"` // result_committed with status settled or memo
	Expired int    `json:"expired"` // result_committed with status expired
	Memo    int    `json:"memo"`    // of Settled, answered from a memo
	Missing int    `json:"missing"` // included, no result before the end of the wait
	Rounds  int    `json:"rounds"`  // request_reopened events seen (stale reads, lapsed rounds)
	// Dropped is set when the block stream ended before every result
	// arrived (the server drops a reader that falls behind): Missing then
	// counts results not seen, not results not committed.
	Dropped bool    `json:"dropped"`
	Elapsed float64 `json:"elapsed_ms"`
	// CallsPerSec is Settled / (first submit → last settlement seen).
	CallsPerSec float64 `json:"calls_per_sec"`
	// SustainedCallsPerSec counts settlements between the moments 10 % and
	// 90 % of them were seen, over that time.
	SustainedCallsPerSec float64 `json:"sustained_calls_per_sec"`
	P50MS                float64 `json:"p50_ms"` // submit → result committed, one call
	P99MS                float64 `json:"p99_ms"`
	MaxMS                float64 `json:"max_ms"`
	// Stuck samples a few missing requests as the node shows them at the
	// end of the wait (where each is in its round), to see why.
	Stuck []apitype.Request `json:"stuck,omitempty"`
}

// stuckSample is how many missing requests RunCalls reads back.
const stuckSample = 3

// RunCalls submits p's Requests like Run and follows the block stream
// until every included request has a result or wait passes after the last
// submission. Errors: the stream refused, and Run's.
func RunCalls(ctx context.Context, c *client.Client, p *Plan, wait time.Duration) (CallsResult, error) {
	const op = "bench.calls"
	if p.Config.Call == nil {
		return CallsResult{}, vmerr.E(op, vmerr.Invalid, "the plan has no calls")
	}
	sent := map[string]int{} // request id -> index in ids
	var ids []string
	base := make([]int, len(p.Work)) // index of submitter w's first request
	for w, txs := range p.Work {
		base[w] = len(ids)
		for _, raw := range txs {
			id := market.RequestID(tx.HashOf(raw), 0)
			sent[hex.EncodeToString(id[:])] = len(ids)
			ids = append(ids, hex.EncodeToString(id[:]))
		}
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	blocks, err := c.Blocks(sctx, client.WithEvents(jobs.EventResult, jobs.EventReopened))
	if err != nil {
		return CallsResult{}, err
	}
	f := &callFollower{want: sent, at: make([]time.Time, len(ids)), all: make(chan struct{}), done: make(chan struct{})}
	go f.read(blocks)

	submitAt := make([]time.Time, len(ids))
	t0 := time.Now()
	onSend := func(w, lo, n int, at time.Time) { // submitters write disjoint ranges
		for i := range n {
			submitAt[base[w]+lo+i] = at
		}
	}
	sub, err := runWith(ctx, c, p, onSend)
	if err != nil {
		return CallsResult{}, err
	}
	dropped := false
	select {
	case <-f.all:
	case <-f.done: // the stream ended: early, unless every result came
		select {
		case <-f.all:
		default:
			dropped = true
		}
	case <-time.After(wait):
	case <-ctx.Done():
	}
	stop()
	<-f.done
	out := CallsResult{Submit: sub, Rounds: f.reopened, Dropped: dropped}
	f.mu.Lock()
	defer f.mu.Unlock()
	var lats []time.Duration
	var ends []time.Time
	for i, at := range f.at {
		switch {
		case at.IsZero():
			out.Missing++
			continue
		case f.status[i] == "expired":
			out.Expired++
			continue
		case f.status[i] == "memo":
			out.Memo++
		}
		out.Settled++
		lats = append(lats, at.Sub(submitAt[i]))
		ends = append(ends, at)
	}
	out.Missing -= sub.Failed // never included
	for id, i := range f.want {
		if len(out.Stuck) == stuckSample || ctx.Err() != nil {
			break
		}
		if f.at[i].IsZero() {
			if r, err := c.Request(ctx, id, 0); err == nil {
				r.Input, r.Location = nil, nil
				out.Stuck = append(out.Stuck, r)
			}
		}
	}
	if n := len(ends); n > 0 {
		slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
		el := ends[n-1].Sub(t0)
		out.Elapsed, out.CallsPerSec = ms(el), float64(n)/el.Seconds()
		lo, hi := n/10, n*9/10
		if span := ends[hi-1].Sub(ends[lo]); hi-1 > lo && span > 0 {
			out.SustainedCallsPerSec = float64(hi-1-lo) / span.Seconds()
		} else {
			out.SustainedCallsPerSec = out.CallsPerSec
		}
		slices.Sort(lats)
		out.P50MS, out.P99MS, out.MaxMS = ms(lats[n/2]), ms(lats[min(n-1, n*99/100)]), ms(lats[n-1])
	}
	return out, nil
}

// callFollower records when each wanted request's result_committed event
// arrives on the block stream.
type callFollower struct {
	want map[string]int
	all  chan struct{} // closed when every wanted request has a result
	done chan struct{} // closed when read returns

	mu       sync.Mutex
	at       []time.Time
	status   map[int]string
	seen     int
	reopened int
}

func (f *callFollower) read(ch <-chan apitype.BlockEvents) {
	defer close(f.done)
	for be := range ch {
		now := time.Now()
		f.mu.Lock()
		f.note(be.Events, now)
		for _, t := range be.Txs {
			f.note(t.Events, now)
		}
		full := f.seen == len(f.at)
		f.mu.Unlock()
		if full {
			close(f.all)
			return
		}
	}
}

func (f *callFollower) note(evs []apitype.Event, now time.Time) {
	for _, e := range evs {
		switch e.Type {
		case jobs.EventReopened:
			if _, ok := f.want[e.Attributes["id"]]; ok {
				f.reopened++
			}
		case jobs.EventResult:
			i, ok := f.want[e.Attributes["id"]]
			if !ok || !f.at[i].IsZero() {
				continue
			}
			f.at[i] = now
			if f.status == nil {
				f.status = map[int]string{}
			}
			f.status[i] = e.Attributes["status"]
			f.seen++
		}
	}
}

// String is the report as text.
func (r CallsResult) String() string {
	dropped := ""
	if r.Dropped {
		dropped = " (the block stream dropped this reader: missing = not seen)"
	}
	return fmt.Sprintf("calls: %d settled (%d memo), %d expired, %d missing, %d re-offered rounds in %.0f ms: %.0f calls/s (sustained %.0f); submit→result p50 %.1f ms p99 %.1f ms max %.1f ms; requests included %d/%d",
		r.Settled, r.Memo, r.Expired, r.Missing, r.Rounds, r.Elapsed, r.CallsPerSec, r.SustainedCallsPerSec, r.P50MS, r.P99MS, r.MaxMS, r.Submit.Committed, r.Submit.N) + dropped
}
