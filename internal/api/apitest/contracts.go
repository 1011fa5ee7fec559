package apitest

import (
	"bytes"
	"context"
	"encoding/hex"
	"iter"
	"slices"
	"strings"

	"github.com/cosmos/iavl"
	"github.com/ipfs/go-cid"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
	"github.com/virtual-machine/vm/internal/wasm/meter"
)

// Registry limits of the fake, the ledger's.
const (
	maxMaintainers = 32
	defaultLimit   = 50
)

var _ api.ContractBackend = (*Backend)(nil)

// Contracts lists registry entries in name order after q.After whose name
// or description contains q.Query (case-insensitive) and whose tags hold
// q.Tag, at most q.Limit (0 = 50; 1..100). Next is set when a further
// entry matches. Errors: Invalid for a limit out of range.
func (b *Backend) Contracts(ctx context.Context, q apitype.ContractQuery) (apitype.ContractList, error) {
	const op = "apitest.contracts"
	if q.Limit < 0 || q.Limit > api.MaxContractLimit {
		return apitype.ContractList{}, vmerr.E(op, vmerr.Invalid, "limit %d: want 1..%d", q.Limit, api.MaxContractLimit)
	}
	if q.Limit == 0 {
		q.Limit = defaultLimit
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, 0)
	if err != nil {
		return apitype.ContractList{}, err
	}
	start := state.ContractKey("")
	if q.After != "" {
		start = append(state.ContractKey(q.After), 0)
	}
	out := apitype.ContractList{Contracts: []apitype.Contract{}, Height: height}
	needle := strings.ToLower(q.Query)
	err = scan(it, start, prefixEnd(state.ContractKey("")), true, func(_, raw []byte) (bool, error) {
		c, err := state.DecodeContract(raw)
		if err != nil {
			return false, err
		}
		if needle != "" && !strings.Contains(c.Name, needle) && !strings.Contains(strings.ToLower(c.Description), needle) {
			return true, nil
		}
		if q.Tag != "" && !slices.Contains(c.Tags, q.Tag) {
			return true, nil
		}
		if len(out.Contracts) == q.Limit {
			out.Next = out.Contracts[len(out.Contracts)-1].Name
			return false, nil
		}
		out.Contracts = append(out.Contracts, state.ContractView(c, height))
		return true, nil
	})
	return out, err
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
// order at height (0 = latest). Errors: Invalid, NotFound.
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
	c, err := readContract(it, name)
	if err != nil {
		return apitype.VersionList{}, err
	}
	out := apitype.VersionList{Name: name, Versions: []apitype.ContractVersion{}, Height: height}
	prefix := state.VersionPrefix(name)
	err = scan(it, prefix, prefixEnd(prefix), true, func(_, raw []byte) (bool, error) {
		v, err := state.DecodeVersion(raw)
		if err != nil {
			return false, err
		}
		out.Versions = append(out.Versions, state.VersionView(v, c.Owner, height))
		return true, nil
	})
	return out, err
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

// reader is what resolution needs of a state: committed or the working
// state of a tx.
type reader interface {
	Get(key []byte) ([]byte, error)
}

func readContract(r reader, name string) (*statepb.Contract, error) {
	raw, err := r.Get(state.ContractKey(name))
	if err != nil {
		return nil, vmerr.Wrap("apitest.contract", vmerr.Internal, err)
	}
	if raw == nil {
		return nil, vmerr.E("apitest.contract", vmerr.NotFound, "no contract named %q", name)
	}
	return state.DecodeContract(raw)
}

// resolveAt resolves name@rng in a committed state.
func resolveAt(it *iavl.ImmutableTree, name, rng string) (*statepb.Contract, *statepb.Version, []byte, []byte, error) {
	ref, err := contract.ParseRef(name + "@" + rangeOrAny(rng))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	c, err := readContract(it, name)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	prefix := state.VersionPrefix(name)
	v, key, raw, err := resolve(name, ref.Range, func(yield func(k, v []byte) bool) error {
		return scan(it, prefix, prefixEnd(prefix), false, func(k, v []byte) (bool, error) { return yield(k, v), nil })
	})
	return c, v, key, raw, err
}

// resolve runs contract.Resolve over a chain's versions, scanned in
// descending order by desc.
func resolve(name string, rng *contract.Range, desc func(yield func(k, v []byte) bool) error) (*statepb.Version, []byte, []byte, error) {
	var (
		found              *statepb.Version
		foundKey, foundRaw []byte
		scanErr            error
	)
	seq := iter.Seq2[contract.Entry, error](func(yield func(contract.Entry, error) bool) {
		scanErr = desc(func(k, raw []byte) bool {
			v, err := state.DecodeVersion(raw)
			if err != nil {
				return yield(contract.Entry{}, err)
			}
			found, foundKey, foundRaw = v, k, raw
			return yield(contract.Entry{Version: v.Version, Yanked: v.Yanked}, nil)
		})
	})
	e, err := contract.Resolve(name, rng, seq)
	if scanErr != nil {
		return nil, nil, nil, vmerr.Wrap("apitest.resolve", vmerr.Internal, scanErr)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if found == nil || found.Version != e.Version {
		return nil, nil, nil, vmerr.E("apitest.resolve", vmerr.Internal, "resolution of %s@%s lost its record", name, rng)
	}
	return found, foundKey, foundRaw, nil
}

func rangeOrAny(rng string) string {
	if rng == "" {
		return "*"
	}
	return rng
}

// scan calls fn for each entry of it in [start, end) in order until fn
// returns false or an error.
func scan(it *iavl.ImmutableTree, start, end []byte, ascending bool, fn func(k, v []byte) (bool, error)) error {
	cur, err := it.Iterator(start, end, ascending)
	if err != nil {
		return vmerr.Wrap("apitest.scan", vmerr.Internal, err)
	}
	defer cur.Close()
	for ; cur.Valid(); cur.Next() {
		more, err := fn(cur.Key(), cur.Value())
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	return nil
}

// prefixEnd is the first key after every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// work is the working state of one tx: reads see the tx's own writes,
// which reach the tree only when flushed (all or nothing).
type work struct {
	tree    *iavl.MutableTree
	pending map[string][]byte // nil value: deleted
	height  int64             // of the block being built
}

// Get reads key, seeing the tx's own writes.
func (w *work) Get(key []byte) ([]byte, error) {
	if v, ok := w.pending[string(key)]; ok {
		return v, nil
	}
	return w.tree.Get(key)
}

func (w *work) set(key, val []byte) {
	if w.pending == nil {
		w.pending = map[string][]byte{}
	}
	w.pending[string(key)] = val
}

// scanDesc walks [start, end) in descending order, merging the tx's own
// writes over the tree.
func (w *work) scanDesc(start, end []byte, fn func(k, v []byte) bool) error {
	merged := map[string][]byte{}
	cur, err := w.tree.Iterator(start, end, true)
	if err != nil {
		return err
	}
	for ; cur.Valid(); cur.Next() {
		merged[string(cur.Key())] = bytes.Clone(cur.Value())
	}
	cur.Close()
	for k, v := range w.pending {
		if k >= string(start) && (end == nil || k < string(end)) {
			merged[k] = v
		}
	}
	keys := make([]string, 0, len(merged))
	for k, v := range merged {
		if v != nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i := len(keys) - 1; i >= 0; i-- {
		if !fn([]byte(keys[i]), merged[keys[i]]) {
			break
		}
	}
	return nil
}

// flush writes the tx's changes to the tree, in key order.
func (w *work) flush() error {
	keys := make([]string, 0, len(w.pending))
	for k := range w.pending {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		var err error
		if v := w.pending[k]; v == nil {
			_, _, err = w.tree.Remove([]byte(k))
		} else {
			_, err = w.tree.Set([]byte(k), v)
		}
		if err != nil {
			return vmerr.Wrap("apitest.flush", vmerr.Internal, err)
		}
	}
	return nil
}

// deploy publishes a version, as the ledger does: the first publisher of
// a name owns it; later publishes need the owner or a maintainer; code is
// metered and stored by CID; a manifest is parsed and pinned.
func (b *Backend) deploy(w *work, signer crypto.Address, d *txpb.Deploy) (apitype.Event, error) {
	const op = "apitest.deploy"
	ver, err := contract.ParseVersion(d.Version)
	if err != nil {
		return apitype.Event{}, err
	}
	if err := contract.ValidTags(d.Tags); err != nil {
		return apitype.Event{}, err
	}
	if err := contract.ValidDescription(d.Description); err != nil {
		return apitype.Event{}, err
	}
	if (len(d.Code) > 0) == (len(d.Manifest) > 0) {
		return apitype.Event{}, vmerr.E(op, vmerr.Invalid, "a deploy carries exactly one of code and a manifest")
	}
	c, err := readContract(w, d.Name)
	switch {
	case vmerr.KindOf(err) == vmerr.NotFound:
		if err := contract.ValidName(d.Name); err != nil {
			return apitype.Event{}, err
		}
		c = &statepb.Contract{Name: d.Name, Owner: bytes.Clone(signer[:]), Created: w.height}
	case err != nil:
		return apitype.Event{}, err
	case !mayPublish(c, signer):
		return apitype.Event{}, vmerr.E(op, vmerr.Unauthorized, "%s is not the owner or a maintainer of %s", signer, d.Name)
	}
	key := state.VersionKey(d.Name, contract.SortKey(ver))
	if old, err := w.Get(key); err != nil {
		return apitype.Event{}, vmerr.Wrap(op, vmerr.Internal, err)
	} else if old != nil {
		return apitype.Event{}, vmerr.E(op, vmerr.Exists, "%s@%s already exists", d.Name, d.Version)
	}
	v := &statepb.Version{Name: d.Name, Version: ver.String(), Seq: c.Versions + 1, Prev: c.Head,
		Description: d.Description, Tags: d.Tags, Publisher: bytes.Clone(signer[:]), Height: w.height}
	var iface *composite.Interface
	if len(d.Interface) > 0 {
		if iface, v.Interface, err = composite.ParseInterface(d.Interface); err != nil {
			return apitype.Event{}, err
		}
	}
	if len(d.Manifest) > 0 {
		if v.Manifest, err = pinManifest(w, d.Manifest, iface); err != nil {
			return apitype.Event{}, err
		}
	} else if err := b.storeCode(w, d.Code, v, iface); err != nil {
		return apitype.Event{}, err
	}
	w.set(key, state.EncodeRecord(v))
	h := state.RecordHash(v)
	if c.Versions == 0 {
		c.Root = h[:]
	}
	c.Head, c.Latest, c.Versions, c.Updated = h[:], v.Version, c.Versions+1, w.height
	c.Description, c.Tags, c.Composite = d.Description, d.Tags, len(d.Manifest) > 0
	w.set(state.ContractKey(c.Name), state.EncodeRecord(c))
	return apitype.Event{Type: "deploy", Attributes: map[string]string{"name": v.Name, "version": v.Version,
		"publisher": signer.String(), "code_cid": state.CIDText(v.CodeCid), "metered_cid": state.CIDText(v.MeteredCid)}}, nil
}

// storeCode meters code with the network's configuration, checks the
// interface against its exports and stores both modules by CID.
func (b *Backend) storeCode(w *work, code []byte, v *statepb.Version, iface *composite.Interface) error {
	const op = "apitest.deploy"
	if len(code) > b.cfg.MaxCodeSize {
		return vmerr.E(op, vmerr.TooLarge, "code is %d bytes, limit %d", len(code), b.cfg.MaxCodeSize)
	}
	cfg := wasm.DefaultConfig().MeterConfig()
	cfg.MaxCodeSize = b.cfg.MaxCodeSize
	bin, info, err := meter.Instrument(code, cfg)
	if err != nil {
		return vmerr.E(op, vmerr.Invalid, "code refused: %v", err)
	}
	if iface != nil {
		if err := iface.CheckExports(info.Exports); err != nil {
			return err
		}
	}
	orig, metered := contract.CID(code), contract.CID(bin)
	v.CodeCid, v.MeteredCid = orig.Bytes(), metered.Bytes()
	v.CodeSize, v.MeteredSize, v.Exports = uint64(len(code)), uint64(len(bin)), info.Exports
	w.set(state.CodeKey(orig), bytes.Clone(code))
	w.set(state.CodeKey(metered), bin)
	return nil
}

// pinManifest validates a composite manifest against the working state
// and returns its pinned canonical form.
func pinManifest(w *work, raw []byte, self *composite.Interface) ([]byte, error) {
	m, err := composite.ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	err = m.Pin(self, func(ref contract.Ref) (composite.Pinned, error) {
		if _, err := readContract(w, ref.Name); err != nil {
			return composite.Pinned{}, err
		}
		prefix := state.VersionPrefix(ref.Name)
		v, _, _, err := resolve(ref.Name, ref.Range, func(yield func(k, v []byte) bool) error {
			return w.scanDesc(prefix, prefixEnd(prefix), yield)
		})
		if err != nil {
			return composite.Pinned{}, err
		}
		p := composite.Pinned{Version: v.Version, Composite: len(v.Manifest) > 0}
		if len(v.Interface) > 0 {
			if p.Interface, _, err = composite.ParseInterface(v.Interface); err != nil {
				return composite.Pinned{}, err
			}
		}
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return m.Canonical(), nil
}

// yank marks (or with Undo unmarks) a version as skipped by ranges.
func yank(w *work, signer crypto.Address, y *txpb.Yank) (apitype.Event, error) {
	const op = "apitest.yank"
	c, err := readContract(w, y.Name)
	if err != nil {
		return apitype.Event{}, err
	}
	if !mayPublish(c, signer) {
		return apitype.Event{}, vmerr.E(op, vmerr.Unauthorized, "%s is not the owner or a maintainer of %s", signer, y.Name)
	}
	ver, err := contract.ParseVersion(y.Version)
	if err != nil {
		return apitype.Event{}, err
	}
	key := state.VersionKey(y.Name, contract.SortKey(ver))
	raw, err := w.Get(key)
	if err != nil {
		return apitype.Event{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	if raw == nil {
		return apitype.Event{}, vmerr.E(op, vmerr.NotFound, "%s@%s does not exist", y.Name, y.Version)
	}
	v, err := state.DecodeVersion(raw)
	if err != nil {
		return apitype.Event{}, err
	}
	if v.Yanked == !y.Undo {
		word := "not yanked"
		if v.Yanked {
			word = "yanked"
		}
		return apitype.Event{}, vmerr.E(op, vmerr.Invalid, "%s@%s is already %s", y.Name, v.Version, word)
	}
	v.Yanked = !y.Undo
	w.set(key, state.EncodeRecord(v))
	c.Updated = w.height
	w.set(state.ContractKey(c.Name), state.EncodeRecord(c))
	yanked := "false"
	if v.Yanked {
		yanked = "true"
	}
	return apitype.Event{Type: "yank", Attributes: map[string]string{"name": v.Name, "version": v.Version, "yanked": yanked}}, nil
}

// owners changes the maintainers and the owner of a chain: owner only.
func owners(w *work, signer crypto.Address, o *txpb.ContractOwners) (apitype.Event, error) {
	const op = "apitest.contract_owners"
	c, err := readContract(w, o.Name)
	if err != nil {
		return apitype.Event{}, err
	}
	if !bytes.Equal(c.Owner, signer[:]) {
		return apitype.Event{}, vmerr.E(op, vmerr.Unauthorized, "only the owner of %s may change its owners", o.Name)
	}
	for _, a := range slices.Concat(o.Add, o.Remove, [][]byte{o.NewOwner}) {
		if len(a) != 0 && len(a) != crypto.AddressSize {
			return apitype.Event{}, vmerr.E(op, vmerr.Invalid, "address is %d bytes, want %d", len(a), crypto.AddressSize)
		}
	}
	for _, a := range o.Remove {
		i := slices.IndexFunc(c.Maintainers, func(m []byte) bool { return bytes.Equal(m, a) })
		if i < 0 {
			return apitype.Event{}, vmerr.E(op, vmerr.NotFound, "%X is not a maintainer of %s", a, o.Name)
		}
		c.Maintainers = slices.Delete(c.Maintainers, i, i+1)
	}
	for _, a := range o.Add {
		if len(a) == 0 || bytes.Equal(a, c.Owner) || slices.ContainsFunc(c.Maintainers, func(m []byte) bool { return bytes.Equal(m, a) }) {
			return apitype.Event{}, vmerr.E(op, vmerr.Exists, "%X already owns or maintains %s", a, o.Name)
		}
		c.Maintainers = append(c.Maintainers, a)
	}
	if len(o.NewOwner) > 0 {
		c.Owner = o.NewOwner
		c.Maintainers = slices.DeleteFunc(c.Maintainers, func(m []byte) bool { return bytes.Equal(m, o.NewOwner) })
	}
	if len(c.Maintainers) > maxMaintainers {
		return apitype.Event{}, vmerr.E(op, vmerr.Limit, "%s would have %d maintainers, limit %d", o.Name, len(c.Maintainers), maxMaintainers)
	}
	slices.SortFunc(c.Maintainers, bytes.Compare)
	c.Updated = w.height
	w.set(state.ContractKey(c.Name), state.EncodeRecord(c))
	owner, _ := crypto.AddressFromBytes(c.Owner)
	return apitype.Event{Type: "contract_owners", Attributes: map[string]string{"name": c.Name, "owner": owner.String()}}, nil
}

func mayPublish(c *statepb.Contract, signer crypto.Address) bool {
	s := signer[:]
	return bytes.Equal(c.Owner, s) || slices.ContainsFunc(c.Maintainers, func(m []byte) bool { return bytes.Equal(m, s) })
}

// deployFees is the fee a body must pay beyond MinFee: the deploy fee of
// each Deploy it carries.
func (b *Backend) deployFees(body *txpb.TxBody) (uint64, error) {
	var fee uint64
	for _, m := range body.Msgs {
		d := m.GetDeploy()
		if d == nil {
			continue
		}
		f, err := contract.DeployFee(b.cfg.DeployFeePerKiB, d)
		if err != nil {
			return 0, err
		}
		if fee+f < fee {
			return 0, vmerr.E("apitest.fee", vmerr.Overflow, "deploy fees overflow")
		}
		fee += f
	}
	return fee, nil
}
