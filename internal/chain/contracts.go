package chain

import (
	"context"
	"encoding/hex"
	"encoding/json"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/ipfs/go-cid"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Registry query paths (internal/ledger's).
const (
	pathContract  = "/contract"
	pathVersion   = "/contract/version"
	pathVersions  = "/contract/versions"
	pathContracts = "/contracts"
	pathCode      = "/contract/code"
)

// query runs an ABCI query at height (0 = latest) and maps a refusal to
// its vmerr kind.
func (n *Node) query(ctx context.Context, op, path string, data []byte, height int64, prove bool) (*abcitypes.QueryResponse, error) {
	if err := n.ready(op); err != nil {
		return nil, err
	}
	if height < 0 {
		return nil, vmerr.E(op, vmerr.Invalid, "height %d is negative", height)
	}
	if latest := n.cmt.BlockStore().Height(); height > latest {
		return nil, vmerr.E(op, vmerr.NotFound, "height %d is above the latest block %d", height, latest)
	}
	if prove && height == 0 {
		// The app commits a block before CometBFT saves its state, so "the
		// latest" of the app can be one height whose app hash the node
		// does not know yet; a proof is only useful with it.
		st, err := n.env.StateStore.Load()
		if err != nil {
			return nil, vmerr.Wrap(op, vmerr.Unavailable, err)
		}
		height = st.LastBlockHeight
	}
	res, err := n.cmt.ProxyApp().Query().Query(ctx, &abcitypes.QueryRequest{Path: path, Data: data, Height: height, Prove: prove})
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Unavailable, err)
	}
	if res.Code != 0 {
		kind := vmerr.Kind(res.Code)
		if res.Codespace != "vm" {
			kind = vmerr.Internal
		}
		return nil, vmerr.E(op, kind, "%s", res.Log)
	}
	return res, nil
}

// location builds the Location of a proved query answer.
func (n *Node) location(op, namespace string, res *abcitypes.QueryResponse) (*apitype.Location, error) {
	locs, err := n.locations(op, namespace, res, [][]byte{res.Value})
	if err != nil {
		return nil, err
	}
	locs[0].Key = hex.EncodeToString(res.Key)
	return locs[0], nil
}

// locations builds one Location per listed value from a list answer whose
// proof ops (one per item, in order) carry the items' keys.
func (n *Node) locations(op, namespace string, res *abcitypes.QueryResponse, values [][]byte) ([]*apitype.Location, error) {
	if len(values) == 0 {
		return nil, nil
	}
	if res.ProofOps == nil || len(res.ProofOps.Ops) != len(values) {
		return nil, vmerr.E(op, vmerr.Internal, "application returned no proof or not one per item")
	}
	appHash, err := n.appHashAfter(res.Height)
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Unavailable, err)
	}
	out := make([]*apitype.Location, len(values))
	for i, v := range values {
		p := res.ProofOps.Ops[i]
		out[i] = &apitype.Location{ChainID: n.chainID, Height: res.Height, Namespace: namespace,
			Key: hex.EncodeToString(p.Key), Value: hex.EncodeToString(v),
			AppHash: hex.EncodeToString(appHash), Proof: hex.EncodeToString(p.Data)}
	}
	return out, nil
}

// Contract returns the registry entry of name at height (0 = latest),
// with its Location when prove is set. Errors: Invalid, NotFound,
// Unavailable.
func (n *Node) Contract(ctx context.Context, name string, height int64, prove bool) (apitype.Contract, error) {
	const op = "chain.contract"
	res, err := n.query(ctx, op, pathContract, []byte(name), height, prove)
	if err != nil {
		return apitype.Contract{}, err
	}
	c, err := state.DecodeContract(res.Value)
	if err != nil {
		return apitype.Contract{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	out := state.ContractView(c, res.Height)
	if prove {
		if out.Location, err = n.location(op, state.NamespaceContracts, res); err != nil {
			return apitype.Contract{}, err
		}
	}
	return out, nil
}

// ContractVersion resolves name@rng ("" = any) at height: the highest
// non-yanked match, or an exact version yanked or not. Errors: Invalid,
// NotFound, Unavailable.
func (n *Node) ContractVersion(ctx context.Context, name, rng string, height int64, prove bool) (apitype.ContractVersion, error) {
	const op = "chain.contract_version"
	v, res, err := n.version(ctx, op, name, rng, height, prove)
	if err != nil {
		return apitype.ContractVersion{}, err
	}
	owner, err := n.owner(ctx, op, name, res.Height)
	if err != nil {
		return apitype.ContractVersion{}, err
	}
	out := state.VersionView(v, owner, res.Height)
	if prove {
		if out.Location, err = n.location(op, state.NamespaceVersions, res); err != nil {
			return apitype.ContractVersion{}, err
		}
	}
	return out, nil
}

func (n *Node) version(ctx context.Context, op, name, rng string, height int64, prove bool) (*statepb.Version, *abcitypes.QueryResponse, error) {
	if rng == "" {
		rng = "*"
	}
	res, err := n.query(ctx, op, pathVersion, []byte(name+"@"+rng), height, prove)
	if err != nil {
		return nil, nil, err
	}
	v, err := state.DecodeVersion(res.Value)
	if err != nil {
		return nil, nil, vmerr.Wrap(op, vmerr.Internal, err)
	}
	return v, res, nil
}

// owner reads the owner of name at exactly height.
func (n *Node) owner(ctx context.Context, op, name string, height int64) ([]byte, error) {
	res, err := n.query(ctx, op, pathContract, []byte(name), height, false)
	if err != nil {
		return nil, err
	}
	c, err := state.DecodeContract(res.Value)
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Internal, err)
	}
	return c.Owner, nil
}

// ContractVersions lists every version of name in ascending semver
// order, each with its Location. Errors: Invalid, NotFound, Unavailable.
func (n *Node) ContractVersions(ctx context.Context, name string, height int64) (apitype.VersionList, error) {
	const op = "chain.contract_versions"
	res, err := n.query(ctx, op, pathVersions, []byte(name), height, true)
	if err != nil {
		return apitype.VersionList{}, err
	}
	owner, err := n.owner(ctx, op, name, res.Height)
	if err != nil {
		return apitype.VersionList{}, err
	}
	items, err := state.DecodeList(res.Value)
	if err != nil {
		return apitype.VersionList{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	locs, err := n.locations(op, state.NamespaceVersions, res, items)
	if err != nil {
		return apitype.VersionList{}, err
	}
	out := apitype.VersionList{Name: name, Height: res.Height, Versions: make([]apitype.ContractVersion, 0, len(items))}
	for i, raw := range items {
		v, err := state.DecodeVersion(raw)
		if err != nil {
			return apitype.VersionList{}, vmerr.Wrap(op, vmerr.Internal, err)
		}
		view := state.VersionView(v, owner, res.Height)
		view.Location = locs[i]
		out.Versions = append(out.Versions, view)
	}
	return out, nil
}

// Contracts lists registry entries matching q at the latest height, each
// with its Location. Errors: Invalid, Unavailable.
func (n *Node) Contracts(ctx context.Context, q apitype.ContractQuery) (apitype.ContractList, error) {
	const op = "chain.contracts"
	data, err := json.Marshal(q)
	if err != nil {
		return apitype.ContractList{}, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	res, err := n.query(ctx, op, pathContracts, data, 0, true)
	if err != nil {
		return apitype.ContractList{}, err
	}
	items, err := state.DecodeList(res.Value)
	if err != nil {
		return apitype.ContractList{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	locs, err := n.locations(op, state.NamespaceContracts, res, items)
	if err != nil {
		return apitype.ContractList{}, err
	}
	out := apitype.ContractList{Contracts: make([]apitype.Contract, 0, len(items)), Next: res.Info, Height: res.Height}
	for i, raw := range items {
		c, err := state.DecodeContract(raw)
		if err != nil {
			return apitype.ContractList{}, vmerr.Wrap(op, vmerr.Internal, err)
		}
		view := state.ContractView(c, res.Height)
		view.Location = locs[i]
		out.Contracts = append(out.Contracts, view)
	}
	return out, nil
}

// ContractCode resolves name@rng and returns the version (with the
// Location of its record, which holds the code's CID) and its original
// (or metered) module. Errors: Invalid, NotFound (also for a
// composite, which has no code), Unavailable.
func (n *Node) ContractCode(ctx context.Context, name, rng string, metered bool, height int64) (apitype.ContractVersion, []byte, error) {
	const op = "chain.contract_code"
	v, res, err := n.version(ctx, op, name, rng, height, true)
	if err != nil {
		return apitype.ContractVersion{}, nil, err
	}
	ref := v.CodeCid
	if metered {
		ref = v.MeteredCid
	}
	if len(ref) == 0 {
		return apitype.ContractVersion{}, nil, vmerr.E(op, vmerr.NotFound, "%s@%s is a composite: it has no code", name, v.Version)
	}
	if _, err := cid.Cast(ref); err != nil {
		return apitype.ContractVersion{}, nil, vmerr.Wrap(op, vmerr.Internal, err)
	}
	code, err := n.query(ctx, op, pathCode, ref, res.Height, false)
	if err != nil {
		return apitype.ContractVersion{}, nil, err
	}
	owner, err := n.owner(ctx, op, name, res.Height)
	if err != nil {
		return apitype.ContractVersion{}, nil, err
	}
	out := state.VersionView(v, owner, res.Height)
	if out.Location, err = n.location(op, state.NamespaceVersions, res); err != nil {
		return apitype.ContractVersion{}, nil, err
	}
	return out, code.Value, nil
}
