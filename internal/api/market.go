package api

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits of the market routes.
const (
	// MaxRequestLimit is the largest ?limit= of GET /v1/requests.
	MaxRequestLimit = 1000
	// MaxDataLimit is the largest ?limit= of GET /v1/state/{contract}.
	MaxDataLimit = 1000
	// MaxDataKey bounds a key or range bound of the /v1/state routes, in
	// bytes (the ledger's bound).
	MaxDataKey = 4 << 10
	// maxContractName bounds {contract} before the backend checks it.
	maxContractName = 64
	// offerPage is the page size the offer stream lists open requests by.
	offerPage = 200
)

// Market event types and attributes the offer stream follows (the
// ledger's, internal/jobs).
const (
	eventRequest  = "request"          // tx event: a request was included
	eventReopened = "request_reopened" // a round re-offered: a block event (lapsed) or a tx event (stale reads, no quorum)
)

// MarketBackend is the execution-market part of a Backend. A request is
// identified by its 32-byte id. Errors are *vmerr.Error: Invalid for a bad
// query, name, key, bound, limit or height, NotFound for an unknown
// request (and, for Result, one still open) or a height not stored,
// Unavailable when the node cannot answer now.
type MarketBackend interface {
	// Requests lists open requests (q.Open must be set) in deadline-index
	// order (due height, then id) strictly after the cursor q.After, at most q.Limit (0 = 100, max 1000), each
	// with its Location; Next is set when more may follow.
	Requests(ctx context.Context, q apitype.RequestQuery) (apitype.RequestList, error)
	// Request returns request id at height (0 = latest), with a Location
	// when prove is set.
	Request(ctx context.Context, id [32]byte, height int64, prove bool) (apitype.Request, error)
	// Result returns request id's resultChain entry at height (0 =
	// latest), with a Location when prove is set.
	Result(ctx context.Context, id [32]byte, height int64, prove bool) (apitype.Result, error)
	// Data returns key of contract's namespace at height (0 = latest);
	// an absent key is Found false (its Location then proves absence).
	Data(ctx context.Context, contract string, key []byte, height int64, prove bool) (apitype.DataEntry, error)
	// DataRange lists up to limit (0 = 100, max 1000) present keys of
	// contract's namespace with start <= key < end (empty end: no bound)
	// in key order at height (0 = latest), each with its Location.
	DataRange(ctx context.Context, contract string, start, end []byte, limit int, height int64) (apitype.DataRange, error)
	// Memo returns the memo of (code, fn, input) at height (0 = latest)
	// with the result it holds, and a Location when prove is set;
	// NotFound when there is none.
	Memo(ctx context.Context, code [32]byte, fn string, input [32]byte, height int64, prove bool) (apitype.Memo, error)
}

// listRequests is GET /v1/requests?open=true&after=CURSOR&limit=N. open must
// be true (the only listing); limit is 1..1000 (default 100).
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) error {
	const op = "api.requests"
	q := r.URL.Query()
	if v := q.Get("open"); v != "true" {
		return vmerr.E(op, vmerr.Invalid, "open=%q: only open requests can be listed (open=true)", v)
	}
	rq := apitype.RequestQuery{Open: true}
	if v := q.Get("after"); v != "" {
		if _, err := state.ParseDueCursor(v); err != nil {
			return err
		}
		rq.After = v
	}
	n, err := limitParam(op, q, MaxRequestLimit)
	if err != nil {
		return err
	}
	rq.Limit = n
	list, err := s.b.Requests(r.Context(), rq)
	if err != nil {
		return err
	}
	if list.Requests == nil {
		list.Requests = []apitype.Request{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// getRequest is GET /v1/requests/{id}?height=H&prove=true|false; id is 64
// hex digits. height defaults to 0 (latest), prove to true. The id
// "stream" is the offer stream (offers): a route of its own would clash
// with the method-less fallback routes registers for each path.
func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) error {
	const op = "api.request"
	if r.PathValue("id") == "stream" {
		return s.offers(w, r)
	}
	id, height, prove, err := idParams(op, r)
	if err != nil {
		return err
	}
	out, err := s.b.Request(r.Context(), id, height, prove)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getResult is GET /v1/results/{id}?height=H&prove=true|false: 404 while
// the request is open or when it is unknown.
func (s *Server) getResult(w http.ResponseWriter, r *http.Request) error {
	const op = "api.result"
	id, height, prove, err := idParams(op, r)
	if err != nil {
		return err
	}
	out, err := s.b.Result(r.Context(), id, height, prove)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getMemo is GET /v1/memos/{code}/{fn}/{input}?height=H&prove=true|false:
// code and input are 64 hex digits (SHA-256 of the metered module and of
// the input); 404 when there is no memo.
func (s *Server) getMemo(w http.ResponseWriter, r *http.Request) error {
	const op = "api.memo"
	code, err := hash32Param(op, "code", r.PathValue("code"))
	if err != nil {
		return err
	}
	input, err := hash32Param(op, "input", r.PathValue("input"))
	if err != nil {
		return err
	}
	fn := r.PathValue("fn")
	if fn == "" || len(fn) > market.MaxFnLen {
		return vmerr.E(op, vmerr.Invalid, "function name of %d bytes: want 1 to %d", len(fn), market.MaxFnLen)
	}
	height, prove, err := heightProve(op, r)
	if err != nil {
		return err
	}
	out, err := s.b.Memo(r.Context(), code, fn, input, height, prove)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// hash32Param parses a 64-hex-digit path parameter.
func hash32Param(op, name, v string) ([32]byte, error) {
	var out [32]byte
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != 32 {
		return out, vmerr.E(op, vmerr.Invalid, "%s %.80q: want 64 hex digits", name, v)
	}
	return [32]byte(b), nil
}

// getData is GET /v1/state/{contract}/{key}?height=H&prove=true|false;
// key is the hex of 1 to MaxDataKey bytes. An absent key answers 200 with
// found false (and an absence proof).
func (s *Server) getData(w http.ResponseWriter, r *http.Request) error {
	const op = "api.data"
	name, err := contractParam(op, r)
	if err != nil {
		return err
	}
	key, err := ParseDataKey(r.PathValue("key"))
	if err != nil {
		return err
	}
	if len(key) == 0 {
		return vmerr.E(op, vmerr.Invalid, "empty key")
	}
	height, prove, err := heightProve(op, r)
	if err != nil {
		return err
	}
	out, err := s.b.Data(r.Context(), name, key, height, prove)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getDataRange is GET /v1/state/{contract}?start=HEX&end=HEX&limit=N&height=H:
// present keys with start <= key < end (no end: no bound) in key order,
// each with its Location; limit is 1..1000 (default 100).
func (s *Server) getDataRange(w http.ResponseWriter, r *http.Request) error {
	const op = "api.data_range"
	name, err := contractParam(op, r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	start, err := ParseDataKey(q.Get("start"))
	if err != nil {
		return err
	}
	end, err := ParseDataKey(q.Get("end"))
	if err != nil {
		return err
	}
	limit, err := limitParam(op, q, MaxDataLimit)
	if err != nil {
		return err
	}
	height, err := heightParam(op, q)
	if err != nil {
		return err
	}
	out, err := s.b.DataRange(r.Context(), name, start, end, limit, height)
	if err != nil {
		return err
	}
	if out.Entries == nil {
		out.Entries = []apitype.DataEntry{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// offers is GET /v1/requests/stream, a WebSocket for miners: one
// apitype.Request JSON text message per offer (without Location) —
// first every request open when it connects (listed at height L), then,
// for each committed block above L, every request that opened a round in
// it: those its successful transactions included (tx event "request"
// with memo=false) and those re-offered (event "request_reopened": a
// block event for a lapsed round, a tx event for stale reads or a round
// without quorum), read at that block's height. It ends as
// GET /v1/events does (see events), with the same flow control.
func (s *Server) offers(w http.ResponseWriter, r *http.Request) error {
	const op = "api.offers"
	var listed int64
	first := func(st *stream) error {
		q := apitype.RequestQuery{Open: true, Limit: offerPage}
		for {
			l, err := s.b.Requests(st.ctx, q)
			if err != nil {
				return err
			}
			if listed == 0 {
				listed = l.Height
			}
			for i := range l.Requests {
				rq := l.Requests[i]
				rq.Location = nil
				if err := st.send(rq); err != nil {
					return err
				}
			}
			if l.Next == "" || len(l.Requests) == 0 {
				return nil
			}
			q.After = l.Next
		}
	}
	each := func(st *stream, blk apitype.BlockEvents) error {
		h := blk.Block.Height
		if h <= listed {
			return nil
		}
		for _, id := range OpenedIDs(blk) {
			rq, err := s.b.Request(st.ctx, id, h, false)
			if vmerr.KindOf(err) == vmerr.NotFound {
				continue // not stored at h (pruned): nothing to offer
			}
			if err != nil {
				return err
			}
			if err := st.send(rq); err != nil {
				return err
			}
		}
		return nil
	}
	return s.serveStream(w, r, op, filter{}, first, each)
}

// OpenedIDs returns the ids of the requests that opened a round in blk,
// in event order: included by a successful transaction (tx event
// "request" with memo "false") or re-offered (block event
// "request_reopened"). Malformed ids are skipped.
func OpenedIDs(blk apitype.BlockEvents) [][32]byte {
	var out [][32]byte
	add := func(e apitype.Event) {
		if id, err := ParseRequestID(e.Attributes["id"]); err == nil {
			out = append(out, id)
		}
	}
	for _, e := range blk.Events {
		if e.Type == eventReopened {
			add(e)
		}
	}
	for i := range blk.Txs {
		if blk.Txs[i].Code != 0 {
			continue
		}
		for _, e := range blk.Txs[i].Events {
			// A settlement on stale reads, or a round whose reveals found
			// no quorum, re-offers the request inside a transaction.
			if e.Type == eventRequest && e.Attributes["memo"] == "false" || e.Type == eventReopened {
				add(e)
			}
		}
	}
	return out
}

// ParseRequestID parses a request id: 64 hex digits. Errors: Invalid.
func ParseRequestID(v string) ([32]byte, error) {
	var id [32]byte
	if len(v) != 64 {
		return id, vmerr.E("api.request_id", vmerr.Invalid, "request id %.80q: want 64 hex digits", v)
	}
	if _, err := hex.Decode(id[:], []byte(v)); err != nil {
		return id, vmerr.E("api.request_id", vmerr.Invalid, "request id %.80q: want 64 hex digits", v)
	}
	return id, nil
}

// ParseDataKey parses a namespace key or range bound: hex of at most
// MaxDataKey bytes ("" is the empty key). Errors: Invalid.
func ParseDataKey(v string) ([]byte, error) {
	const op = "api.data_key"
	if len(v) > 2*MaxDataKey {
		return nil, vmerr.E(op, vmerr.Invalid, "key of %d hex digits, limit %d", len(v), 2*MaxDataKey)
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return nil, vmerr.E(op, vmerr.Invalid, "key %.80q is not hex", v)
	}
	return b, nil
}

// idParams reads {id}, ?height= and ?prove= (default true).
func idParams(op string, r *http.Request) (id [32]byte, height int64, prove bool, err error) {
	if id, err = ParseRequestID(r.PathValue("id")); err != nil {
		return id, 0, false, err
	}
	height, prove, err = heightProve(op, r)
	return id, height, prove, err
}

// heightProve reads ?height= and ?prove= (default true).
func heightProve(op string, r *http.Request) (int64, bool, error) {
	q := r.URL.Query()
	height, err := heightParam(op, q)
	if err != nil {
		return 0, false, err
	}
	prove, err := boolParam(op, q, "prove", true)
	return height, prove, err
}

// contractParam reads {contract}: a non-empty name of at most 64 bytes
// (the backend checks the rest).
func contractParam(op string, r *http.Request) (string, error) {
	name := r.PathValue("contract")
	if name == "" || len(name) > maxContractName {
		return "", vmerr.E(op, vmerr.Invalid, "contract name of %d bytes: want 1 to %d", len(name), maxContractName)
	}
	return name, nil
}

// limitParam reads ?limit=: 0 when absent, else 1..max.
func limitParam(op string, q url.Values, max int) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, vmerr.E(op, vmerr.Invalid, "limit=%.20q: want an integer from 1 to %d", v, max)
	}
	return n, nil
}
