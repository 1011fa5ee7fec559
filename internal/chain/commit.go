package chain

import (
	"context"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/lightproof"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Commit returns the signed header of block height (0 = the latest
// block) with the validator set that signed it, encoded by
// lightproof.Encode: the proof of the app hash of the state after block
// height-1, so a Location at height H is proved by Commit(H+1). The
// commit is the canonical one block height+1 carries, or, for the latest
// block, the node's seen commit (Canonical false). Errors: Invalid
// (negative height), NotFound (above the latest block, below the block
// store's base, or no commit stored), Unavailable (not running),
// Internal (a stored block or validator set that does not load).
func (n *Node) Commit(_ context.Context, height int64) (apitype.Commit, error) {
	const op = "chain.commit"
	if err := n.ready(op); err != nil {
		return apitype.Commit{}, err
	}
	if height < 0 {
		return apitype.Commit{}, vmerr.E(op, vmerr.Invalid, "height %d is negative", height)
	}
	bs := n.cmt.BlockStore()
	latest := bs.Height()
	if height == 0 {
		height = latest
	}
	if height == 0 || height < bs.Base() || height > latest {
		return apitype.Commit{}, vmerr.E(op, vmerr.NotFound, "no block at height %d (have %d..%d)", height, bs.Base(), latest)
	}
	meta := bs.LoadBlockMeta(height)
	if meta == nil {
		return apitype.Commit{}, vmerr.E(op, vmerr.NotFound, "no block at height %d", height)
	}
	// Block height+1 carries the canonical commit; until it exists the
	// node's seen commit (the +2/3 precommits it saw) is the only one.
	canonical := true
	commit := bs.LoadBlockCommit(height)
	if commit == nil {
		canonical = false
		commit = bs.LoadSeenCommit(height)
	}
	if commit == nil {
		return apitype.Commit{}, vmerr.E(op, vmerr.NotFound, "no commit stored for block %d", height)
	}
	vals, err := n.env.StateStore.LoadValidators(height)
	if err != nil {
		return apitype.Commit{}, vmerr.E(op, vmerr.Internal, "validators of block %d: %w", height, err)
	}
	header := meta.Header
	lb := &cmttypes.LightBlock{SignedHeader: &cmttypes.SignedHeader{Header: &header, Commit: commit}, ValidatorSet: vals}
	out, err := lightproof.Encode(lb, canonical)
	if err != nil {
		return apitype.Commit{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	return out, nil
}
