package ledger

import (
	"encoding/json"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/iavl"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/miners"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Query paths of the miner registry.
const (
	PathMiner  = "/miner"  // Data: 20-byte address
	PathMiners = "/miners" // Data: apitype.MinerQuery JSON
)

// queryMiners answers the miner registry paths on tree t:
//
//   - /miner: Key = state.MinerKey, Value = the statepb.Miner record
//     (proved when asked); Invalid for data that is not a 20-byte
//     address, NotFound when that address never registered.
//   - /miners: Value = state.EncodeList of matching records in address
//     order (miners.List); Info = the address to pass as After for the
//     next page; with Prove, ProofOps holds one op per item, in order,
//     its Key the item's store key. Invalid for a bad query.
func queryMiners(t *iavl.ImmutableTree, req *abcitypes.QueryRequest, resp *abcitypes.QueryResponse) error {
	const op = "ledger.query"
	r := registry.TreeReader{T: t}
	switch req.Path {
	case PathMiner:
		addr, err := crypto.AddressFromBytes(req.Data)
		if err != nil {
			return vmerr.E(op, vmerr.Invalid, "%s wants a 20-byte address as data: %w", PathMiner, err)
		}
		_, raw, err := miners.Get(r, addr)
		if err != nil {
			return queryErr(op, err)
		}
		resp.Key, resp.Value = state.MinerKey(addr), raw
		return proveEach(t, req.Prove, [][]byte{resp.Key}, resp)
	case PathMiners:
		var q apitype.MinerQuery
		if len(req.Data) > 0 {
			if err := json.Unmarshal(req.Data, &q); err != nil {
				return vmerr.E(op, vmerr.Invalid, "miner list query: %v", err)
			}
		}
		raws, keys, next, err := miners.List(r, q)
		if err != nil {
			return queryErr(op, err)
		}
		resp.Value, resp.Info = state.EncodeList(raws), next
		return proveEach(t, req.Prove, keys, resp)
	}
	return vmerr.E(op, vmerr.NotFound, "unknown query path %q", req.Path)
}
