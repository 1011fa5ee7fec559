package apitest

import (
	"context"
	"encoding/hex"

	"github.com/cosmos/iavl"
	"github.com/ipfs/go-cid"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
	"github.com/virtual-machine/vm/internal/wasm/meter"
)

var _ api.ContractBackend = (*Backend)(nil)

// Contracts lists registry entries as the ledger does (registry.List):
// name order after q.After, filtered by q.Query and q.Tag, at most q.Limit
// (0 = 50; 1..100), Next set when the page is full. Errors: Invalid.
func (b *Backend) Contracts(ctx context.Context, q apitype.ContractQuery) (apitype.ContractList, error) {
	const op = "apitest.contracts"
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, 0)
	if err != nil {
		return apitype.ContractList{}, err
	}
	raws, keys, next, err := registry.List(registry.TreeReader{T: it}, q)
	if err != nil {
		return apitype.ContractList{}, err
	}
	out := apitype.ContractList{Contracts: []apitype.Contract{}, Next: next, Height: height}
	for i, raw := range raws {
		c, err := state.DecodeContract(raw)
		if err != nil {
			return apitype.ContractList{}, err
		}
		view := state.ContractView(c, height)
		if view.Location, err = b.locate(it, height, state.NamespaceContracts, keys[i], raw); err != nil {
			return apitype.ContractList{}, err
		}
		out.Contracts = append(out.Contracts, view)
	}
	return out, nil
}

// Contract returns the registry entry of name at height (0 = latest),
// with a Location proving it when prove is set. Errors: Invalid for a bad
// name, NotFound for no such contract or height.
func (b *Backend) Contract(ctx context.Context, name string, height int64, prove bool) (apitype.Contract, error) {
	const op = "apitest.contract"
	if err := contract.ValidName(name); err != nil {
		return apitype.Contract{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, height)
	if err != nil {
		return apitype.Contract{}, err
	}
	key := state.ContractKey(name)
	raw, err := it.Get(key)
	if err != nil {
		return apitype.Contract{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	if raw == nil {
		return apitype.Contract{}, vmerr.E(op, vmerr.NotFound, "no contract named %q", name)
	}
	c, err := state.DecodeContract(raw)
	if err != nil {
		return apitype.Contract{}, err
	}
	out := state.ContractView(c, height)
	if prove {
		if out.Location, err = b.locate(it, height, state.NamespaceContracts, key, raw); err != nil {
			return apitype.Contract{}, err
		}
	}
	return out, nil
}

// ContractVersions returns every version of name in ascending semver
// order at height (0 = latest), each with its Location. Errors: Invalid,
// NotFound.
func (b *Backend) ContractVersions(ctx context.Context, name string, height int64) (apitype.VersionList, error) {
	const op = "apitest.contract_versions"
	if err := contract.ValidName(name); err != nil {
		return apitype.VersionList{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, height)
	if err != nil {
		return apitype.VersionList{}, err
	}
	c, err := registry.MustContract(registry.TreeReader{T: it}, name)
	if err != nil {
		return apitype.VersionList{}, err
	}
	raws, keys, err := registry.Versions(registry.TreeReader{T: it}, name)
	if err != nil {
		return apitype.VersionList{}, err
	}
	out := apitype.VersionList{Name: name, Versions: []apitype.ContractVersion{}, Height: height}
	for i, raw := range raws {
		v, err := state.DecodeVersion(raw)
		if err != nil {
			return apitype.VersionList{}, err
		}
		view := state.VersionView(v, c.Owner, height)
		if view.Location, err = b.locate(it, height, state.NamespaceVersions, keys[i], raw); err != nil {
			return apitype.VersionList{}, err
		}
		out.Versions = append(out.Versions, view)
	}
	return out, nil
}

// ContractVersion resolves rng ("" = "*") to the highest non-yanked
// version of name it matches, or the exact version (yanked or not), at
// height (0 = latest), with a Location when prove is set. Errors: Invalid
// for a bad name or range, NotFound for no contract or no match.
func (b *Backend) ContractVersion(ctx context.Context, name, rng string, height int64, prove bool) (apitype.ContractVersion, error) {
	const op = "apitest.contract_version"
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, height)
	if err != nil {
		return apitype.ContractVersion{}, err
	}
	c, v, key, raw, err := resolveAt(it, name, rng)
	if err != nil {
		return apitype.ContractVersion{}, err
	}
	out := state.VersionView(v, c.Owner, height)
	if prove {
		if out.Location, err = b.locate(it, height, state.NamespaceVersions, key, raw); err != nil {
			return apitype.ContractVersion{}, err
		}
	}
	return out, nil
}

// ContractCode resolves name@rng like ContractVersion and returns the
// version and its original (or metered) module. Errors: those of
// ContractVersion, and NotFound for a composite (it has no code).
func (b *Backend) ContractCode(ctx context.Context, name, rng string, metered bool, height int64) (apitype.ContractVersion, []byte, error) {
	const op = "apitest.contract_code"
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, height)
	if err != nil {
		return apitype.ContractVersion{}, nil, err
	}
	c, v, _, _, err := resolveAt(it, name, rng)
	if err != nil {
		return apitype.ContractVersion{}, nil, err
	}
	if len(v.Manifest) > 0 {
		return apitype.ContractVersion{}, nil, vmerr.E(op, vmerr.NotFound, "%s@%s is a composite: it has no code", name, v.Version)
	}
	id := v.CodeCid
	if metered {
		id = v.MeteredCid
	}
	k, err := cid.Cast(id)
	if err != nil {
		return apitype.ContractVersion{}, nil, vmerr.Wrap(op, vmerr.Internal, err)
	}
	code, err := it.Get(state.CodeKey(k))
	if err != nil || code == nil {
		return apitype.ContractVersion{}, nil, vmerr.E(op, vmerr.Internal, "code %s of %s@%s is missing: %v", k, name, v.Version, err)
	}
	return state.VersionView(v, c.Owner, height), code, nil
}

// view returns the state at height (0 = latest) and that height.
func (b *Backend) view(ctx context.Context, op string, height int64) (*iavl.ImmutableTree, int64, error) {
	if err := b.check(ctx); err != nil {
		return nil, 0, err
	}
	latest := int64(len(b.blocks))
	if height == 0 {
		height = latest
	}
	if height < 0 || height > latest {
		return nil, 0, vmerr.E(op, vmerr.NotFound, "no state at height %d (latest %d)", height, latest)
	}
	it, err := b.tree.GetImmutable(height)
	if err != nil {
		return nil, 0, vmerr.Wrap(op, vmerr.Internal, err)
	}
	return it, height, nil
}

// locate proves key (holding raw) in it, the state at height. Proving the
// latest state commits an empty block whose header carries its root, as
// Account does.
func (b *Backend) locate(it *iavl.ImmutableTree, height int64, ns string, key, raw []byte) (*apitype.Location, error) {
	const op = "apitest.locate"
	proof, err := it.GetProof(key)
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Internal, err)
	}
	pb, err := proof.Marshal()
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Internal, err)
	}
	loc := &apitype.Location{ChainID: b.cfg.ChainID, Height: height, Namespace: ns, Key: hex.EncodeToString(key),
		Value: hex.EncodeToString(raw), AppHash: hex.EncodeToString(it.Hash()), Proof: hex.EncodeToString(pb)}
	if height == int64(len(b.blocks)) {
		if _, err := b.commit(nil, nil); err != nil {
			return nil, err
		}
	}
	return loc, nil
}

// resolveAt resolves name@rng in a committed state.
func resolveAt(it *iavl.ImmutableTree, name, rng string) (*statepb.Contract, *statepb.Version, []byte, []byte, error) {
	if rng == "" {
		rng = "*"
	}
	ref, err := contract.ParseRef(name + "@" + rng)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	c, err := registry.MustContract(registry.TreeReader{T: it}, name)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	v, key, raw, err := registry.Resolve(registry.TreeReader{T: it}, name, ref.Range)
	return c, v, key, raw, err
}

// work is the registry.Store of one tx: reads see the tx's own writes,
// which reach the tree only when flushed (all or nothing).
type work struct {
	registry.Overlay
	tree   *iavl.MutableTree
	height int64 // of the block being built
}

func newWork(tree *iavl.MutableTree, height int64) *work {
	return &work{Overlay: registry.Overlay{Base: registry.TreeReader{T: tree}}, tree: tree, height: height}
}

// flush writes the tx's changes to the tree, in key order.
func (w *work) flush() error {
	keys, values := w.Writes()
	for i, k := range keys {
		var err error
		if values[i] == nil {
			_, _, err = w.tree.Remove(k)
		} else {
			_, err = w.tree.Set(k, values[i])
		}
		if err != nil {
			return vmerr.Wrap("apitest.flush", vmerr.Internal, err)
		}
	}
	return nil
}

// applyRegistry applies a Deploy, Yank or ContractOwners message with the
// ledger's rules (package registry); ok is false for other messages.
func (b *Backend) applyRegistry(w *work, signer crypto.Address, m *txpb.Msg) (ev apitype.Event, ok bool, err error) {
	env := registry.Env{Height: w.height, CodeLimit: b.cfg.MaxCodeSize, Meter: meterCode}
	var e registry.Event
	switch s := m.GetSum().(type) {
	case *txpb.Msg_Deploy:
		e, err = registry.Deploy(w, env, signer, s.Deploy)
	case *txpb.Msg_Yank:
		e, err = registry.Yank(w, env, signer, s.Yank)
	case *txpb.Msg_ContractOwners:
		e, err = registry.SetOwners(w, env, signer, s.ContractOwners)
	default:
		return apitype.Event{}, false, nil
	}
	if err != nil {
		return apitype.Event{}, true, err
	}
	return eventOf(e), true, nil
}

// eventOf is a registry event in the API's form.
func eventOf(e registry.Event) apitype.Event {
	ev := apitype.Event{Type: e.Type, Attributes: map[string]string{}}
	for i := 0; i+1 < len(e.Attrs); i += 2 {
		ev.Attributes[e.Attrs[i]] = e.Attrs[i+1]
	}
	return ev
}

// meterCode meters with the network's configuration, as the ledger does.
func meterCode(code []byte) ([]byte, []string, error) {
	bin, info, err := meter.Instrument(code, wasm.DefaultConfig().MeterConfig())
	if err != nil {
		return nil, nil, vmerr.E("apitest.deploy", vmerr.Invalid, "code refused: %v", err)
	}
	return bin, info.Exports, nil
}
