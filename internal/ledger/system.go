package ledger

import (
	"bytes"

	"github.com/virtual-machine/vm/contracts/system"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// GenesisContract is a system contract published in genesis: Name@Version
// with the module whose CID (CIDv1, raw, sha2-256) is CID. The genesis
// names the module by CID only; the bytes come with the node
// (contracts/system), so a node whose build carries other bytes refuses
// the genesis instead of computing another state.
type GenesisContract struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	CID     string `json:"cid"`
}

// SystemAccount publishes the system contracts. It is keyless, so no one
// can publish another version of them or change their owners.
func SystemAccount() crypto.Address { return state.ModuleAddress("system") }

// shippedContract is a system contract this node carries: what a
// genesis names it by, and its module.
type shippedContract struct {
	GenesisContract
	code []byte
}

// shipped returns the system contracts this node carries, by name.
func shipped() map[string]shippedContract {
	code := system.IDChain()
	c := shippedContract{GenesisContract{Name: idchain.Contract, Version: system.IDChainVersion, CID: contract.CID(code).String()}, code}
	return map[string]shippedContract{c.Name: c}
}

// SystemContracts is what a genesis lists to publish every system contract
// this node carries (today the IDChain).
func SystemContracts() []GenesisContract {
	return []GenesisContract{shipped()[idchain.Contract].GenesisContract}
}

// deploySystem publishes cs as the system account at height 0 through the
// registry's own Deploy and returns the writes in key order. The node
// carries the metered form of its system contracts (contracts/system,
// whose test checks it is what metering produces), so a node start does
// not spend seconds metering them again.
func (a *App) deploySystem(cs []GenesisContract, p Params) ([][2][]byte, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	carried := shipped()
	env := a.registryEnv(0, p)
	meterCode := env.Meter
	env.Meter = func(code []byte) ([]byte, []string, error) {
		if len(code) <= env.CodeLimit && bytes.Equal(code, carried[idchain.Contract].code) {
			bin, exports := system.IDChainMetered()
			return bin, exports, nil
		}
		return meterCode(code)
	}
	o := &registry.Overlay{Base: registry.TreeReader{T: a.tree}}
	for _, c := range cs {
		s, ok := carried[c.Name]
		if !ok || s.GenesisContract != c {
			return nil, vmerr.E("ledger.genesis", vmerr.NotFound,
				"genesis publishes %s@%s as %s, which this node does not carry (a node of another version?)", c.Name, c.Version, c.CID)
		}
		d := &txpb.Deploy{Name: c.Name, Version: c.Version, Code: s.code,
			Description: "system contract, published in genesis"}
		if _, err := registry.Deploy(o, env, SystemAccount(), d); err != nil {
			return nil, vmerr.E("ledger.genesis", vmerr.KindOf(err), "publish %s@%s: %w", c.Name, c.Version, err)
		}
	}
	keys, vals := o.Writes()
	out := make([][2][]byte, len(keys))
	for i := range keys {
		out[i] = [2][]byte{keys[i], vals[i]}
	}
	return out, nil
}
