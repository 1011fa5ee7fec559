package client

import (
	"context"
	"net/http"

	"github.com/virtual-machine/vm/internal/apitype"
)

// Genesis is GET /v1/genesis: the chain's genesis validator set as the
// node reports it. It is what a light client pins on first use, not
// something to trust from a node: compare Hash with the one `vm id
// verify` prints from a genesis file you hold.
func (c *Client) Genesis(ctx context.Context) (apitype.Genesis, error) {
	var g apitype.Genesis
	return g, c.do(ctx, c.timeout, "client.genesis", http.MethodGet, "/v1/genesis", nil, &g)
}
