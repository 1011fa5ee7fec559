package ledger

import (
	"bytes"
	"encoding/json"
	"strings"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"
	"github.com/cosmos/iavl"
	"github.com/ipfs/go-cid"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
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

// Limits of the list query.
const (
	DefaultListLimit = 50
	MaxListLimit     = 100
	// listScanLimit bounds the registry entries one list query examines,
	// so a filter that matches nothing cannot make a query walk the whole
	// registry; Info then carries where to resume.
	listScanLimit = 10_000
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
//     name order; Info = the name to pass as After for the next page.
//   - for both lists, with Prove, ProofOps holds one op per item, in order,
//     its Key the item's store key.
//   - /contract/code: Value = the module stored under that CID.
func queryContracts(t *iavl.ImmutableTree, req *abcitypes.QueryRequest, resp *abcitypes.QueryResponse) error {
	const op = "ledger.query"
	v := treeView{t}
	prove := func(key []byte, present bool) error {
		resp.Key = key
		if !req.Prove {
			return nil
		}
		ops, err := proveKey(t, key, present)
		resp.ProofOps = ops
		return err
	}
	switch req.Path {
	case PathContract:
		name := string(req.Data)
		if err := contract.ValidName(name); err != nil {
			return err
		}
		raw, err := t.Get(state.ContractKey(name))
		if err != nil {
			return vmerr.E(op, vmerr.Internal, "read contract: %w", err)
		}
		if raw == nil {
			return vmerr.E(op, vmerr.NotFound, "no contract named %q", name)
		}
		resp.Value = raw
		return prove(state.ContractKey(name), true)
	case PathVersion:
		ref, err := contract.ParseRef(string(req.Data))
		if err != nil {
			return err
		}
		rec, key, err := resolveVersion(v, ref.Name, ref.Range)
		if err != nil {
			return queryErr(op, err)
		}
		resp.Value = state.EncodeRecord(rec)
		return prove(key, true)
	case PathVersions:
		name := string(req.Data)
		if err := contract.ValidName(name); err != nil {
			return err
		}
		if _, err := mustContract(v, name); err != nil {
			return queryErr(op, err)
		}
		var items, keys [][]byte
		prefix := state.VersionPrefix(name)
		err := v.scan(prefix, prefixEnd(prefix), true, func(k, val []byte) bool {
			items, keys = append(items, val), append(keys, bytes.Clone(k))
			return true
		})
		if err != nil {
			return vmerr.E(op, vmerr.Internal, "list versions: %w", err)
		}
		resp.Value = state.EncodeList(items)
		return proveEach(t, req.Prove, keys, resp)
	case PathContracts:
		keys, err := listContracts(v, req.Data, resp)
		if err != nil {
			return err
		}
		return proveEach(t, req.Prove, keys, resp)
	case PathCode:
		c, err := cid.Cast(req.Data)
		if err != nil {
			return vmerr.E(op, vmerr.Invalid, "%s wants CID bytes: %v", PathCode, err)
		}
		raw, err := t.Get(state.CodeKey(c))
		if err != nil {
			return vmerr.E(op, vmerr.Internal, "read code: %w", err)
		}
		if raw == nil {
			return vmerr.E(op, vmerr.NotFound, "no code stored under %s", c)
		}
		resp.Key, resp.Value = state.CodeKey(c), raw
		return nil
	}
	return vmerr.E(op, vmerr.NotFound, "unknown query path %q", req.Path)
}

// queryErr turns a storage failure met during resolution into Internal.
func queryErr(op string, err error) error {
	if se, ok := err.(*storageError); ok {
		return vmerr.E(op, vmerr.Internal, "%v", se)
	}
	return err
}

// proveEach adds, when asked, one proof op per listed key, in list order.
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

// listContracts fills resp with the page q selects and returns the
// registry keys of the listed entries.
func listContracts(v view, data []byte, resp *abcitypes.QueryResponse) ([][]byte, error) {
	const op = "ledger.list_contracts"
	var q apitype.ContractQuery
	if len(data) > 0 {
		if err := json.Unmarshal(data, &q); err != nil {
			return nil, vmerr.E(op, vmerr.Invalid, "list query: %v", err)
		}
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultListLimit
	case q.Limit < 0 || q.Limit > MaxListLimit:
		return nil, vmerr.E(op, vmerr.Invalid, "limit %d not in [1, %d]", q.Limit, MaxListLimit)
	}
	if q.Tag != "" {
		if err := contract.ValidTags([]string{q.Tag}); err != nil {
			return nil, err
		}
	}
	needle := strings.ToLower(q.Query)
	prefix := []byte{state.PrefixContract}
	if q.Tag != "" {
		prefix = state.TagPrefix(q.Tag)
	}
	start := append(append([]byte{}, prefix...), q.After...)
	if q.After != "" {
		start = append(start, 0) // strictly after
	}
	var items, keys [][]byte
	var last string
	scanned := 0
	var innerErr error
	err := v.scan(start, prefixEnd(prefix), true, func(k, val []byte) bool {
		name := string(k[len(prefix):])
		last, scanned = name, scanned+1
		if q.Tag != "" {
			raw, err := v.get(state.ContractKey(name))
			if err != nil || raw == nil {
				innerErr = vmerr.E(op, vmerr.Internal, "tag index names %q with no registry entry", name)
				return false
			}
			val = raw
		}
		if needle != "" {
			c, err := state.DecodeContract(val)
			if err != nil {
				innerErr = vmerr.E(op, vmerr.Internal, "%v", err)
				return false
			}
			if !strings.Contains(c.Name, needle) && !strings.Contains(strings.ToLower(c.Description), needle) {
				return scanned < listScanLimit
			}
		}
		items, keys = append(items, val), append(keys, state.ContractKey(name))
		return len(items) < q.Limit && scanned < listScanLimit
	})
	if err == nil {
		err = innerErr
	}
	if err != nil {
		return nil, vmerr.E(op, vmerr.KindOf(err), "list contracts: %w", err)
	}
	if len(items) == q.Limit || scanned == listScanLimit {
		resp.Info = last
	}
	resp.Value = state.EncodeList(items)
	return keys, nil
}
