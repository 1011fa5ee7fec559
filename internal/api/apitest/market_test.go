package apitest_test

import (
	"context"
	"encoding/hex"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// The market part of overHTTP: the client verifies every Location it
// receives, so the suite over HTTP also checks the client accepts honest
// answers. The client always asks for proofs.

func (o overHTTP) Requests(ctx context.Context, q apitype.RequestQuery) (apitype.RequestList, error) {
	return o.c.Requests(ctx, q)
}

func (o overHTTP) Request(ctx context.Context, id [32]byte, height int64, _ bool) (apitype.Request, error) {
	return o.c.Request(ctx, hex.EncodeToString(id[:]), height)
}

func (o overHTTP) Result(ctx context.Context, id [32]byte, height int64, _ bool) (apitype.Result, error) {
	return o.c.Result(ctx, hex.EncodeToString(id[:]), height)
}

func (o overHTTP) Data(ctx context.Context, contract string, key []byte, height int64, _ bool) (apitype.DataEntry, error) {
	if len(key) == 0 {
		// The client refuses an empty key itself; ask the server anyway, so
		// the route's own check is what the suite sees.
		_, err := o.c.DataRange(ctx, contract, nil, nil, -1, height)
		return apitype.DataEntry{}, vmerr.E("overHTTP", vmerr.KindOf(err), "empty key")
	}
	return o.c.Data(ctx, contract, key, height)
}

func (o overHTTP) Memo(ctx context.Context, code [32]byte, fn string, input [32]byte, height int64, _ bool) (apitype.Memo, error) {
	return o.c.Memo(ctx, code, fn, input, height)
}

func (o overHTTP) DataRange(ctx context.Context, contract string, start, end []byte, limit int, height int64) (apitype.DataRange, error) {
	return o.c.DataRange(ctx, contract, start, end, limit, height)
}
