package ledger

import (
	"encoding/json"
	"errors"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"
	"github.com/cosmos/iavl"
	"github.com/ipfs/go-cid"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Query paths of the contract registry.
const (
	PathContract  = "/contract"          // Data: name
	PathVersion   = "/contract/version"  // Data: "name@range"
	PathVersions  = "/contract/versions" // Data: name
	PathContracts = "/contracts"         // Data: apitype.ContractQuery JSON
	PathCode      = "/contract/code"     // Data: CID bytes
)

// queryContracts answers the registry paths on tree t:
//
//   - /contract: Key = state.ContractKey, Value = the statepb.Contract
//     record (proved when asked); NotFound when the name is free.
//   - /contract/version: the resolved statepb.Version record and its key
//     (proved when asked); Invalid for a bad ref, NotFound for no match.
//   - /contract/versions: Value = state.EncodeList of every version record
//     in ascending semver order.
//   - /contracts: Value = state.EncodeList of matching registry records in
//     name order (registry.List); Info = the name to pass as After for the
//     next page.
//   - for both lists, with Prove, ProofOps holds one op per item, in order,
//     its Key the item's store key.
//   - /contract/code: Value = the module stored under that CID.
func queryContracts(t *iavl.ImmutableTree, req *abcitypes.QueryRequest, resp *abcitypes.QueryResponse) error {
	const op = "ledger.query"
	v := registry.TreeReader{T: t}
	var err error
	switch req.Path {
	case PathContract:
		name := string(req.Data)
		if err := contract.ValidName(name); err != nil {
			return err
		}
		resp.Key = state.ContractKey(name)
		if resp.Value, err = t.Get(resp.Key); err != nil {
			return vmerr.E(op, vmerr.Internal, "read contract: %w", err)
		}
		if resp.Value == nil {
			return vmerr.E(op, vmerr.NotFound, "no contract named %q", name)
		}
		return proveEach(t, req.Prove, [][]byte{resp.Key}, resp)
	case PathVersion:
		ref, err := contract.ParseRef(string(req.Data))
		if err != nil {
			return err
		}
		_, key, raw, err := registry.Resolve(v, ref.Name, ref.Range)
		if err != nil {
			return queryErr(op, err)
		}
		resp.Key, resp.Value = key, raw
		return proveEach(t, req.Prove, [][]byte{key}, resp)
	case PathVersions:
		name := string(req.Data)
		if err := contract.ValidName(name); err != nil {
			return err
		}
		raws, keys, err := registry.Versions(v, name)
		if err != nil {
			return queryErr(op, err)
		}
		resp.Value = state.EncodeList(raws)
		return proveEach(t, req.Prove, keys, resp)
	case PathContracts:
		var q apitype.ContractQuery
		if len(req.Data) > 0 {
			if err := json.Unmarshal(req.Data, &q); err != nil {
				return vmerr.E(op, vmerr.Invalid, "list query: %v", err)
			}
		}
		raws, keys, next, err := registry.List(v, q)
		if err != nil {
			return queryErr(op, err)
		}
		resp.Value, resp.Info = state.EncodeList(raws), next
		return proveEach(t, req.Prove, keys, resp)
	case PathCode:
		c, err := cid.Cast(req.Data)
		if err != nil {
			return vmerr.E(op, vmerr.Invalid, "%s wants CID bytes: %v", PathCode, err)
		}
		resp.Key = state.CodeKey(c)
		if resp.Value, err = t.Get(resp.Key); err != nil {
			return vmerr.E(op, vmerr.Internal, "read code: %w", err)
		}
		if resp.Value == nil {
			return vmerr.E(op, vmerr.NotFound, "no code stored under %s", c)
		}
		return nil
	}
	return vmerr.E(op, vmerr.NotFound, "unknown query path %q", req.Path)
}

// queryErr keeps a registry error's kind; a corrupt record or a storage
// failure is Internal.
func queryErr(op string, err error) error {
	var ce *registry.CorruptError
	if errors.As(err, &ce) {
		return vmerr.E(op, vmerr.Internal, "%v", err)
	}
	return err
}

// proveEach adds, when asked, one proof op per key, in order.
func proveEach(t *iavl.ImmutableTree, prove bool, keys [][]byte, resp *abcitypes.QueryResponse) error {
	if !prove {
		return nil
	}
	resp.ProofOps = &cmtcrypto.ProofOps{}
	for _, k := range keys {
		ops, err := proveKey(t, k, true)
		if err != nil {
			return err
		}
		resp.ProofOps.Ops = append(resp.ProofOps.Ops, ops.Ops...)
	}
	return nil
}
