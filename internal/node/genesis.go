package node

import (
	"context"
	"sync"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/lightproof"
)

// genesisOnce returns the Backend's Genesis source for home: its
// config/genesis.json read and checked once (lightproof.LoadHome), on the
// first call, then the same answer (or error) every time — the genesis
// does not change while the node runs.
func genesisOnce(home string) func() (apitype.Genesis, error) {
	return sync.OnceValues(func() (apitype.Genesis, error) {
		t, err := lightproof.LoadHome(home)
		if err != nil {
			return apitype.Genesis{}, err
		}
		return api.GenesisOf(t), nil
	})
}

// Genesis is GET /v1/genesis: the home's genesis validator set. Errors:
// lightproof.LoadHome's (NotFound, Decode, Invalid, ...) for a genesis
// file that cannot be read or trusted.
func (b backend) Genesis(context.Context) (apitype.Genesis, error) {
	return b.genesis()
}
