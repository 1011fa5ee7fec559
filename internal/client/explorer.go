package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/explorer"
)

// AccountTxs returns a page of addr's history: GET
// /v1/accounts/{addr}/txs, newest first, strictly before (q.BeforeHeight,
// q.BeforeIndex) when BeforeHeight > 0, at most q.Limit (0 = the node's
// default, 20; max 100). NextTxQuery follows Next to the following page.
// Errors: Invalid for a bad limit or cursor.
func (c *Client) AccountTxs(ctx context.Context, addr crypto.Address, q apitype.TxQuery) (apitype.TxList, error) {
	v := url.Values{}
	if q.BeforeHeight != 0 {
		v.Set("before", explorer.Cursor(q.BeforeHeight, uint64(q.BeforeIndex)))
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var l apitype.TxList
	return l, c.do(ctx, c.timeout, "client.account_txs", http.MethodGet, withQuery("/v1/accounts/"+addr.String()+"/txs", v), nil, &l)
}

// NextTxQuery is the query of the page after l (same limit as q); ok is
// false on the last page or when l.Next does not parse.
func NextTxQuery(q apitype.TxQuery, l apitype.TxList) (apitype.TxQuery, bool) {
	if l.Next == "" {
		return q, false
	}
	h, i, err := explorer.ParseCursor("client.account_txs", l.Next)
	if err != nil || i > 1<<32-1 {
		return q, false
	}
	q.BeforeHeight, q.BeforeIndex = h, uint32(i)
	return q, true
}

// ContractStats returns the metrics of contract name (every version):
// GET /v1/contracts/{name}/stats over q's window (zero fields take the
// node's defaults: the hour up to the latest block, in 60 s steps).
// Errors: Invalid for a bad name or window (step not a multiple of 60,
// from not before to, more than 1,440 buckets).
func (c *Client) ContractStats(ctx context.Context, name string, q apitype.StatsQuery) (apitype.ContractStats, error) {
	var st apitype.ContractStats
	return st, c.do(ctx, c.timeout, "client.contract_stats", http.MethodGet,
		withQuery("/v1/contracts/"+url.PathEscape(name)+"/stats", statsValues(q)), nil, &st)
}

// MinerStats returns the jobs miner addr was paid for, per step over q's
// window: GET /v1/miners/{addr}/stats (see ContractStats).
func (c *Client) MinerStats(ctx context.Context, addr crypto.Address, q apitype.StatsQuery) (apitype.ContractStats, error) {
	var st apitype.ContractStats
	return st, c.do(ctx, c.timeout, "client.miner_stats", http.MethodGet,
		withQuery("/v1/miners/"+addr.String()+"/stats", statsValues(q)), nil, &st)
}

func statsValues(q apitype.StatsQuery) url.Values {
	v := url.Values{}
	for _, p := range [...]struct {
		key string
		n   int64
	}{{"from", q.From}, {"to", q.To}, {"step", q.Step}} {
		if p.n != 0 {
			v.Set(p.key, strconv.FormatInt(p.n, 10))
		}
	}
	return v
}

// ContractResults returns a page of name's results: GET
// /v1/contracts/{name}/results, newest first, strictly before
// (q.BeforeHeight, q.BeforeSeq) when BeforeHeight > 0, at most q.Limit
// (0 = 20, max 100). NextResultQuery follows Next. Errors: Invalid for a
// bad name, limit or cursor.
func (c *Client) ContractResults(ctx context.Context, name string, q apitype.ResultQuery) (apitype.ContractResultList, error) {
	v := url.Values{}
	if q.BeforeHeight != 0 {
		v.Set("before", explorer.Cursor(q.BeforeHeight, q.BeforeSeq))
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var l apitype.ContractResultList
	return l, c.do(ctx, c.timeout, "client.contract_results", http.MethodGet,
		withQuery("/v1/contracts/"+url.PathEscape(name)+"/results", v), nil, &l)
}

// NextResultQuery is the query of the page after l (same limit as q); ok
// is false on the last page or when l.Next does not parse.
func NextResultQuery(q apitype.ResultQuery, l apitype.ContractResultList) (apitype.ResultQuery, bool) {
	if l.Next == "" {
		return q, false
	}
	h, s, err := explorer.ParseCursor("client.contract_results", l.Next)
	if err != nil {
		return q, false
	}
	q.BeforeHeight, q.BeforeSeq = h, s
	return q, true
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}
