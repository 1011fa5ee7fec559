package apitest_test

import (
	"context"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
)

// The explorer part of overHTTP.

func (o overHTTP) AccountTxs(ctx context.Context, addr crypto.Address, q apitype.TxQuery) (apitype.TxList, error) {
	return o.c.AccountTxs(ctx, addr, q)
}

func (o overHTTP) ContractStats(ctx context.Context, name string, q apitype.StatsQuery) (apitype.ContractStats, error) {
	return o.c.ContractStats(ctx, name, q)
}

func (o overHTTP) MinerStats(ctx context.Context, addr crypto.Address, q apitype.StatsQuery) (apitype.ContractStats, error) {
	return o.c.MinerStats(ctx, addr, q)
}

func (o overHTTP) ContractResults(ctx context.Context, name string, q apitype.ResultQuery) (apitype.ContractResultList, error) {
	return o.c.ContractResults(ctx, name, q)
}
