package ledger

import (
	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/miners"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// applyMiners applies a MinerRegister message (package miners' rules on
// the block's state); ok is false for any other message.
func (b *block) applyMiners(signer crypto.Address, m *txpb.Msg) (ev abcitypes.Event, ok bool, err error) {
	r := m.GetMinerRegister()
	if r == nil {
		return abcitypes.Event{}, false, nil
	}
	e, err := miners.Register(b, b.height, signer, r)
	if err != nil {
		return abcitypes.Event{}, true, err
	}
	return event(e.Type, e.Attrs...), true, nil
}
