package apitest_test

import (
	"context"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
)

func (o overHTTP) Miners(ctx context.Context, q apitype.MinerQuery) (apitype.MinerList, error) {
	return o.c.Miners(ctx, q)
}

func (o overHTTP) Miner(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Miner, error) {
	if prove {
		return o.c.Miner(ctx, addr, height)
	}
	return o.c.MinerNoProof(ctx, addr, height)
}
