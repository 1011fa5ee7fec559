// Package client owns the Go client of a node's HTTP API (/v1): one method
// per route, server errors decoded back into *vmerr.Error with the
// server's Kind (so callers use errors.As and vmerr.KindOf), the event
// stream as a channel, and Send, which builds, signs and submits a
// transaction. The CLI, miners and tests reach a node only through it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Defaults of the options.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultWaitTimeout = 60 * time.Second
	maxAnswer          = 16 << 20 // bytes of one JSON answer
	maxEvent           = 4 << 20  // bytes of one stream message
	maxBlockEvent      = 64 << 20 // bytes of one block_txs stream message
)

// getRetries is how many times a GET answered 503 is retried, after
// 100, 200 and 300 ms.
const getRetries = 3

// Client calls one node's API. It is safe for concurrent use.
type Client struct {
	base        string // scheme://host[:port][/prefix], no trailing slash
	baseErr     error
	hc          *http.Client
	timeout     time.Duration
	waitTimeout time.Duration

	mu      sync.Mutex
	chainID string                    // cached from Status by Send
	nonces  map[crypto.Address]uint64 // next nonce per signer, after Send's own txs
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the http.Client (default: one with no overall
// timeout — per-call deadlines come from WithTimeout — keeping up to 64
// idle connections to the node, so concurrent callers reuse them).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithTimeout bounds each call except event streams and SubmitTx with
// wait (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithWaitTimeout bounds SubmitTx with wait (default DefaultWaitTimeout).
func WithWaitTimeout(d time.Duration) Option { return func(c *Client) { c.waitTimeout = d } }

// New returns a client of the API at baseURL (e.g. http://127.0.0.1:8080).
// A malformed URL is reported, with kind Invalid, by every call.
func New(baseURL string, opts ...Option) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	c := &Client{base: strings.TrimRight(baseURL, "/"), hc: &http.Client{Transport: tr}, timeout: DefaultTimeout,
		waitTimeout: DefaultWaitTimeout, nonces: map[crypto.Address]uint64{}}
	u, err := url.Parse(c.base)
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		err = fmt.Errorf("want http(s)://host[:port]")
	}
	if err != nil {
		c.baseErr = vmerr.E("client", vmerr.Invalid, "node URL %q: %w", baseURL, err)
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// SubmitTx submits encoded tx bytes; with wait it returns after the block
// that includes the tx. A tx the node rejects returns its SubmitResult
// (hash, code, log) together with a *vmerr.Error whose Kind is the code.
func (c *Client) SubmitTx(ctx context.Context, raw []byte, wait bool) (apitype.SubmitResult, error) {
	path, timeout := "/v1/txs", c.timeout
	if wait {
		path, timeout = "/v1/txs?wait=commit", c.waitTimeout
	}
	var res apitype.SubmitResult
	err := c.do(ctx, timeout, "client.submit_tx", http.MethodPost, path, raw, &res)
	return res, err
}

// SubmitTxs submits many encoded txs in one POST /v1/txs:batch request
// and returns one SubmitResult per tx, in order; the node checks them in
// that order. A rejected tx is a result with a nonzero Code (the
// vmerr.Kind), not an error. With wait the answer comes when every
// accepted tx is committed (a tx not committed within the node's wait
// timeout has code Timeout). Errors: Invalid for no txs, or the request's
// failure as *vmerr.Error (TooLarge for a batch over the node's limits,
// Decode for an answer with the wrong number of results).
func (c *Client) SubmitTxs(ctx context.Context, txs [][]byte, wait bool) ([]apitype.SubmitResult, error) {
	const op = "client.submit_txs"
	if len(txs) == 0 {
		return nil, vmerr.E(op, vmerr.Invalid, "no transactions")
	}
	path, timeout := "/v1/txs:batch", c.timeout
	if wait {
		path, timeout = "/v1/txs:batch?wait=commit", c.waitTimeout
	}
	body := apitype.EncodeBatch(txs)
	var res apitype.BatchResult
	if err := c.do(ctx, timeout, op, http.MethodPost, path, body, &res); err != nil {
		return nil, err
	}
	if len(res.Results) != len(txs) {
		return nil, vmerr.E(op, vmerr.Decode, "%d results for %d transactions", len(res.Results), len(txs))
	}
	return res.Results, nil
}

// Account returns addr's account at height (0 = latest) with its
// Location, which the caller can check with state.VerifyLocation.
func (c *Client) Account(ctx context.Context, addr crypto.Address, height int64) (apitype.Account, error) {
	return c.account(ctx, addr, height, true)
}

// AccountNoProof is Account without the Location (cheaper for the node).
func (c *Client) AccountNoProof(ctx context.Context, addr crypto.Address, height int64) (apitype.Account, error) {
	return c.account(ctx, addr, height, false)
}

func (c *Client) account(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Account, error) {
	q := url.Values{}
	if height != 0 {
		q.Set("height", strconv.FormatInt(height, 10))
	}
	if !prove {
		q.Set("prove", "false")
	}
	path := "/v1/accounts/" + addr.String()
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var a apitype.Account
	return a, c.do(ctx, c.timeout, "client.account", http.MethodGet, path, nil, &a)
}

// Block returns the block at height; 0 = latest.
func (c *Client) Block(ctx context.Context, height int64) (apitype.Block, error) {
	h := "latest"
	if height != 0 {
		h = strconv.FormatInt(height, 10)
	}
	var b apitype.Block
	return b, c.do(ctx, c.timeout, "client.block", http.MethodGet, "/v1/blocks/"+h, nil, &b)
}

// Tx returns a committed transaction; kind NotFound when unknown.
func (c *Client) Tx(ctx context.Context, hash tx.Hash) (apitype.Tx, error) {
	var t apitype.Tx
	return t, c.do(ctx, c.timeout, "client.tx", http.MethodGet, "/v1/txs/"+hash.String(), nil, &t)
}

// Status returns the node's status.
func (c *Client) Status(ctx context.Context) (apitype.Status, error) {
	var s apitype.Status
	return s, c.do(ctx, c.timeout, "client.status", http.MethodGet, "/v1/status", nil, &s)
}

// EventOption filters an event stream.
type EventOption func(url.Values)

// OnlyTypes receives only events of these types ("block", "tx").
func OnlyTypes(types ...string) EventOption {
	return func(q url.Values) { q.Set("types", strings.Join(types, ",")) }
}

// ForAddress receives only tx events that name addr in an attribute.
func ForAddress(addr crypto.Address) EventOption {
	return func(q url.Values) { q.Set("address", addr.String()) }
}

// WithEvents keeps only ledger events of these types (e.g.
// "result_committed"): a tx result arrives with just those of its events,
// and only when it has one; a block keeps just those of its own events.
// A follower that needs a few event types saves the node encoding, and
// itself decoding, every other event of every transaction.
func WithEvents(types ...string) EventOption {
	return func(q url.Values) { q.Set("events", strings.Join(types, ",")) }
}

// Events opens the event stream. The channel delivers events until ctx
// ends, the server closes the stream (shutdown, or this reader being too
// slow: not receiving from the channel for longer than the server's write
// timeout, 10 s by default, or falling many blocks behind) or the
// connection fails; then it is closed. The stream's goroutine ends with
// it. Errors opening the stream are *vmerr.Error.
func (c *Client) Events(ctx context.Context, opts ...EventOption) (<-chan apitype.StreamEvent, error) {
	conn, err := c.dialEvents(ctx, "client.events", maxEvent, opts)
	if err != nil {
		return nil, err
	}
	ch := make(chan apitype.StreamEvent, 16)
	go pump(ctx, conn, ch, func(ev apitype.StreamEvent) (apitype.StreamEvent, bool) { return ev, true }, "not a StreamEvent")
	return ch, nil
}

// Blocks opens the event stream in block batches (?batch=block): one
// value per committed block, in height order, with the block and its tx
// results that pass opts (with OnlyTypes("tx") or ForAddress the Block
// is left zero, and blocks with no matching tx are skipped). It ends as
// Events does. Errors opening the stream are *vmerr.Error.
func (c *Client) Blocks(ctx context.Context, opts ...EventOption) (<-chan apitype.BlockEvents, error) {
	opts = append(opts, func(q url.Values) { q.Set("batch", "block") })
	conn, err := c.dialEvents(ctx, "client.blocks", maxBlockEvent, opts)
	if err != nil {
		return nil, err
	}
	ch := make(chan apitype.BlockEvents, 4)
	go pump(ctx, conn, ch, func(ev apitype.StreamEvent) (apitype.BlockEvents, bool) {
		out := apitype.BlockEvents{Txs: ev.Txs, Events: ev.Events}
		if ev.Block != nil {
			out.Block = *ev.Block
		}
		return out, ev.Type == "block_txs"
	}, "not a block_txs StreamEvent")
	return ch, nil
}

// pump reads StreamEvent frames from conn into ch, converted by conv, until
// ctx ends or the stream does; a frame that does not decode, or that conv
// refuses, closes the stream with why. It closes ch and conn when it returns.
func pump[T any](ctx context.Context, conn *websocket.Conn, ch chan<- T, conv func(apitype.StreamEvent) (T, bool), why string) {
	defer close(ch)
	defer conn.CloseNow()
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var ev apitype.StreamEvent
		if json.Unmarshal(b, &ev) != nil {
			conn.Close(websocket.StatusUnsupportedData, why)
			return
		}
		out, ok := conv(ev)
		if !ok {
			conn.Close(websocket.StatusUnsupportedData, why)
			return
		}
		select {
		case ch <- out:
		case <-ctx.Done():
			return
		}
	}
}

// dialEvents opens GET /v1/events with opts, reading messages of up to
// limit bytes.
func (c *Client) dialEvents(ctx context.Context, op string, limit int64, opts []EventOption) (*websocket.Conn, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	q := url.Values{}
	for _, o := range opts {
		o(q)
	}
	u := "ws" + strings.TrimPrefix(c.base, "http") + "/v1/events"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: c.hc})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, decodeError(op, resp.StatusCode, readAnswer(resp))
		}
		return nil, transportError(op, err)
	}
	conn.SetReadLimit(limit)
	return conn, nil
}

// Send builds a tx of msgs with fee, signs it with key and submits it (and
// with wait, waits for its block). It fetches the chain id (once) and the
// signer's nonce — or uses the next one after its own earlier Send, when
// that is higher — and on BadNonce refetches the nonce and tries once
// more. A rejected tx returns its SubmitResult and a *vmerr.Error whose
// Kind is the result code.
func (c *Client) Send(ctx context.Context, key crypto.PrivKey, msgs []*txpb.Msg, fee uint64, wait bool) (apitype.SubmitResult, error) {
	const op = "client.send"
	chainID, err := c.chain(ctx)
	if err != nil {
		return apitype.SubmitResult{}, err
	}
	addr := key.Address()
	var res apitype.SubmitResult
	for attempt := 0; attempt < 2; attempt++ {
		acc, err := c.AccountNoProof(ctx, addr, 0)
		if err != nil {
			return apitype.SubmitResult{}, err
		}
		nonce := acc.Nonce
		c.mu.Lock()
		if n, ok := c.nonces[addr]; ok && n > nonce && attempt == 0 {
			nonce = n
		}
		c.mu.Unlock()
		raw, err := tx.Sign(&txpb.TxBody{ChainId: chainID, Nonce: nonce, Fee: fee, Msgs: msgs}, key)
		if err != nil {
			return apitype.SubmitResult{}, vmerr.Wrap(op, vmerr.Invalid, err)
		}
		res, err = c.SubmitTx(ctx, raw, wait)
		c.mu.Lock()
		switch {
		case err == nil:
			c.nonces[addr] = nonce + 1
		default:
			delete(c.nonces, addr)
		}
		c.mu.Unlock()
		if vmerr.KindOf(err) != vmerr.BadNonce {
			return res, err
		}
	}
	return res, vmerr.E(op, vmerr.BadNonce, "nonce still rejected after refetching it: %s", res.Log)
}

// chain returns the chain id, fetched once.
func (c *Client) chain(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.chainID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	st, err := c.Status(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.chainID = st.ChainID
	c.mu.Unlock()
	return st.ChainID, nil
}

// do sends one request and decodes a 2xx JSON answer into out, or the
// error answer into a *vmerr.Error. POST bodies are raw tx bytes.
func (c *Client) do(ctx context.Context, timeout time.Duration, op, method, path string, body []byte, out any) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var resp *http.Response
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
		if err != nil {
			return vmerr.Wrap(op, vmerr.Invalid, err)
		}
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		if resp, err = c.hc.Do(req); err != nil {
			return transportError(op, err)
		}
		// A GET answered 503 (the node cannot serve it right now) is
		// retried a few times: it changes nothing, and such states are
		// brief (a block being committed, a node finishing start-up).
		if method != http.MethodGet || resp.StatusCode != http.StatusServiceUnavailable || attempt == getRetries {
			break
		}
		readAnswer(resp)
		select {
		case <-ctx.Done():
			return transportError(op, ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
	}
	b := readAnswer(resp)
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			return vmerr.E(op, vmerr.Decode, "answer of %s %s: %w", method, path, err)
		}
		return nil
	}
	if sr, ok := out.(*apitype.SubmitResult); ok {
		// A rejected tx answers its SubmitResult: code is a number there.
		var probe struct {
			Code json.RawMessage `json:"code"`
		}
		if json.Unmarshal(b, &probe) == nil && len(probe.Code) > 0 && probe.Code[0] != '"' && json.Unmarshal(b, sr) == nil && sr.Code != 0 {
			return &vmerr.Error{Op: op, Kind: vmerr.Kind(sr.Code), Err: errors.New(sr.Log)}
		}
	}
	return decodeError(op, resp.StatusCode, b)
}

func readAnswer(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	return b
}

// decodeError turns an error answer into a *vmerr.Error: the apitype.Error
// body's code names the Kind; a body that is not one (a proxy's page)
// gets the kind its HTTP status implies.
func decodeError(op string, status int, body []byte) error {
	var ae apitype.Error
	if json.Unmarshal(body, &ae) == nil && ae.Code != "" {
		k, ok := KindByName(ae.Code)
		if !ok {
			return vmerr.E(op, vmerr.Internal, "HTTP %d, unknown error code %q: %s", status, ae.Code, ae.Message)
		}
		return &vmerr.Error{Op: op, Kind: k, Err: errors.New(ae.Message)}
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	return vmerr.E(op, kindOfStatus(status), "HTTP %d: %s", status, text)
}

// KindByName maps a kind's stable name (apitype.Error.Code) back to it.
func KindByName(name string) (vmerr.Kind, bool) {
	for k := vmerr.Kind(0); k < 256; k++ {
		s := k.String()
		if s == name {
			return k, true
		}
		if strings.HasPrefix(s, "kind(") {
			break
		}
	}
	return 0, false
}

func kindOfStatus(status int) vmerr.Kind {
	switch {
	case status == http.StatusNotFound:
		return vmerr.NotFound
	case status == http.StatusRequestEntityTooLarge:
		return vmerr.TooLarge
	case status == http.StatusTooManyRequests:
		return vmerr.Limit
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return vmerr.Unauthorized
	case status == http.StatusServiceUnavailable || status == http.StatusBadGateway:
		return vmerr.Unavailable
	case status == http.StatusGatewayTimeout:
		return vmerr.Timeout
	case status >= 400 && status < 500:
		return vmerr.Invalid
	}
	return vmerr.Internal
}

// transportError classifies a failure to reach the node: a deadline is
// Timeout, anything else (refused, reset, DNS) Unavailable.
func transportError(op string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return vmerr.Wrap(op, vmerr.Timeout, err)
	}
	return vmerr.Wrap(op, vmerr.Unavailable, err)
}
