package ledger

import (
	"bytes"
	"encoding/hex"
	"encoding/json"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/iavl"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Query paths of the execution market.
const (
	PathRequest   = "/request"    // Data: 32-byte request id
	PathRequests  = "/requests"   // Data: apitype.RequestQuery JSON
	PathResult    = "/result"     // Data: 32-byte request id
	PathData      = "/data"       // Data: contract name, 0x00, key
	PathDataRange = "/data/range" // Data: DataRangeQuery JSON
	PathMemo      = "/memo"       // Data: code hash (32), input hash (32), function name
)

// Limits of the /data and /data/range queries.
const (
	// MaxDataKey bounds a queried namespace key, in bytes: well above
	// what a contract may write (wasm's MaxKeySize, 1 KiB by default).
	MaxDataKey = 4 << 10
	// DefaultDataRange is the limit of a /data/range query that sets none.
	DefaultDataRange = 100
)

// DataRangeQuery is the Data of a /data/range query: up to Limit
// (0 = DefaultDataRange, at most jobs.MaxDataRange) keys of contract
// Contract's namespace with Start <= key < End in key order; an empty End
// means no bound.
type DataRangeQuery struct {
	Contract string `json:"contract"`
	Start    []byte `json:"start,omitempty"`
	End      []byte `json:"end,omitempty"`
	Limit    int    `json:"limit,omitempty"`
}

// queryMarket answers the execution market's paths on tree t:
//
//   - /request: Key = state.RequestKey, Value = the statepb.Request record
//     (proved when asked). Invalid for data that is not 32 bytes,
//     NotFound for an unknown request.
//   - /requests: Value = state.EncodeList of the open requests' records
//     in deadline-index order (jobs.ListOpen); Info = the cursor to pass as After for the
//     next page; with Prove, one proof op per item, in order, its Key the
//     item's store key. Invalid for a bad query (open false, bad after or
//     limit).
//   - /result: Key = state.ResultKey, Value = the statepb.Result record.
//     Invalid for data that is not 32 bytes, NotFound while the request is
//     open or when it is unknown.
//   - /data: Key = state.DataKey(name, key), Value = the stored
//     state.EncodeData form, or empty when the key is absent — which is
//     not an error: with Prove, the op is then an absence proof. Invalid
//     for data that is not a valid contract name, 0x00 and a key of 1 to
//     MaxDataKey bytes.
//   - /memo: Key = state.MemoSlot, Value = the statepb.Memo record (proved
//     when asked); Info = the result it holds, in hex (its entry's result
//     or one step of it, jobs.MemoAt). Invalid for data shorter than 65
//     bytes, NotFound when there is no memo.
//   - /data/range: Value = state.EncodeList of the stored values of the
//     present keys in range (DataRangeQuery); ProofOps holds one proof op
//     per item, its Key the item's store key, whether or not Prove is
//     set (the ops are where the keys travel). Invalid for a bad query.
//
// Corrupt stored records are Internal.
func queryMarket(t *iavl.ImmutableTree, req *abcitypes.QueryRequest, resp *abcitypes.QueryResponse) error {
	const op = "ledger.query"
	r := registry.TreeReader{T: t}
	switch req.Path {
	case PathRequest, PathResult:
		id, err := state.RequestIDBytes(req.Data)
		if err != nil {
			return vmerr.E(op, vmerr.Invalid, "%s wants a 32-byte request id as data: %w", req.Path, err)
		}
		if req.Path == PathRequest {
			_, raw, err := jobs.GetRequest(r, id)
			if err != nil {
				return queryErr(op, err)
			}
			resp.Key, resp.Value = state.RequestKey(id), raw
		} else {
			_, raw, err := jobs.GetResult(r, id)
			if err != nil {
				return queryErr(op, err)
			}
			resp.Key, resp.Value = state.ResultKey(id), raw
		}
		return proveEach(t, req.Prove, [][]byte{resp.Key}, resp)
	case PathRequests:
		var q apitype.RequestQuery
		if len(req.Data) > 0 {
			if err := json.Unmarshal(req.Data, &q); err != nil {
				return vmerr.E(op, vmerr.Invalid, "request list query: %v", err)
			}
		}
		raws, keys, next, err := jobs.ListOpen(r, q)
		if err != nil {
			return queryErr(op, err)
		}
		resp.Value, resp.Info = state.EncodeList(raws), next
		return proveEach(t, req.Prove, keys, resp)
	case PathMemo:
		if len(req.Data) < 65 {
			return vmerr.E(op, vmerr.Invalid, "%s wants a code hash, an input hash and a function name as data", req.Path)
		}
		code, input, fn := [32]byte(req.Data[:32]), [32]byte(req.Data[32:64]), string(req.Data[64:])
		memo, _, raw, err := jobs.MemoAt(r, code, fn, input)
		if err != nil {
			return queryErr(op, err)
		}
		if memo == nil {
			return vmerr.E(op, vmerr.NotFound, "no memo of %s on that code and input", fn)
		}
		resp.Key, resp.Info = state.MemoSlot(code, fn, input), hex.EncodeToString(raw)
		if resp.Value, err = r.Get(resp.Key); err != nil {
			return queryErr(op, err)
		}
		return proveEach(t, req.Prove, [][]byte{resp.Key}, resp)
	case PathData:
		name, key, err := ParseDataQuery(req.Data)
		if err != nil {
			return err
		}
		resp.Key = state.DataKey(name, key)
		if resp.Value, err = t.Get(resp.Key); err != nil {
			return vmerr.E(op, vmerr.Internal, "read data: %w", err)
		}
		if req.Prove {
			ops, err := proveKey(t, resp.Key, resp.Value != nil)
			if err != nil {
				return err
			}
			resp.ProofOps = ops
		}
		return nil
	case PathDataRange:
		q, err := ParseDataRangeQuery(req.Data)
		if err != nil {
			return err
		}
		entries, err := jobs.DataState{R: r, Name: q.Contract}.Range(q.Start, q.End, q.Limit)
		if err != nil {
			return queryErr(op, err)
		}
		vals, keys := make([][]byte, len(entries)), make([][]byte, len(entries))
		for i, e := range entries {
			vals[i], keys[i] = state.EncodeData(e.Version, e.Value), state.DataKey(q.Contract, e.Key)
		}
		resp.Value = state.EncodeList(vals)
		return proveEach(t, true, keys, resp)
	}
	return vmerr.E(op, vmerr.NotFound, "unknown query path %q", req.Path)
}

// ParseDataQuery parses the Data of a /data query: a valid contract name,
// 0x00, then a key of 1 to MaxDataKey bytes. Errors: Invalid.
func ParseDataQuery(b []byte) (name string, key []byte, err error) {
	const op = "ledger.data_query"
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", nil, vmerr.E(op, vmerr.Invalid, "%s wants a contract name, 0x00 and a key as data", PathData)
	}
	name, key = string(b[:i]), b[i+1:]
	if err := contract.ValidName(name); err != nil {
		return "", nil, err
	}
	if len(key) == 0 || len(key) > MaxDataKey {
		return "", nil, vmerr.E(op, vmerr.Invalid, "key of %d bytes: want 1 to %d", len(key), MaxDataKey)
	}
	return name, key, nil
}

// ParseDataRangeQuery parses and checks the Data of a /data/range query,
// filling in the default limit. Errors: Invalid (bad JSON, bad name,
// bounds over MaxDataKey, start after a non-empty end, limit not in
// [0, jobs.MaxDataRange]).
func ParseDataRangeQuery(b []byte) (DataRangeQuery, error) {
	const op = "ledger.data_range_query"
	var q DataRangeQuery
	if err := json.Unmarshal(b, &q); err != nil {
		return q, vmerr.E(op, vmerr.Invalid, "data range query: %v", err)
	}
	if err := contract.ValidName(q.Contract); err != nil {
		return q, err
	}
	switch {
	case len(q.Start) > MaxDataKey || len(q.End) > MaxDataKey:
		return q, vmerr.E(op, vmerr.Invalid, "range bounds over %d bytes", MaxDataKey)
	case len(q.End) > 0 && bytes.Compare(q.Start, q.End) > 0:
		return q, vmerr.E(op, vmerr.Invalid, "range start %x is after its end %x", q.Start, q.End)
	case q.Limit < 0 || q.Limit > jobs.MaxDataRange:
		return q, vmerr.E(op, vmerr.Invalid, "limit %d not in [1, %d]", q.Limit, jobs.MaxDataRange)
	case q.Limit == 0:
		q.Limit = DefaultDataRange
	}
	return q, nil
}
