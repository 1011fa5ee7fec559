package tx

import (
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits of the registry messages checked before state. The ledger applies
// the chain's own (possibly lower) code limit and the exact manifest and
// interface rules.
const (
	MaxManifestSize  = 64 << 10 // bytes of a composite manifest
	MaxInterfaceSize = 64 << 10 // bytes of an interface
	MaxOwnerChanges  = 32       // addresses in one ContractOwners list
)

// hasLarge reports whether b carries a message that may exceed MaxTxSize:
// a Deploy's code, a Request's input, a Reveal's or Result's result.
func hasLarge(b *txpb.TxBody) bool {
	for _, m := range b.Msgs {
		switch m.GetSum().(type) {
		case *txpb.Msg_Deploy, *txpb.Msg_Request, *txpb.Msg_Reveal, *txpb.Msg_Result:
			return true
		}
	}
	return false
}

func checkDeploy(d *txpb.Deploy) error {
	const op = "tx.deploy"
	if err := contract.ValidName(d.Name); err != nil {
		return err
	}
	if _, err := contract.ParseVersion(d.Version); err != nil {
		return err
	}
	switch {
	case len(d.Code) == 0 && len(d.Manifest) == 0:
		return vmerr.E(op, vmerr.Invalid, "deploy of %s has neither code nor a manifest", d.Name)
	case len(d.Code) > 0 && len(d.Manifest) > 0:
		return vmerr.E(op, vmerr.Invalid, "deploy of %s has both code and a manifest; a composite has no code", d.Name)
	case len(d.Code) > MaxCodeSize:
		return vmerr.E(op, vmerr.TooLarge, "code is %d bytes, limit %d", len(d.Code), MaxCodeSize)
	case len(d.Manifest) > MaxManifestSize:
		return vmerr.E(op, vmerr.TooLarge, "manifest is %d bytes, limit %d", len(d.Manifest), MaxManifestSize)
	case len(d.Interface) > MaxInterfaceSize:
		return vmerr.E(op, vmerr.TooLarge, "interface is %d bytes, limit %d", len(d.Interface), MaxInterfaceSize)
	}
	if err := contract.ValidTags(d.Tags); err != nil {
		return err
	}
	return contract.ValidDescription(d.Description)
}

func checkOwners(o *txpb.ContractOwners) error {
	const op = "tx.contract_owners"
	if err := contract.ValidName(o.Name); err != nil {
		return err
	}
	if len(o.Add) == 0 && len(o.Remove) == 0 && len(o.NewOwner) == 0 {
		return vmerr.E(op, vmerr.Invalid, "owner change of %s changes nothing", o.Name)
	}
	if len(o.Add) > MaxOwnerChanges || len(o.Remove) > MaxOwnerChanges {
		return vmerr.E(op, vmerr.TooLarge, "at most %d addresses per list", MaxOwnerChanges)
	}
	seen := map[string]bool{}
	for _, list := range [][][]byte{o.Add, o.Remove} {
		for _, a := range list {
			if len(a) != crypto.AddressSize {
				return vmerr.E(op, vmerr.Invalid, "address is %d bytes, want %d", len(a), crypto.AddressSize)
			}
			if seen[string(a)] {
				return vmerr.E(op, vmerr.Invalid, "address %X appears twice", a)
			}
			seen[string(a)] = true
		}
	}
	if len(o.NewOwner) != 0 && len(o.NewOwner) != crypto.AddressSize {
		return vmerr.E(op, vmerr.Invalid, "new owner is %d bytes, want %d", len(o.NewOwner), crypto.AddressSize)
	}
	return nil
}
