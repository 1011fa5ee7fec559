package ledger

import (
	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// registryEnv is what the registry's transitions need of this block:
// its height, the chain's code limit and the node's metering cache.
func (b *block) registryEnv() registry.Env { return b.a.registryEnv(b.height, b.params) }

func (a *App) registryEnv(height int64, p Params) registry.Env {
	limit := p.CodeLimit()
	return registry.Env{Height: height, CodeLimit: limit,
		Meter: func(code []byte) ([]byte, []string, error) {
			r := a.meterCode(code, limit)
			return r.bin, r.exports, r.err
		}}
}

// applyRegistry applies a Deploy, Yank or ContractOwners message; ok is
// false for any other message.
func (b *block) applyRegistry(signer crypto.Address, m *txpb.Msg) (ev abcitypes.Event, ok bool, err error) {
	var e registry.Event
	switch s := m.GetSum().(type) {
	case *txpb.Msg_Deploy:
		b.a.resolved.drop(s.Deploy.GetName())
		e, err = registry.Deploy(b, b.registryEnv(), signer, s.Deploy)
	case *txpb.Msg_Yank:
		b.a.resolved.drop(s.Yank.GetName())
		e, err = registry.Yank(b, b.registryEnv(), signer, s.Yank)
	case *txpb.Msg_ContractOwners:
		e, err = registry.SetOwners(b, b.registryEnv(), signer, s.ContractOwners)
	default:
		return abcitypes.Event{}, false, nil
	}
	if err != nil {
		return abcitypes.Event{}, true, err
	}
	return event(e.Type, e.Attrs...), true, nil
}
