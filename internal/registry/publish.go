package registry

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Bounds of one contract chain.
const (
	MaxMaintainers = 32
	// MaxVersions bounds the versions of one chain, and so what one range
	// resolution may have to scan (a few milliseconds at worst).
	MaxVersions = 10_000
)

// Env is what a transition needs besides the store.
type Env struct {
	Height    int64 // the block being built
	CodeLimit int   // largest module a Deploy may carry, bytes
	// Meter validates and meters a module with the network's metering
	// configuration; its errors are of kind Invalid.
	Meter func(code []byte) (metered []byte, exports []string, err error)
}

// Deploy publishes a version. The first publisher of a name owns it;
// later publishes need the owner or a maintainer. Code is validated and
// metered and both modules are stored by CID, once however many versions
// share them; a manifest is parsed and pinned against s. Errors: Invalid,
// Exists, Unauthorized, TooLarge, NotFound (a composite step), and s's.
func Deploy(s Store, env Env, signer crypto.Address, d *txpb.Deploy) (Event, error) {
	const op = "registry.deploy"
	ver, err := contract.ParseVersion(d.Version)
	if err != nil {
		return Event{}, err
	}
	if err := contract.ValidTags(d.Tags); err != nil {
		return Event{}, err
	}
	if err := contract.ValidDescription(d.Description); err != nil {
		return Event{}, err
	}
	if (len(d.Code) > 0) == (len(d.Manifest) > 0) {
		return Event{}, vmerr.E(op, vmerr.Invalid, "a deploy carries exactly one of code and a manifest")
	}
	c, err := Contract(s, d.Name)
	switch {
	case err != nil:
		return Event{}, err
	case c == nil:
		if err := contract.ValidName(d.Name); err != nil {
			return Event{}, err
		}
		c = &statepb.Contract{Name: d.Name, Owner: bytes.Clone(signer[:]), Created: env.Height}
	case !mayPublish(c, signer):
		return Event{}, vmerr.E(op, vmerr.Unauthorized, "%s is not the owner or a maintainer of %s", signer, d.Name)
	case c.Versions >= MaxVersions:
		return Event{}, vmerr.E(op, vmerr.Limit, "%s has %d versions, the most a chain may have", d.Name, c.Versions)
	}
	key := state.VersionKey(d.Name, contract.SortKey(ver))
	if old, err := s.Get(key); err != nil {
		return Event{}, err
	} else if old != nil {
		return Event{}, vmerr.E(op, vmerr.Exists, "%s@%s already exists", d.Name, d.Version)
	}
	v := &statepb.Version{Name: d.Name, Version: ver.String(), Seq: c.Versions + 1, Prev: c.Head,
		Description: d.Description, Tags: d.Tags, Publisher: bytes.Clone(signer[:]), Height: env.Height}
	var iface *composite.Interface
	if len(d.Interface) > 0 {
		if iface, v.Interface, err = composite.ParseInterface(d.Interface); err != nil {
			return Event{}, err
		}
	}
	if len(d.Manifest) > 0 {
		if v.Manifest, err = pinManifest(s, d.Manifest, iface); err != nil {
			return Event{}, err
		}
	} else if err := storeCode(s, env, d.Code, v, iface); err != nil {
		return Event{}, err
	}
	if err := s.Set(key, state.EncodeRecord(v)); err != nil {
		return Event{}, err
	}
	h := state.RecordHash(v)
	if c.Versions == 0 {
		c.Root = h[:]
	}
	if err := retag(s, c, d.Tags); err != nil {
		return Event{}, err
	}
	c.Head, c.Latest, c.Versions, c.Updated = h[:], v.Version, c.Versions+1, env.Height
	c.Description, c.Tags, c.Composite = d.Description, d.Tags, len(d.Manifest) > 0
	if err := s.Set(state.ContractKey(c.Name), state.EncodeRecord(c)); err != nil {
		return Event{}, err
	}
	return Event{Type: "deploy", Attrs: []string{"name", v.Name, "version", v.Version, "publisher", signer.String(),
		"code_cid", state.CIDText(v.CodeCid), "metered_cid", state.CIDText(v.MeteredCid), "seq", strconv.FormatUint(v.Seq, 10)}}, nil
}

// storeCode meters code, checks the interface against its exports and
// stores both modules by CID.
func storeCode(s Store, env Env, code []byte, v *statepb.Version, iface *composite.Interface) error {
	if len(code) > env.CodeLimit {
		return vmerr.E("registry.deploy", vmerr.TooLarge, "code is %d bytes, limit %d", len(code), env.CodeLimit)
	}
	bin, exports, err := env.Meter(code)
	if err != nil {
		return err
	}
	if iface != nil {
		if err := iface.CheckExports(exports); err != nil {
			return err
		}
	}
	orig, metered := contract.CID(code), contract.CID(bin)
	v.CodeCid, v.MeteredCid = orig.Bytes(), metered.Bytes()
	v.CodeSize, v.MeteredSize, v.Exports = uint64(len(code)), uint64(len(bin)), exports
	for _, blob := range []struct{ key, data []byte }{{state.CodeKey(orig), code}, {state.CodeKey(metered), bin}} {
		old, err := s.Get(blob.key)
		if err != nil {
			return err
		}
		if old == nil {
			if err := s.Set(blob.key, bytes.Clone(blob.data)); err != nil {
				return err
			}
		}
	}
	return nil
}

// pinManifest validates a composite manifest against s and returns its
// pinned canonical form.
func pinManifest(s Store, raw []byte, self *composite.Interface) ([]byte, error) {
	m, err := composite.ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	err = m.Pin(self, func(ref contract.Ref) (composite.Pinned, error) {
		v, _, _, err := Resolve(s, ref.Name, ref.Range)
		if err != nil {
			return composite.Pinned{}, err
		}
		p := composite.Pinned{Version: v.Version, Composite: len(v.Manifest) > 0}
		if len(v.Interface) > 0 {
			if p.Interface, err = composite.DecodeStoredInterface(v.Interface); err != nil {
				return composite.Pinned{}, &CorruptError{err}
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
func retag(s Store, c *statepb.Contract, tags []string) error {
	for _, t := range c.Tags {
		if !slices.Contains(tags, t) {
			if err := s.Set(state.TagKey(t, c.Name), nil); err != nil {
				return err
			}
		}
	}
	for _, t := range tags {
		if err := s.Set(state.TagKey(t, c.Name), state.TagMark); err != nil {
			return err
		}
	}
	return nil
}

// Yank marks (or with Undo unmarks) a version as skipped by ranges; an
// exact range still resolves it. Owner or maintainer only. Errors:
// NotFound, Unauthorized, Invalid (already in that state), and s's.
func Yank(s Store, env Env, signer crypto.Address, y *txpb.Yank) (Event, error) {
	const op = "registry.yank"
	c, err := MustContract(s, y.Name)
	if err != nil {
		return Event{}, err
	}
	if !mayPublish(c, signer) {
		return Event{}, vmerr.E(op, vmerr.Unauthorized, "%s is not the owner or a maintainer of %s", signer, y.Name)
	}
	ver, err := contract.ParseVersion(y.Version)
	if err != nil {
		return Event{}, err
	}
	key := state.VersionKey(y.Name, contract.SortKey(ver))
	raw, err := s.Get(key)
	if err != nil {
		return Event{}, err
	}
	if raw == nil {
		return Event{}, vmerr.E(op, vmerr.NotFound, "%s@%s does not exist", y.Name, y.Version)
	}
	v, err := state.DecodeVersion(raw)
	if err != nil {
		return Event{}, &CorruptError{err}
	}
	if v.Yanked == !y.Undo {
		word := "not yanked"
		if v.Yanked {
			word = "yanked"
		}
		return Event{}, vmerr.E(op, vmerr.Invalid, "%s@%s is already %s", y.Name, v.Version, word)
	}
	v.Yanked = !y.Undo
	if err := s.Set(key, state.EncodeRecord(v)); err != nil {
		return Event{}, err
	}
	c.Updated = env.Height
	if err := s.Set(state.ContractKey(c.Name), state.EncodeRecord(c)); err != nil {
		return Event{}, err
	}
	return Event{Type: "yank", Attrs: []string{"name", v.Name, "version", v.Version,
		"yanked", strconv.FormatBool(v.Yanked), "by", signer.String()}}, nil
}

// SetOwners adds and removes maintainers and hands the chain to a new
// owner, who stops being a maintainer. Owner only. Errors: NotFound,
// Unauthorized, Exists (adding an owner or maintainer), Limit, and s's.
func SetOwners(s Store, env Env, signer crypto.Address, o *txpb.ContractOwners) (Event, error) {
	const op = "registry.contract_owners"
	c, err := MustContract(s, o.Name)
	if err != nil {
		return Event{}, err
	}
	if !bytes.Equal(c.Owner, signer[:]) {
		return Event{}, vmerr.E(op, vmerr.Unauthorized, "only the owner of %s may change its owners", o.Name)
	}
	for _, a := range o.Remove {
		i := slices.IndexFunc(c.Maintainers, func(m []byte) bool { return bytes.Equal(m, a) })
		if i < 0 {
			return Event{}, vmerr.E(op, vmerr.NotFound, "%X is not a maintainer of %s", a, o.Name)
		}
		c.Maintainers = slices.Delete(c.Maintainers, i, i+1)
	}
	for _, a := range o.Add {
		if bytes.Equal(a, c.Owner) || slices.ContainsFunc(c.Maintainers, func(m []byte) bool { return bytes.Equal(m, a) }) {
			return Event{}, vmerr.E(op, vmerr.Exists, "%X already owns or maintains %s", a, o.Name)
		}
		c.Maintainers = append(c.Maintainers, bytes.Clone(a))
	}
	if len(o.NewOwner) > 0 {
		c.Owner = bytes.Clone(o.NewOwner)
		c.Maintainers = slices.DeleteFunc(c.Maintainers, func(m []byte) bool { return bytes.Equal(m, o.NewOwner) })
	}
	if len(c.Maintainers) > MaxMaintainers {
		return Event{}, vmerr.E(op, vmerr.Limit, "%s would have %d maintainers, limit %d", o.Name, len(c.Maintainers), MaxMaintainers)
	}
	slices.SortFunc(c.Maintainers, bytes.Compare)
	c.Updated = env.Height
	if err := s.Set(state.ContractKey(c.Name), state.EncodeRecord(c)); err != nil {
		return Event{}, err
	}
	owner, _ := crypto.AddressFromBytes(c.Owner)
	return Event{Type: "contract_owners", Attrs: []string{"name", c.Name, "owner", owner.String(),
		"maintainers", strconv.Itoa(len(c.Maintainers))}}, nil
}

func mayPublish(c *statepb.Contract, signer crypto.Address) bool {
	s := signer[:]
	return bytes.Equal(c.Owner, s) || slices.ContainsFunc(c.Maintainers, func(m []byte) bool { return bytes.Equal(m, s) })
}

// DeployFees is what the Deploys of body add to a transaction's fee:
// perKiB per started KiB of each one's payload. Errors: Overflow.
func DeployFees(perKiB uint64, body *txpb.TxBody) (uint64, error) {
	var fee uint64
	for _, m := range body.Msgs {
		d := m.GetDeploy()
		if d == nil {
			continue
		}
		f, err := contract.DeployFee(perKiB, d)
		if err != nil {
			return 0, err
		}
		if fee+f < fee {
			return 0, vmerr.E("registry.fee", vmerr.Overflow, "deploy fees overflow")
		}
		fee += f
	}
	return fee, nil
}
