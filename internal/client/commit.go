package client

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/lightproof"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// commitPoll is how often VerifyLocation asks again for a block that is
// not committed yet.
const commitPoll = 100 * time.Millisecond

// Commit returns the signed header and validator set of block height
// (0 = the latest block): the proof of the app hash of the state after
// block height-1. It verifies nothing; lightproof.Verify does. Errors:
// Invalid for a negative height (no request is sent), the node's NotFound
// above its latest block, and the request's failure as *vmerr.Error.
func (c *Client) Commit(ctx context.Context, height int64) (apitype.Commit, error) {
	const op = "client.commit"
	if height < 0 {
		return apitype.Commit{}, vmerr.E(op, vmerr.Invalid, "height %d is negative", height)
	}
	h := "latest"
	if height != 0 {
		h = strconv.FormatInt(height, 10)
	}
	var out apitype.Commit
	return out, c.do(ctx, c.timeout, op, http.MethodGet, "/v1/commits/"+h, nil, &out)
}

// VerifyLocation checks loc against the chain trust names without
// trusting the node: it fetches the Commit of block loc.Height+1 (whose
// header carries the app hash of the state at loc.Height) and runs
// lightproof.Verify. When that block is not committed yet (loc is at the
// latest height) it waits for it, polling, up to the client's wait
// timeout (WithWaitTimeout) or until ctx ends. As lightproof.Verify, it
// does not check loc.Namespace: the caller compares loc.Key with the key
// it asked for (state.SameKey).
//
// Errors: Invalid for a nil location or a height below 1; Timeout when
// block loc.Height+1 is not committed in time; NotFound when the node no
// longer has it; the request's failure; and lightproof.Verify's errors
// (Unauthorized for a location or commit that does not verify).
func (c *Client) VerifyLocation(ctx context.Context, loc *apitype.Location, trust lightproof.Trust) error {
	const op = "client.verify_location"
	if loc == nil {
		return vmerr.E(op, vmerr.Invalid, "no location")
	}
	if loc.Height < 1 {
		return vmerr.E(op, vmerr.Invalid, "location height %d is not positive", loc.Height)
	}
	cm, err := c.waitCommit(ctx, op, loc.Height+1)
	if err != nil {
		return err
	}
	return lightproof.Verify(loc, &cm, trust)
}

// waitCommit fetches the Commit of block h, waiting while h is above the
// node's latest block.
func (c *Client) waitCommit(ctx context.Context, op string, h int64) (apitype.Commit, error) {
	ctx, cancel := context.WithTimeout(ctx, c.waitTimeout)
	defer cancel()
	t := time.NewTicker(commitPoll)
	defer t.Stop()
	latest := int64(-1)
	for {
		cm, err := c.Commit(ctx, h)
		if vmerr.KindOf(err) != vmerr.NotFound {
			return cm, c.waitErr(ctx, op, h, latest, err)
		}
		st, err := c.Status(ctx)
		if err != nil {
			return apitype.Commit{}, c.waitErr(ctx, op, h, latest, err)
		}
		if latest = st.LatestHeight; latest >= h {
			cm, err := c.Commit(ctx, h) // committed between the two calls, or pruned
			return cm, c.waitErr(ctx, op, h, latest, err)
		}
		select {
		case <-ctx.Done():
			return apitype.Commit{}, c.waitErr(ctx, op, h, latest, ctx.Err())
		case <-t.C:
		}
	}
}

// waitErr is err, or, when the wait for block h ran out, a Timeout
// saying so.
func (c *Client) waitErr(ctx context.Context, op string, h, latest int64, err error) error {
	if err == nil || ctx.Err() == nil || vmerr.KindOf(err) != vmerr.Timeout && !errors.Is(err, ctx.Err()) {
		return err
	}
	return vmerr.E(op, vmerr.Timeout, "block %d is not committed yet (latest seen %d) after waiting: %w", h, latest, err)
}
