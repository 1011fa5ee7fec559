package ledger

import (
	"bytes"
	"slices"
	"strconv"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// MaxMaintainers bounds the maintainers of one contract chain.
const MaxMaintainers = 32

// deploy publishes a version (DESIGN §1 "contract chain"). The first
// publisher of a name owns it; later publishes need the owner or a
// maintainer. Code is validated and metered here, deterministically, and
// stored by CID once however many versions share it. Errors: Invalid,
// Exists, Unauthorized, TooLarge, NotFound (a composite step), storage.
func (b *block) deploy(signer crypto.Address, d *txpb.Deploy) (abcitypes.Event, error) {
	const op = "ledger.deploy"
	ver, err := contract.ParseVersion(d.Version)
	if err != nil {
		return abcitypes.Event{}, err
	}
	c, err := loadContract(b, d.Name)
	if err != nil {
		return abcitypes.Event{}, err
	}
	if c == nil {
		if err := contract.ValidName(d.Name); err != nil {
			return abcitypes.Event{}, err
		}
		c = &statepb.Contract{Name: d.Name, Owner: bytes.Clone(signer[:]), Created: b.height}
	} else if !mayPublish(c, signer) {
		return abcitypes.Event{}, vmerr.E(op, vmerr.Unauthorized, "%s is not the owner or a maintainer of %s", signer, d.Name)
	}
	key := state.VersionKey(d.Name, contract.SortKey(ver))
	if old, err := b.get(key); err != nil {
		return abcitypes.Event{}, err
	} else if old != nil {
		return abcitypes.Event{}, vmerr.E(op, vmerr.Exists, "%s@%s already exists", d.Name, d.Version)
	}
	v := &statepb.Version{Name: d.Name, Version: ver.String(), Seq: c.Versions + 1, Prev: c.Head,
		Description: d.Description, Tags: d.Tags, Publisher: bytes.Clone(signer[:]), Height: b.height}
	var iface *composite.Interface
	if len(d.Interface) > 0 {
		if iface, v.Interface, err = composite.ParseInterface(d.Interface); err != nil {
			return abcitypes.Event{}, err
		}
	}
	if len(d.Manifest) > 0 {
		if v.Manifest, err = b.pinManifest(d.Manifest, iface); err != nil {
			return abcitypes.Event{}, err
		}
	} else if err := b.storeCode(d.Code, v, iface); err != nil {
		return abcitypes.Event{}, err
	}
	raw := state.EncodeRecord(v)
	if err := b.set(key, raw); err != nil {
		return abcitypes.Event{}, err
	}
	h := state.RecordHash(v)
	if c.Versions == 0 {
		c.Root = h[:]
	}
	if err := b.retag(c, d.Tags); err != nil {
		return abcitypes.Event{}, err
	}
	c.Head, c.Latest, c.Versions, c.Updated = h[:], v.Version, c.Versions+1, b.height
	c.Description, c.Tags, c.Composite = d.Description, d.Tags, len(d.Manifest) > 0
	if err := b.set(state.ContractKey(c.Name), state.EncodeRecord(c)); err != nil {
		return abcitypes.Event{}, err
	}
	return event("deploy", "name", v.Name, "version", v.Version, "publisher", signer.String(),
		"code_cid", state.CIDText(v.CodeCid), "metered_cid", state.CIDText(v.MeteredCid), "seq", strconv.FormatUint(v.Seq, 10)), nil
}

// storeCode meters code, checks the interface against its exports and
// stores both modules by CID.
func (b *block) storeCode(code []byte, v *statepb.Version, iface *composite.Interface) error {
	m := b.a.meterCode(code, b.params.CodeLimit())
	if m.err != nil {
		return m.err
	}
	if iface != nil {
		if err := iface.CheckExports(m.exports); err != nil {
			return err
		}
	}
	orig, metered := contract.CID(code), contract.CID(m.bin)
	v.CodeCid, v.MeteredCid = orig.Bytes(), metered.Bytes()
	v.CodeSize, v.MeteredSize, v.Exports = uint64(len(code)), uint64(len(m.bin)), m.exports
	for _, blob := range []struct {
		key  []byte
		data []byte
	}{{state.CodeKey(orig), code}, {state.CodeKey(metered), m.bin}} {
		old, err := b.get(blob.key)
		if err != nil {
			return err
		}
		if old == nil {
			if err := b.set(blob.key, bytes.Clone(blob.data)); err != nil {
				return err
			}
		}
	}
	return nil
}

// pinManifest validates a composite manifest against the working state
// and returns its pinned canonical form.
func (b *block) pinManifest(raw []byte, self *composite.Interface) ([]byte, error) {
	m, err := composite.ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	err = m.Pin(self, func(ref contract.Ref) (composite.Pinned, error) {
		v, _, err := resolveVersion(b, ref.Name, ref.Range)
		if err != nil {
			return composite.Pinned{}, err
		}
		p := composite.Pinned{Version: v.Version, Composite: len(v.Manifest) > 0}
		if len(v.Interface) > 0 {
			if p.Interface, _, err = composite.ParseInterface(v.Interface); err != nil {
				return composite.Pinned{}, &storageError{err}
			}
		}
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return m.Canonical(), nil
}

// retag moves the tag index entries of c from its current tags to tags.
func (b *block) retag(c *statepb.Contract, tags []string) error {
	for _, t := range c.Tags {
		if !slices.Contains(tags, t) {
			if err := b.set(state.TagKey(t, c.Name), nil); err != nil {
				return err
			}
		}
	}
	for _, t := range tags {
		if err := b.set(state.TagKey(t, c.Name), state.TagMark); err != nil {
			return err
		}
	}
	return nil
}

// yank marks (or with Undo unmarks) a version as skipped by ranges.
// Errors: NotFound, Unauthorized, Invalid (already in that state).
func (b *block) yank(signer crypto.Address, y *txpb.Yank) (abcitypes.Event, error) {
	const op = "ledger.yank"
	c, err := mustContract(b, y.Name)
	if err != nil {
		return abcitypes.Event{}, err
	}
	if !mayPublish(c, signer) {
		return abcitypes.Event{}, vmerr.E(op, vmerr.Unauthorized, "%s is not the owner or a maintainer of %s", signer, y.Name)
	}
	ver, err := contract.ParseVersion(y.Version)
	if err != nil {
		return abcitypes.Event{}, err
	}
	key := state.VersionKey(y.Name, contract.SortKey(ver))
	raw, err := b.get(key)
	if err != nil {
		return abcitypes.Event{}, err
	}
	if raw == nil {
		return abcitypes.Event{}, vmerr.E(op, vmerr.NotFound, "%s@%s does not exist", y.Name, y.Version)
	}
	v, err := state.DecodeVersion(raw)
	if err != nil {
		return abcitypes.Event{}, &storageError{err}
	}
	if v.Yanked == !y.Undo {
		return abcitypes.Event{}, vmerr.E(op, vmerr.Invalid, "%s@%s is already %s", y.Name, v.Version, yankWord(v.Yanked))
	}
	v.Yanked = !y.Undo
	if err := b.set(key, state.EncodeRecord(v)); err != nil {
		return abcitypes.Event{}, err
	}
	c.Updated = b.height
	if err := b.set(state.ContractKey(c.Name), state.EncodeRecord(c)); err != nil {
		return abcitypes.Event{}, err
	}
	return event("yank", "name", v.Name, "version", v.Version, "yanked", strconv.FormatBool(v.Yanked), "by", signer.String()), nil
}

func yankWord(yanked bool) string {
	if yanked {
		return "yanked"
	}
	return "not yanked"
}

// owners changes the maintainers and the owner of a chain: owner only.
// Errors: NotFound, Unauthorized, Exists (adding a maintainer twice),
// Invalid, Limit.
func (b *block) owners(signer crypto.Address, o *txpb.ContractOwners) (abcitypes.Event, error) {
	const op = "ledger.contract_owners"
	c, err := mustContract(b, o.Name)
	if err != nil {
		return abcitypes.Event{}, err
	}
	if !bytes.Equal(c.Owner, signer[:]) {
		return abcitypes.Event{}, vmerr.E(op, vmerr.Unauthorized, "only the owner of %s may change its owners", o.Name)
	}
	for _, a := range o.Remove {
		i := slices.IndexFunc(c.Maintainers, func(m []byte) bool { return bytes.Equal(m, a) })
		if i < 0 {
			return abcitypes.Event{}, vmerr.E(op, vmerr.NotFound, "%X is not a maintainer of %s", a, o.Name)
		}
		c.Maintainers = slices.Delete(c.Maintainers, i, i+1)
	}
	for _, a := range o.Add {
		if bytes.Equal(a, c.Owner) || slices.ContainsFunc(c.Maintainers, func(m []byte) bool { return bytes.Equal(m, a) }) {
			return abcitypes.Event{}, vmerr.E(op, vmerr.Exists, "%X already owns or maintains %s", a, o.Name)
		}
		c.Maintainers = append(c.Maintainers, a)
	}
	if len(o.NewOwner) > 0 {
		c.Owner = o.NewOwner
		c.Maintainers = slices.DeleteFunc(c.Maintainers, func(m []byte) bool { return bytes.Equal(m, o.NewOwner) })
	}
	if len(c.Maintainers) > MaxMaintainers {
		return abcitypes.Event{}, vmerr.E(op, vmerr.Limit, "%s would have %d maintainers, limit %d", o.Name, len(c.Maintainers), MaxMaintainers)
	}
	slices.SortFunc(c.Maintainers, bytes.Compare)
	c.Updated = b.height
	if err := b.set(state.ContractKey(c.Name), state.EncodeRecord(c)); err != nil {
		return abcitypes.Event{}, err
	}
	owner, _ := crypto.AddressFromBytes(c.Owner)
	return event("contract_owners", "name", c.Name, "owner", owner.String(), "maintainers", strconv.Itoa(len(c.Maintainers))), nil
}

func mayPublish(c *statepb.Contract, signer crypto.Address) bool {
	s := signer[:]

	return bytes.Equal(c.Owner, s) || slices.ContainsFunc(c.Maintainers, func(m []byte) bool { return bytes.Equal(m, s) })
}

// loadContract reads a registry entry; nil when the name is free.
func loadContract(v view, name string) (*statepb.Contract, error) {
	raw, err := v.get(state.ContractKey(name))
	if err != nil || raw == nil {
		return nil, err
	}
	c, err := state.DecodeContract(raw)
	if err != nil {
		return nil, &storageError{err}
	}
	return c, nil
}

// mustContract is loadContract with NotFound for a free name.
func mustContract(v view, name string) (*statepb.Contract, error) {
	c, err := loadContract(v, name)
	if err == nil && c == nil {
		err = vmerr.E("ledger.contract", vmerr.NotFound, "no contract named %q", name)
	}
	return c, err
}

// resolveVersion finds the version of name that rng selects (the highest
// non-yanked match, or an exact version yanked or not), scanning keys
// downward between the range's bounds, so a chain of thousands of
// versions costs a few reads. Errors: NotFound, storage.
func resolveVersion(v view, name string, rng *contract.Range) (*statepb.Version, []byte, error) {
	if _, err := mustContract(v, name); err != nil {
		return nil, nil, err
	}
	prefix := state.VersionPrefix(name)
	start, end := prefix, prefixEnd(prefix)
	if lo := rng.Lower(); lo != nil {
		start = append(bytes.Clone(prefix), lo...)
	}
	if up := rng.Upper(); up != nil {
		end = append(bytes.Clone(prefix), up...)
	}
	var found *statepb.Version
	var foundKey []byte
	var scanErr error
	seq := func(yield func(contract.Entry, error) bool) {
		scanErr = v.scan(start, end, false, func(k, raw []byte) bool {
			rec, err := state.DecodeVersion(raw)
			if err != nil {
				return yield(contract.Entry{}, &storageError{err})
			}
			found, foundKey = rec, k
			return yield(contract.Entry{Version: rec.Version, Yanked: rec.Yanked}, nil)
		})
	}
	e, err := contract.Resolve(name, rng, seq)
	if scanErr != nil {
		return nil, nil, &storageError{scanErr}
	}
	if err != nil {
		return nil, nil, err
	}
	if found == nil || found.Version != e.Version {
		return nil, nil, vmerr.E("ledger.resolve", vmerr.Internal, "resolution of %s@%s lost its record", name, rng)
	}
	return found, bytes.Clone(foundKey), nil
}
