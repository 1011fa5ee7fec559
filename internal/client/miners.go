package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
)

// Miners lists the miner registry: GET /v1/miners with q's kind, after
// and limit (0 = the node's default, 50). Follow Next (as q.After) for
// the following page. Each miner carries its Location. Errors: Invalid
// for a bad kind, after or limit.
func (c *Client) Miners(ctx context.Context, q apitype.MinerQuery) (apitype.MinerList, error) {
	v := url.Values{}
	if q.Kind != "" {
		v.Set("kind", q.Kind)
	}
	if q.After != "" {
		v.Set("after", q.After)
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := "/v1/miners"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var l apitype.MinerList
	return l, c.do(ctx, c.timeout, "client.miners", http.MethodGet, path, nil, &l)
}

// Miner returns the record of the miner addr at height (0 = latest) with
// its Location (check it with state.VerifyLocation). Errors: NotFound
// when addr never registered.
func (c *Client) Miner(ctx context.Context, addr crypto.Address, height int64) (apitype.Miner, error) {
	return c.miner(ctx, addr, height, true)
}

// MinerNoProof is Miner without the Location (?prove=false): cheaper
// for a caller that does not verify.
func (c *Client) MinerNoProof(ctx context.Context, addr crypto.Address, height int64) (apitype.Miner, error) {
	return c.miner(ctx, addr, height, false)
}

func (c *Client) miner(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Miner, error) {
	path := "/v1/miners/" + addr.String()
	v := url.Values{}
	if height != 0 {
		v.Set("height", strconv.FormatInt(height, 10))
	}
	if !prove {
		v.Set("prove", "false")
	}
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var out apitype.Miner
	return out, c.do(ctx, c.timeout, "client.miner", http.MethodGet, path, nil, &out)
}
