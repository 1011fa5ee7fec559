package chain

import (
	"context"
	"encoding/json"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Miner registry query paths (internal/ledger's).
const (
	pathMiner  = "/miner"
	pathMiners = "/miners"
)

// Miner returns the registry record of the miner addr at height (0 =
// latest), with its Location when prove is set. Errors: NotFound (never
// registered, or a height not stored), Invalid, Unavailable.
func (n *Node) Miner(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Miner, error) {
	const op = "chain.miner"
	res, err := n.query(ctx, op, pathMiner, addr[:], height, prove)
	if err != nil {
		return apitype.Miner{}, err
	}
	m, err := state.DecodeMiner(res.Value)
	if err != nil {
		return apitype.Miner{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	out := state.MinerView(m, res.Height)
	if prove {
		if out.Location, err = n.location(op, state.NamespaceMiners, res); err != nil {
			return apitype.Miner{}, err
		}
	}
	return out, nil
}

// Miners lists miner records matching q at the latest height, in address
// order, each with its Location. Errors: Invalid (kind, after, limit),
// Unavailable.
func (n *Node) Miners(ctx context.Context, q apitype.MinerQuery) (apitype.MinerList, error) {
	const op = "chain.miners"
	data, err := json.Marshal(q)
	if err != nil {
		return apitype.MinerList{}, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	res, err := n.query(ctx, op, pathMiners, data, 0, true)
	if err != nil {
		return apitype.MinerList{}, err
	}
	items, err := state.DecodeList(res.Value)
	if err != nil {
		return apitype.MinerList{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	locs, err := n.locations(op, state.NamespaceMiners, res, items)
	if err != nil {
		return apitype.MinerList{}, err
	}
	out := apitype.MinerList{Miners: make([]apitype.Miner, 0, len(items)), Next: res.Info, Height: res.Height}
	for i, raw := range items {
		m, err := state.DecodeMiner(raw)
		if err != nil {
			return apitype.MinerList{}, vmerr.Wrap(op, vmerr.Internal, err)
		}
		view := state.MinerView(m, res.Height)
		view.Location = locs[i]
		out.Miners = append(out.Miners, view)
	}
	return out, nil
}
