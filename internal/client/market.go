package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coder/websocket"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// maxOffer bounds one frame of the offer stream: a request with a
// maximum-size input and its seals.
const maxOffer = 4 << 20

// Requests lists open requests: GET /v1/requests?open=true with q's
// after and limit (0 = the node's default, 100). q.Open must be set (the
// only listing today). Follow Next (as q.After) for the following page.
// Every item's Location is verified (VerifyRequest); an item that fails
// fails the call with Unauthorized. Errors: Invalid for open=false, a bad
// after or limit.
func (c *Client) Requests(ctx context.Context, q apitype.RequestQuery) (apitype.RequestList, error) {
	const op = "client.requests"
	if !q.Open {
		return apitype.RequestList{}, vmerr.E(op, vmerr.Invalid, "only open requests can be listed (set Open)")
	}
	v := url.Values{"open": {"true"}}
	if q.After != "" {
		v.Set("after", q.After)
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var l apitype.RequestList
	if err := c.do(ctx, c.timeout, op, http.MethodGet, "/v1/requests?"+v.Encode(), nil, &l); err != nil {
		return apitype.RequestList{}, err
	}
	for i := range l.Requests {
		id, err := state.ParseRequestID(l.Requests[i].ID)
		if err != nil {
			return apitype.RequestList{}, vmerr.E(op, vmerr.Unauthorized, "item %d: %v", i, err)
		}
		if err := VerifyRequest(&l.Requests[i], id); err != nil {
			return apitype.RequestList{}, vmerr.E(op, vmerr.Unauthorized, "item %d: %v", i, err)
		}
	}
	return l, nil
}

// Request returns request id (64 hex digits) at height (0 = latest) with
// its Location, verified (VerifyRequest). Errors: Invalid for a bad id,
// NotFound for an unknown request (or a height not stored), Unauthorized
// when the answer does not verify.
func (c *Client) Request(ctx context.Context, id string, height int64) (apitype.Request, error) {
	const op = "client.request"
	rid, err := state.ParseRequestID(id)
	if err != nil {
		return apitype.Request{}, err
	}
	var out apitype.Request
	if err := c.do(ctx, c.timeout, op, http.MethodGet, heightPath("/v1/requests/"+hex.EncodeToString(rid[:]), height), nil, &out); err != nil {
		return apitype.Request{}, err
	}
	if err := VerifyRequest(&out, rid); err != nil {
		return apitype.Request{}, vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	return out, nil
}

// Result returns the resultChain entry of request id (64 hex digits) at
// height (0 = latest) with its Location, verified (VerifyResult).
// Errors: Invalid for a bad id, NotFound while the request is open or
// when it is unknown, Unauthorized when the answer does not verify.
func (c *Client) Result(ctx context.Context, id string, height int64) (apitype.Result, error) {
	const op = "client.result"
	rid, err := state.ParseRequestID(id)
	if err != nil {
		return apitype.Result{}, err
	}
	var out apitype.Result
	if err := c.do(ctx, c.timeout, op, http.MethodGet, heightPath("/v1/results/"+hex.EncodeToString(rid[:]), height), nil, &out); err != nil {
		return apitype.Result{}, err
	}
	if err := VerifyResult(&out, rid); err != nil {
		return apitype.Result{}, vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	return out, nil
}

// Memo returns the memo of (code, fn, input) at height (0 = latest):
// GET /v1/memos/{code}/{fn}/{input}, verified (VerifyMemo). Errors:
// NotFound when there is no memo (or a height not stored), Unauthorized
// when the answer does not verify.
func (c *Client) Memo(ctx context.Context, code [32]byte, fn string, input [32]byte, height int64) (apitype.Memo, error) {
	const op = "client.memo"
	var out apitype.Memo
	path := heightPath("/v1/memos/"+hex.EncodeToString(code[:])+"/"+url.PathEscape(fn)+"/"+hex.EncodeToString(input[:]), height)
	if err := c.do(ctx, c.timeout, op, http.MethodGet, path, nil, &out); err != nil {
		return apitype.Memo{}, err
	}
	if err := VerifyMemo(&out, code, fn, input); err != nil {
		return apitype.Memo{}, vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	return out, nil
}

// VerifyMemo checks m's Location (see VerifyRequest about the AppHash):
// it proves a memo record under state.MemoSlot(code, fn, input) whose
// fields are m's, and Raw hashes to the record's result hash. Errors:
// Invalid (no Location), Unauthorized, Decode.
func VerifyMemo(m *apitype.Memo, code [32]byte, fn string, input [32]byte) error {
	const op = "client.verify_memo"
	raw, err := provedValue(op, m.Location, state.MemoSlot(code, fn, input))
	if err != nil {
		return err
	}
	rec, err := state.DecodeMemo(raw)
	if err != nil {
		return vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	sum := sha256.Sum256(m.Raw)
	same := bytes.Equal(rec.ResultHash, sum[:]) && m.ResultHash == hex.EncodeToString(rec.ResultHash) &&
		m.CodeHash == hex.EncodeToString(code[:]) && m.Fn == fn && m.InputHash == hex.EncodeToString(input[:]) &&
		m.Key == hex.EncodeToString(rec.Key) && m.RequestID == hex.EncodeToString(rec.RequestId) && m.Step == rec.Step &&
		m.Stored == rec.Height && m.Beneficiary == state.AddrText(rec.Beneficiary) && m.Hits == rec.Hits
	if !same {
		return vmerr.E(op, vmerr.Unauthorized, "memo of %s: the answer differs from its proved record", fn)
	}
	return nil
}

// Data reads key (non-empty) of contract's namespace at height (0 =
// latest): GET /v1/state/{contract}/{hex key}. An absent key is not an
// error: Found is false, with an absence proof. The Location is verified
// (VerifyData). Errors: Invalid for an empty key or a bad name, NotFound
// for a height not stored, Unauthorized when the answer does not verify.
func (c *Client) Data(ctx context.Context, contract string, key []byte, height int64) (apitype.DataEntry, error) {
	const op = "client.data"
	if len(key) == 0 {
		return apitype.DataEntry{}, vmerr.E(op, vmerr.Invalid, "empty key")
	}
	if contract == "" {
		return apitype.DataEntry{}, vmerr.E(op, vmerr.Invalid, "empty contract name")
	}
	var out apitype.DataEntry
	path := heightPath("/v1/state/"+url.PathEscape(contract)+"/"+hex.EncodeToString(key), height)
	if err := c.do(ctx, c.timeout, op, http.MethodGet, path, nil, &out); err != nil {
		return apitype.DataEntry{}, err
	}
	if err := VerifyData(&out, contract, key); err != nil {
		return apitype.DataEntry{}, vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	return out, nil
}

// DataNoProof is Data without the Location (?prove=false): the node's
// word, cheaper for both sides. A miner reads the state it runs against
// this way from the node it chose to trust: a wrong answer only makes its
// result disagree (and go unpaid), and settlement checks every read
// version against the chain's state anyway. The answer must still be about
// the key asked. Errors: as Data's, less the proof's.
func (c *Client) DataNoProof(ctx context.Context, contract string, key []byte, height int64) (apitype.DataEntry, error) {
	const op = "client.data"
	if len(key) == 0 || contract == "" {
		return apitype.DataEntry{}, vmerr.E(op, vmerr.Invalid, "empty key or contract name")
	}
	v := url.Values{"prove": {"false"}}
	if height != 0 {
		v.Set("height", strconv.FormatInt(height, 10))
	}
	var out apitype.DataEntry
	path := "/v1/state/" + url.PathEscape(contract) + "/" + hex.EncodeToString(key) + "?" + v.Encode()
	if err := c.do(ctx, c.timeout, op, http.MethodGet, path, nil, &out); err != nil {
		return apitype.DataEntry{}, err
	}
	if out.Contract != contract || !bytes.Equal(out.Key, key) || out.Found != (out.Version != 0) {
		return apitype.DataEntry{}, vmerr.E(op, vmerr.Unauthorized, "answer is about %s/%x (found %t, version %d), asked %s/%x",
			out.Contract, out.Key, out.Found, out.Version, contract, key)
	}
	return out, nil
}

// DataRange lists up to limit (0 = the node's default, 100; at most
// 1000) entries of contract's namespace with start <= key < end in key
// order (an empty end: no bound) at height (0 = latest): GET
// /v1/state/{contract}?start=&end=&limit=&height=. Each entry's Location
// is verified (VerifyData), and the keys must be in range and ascending;
// a range proof of completeness is not given (a node can omit keys).
// Errors: Invalid for bad bounds or limit, NotFound for a height not
// stored, Unauthorized when an entry does not verify.
func (c *Client) DataRange(ctx context.Context, contract string, start, end []byte, limit int, height int64) (apitype.DataRange, error) {
	const op = "client.data_range"
	if contract == "" {
		return apitype.DataRange{}, vmerr.E(op, vmerr.Invalid, "empty contract name")
	}
	v := url.Values{}
	if len(start) > 0 {
		v.Set("start", hex.EncodeToString(start))
	}
	if len(end) > 0 {
		v.Set("end", hex.EncodeToString(end))
	}
	if limit != 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if height != 0 {
		v.Set("height", strconv.FormatInt(height, 10))
	}
	path := "/v1/state/" + url.PathEscape(contract)
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var out apitype.DataRange
	if err := c.do(ctx, c.timeout, op, http.MethodGet, path, nil, &out); err != nil {
		return apitype.DataRange{}, err
	}
	var prev []byte
	for i := range out.Entries {
		e := &out.Entries[i]
		if !e.Found || bytes.Compare(e.Key, start) < 0 || len(end) > 0 && bytes.Compare(e.Key, end) >= 0 ||
			i > 0 && bytes.Compare(e.Key, prev) <= 0 {
			return apitype.DataRange{}, vmerr.E(op, vmerr.Unauthorized, "entry %d (key %x) is absent, out of range or out of order", i, e.Key)
		}
		if err := VerifyData(e, contract, e.Key); err != nil {
			return apitype.DataRange{}, vmerr.E(op, vmerr.Unauthorized, "entry %d: %v", i, err)
		}
		prev = e.Key
	}
	return out, nil
}

// Offers opens the offer stream (GET /v1/requests/stream, WebSocket):
// first every request open when it connects, then each request that
// opens a round (a new request, or one re-offered) as blocks commit. A
// request can arrive more than once (once per round). Items are not
// verified (each carries no Location); a miner reads the request back
// with Request when it takes it. The channel closes when ctx ends, the
// server closes the stream (shutdown, or this reader being too slow) or
// the connection fails. Errors opening the stream are *vmerr.Error.
func (c *Client) Offers(ctx context.Context) (<-chan apitype.Request, error) {
	const op = "client.offers"
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	u := "ws" + strings.TrimPrefix(c.base, "http") + "/v1/requests/stream"
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: c.hc})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, decodeError(op, resp.StatusCode, readAnswer(resp))
		}
		return nil, transportError(op, err)
	}
	conn.SetReadLimit(maxOffer)
	ch := make(chan apitype.Request, 16)
	go func() {
		defer close(ch)
		defer conn.CloseNow()
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var r apitype.Request
			if json.Unmarshal(b, &r) != nil || r.ID == "" {
				conn.Close(websocket.StatusUnsupportedData, "not a Request")
				return
			}
			select {
			case ch <- r:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

// VerifyRequest checks r's Location: its proof verifies (state.
// VerifyLocation, against the Location's AppHash, which the caller
// compares with a header it trusts), its key is state.RequestKey(id), and
// the proved record says what r says in every field a miner acts on (id,
// requester, contract, version, code, fn, input, gas limit, price,
// reward, replicas, quorum, deadline, escrow, round, start, windows and
// status).
// Errors: Invalid (no Location), Unauthorized, Decode.
func VerifyRequest(r *apitype.Request, id [32]byte) error {
	const op = "client.verify_request"
	raw, err := provedValue(op, r.Location, state.RequestKey(id))
	if err != nil {
		return err
	}
	m, err := state.DecodeRequest(raw)
	if err != nil {
		return vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	requester, _ := crypto.AddressFromBytes(m.Requester)
	same := r.ID == hex.EncodeToString(m.Id) && bytes.Equal(m.Id, id[:]) && r.Requester == requester.String() &&
		r.Contract == m.Contract && r.Name == m.Name && r.Version == m.Version &&
		r.CodeHash == hex.EncodeToString(m.CodeHash) && r.MeteredCID == state.CIDText(m.MeteredCid) &&
		r.Composite == m.Composite && r.Fn == m.Fn && bytes.Equal(r.Input, m.Input) &&
		r.GasLimit == u64(m.GasLimit) && r.Price == u64(m.Price) && r.Reward == u64(m.Reward) &&
		r.Replicas == m.Replicas && r.Quorum == m.Quorum && r.Included == m.Included && r.Deadline == m.Deadline &&
		r.Escrow == u64(m.Escrow) && r.Start == m.Start && r.StartTime == m.StartTime && r.Round == m.Round &&
		r.CommitWindow == m.CommitWindow && r.RevealWindow == m.RevealWindow &&
		r.Status == m.Status && r.TxHash == hex.EncodeToString(m.TxHash) && len(r.Seals) == len(m.Commits)
	if !same {
		return vmerr.E(op, vmerr.Unauthorized, "request %x: the answer differs from its proved record", id)
	}
	return nil
}

// VerifyResult checks res's Location: its proof verifies (see
// VerifyRequest about the AppHash), its key is state.ResultKey(id), the
// proved record says what res says (status, raw result, result hash,
// applied, payments, refund, cost, seq, prev, contract, fn), and the
// SHA-256 of Raw is ResultHash (the hash miners agreed on). Errors:
// Invalid (no Location), Unauthorized, Decode.
func VerifyResult(res *apitype.Result, id [32]byte) error {
	const op = "client.verify_result"
	raw, err := provedValue(op, res.Location, state.ResultKey(id))
	if err != nil {
		return err
	}
	m, err := state.DecodeResult(raw)
	if err != nil {
		return vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	if len(res.Raw) > 0 || res.ResultHash != "" {
		sum := sha256.Sum256(res.Raw)
		if res.ResultHash != hex.EncodeToString(sum[:]) {
			return vmerr.E(op, vmerr.Unauthorized, "result %x: raw result does not hash to result_hash %s", id, res.ResultHash)
		}
	}
	same := bytes.Equal(m.RequestId, id[:]) && res.RequestID == hex.EncodeToString(m.RequestId) &&
		res.Status == m.Status && bytes.Equal(res.Raw, m.Result) && res.ResultHash == hexOrEmpty(m.ResultHash) &&
		res.Applied == m.Applied && res.Refund == u64(m.Refund) && res.Cost == u64(m.Cost) && res.Seq == m.Seq &&
		res.MemoFees == u64z(m.MemoFees) &&
		res.Prev == hex.EncodeToString(m.Prev) && res.Contract == m.Contract && res.Fn == m.Fn &&
		res.Settled == m.Height && res.Rounds == m.Rounds && len(res.Paid) == len(m.Paid)
	for i := 0; same && i < len(m.Paid); i++ {
		miner, _ := crypto.AddressFromBytes(m.Paid[i].Miner)
		p := res.Paid[i]
		same = p.Miner == miner.String() && p.Reward == u64(m.Paid[i].Reward) && p.Gas == u64(m.Paid[i].Gas)
	}
	if !same {
		return vmerr.E(op, vmerr.Unauthorized, "result %x: the answer differs from its proved record", id)
	}
	return nil
}

// VerifyData checks e's Location: its proof verifies (see VerifyRequest
// about the AppHash), its key is state.DataKey(contract, key), and it
// proves what e says: the stored version||value when Found, the key's
// absence when not. Errors: Invalid (no Location), Unauthorized, Decode.
func VerifyData(e *apitype.DataEntry, contract string, key []byte) error {
	const op = "client.verify_data"
	if e.Contract != contract || !bytes.Equal(e.Key, key) {
		return vmerr.E(op, vmerr.Unauthorized, "answer is about %s/%x, asked %s/%x", e.Contract, e.Key, contract, key)
	}
	loc := e.Location
	if loc == nil {
		return vmerr.E(op, vmerr.Invalid, "answer has no location")
	}
	if !state.SameKey(loc, state.DataKey(contract, key)) {
		return vmerr.E(op, vmerr.Unauthorized, "location key %s is not %s/%x", loc.Key, contract, key)
	}
	if err := state.VerifyLocation(loc); err != nil {
		return vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	if !e.Found {
		if loc.Value != "" || e.Version != 0 || len(e.Value) > 0 {
			return vmerr.E(op, vmerr.Unauthorized, "absent key %x with a value or an inclusion proof", key)
		}
		return nil
	}
	want := hex.EncodeToString(state.EncodeData(e.Version, e.Value))
	if e.Version == 0 || loc.Value != want {
		return vmerr.E(op, vmerr.Unauthorized, "key %x: the answer differs from its proved value", key)
	}
	return nil
}

// provedValue checks loc is a verified membership proof of key and
// returns the proved value.
func provedValue(op string, loc *apitype.Location, key []byte) ([]byte, error) {
	if loc == nil {
		return nil, vmerr.E(op, vmerr.Invalid, "answer has no location")
	}
	if !state.SameKey(loc, key) {
		return nil, vmerr.E(op, vmerr.Unauthorized, "location key %s is not %x", loc.Key, key)
	}
	if loc.Value == "" {
		return nil, vmerr.E(op, vmerr.Unauthorized, "location proves absence, not a record")
	}
	if err := state.VerifyLocation(loc); err != nil {
		return nil, vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	raw, err := hex.DecodeString(loc.Value)
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Decode, err)
	}
	return raw, nil
}

// heightPath appends ?height=H to path when height is not 0.
func heightPath(path string, height int64) string {
	if height == 0 {
		return path
	}
	return path + "?height=" + strconv.FormatInt(height, 10)
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

func u64z(v uint64) string {
	if v == 0 {
		return ""
	}
	return u64(v)
}

func hexOrEmpty(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return hex.EncodeToString(b)
}
