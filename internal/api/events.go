package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/coder/websocket"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Event types on the stream.
const (
	EventBlock = "block"
	EventTx    = "tx"
)

// filter selects stream events; the zero filter passes everything.
type filter struct {
	types   map[string]bool // nil = all
	address string          // "" = all; else tx events mentioning it
}

// parseFilter reads ?types=block,tx&address=<addr>.
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
	return f, nil
}

// match reports whether ev passes f. With an address, only tx events with
// an attribute equal to that address pass.
func (f filter) match(ev apitype.StreamEvent) bool {
	if f.types != nil && !f.types[ev.Type] {
		return false
	}
	if f.address == "" {
		return true
	}
	if ev.Tx == nil {
		return false
	}
	for _, e := range ev.Tx.Events {
		for _, v := range e.Attributes {
			if strings.EqualFold(v, f.address) {
				return true
			}
		}
	}
	return false
}

// events is GET /v1/events: a WebSocket that sends one apitype.StreamEvent
// JSON text message per event until the client leaves, the backend ends
// the subscription, or the server closes. Filters: ?types=block,tx and
// ?address=<addr>. Programs (no Origin header) are always accepted;
// browsers only from the API's own host or Options.AllowedOrigins.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilter(r)
	if err != nil {
		return err
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		return &httpError{status: http.StatusUpgradeRequired,
			err: vmerr.E("api.events", vmerr.Invalid, "GET /v1/events is a WebSocket: send Upgrade: websocket")}
	}
	select {
	case s.slots <- struct{}{}:
	default:
		return vmerr.E("api.events", vmerr.Limit, "too many event streams (limit %d)", s.opts.MaxStreams)
	}
	defer func() { <-s.slots }()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return vmerr.E("api.events", vmerr.Unavailable, "server is shutting down")
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
	// a stream outlives them; each write gets its own deadline (see send).
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.opts.AllowedOrigins})
	if err != nil {
		return nil // Accept has written the answer
	}
	defer c.CloseNow()
	if s.metrics != nil {
		s.metrics.streams.Inc()
		defer s.metrics.streams.Dec()
	}
	// CloseRead answers pings and cancels gone when the client leaves. It
	// must not get ctx: canceling its reader would drop the connection
	// without the close frame. Its goroutine ends with the connection.
	gone := c.CloseRead(context.Background())
	for {
		select {
		case <-gone.Done():
			return nil
		case <-ctx.Done():
			c.Close(websocket.StatusGoingAway, "server shutting down")
			return nil
		case ev, ok := <-sub:
			if !ok {
				if ctx.Err() != nil {
					c.Close(websocket.StatusGoingAway, "server shutting down")
				} else {
					c.Close(websocket.StatusTryAgainLater, "subscription ended by the node")
				}
				return nil
			}
			if !f.match(ev) {
				continue
			}
			if err := s.send(gone, c, ev); err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					c.Close(websocket.StatusPolicyViolation, "client too slow")
				}
				return nil
			}
		}
	}
}

// send writes one event, bounded by WriteTimeout.
func (s *Server) send(ctx context.Context, c *websocket.Conn, ev apitype.StreamEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, b)
}
