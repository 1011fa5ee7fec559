package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Event types on the stream.
const (
	EventBlock    = "block"
	EventTx       = "tx"
	EventBlockTxs = "block_txs" // one per block, with ?batch=block
)

// Close codes and reasons of an event stream, for its clients.
const (
	reasonShutdown = "server shutting down"
	reasonEnded    = "subscription ended by the node (stopping, or this reader fell too many blocks behind)"
	reasonSlow     = "client too slow"
)

// errTooSlow ends a stream whose client does not read in time.
var errTooSlow = errors.New("event stream client too slow")

// Limits of the ?events= filter.
const (
	maxEventTypes   = 32 // event types one filter names
	maxEventTypeLen = 64 // bytes of one event type
)

// filter selects stream events; the zero filter passes everything.
type filter struct {
	types   map[string]bool // nil = all
	address string          // "" = all; else tx events mentioning it
	batch   bool            // ?batch=block: one block_txs event per block
	// events, when not nil, keeps only ledger events of these types: a tx
	// result passes with just those of its events, and only when it has
	// one; a block keeps just those of its own events.
	events map[string]bool
}

// parseFilter reads ?types=block,tx&address=<addr>&batch=block.
func parseFilter(r *http.Request) (filter, error) {
	const op = "api.events"
	var f filter
	q := r.URL.Query()
	if v := q.Get("types"); v != "" {
		f.types = map[string]bool{}
		for _, t := range strings.Split(v, ",") {
			if t != EventBlock && t != EventTx {
				return f, vmerr.E(op, vmerr.Invalid, "types: unknown event type %q (want block or tx)", t)
			}
			f.types[t] = true
		}
	}
	if v := q.Get("address"); v != "" {
		a, err := crypto.ParseAddress(v)
		if err != nil {
			return f, vmerr.Wrap(op, vmerr.Invalid, err)
		}
		f.address = a.String()
	}
	if v := q.Get("events"); v != "" {
		f.events = map[string]bool{}
		for _, t := range strings.Split(v, ",") {
			if t == "" || len(t) > maxEventTypeLen {
				return f, vmerr.E(op, vmerr.Invalid, "events: event type %.80q must be 1..%d bytes", t, maxEventTypeLen)
			}
			f.events[t] = true
		}
		if len(f.events) > maxEventTypes {
			return f, vmerr.E(op, vmerr.Invalid, "events: %d event types, limit %d", len(f.events), maxEventTypes)
		}
	}
	switch v := q.Get("batch"); v {
	case "":
	case "block":
		f.batch = true
	default:
		return f, vmerr.E(op, vmerr.Invalid, "batch: unknown value %q (want block)", v)
	}
	return f, nil
}

// keep returns the events of evs whose type f.events names (all of them
// when it names none); it shares evs when every event passes.
func (f filter) keep(evs []apitype.Event) []apitype.Event {
	if f.events == nil {
		return evs
	}
	n := 0
	for _, e := range evs {
		if f.events[e.Type] {
			n++
		}
	}
	if n == len(evs) {
		return evs
	}
	out := make([]apitype.Event, 0, n)
	for _, e := range evs {
		if f.events[e.Type] {
			out = append(out, e)
		}
	}
	return out
}

// txResult returns r as f passes it: whether it passes (f.tx, and with
// f.events at least one kept event) and with only its kept events.
func (f filter) txResult(r *apitype.TxResult) (apitype.TxResult, bool) {
	if !f.tx(r) {
		return apitype.TxResult{}, false
	}
	out := *r
	out.Events = f.keep(r.Events)
	return out, f.events == nil || len(out.Events) > 0
}

// block reports whether block events pass f.
func (f filter) block() bool {
	return (f.types == nil || f.types[EventBlock]) && f.address == ""
}

// tx reports whether the event of tx result r passes f. With an address,
// only tx results with an attribute equal to that address pass.
func (f filter) tx(r *apitype.TxResult) bool {
	if f.types != nil && !f.types[EventTx] {
		return false
	}
	if f.address == "" {
		return true
	}
	for _, e := range r.Events {
		for _, v := range e.Attributes {
			if strings.EqualFold(v, f.address) {
				return true
			}
		}
	}
	return false
}

// events is GET /v1/events: a WebSocket that sends one apitype.StreamEvent
// JSON text message per event — for each committed block a "block" event,
// then one "tx" event per transaction, in order — until the client
// leaves, the backend ends the subscription (1013), the server closes
// (1001) or the client is too slow (1008, see Options.WriteTimeout and
// StreamWindow). Filters: ?types=block,tx and ?address=<addr>;
// ?events=<type>,… keeps only ledger events of those types (a tx passes
// with just those, and only when it has one; a block keeps just those of
// its own events); ?batch=block sends one "block_txs" event per block
// instead. Programs (no Origin
// header) are always accepted; browsers only from the API's own host or
// Options.AllowedOrigins.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilter(r)
	if err != nil {
		return err
	}
	return s.serveStream(w, r, "api.events", f, nil, (*stream).block)
}

// serveStream runs one WebSocket stream of r: it admits it (MaxStreams,
// not shut down), subscribes to the backend before upgrading (so a
// backend failure is a plain HTTP error), calls first (when not nil) and
// then each for every block, with the flow control of stream, until the
// client leaves, the backend ends the subscription (1013), the server
// closes (1001) or the client is too slow (1008). An error from first or
// each that is not the client's or the stream's end is logged and closes
// the stream with 1011.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, op string, f filter,
	first func(*stream) error, each func(*stream, apitype.BlockEvents) error) error {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		return &httpError{status: http.StatusUpgradeRequired,
			err: vmerr.E(op, vmerr.Invalid, "GET %s is a WebSocket: send Upgrade: websocket", r.URL.Path)}
	}
	select {
	case s.slots <- struct{}{}:
	default:
		return vmerr.E(op, vmerr.Limit, "too many event streams (limit %d)", s.opts.MaxStreams)
	}
	defer func() { <-s.slots }()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return vmerr.E(op, vmerr.Unavailable, "server is shutting down")
	}
	s.streams.Add(1)
	s.mu.Unlock()
	defer s.streams.Done()

	// Subscribe before upgrading, so a backend failure is a plain HTTP error.
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	sub, err := s.b.Subscribe(ctx)
	if err != nil {
		return err
	}
	// net/http clears the server's read and write deadlines on hijack, so
	// a stream outlives them; writes are bounded by the stream (see send).
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.opts.AllowedOrigins})
	if err != nil {
		return nil // Accept has written the answer
	}
	defer c.CloseNow()
	if s.metrics != nil {
		s.metrics.streams.Inc()
		defer s.metrics.streams.Dec()
	}
	// CloseRead answers pings, delivers pongs and cancels gone when the
	// client leaves. It must not get ctx: canceling its reader would drop
	// the connection without the close frame. Its goroutine ends with the
	// connection.
	gone := c.CloseRead(context.Background())
	st := &stream{ctx: ctx, c: c, gone: gone, f: f, window: int64(s.opts.StreamWindow), bound: s.opts.WriteTimeout,
		pongs: make(chan pong, 1)}
	defer st.wait()
	if first != nil {
		if err := first(st); err != nil {
			s.streamErr(c, ctx, op, err)
			return nil
		}
	}
	for {
		select {
		case <-gone.Done():
			return nil
		case <-ctx.Done():
			c.Close(websocket.StatusGoingAway, reasonShutdown)
			return nil
		case p := <-st.pongs:
			if err := st.acked(p); err != nil {
				if errors.Is(err, errTooSlow) {
					s.drop(c, "slow")
				}
				return nil
			}
		case blk, ok := <-sub:
			if !ok {
				if ctx.Err() != nil {
					c.Close(websocket.StatusGoingAway, reasonShutdown)
				} else {
					s.drop(c, "ended")
				}
				return nil
			}
			if err := each(st, blk); err != nil {
				s.streamErr(c, ctx, op, err)
				return nil
			}
		}
	}
}

// streamErr ends a stream on err from writing it: a slow client is
// dropped (1008), a shutdown is 1001, a client that left needs nothing,
// and any other error (the backend's) is logged and closes with 1011.
func (s *Server) streamErr(c *websocket.Conn, ctx context.Context, op string, err error) {
	switch {
	case errors.Is(err, errTooSlow), errors.Is(err, context.DeadlineExceeded):
		// A write that timed out has already cut the
		// connection: the drop is counted, no close frame passes.
		s.drop(c, "slow")
	case ctx.Err() != nil:
		c.Close(websocket.StatusGoingAway, reasonShutdown)
	case errors.As(err, new(*vmerr.Error)):
		s.log.Warn("stream ended by an error", "op", op, "err", err)
		c.Close(websocket.StatusInternalError, "stream failed")
	}
}

// drop counts a stream the server ends and closes it: reason "slow" with
// 1008, "ended" with 1013. The count comes first, so it is visible while
// the close handshake (up to 5 s with a client that does not read) runs.
func (s *Server) drop(c *websocket.Conn, reason string) {
	if s.metrics != nil {
		s.metrics.drops.WithLabelValues(reason).Inc()
	}
	if reason == "slow" {
		c.Close(websocket.StatusPolicyViolation, reasonSlow)
	} else {
		c.Close(websocket.StatusTryAgainLater, reasonEnded)
	}
}

// stream writes one client's events with flow control: it pings the
// client every window/4 bytes and never has more than window bytes sent
// beyond the last ping the client answered. A client that has not
// answered a ping within bound is too slow. Only the handler's goroutine
// uses a stream, except the one ping in flight, which reports on pongs.
type stream struct {
	ctx    context.Context // ends with the stream
	c      *websocket.Conn
	gone   context.Context // ends when the client leaves
	f      filter
	window int64
	bound  time.Duration

	sent    int64 // bytes written
	ok      int64 // bytes the client has read (sent when its last answered ping went out)
	pinging bool  // a ping is in flight
	pongs   chan pong
	pingWG  sync.WaitGroup
}

// pong is the outcome of one ping: err is nil when the client answered.
type pong struct {
	mark int64 // s.sent when the ping was sent
	err  error
}

// block writes blk's events (or its block_txs event) that pass the filter.
// Errors: errTooSlow, or the write's (client gone, stream ending).
func (s *stream) block(blk apitype.BlockEvents) error {
	if s.f.batch {
		ev := apitype.StreamEvent{Type: EventBlockTxs}
		if s.f.block() {
			ev.Block, ev.Events = &blk.Block, s.f.keep(blk.Events)
		}
		for i := range blk.Txs {
			if r, ok := s.f.txResult(&blk.Txs[i]); ok {
				ev.Txs = append(ev.Txs, r)
			}
		}
		if ev.Block == nil && len(ev.Txs) == 0 {
			return nil
		}
		return s.send(ev)
	}
	if s.f.block() {
		if err := s.send(apitype.StreamEvent{Type: EventBlock, Block: &blk.Block, Events: s.f.keep(blk.Events)}); err != nil {
			return err
		}
	}
	for i := range blk.Txs {
		r, ok := s.f.txResult(&blk.Txs[i])
		if !ok {
			continue
		}
		if err := s.send(apitype.StreamEvent{Type: EventTx, Tx: &r}); err != nil {
			return err
		}
	}
	return nil
}

// send writes one message, v's JSON (an apitype.StreamEvent on
// /v1/events), once the window allows it. The write itself is
// bounded by s.bound too: a socket that takes longer than that to accept
// it ends the connection (without a close frame, which could not pass).
func (s *stream) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	for s.sent-s.ok >= s.window {
		if !s.pinging {
			s.ping()
		}
		select {
		case p := <-s.pongs:
			if err := s.acked(p); err != nil {
				return err
			}
		case <-s.gone.Done():
			return s.gone.Err()
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	}
	wctx, cancel := context.WithTimeout(s.gone, s.bound)
	defer cancel()
	if err := s.c.Write(wctx, websocket.MessageText, b); err != nil {
		return err
	}
	s.sent += int64(len(b))
	if !s.pinging && s.sent-s.ok >= s.window/4 {
		s.ping()
	}
	return nil
}

// ping sends a ping in its own goroutine; its outcome arrives on s.pongs.
// It fails when the client has not answered within s.bound.
func (s *stream) ping() {
	s.pinging = true
	mark := s.sent
	s.pingWG.Add(1)
	go func() {
		defer s.pingWG.Done()
		pctx, cancel := context.WithTimeout(s.ctx, s.bound)
		defer cancel()
		err := s.c.Ping(pctx)
		if err != nil && s.ctx.Err() == nil && s.gone.Err() == nil {
			err = errTooSlow
		}
		s.pongs <- pong{mark: mark, err: err} // cap 1, one ping in flight
	}()
}

// acked records p's outcome; errTooSlow when the client did not answer.
func (s *stream) acked(p pong) error {
	s.pinging = false
	if p.err != nil {
		if errors.Is(p.err, errTooSlow) {
			return errTooSlow
		}
		return p.err
	}
	s.ok = max(s.ok, p.mark)
	if s.sent-s.ok >= s.window/4 {
		s.ping()
	}
	return nil
}

// wait waits for the ping in flight, if any; the caller has ended the
// stream (its context or connection), which ends the ping.
func (s *stream) wait() {
	s.c.CloseNow()
	s.pingWG.Wait()
}
