package apitest

import (
	"context"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Commit answers as a node without consensus must: the fake signs no
// headers, so there is no signed header or validator set to return.
// Errors: Invalid for a negative height, NotFound for a height above the
// latest block, Unavailable for every other height (and the Backend's
// fault or closed state, as every call). Light-client verification
// (internal/lightproof) is tested against a real node.
func (b *Backend) Commit(ctx context.Context, height int64) (apitype.Commit, error) {
	const op = "apitest.commit"
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return apitype.Commit{}, err
	}
	switch {
	case height < 0:
		return apitype.Commit{}, vmerr.E(op, vmerr.Invalid, "height %d is negative", height)
	case height > int64(len(b.blocks)):
		return apitype.Commit{}, vmerr.E(op, vmerr.NotFound, "no block at height %d (latest %d)", height, len(b.blocks))
	}
	return apitype.Commit{}, vmerr.E(op, vmerr.Unavailable, "the in-memory backend has no consensus and signs no headers")
}
