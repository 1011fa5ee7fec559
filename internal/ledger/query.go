package ledger

import (
	"context"
	"encoding/json"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"
	"github.com/cosmos/iavl"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Query paths.
const (
	PathAccount = "/account"
	PathParams  = "/params"
	PathSupply  = "/supply"
)

// ProofOpType is the type of the single proof op of a proved query.
const ProofOpType = "ics23:iavl"

// Query answers read-only questions about committed state at req.Height
// (0 = the latest committed height); the answer's Height is the version
// read, whose root is the app hash in the header of block Height+1.
//
//   - /account, Data = 20-byte address: Key = state.AccountKey, Value = the
//     16-byte state.Account encoding, empty when the account does not
//     exist. With req.Prove, ProofOps holds one op of type "ics23:iavl"
//     whose Data is a marshaled ics23.CommitmentProof: membership, or
//     non-membership for an absent account.
//   - /params: Value = the Params JSON.
//   - /supply: Value = the Supply JSON.
//   - the contract registry's paths (queryContracts) and the miner
//     registry's, /miner and /miners (queryMiners); the execution
//     market's, /request, /requests, /result, /data, /data/range and /memo
//     (queryMarket).
//
// Errors are responses with a non-zero Code, never Go errors: Invalid (bad
// address), NotFound (unknown path, or a height not stored), Unavailable
// (nothing committed yet), Internal (storage failure).
func (a *App) Query(_ context.Context, req *abcitypes.QueryRequest) (*abcitypes.QueryResponse, error) {
	resp, err := a.query(req)
	if err != nil {
		return &abcitypes.QueryResponse{Code: uint32(vmerr.KindOf(err)), Log: err.Error(), Codespace: Codespace, Height: req.Height}, nil
	}
	return resp, nil
}

func (a *App) query(req *abcitypes.QueryRequest) (*abcitypes.QueryResponse, error) {
	const op = "ledger.query"
	switch req.Path {
	case PathAccount, PathParams, PathSupply, PathContract, PathVersion, PathVersions, PathContracts, PathCode,
		PathMiner, PathMiners, PathRequest, PathRequests, PathResult, PathData, PathDataRange, PathMemo:
	default:
		return nil, vmerr.E(op, vmerr.NotFound, "unknown query path %q (want %s, %s or %s)", req.Path, PathAccount, PathParams, PathSupply)
	}
	a.qmu.RLock()
	defer a.qmu.RUnlock()
	if a.committed == nil {
		return nil, vmerr.E(op, vmerr.Unavailable, "no block committed yet")
	}
	t := a.committed
	switch {
	case req.Height < 0:
		return nil, vmerr.E(op, vmerr.Invalid, "height %d is negative", req.Height)
	case req.Height > a.height:
		return nil, vmerr.E(op, vmerr.NotFound, "height %d is above the latest committed height %d", req.Height, a.height)
	case req.Height > 0 && req.Height != a.height:
		if !a.tree.VersionExists(req.Height) {
			return nil, vmerr.E(op, vmerr.NotFound, "height %d is not stored", req.Height)
		}
		var err error
		if t, err = a.tree.GetImmutable(req.Height); err != nil {
			return nil, vmerr.E(op, vmerr.Internal, "load height %d: %w", req.Height, err)
		}
	}
	resp := &abcitypes.QueryResponse{Height: t.Version()}
	switch req.Path {
	case PathAccount:
		addr, err := crypto.AddressFromBytes(req.Data)
		if err != nil {
			return nil, vmerr.E(op, vmerr.Invalid, "%s wants a 20-byte address as data: %w", PathAccount, err)
		}
		key := state.AccountKey(addr)
		val, err := t.Get(key)
		if err != nil {
			return nil, vmerr.E(op, vmerr.Internal, "read account: %w", err)
		}
		resp.Key, resp.Value = key, val
		if req.Prove {
			ops, err := proveKey(t, key, val != nil)
			if err != nil {
				return nil, err
			}
			resp.ProofOps = ops
		}
	case PathParams:
		p, err := readParams(t.Get)
		if err != nil {
			return nil, err
		}
		resp.Key = state.ParamsKey()
		resp.Value, _ = json.Marshal(p)
	case PathSupply:
		raw, err := t.Get(state.SupplyKey())
		if err != nil {
			return nil, vmerr.E(op, vmerr.Internal, "read supply: %w", err)
		}
		total, err := decodeSupply(raw)
		if err != nil {
			return nil, err
		}
		resp.Key = state.SupplyKey()
		resp.Value, _ = json.Marshal(Supply{Total: total})
	case PathMiner, PathMiners:
		if err := queryMiners(t, req, resp); err != nil {
			return nil, err
		}
	case PathRequest, PathRequests, PathResult, PathData, PathDataRange, PathMemo:
		if err := queryMarket(t, req, resp); err != nil {
			return nil, err
		}
	default:
		if err := queryContracts(t, req, resp); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// proveKey builds the ICS23 proof of key's presence or absence in t.
func proveKey(t *iavl.ImmutableTree, key []byte, present bool) (*cmtcrypto.ProofOps, error) {
	const op = "ledger.prove"
	get := t.GetNonMembershipProof
	if present {
		get = t.GetMembershipProof
	}
	p, err := get(key)
	if err != nil {
		return nil, vmerr.E(op, vmerr.Internal, "build proof: %w", err)
	}
	raw, err := p.Marshal()
	if err != nil {
		return nil, vmerr.E(op, vmerr.Internal, "encode proof: %w", err)
	}
	return &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: ProofOpType, Key: key, Data: raw}}}, nil
}
