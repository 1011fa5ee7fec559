package apitest

import (
	"context"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/miners"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

var _ api.MinerBackend = (*Backend)(nil)

// Miners lists miner records as the ledger does (miners.List): address
// order after q.After, of kind q.Kind when set, at most q.Limit (0 = 50;
// 1..100), Next set when the page is full, each with its Location.
// Errors: Invalid.
func (b *Backend) Miners(ctx context.Context, q apitype.MinerQuery) (apitype.MinerList, error) {
	const op = "apitest.miners"
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, 0)
	if err != nil {
		return apitype.MinerList{}, err
	}
	raws, keys, next, err := miners.List(registry.TreeReader{T: it}, q)
	if err != nil {
		return apitype.MinerList{}, err
	}
	out := apitype.MinerList{Miners: []apitype.Miner{}, Next: next, Height: height}
	for i, raw := range raws {
		m, err := state.DecodeMiner(raw)
		if err != nil {
			return apitype.MinerList{}, err
		}
		view := state.MinerView(m, height)
		if view.Location, err = b.locate(it, height, state.NamespaceMiners, keys[i], raw); err != nil {
			return apitype.MinerList{}, err
		}
		out.Miners = append(out.Miners, view)
	}
	return out, nil
}

// Miner returns the record of the miner addr at height (0 = latest), with
// a Location proving it when prove is set. Errors: NotFound for an
// address that never registered or a height not stored.
func (b *Backend) Miner(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Miner, error) {
	const op = "apitest.miner"
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, height)
	if err != nil {
		return apitype.Miner{}, err
	}
	m, raw, err := miners.Get(registry.TreeReader{T: it}, addr)
	if err != nil {
		return apitype.Miner{}, err
	}
	out := state.MinerView(m, height)
	if prove {
		if out.Location, err = b.locate(it, height, state.NamespaceMiners, state.MinerKey(addr), raw); err != nil {
			return apitype.Miner{}, err
		}
	}
	return out, nil
}

// applyMiners applies a MinerRegister message with the ledger's rules
// (package miners); ok is false for other messages.
func applyMiners(w *work, signer crypto.Address, m *txpb.Msg) (ev apitype.Event, ok bool, err error) {
	r := m.GetMinerRegister()
	if r == nil {
		return apitype.Event{}, false, nil
	}
	e, err := miners.Register(w, w.height, signer, r)
	if err != nil {
		return apitype.Event{}, true, err
	}
	return eventOf(e), true, nil
}

// MinerRegister is a MinerRegister message.
func MinerRegister(kind string, capacity uint32, endpoint string, minGas uint64, version string, active bool) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_MinerRegister{MinerRegister: &txpb.MinerRegister{Kind: kind, Capacity: capacity,
		Endpoint: endpoint, MinGas: minGas, SoftwareVersion: version, Active: active}}}
}
