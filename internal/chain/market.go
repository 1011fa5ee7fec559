package chain

import (
	"context"
	"encoding/hex"
	"encoding/json"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Execution market query paths (internal/ledger's).
const (
	pathRequest   = "/request"
	pathRequests  = "/requests"
	pathResult    = "/result"
	pathData      = "/data"
	pathDataRange = "/data/range"
	pathParams    = "/params"
	pathMemo      = "/memo"
)

// dataRangeQuery is the ledger's /data/range query (ledger.DataRangeQuery).
type dataRangeQuery struct {
	Contract string `json:"contract"`
	Start    []byte `json:"start,omitempty"`
	End      []byte `json:"end,omitempty"`
	Limit    int    `json:"limit,omitempty"`
}

// Request returns request id at height (0 = latest) in its API form (its
// Offer under the chain's market parameters, its Phase as of the next
// block), with its Location when prove is set. Errors: NotFound (unknown
// request, or a height not stored), Invalid, Unavailable.
func (n *Node) Request(ctx context.Context, id [32]byte, height int64, prove bool) (apitype.Request, error) {
	const op = "chain.request"
	res, err := n.query(ctx, op, pathRequest, id[:], height, prove)
	if err != nil {
		return apitype.Request{}, err
	}
	p, err := n.marketParams(ctx, op, res.Height)
	if err != nil {
		return apitype.Request{}, err
	}
	m, err := state.DecodeRequest(res.Value)
	if err != nil {
		return apitype.Request{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	out := jobs.RequestView(m, p, res.Height)
	if prove {
		if out.Location, err = n.location(op, state.NamespaceRequests, res); err != nil {
			return apitype.Request{}, err
		}
	}
	return out, nil
}

// Requests lists open requests matching q at the latest height, in id
// order, each with its Location. Errors: Invalid (open false, after,
// limit), Unavailable.
func (n *Node) Requests(ctx context.Context, q apitype.RequestQuery) (apitype.RequestList, error) {
	const op = "chain.requests"
	data, err := json.Marshal(q)
	if err != nil {
		return apitype.RequestList{}, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	res, err := n.query(ctx, op, pathRequests, data, 0, true)
	if err != nil {
		return apitype.RequestList{}, err
	}
	p, err := n.marketParams(ctx, op, res.Height)
	if err != nil {
		return apitype.RequestList{}, err
	}
	items, err := state.DecodeList(res.Value)
	if err != nil {
		return apitype.RequestList{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	locs, err := n.locations(op, state.NamespaceRequests, res, items)
	if err != nil {
		return apitype.RequestList{}, err
	}
	out := apitype.RequestList{Requests: make([]apitype.Request, 0, len(items)), Next: res.Info, Height: res.Height}
	for i, raw := range items {
		m, err := state.DecodeRequest(raw)
		if err != nil {
			return apitype.RequestList{}, vmerr.Wrap(op, vmerr.Internal, err)
		}
		view := jobs.RequestView(m, p, res.Height)
		view.Location = locs[i]
		out.Requests = append(out.Requests, view)
	}
	return out, nil
}

// Result returns request id's resultChain entry at height (0 = latest),
// with its Location when prove is set. Errors: NotFound (unknown request,
// still open, or a height not stored), Invalid, Unavailable.
func (n *Node) Result(ctx context.Context, id [32]byte, height int64, prove bool) (apitype.Result, error) {
	const op = "chain.result"
	res, err := n.query(ctx, op, pathResult, id[:], height, prove)
	if err != nil {
		return apitype.Result{}, err
	}
	m, err := state.DecodeResult(res.Value)
	if err != nil {
		return apitype.Result{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	out := jobs.ResultView(m, res.Height)
	if prove {
		if out.Location, err = n.location(op, state.NamespaceResults, res); err != nil {
			return apitype.Result{}, err
		}
	}
	return out, nil
}

// Memo returns the memo of (code, fn, input) at height (0 = latest) with
// the result it holds, and with its Location when prove is set. Errors:
// NotFound (no memo, or a height not stored), Invalid, Unavailable.
func (n *Node) Memo(ctx context.Context, code [32]byte, fn string, input [32]byte, height int64, prove bool) (apitype.Memo, error) {
	const op = "chain.memo"
	data := append(append(append([]byte{}, code[:]...), input[:]...), fn...)
	res, err := n.query(ctx, op, pathMemo, data, height, prove)
	if err != nil {
		return apitype.Memo{}, err
	}
	m, err := state.DecodeMemo(res.Value)
	if err != nil {
		return apitype.Memo{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	raw, err := hex.DecodeString(res.Info)
	if err != nil {
		return apitype.Memo{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	out := jobs.MemoView(m, code, fn, input, raw, res.Height)
	if prove {
		if out.Location, err = n.location(op, state.NamespaceMemos, res); err != nil {
			return apitype.Memo{}, err
		}
	}
	return out, nil
}

// Data returns key of contract's namespace at height (0 = latest). An
// absent key is not an error: Found is false (with an absence proof as
// Location when prove is set). Errors: Invalid (bad name, empty or
// oversized key), NotFound (a height not stored), Unavailable.
func (n *Node) Data(ctx context.Context, contract string, key []byte, height int64, prove bool) (apitype.DataEntry, error) {
	const op = "chain.data"
	data := append(append([]byte(contract), 0), key...)
	res, err := n.query(ctx, op, pathData, data, height, prove)
	if err != nil {
		return apitype.DataEntry{}, err
	}
	out := apitype.DataEntry{Contract: contract, Key: key, Height: res.Height}
	if len(res.Value) > 0 {
		v, val, err := state.DecodeData(res.Value)
		if err != nil {
			return apitype.DataEntry{}, vmerr.Wrap(op, vmerr.Internal, err)
		}
		out.Value, out.Version, out.Found = val, v, true
	}
	if prove {
		if out.Location, err = n.location(op, state.NamespaceData, res); err != nil {
			return apitype.DataEntry{}, err
		}
	}
	return out, nil
}

// DataRange lists up to limit (0 = the ledger's default, 100; at most
// jobs.MaxDataRange) present keys of contract's namespace with start <=
// key < end (an empty end: no bound) in key order at height (0 = latest),
// each with its Location. Errors: Invalid (bad name, bounds or limit),
// NotFound (a height not stored), Unavailable.
func (n *Node) DataRange(ctx context.Context, contract string, start, end []byte, limit int, height int64) (apitype.DataRange, error) {
	const op = "chain.data_range"
	data, err := json.Marshal(dataRangeQuery{Contract: contract, Start: start, End: end, Limit: limit})
	if err != nil {
		return apitype.DataRange{}, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	res, err := n.query(ctx, op, pathDataRange, data, height, true)
	if err != nil {
		return apitype.DataRange{}, err
	}
	items, err := state.DecodeList(res.Value)
	if err != nil {
		return apitype.DataRange{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	locs, err := n.locations(op, state.NamespaceData, res, items)
	if err != nil {
		return apitype.DataRange{}, err
	}
	prefix := state.DataPrefix(contract)
	out := apitype.DataRange{Contract: contract, Entries: make([]apitype.DataEntry, 0, len(items)), Height: res.Height}
	for i, raw := range items {
		v, val, err := state.DecodeData(raw)
		k := res.ProofOps.Ops[i].Key
		if err != nil || len(k) < len(prefix) || string(k[:len(prefix)]) != string(prefix) {
			return apitype.DataRange{}, vmerr.E(op, vmerr.Internal, "range item %d (key %s) is malformed", i, hex.EncodeToString(k))
		}
		out.Entries = append(out.Entries, apitype.DataEntry{Contract: contract, Key: k[len(prefix):], Value: val,
			Version: v, Found: true, Height: res.Height, Location: locs[i]})
	}
	return out, nil
}

// marketParams reads the chain's market parameters (at height h the first
// time; they are fixed at genesis, so later calls use the cached copy). A
// chain whose stored parameters predate the market gets market.Default(),
// as its genesis did.
func (n *Node) marketParams(ctx context.Context, op string, h int64) (market.Params, error) {
	if p := n.marketP.Load(); p != nil {
		return *p, nil
	}
	res, err := n.query(ctx, op, pathParams, nil, h, false)
	if err != nil {
		return market.Params{}, err
	}
	p, err := decodeMarketParams(op, res)
	if err == nil {
		n.marketP.Store(&p)
	}
	return p, err
}

func decodeMarketParams(op string, res *abcitypes.QueryResponse) (market.Params, error) {
	var p struct {
		Market *market.Params `json:"market"`
	}
	if err := json.Unmarshal(res.Value, &p); err != nil {
		return market.Params{}, vmerr.E(op, vmerr.Internal, "chain parameters: %v", err)
	}
	if p.Market == nil || len(p.Market.Tiers) == 0 {
		return market.Default(), nil
	}
	return *p.Market, nil
}
