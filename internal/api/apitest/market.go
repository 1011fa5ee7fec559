package apitest

import (
	"bytes"
	"context"
	"time"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

var _ api.MarketBackend = (*Backend)(nil)

// Limits of the fake's market reads, as the ledger's.
const (
	maxDataKey       = 4 << 10
	defaultDataRange = 100
)

// EscrowAccount is the module account request escrows are held in.
func EscrowAccount() crypto.Address { return state.ModuleAddress("escrow") }

// MarketParams are the fake's market parameters: market.Default().
func MarketParams() market.Params { return market.Default() }

// Requests lists open requests as the ledger does (jobs.ListOpen), each
// with its Location. Errors: Invalid.
func (b *Backend) Requests(ctx context.Context, q apitype.RequestQuery) (apitype.RequestList, error) {
	const op = "apitest.requests"
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, 0)
	if err != nil {
		return apitype.RequestList{}, err
	}
	raws, keys, next, err := jobs.ListOpen(registry.TreeReader{T: it}, q)
	if err != nil {
		return apitype.RequestList{}, err
	}
	out := apitype.RequestList{Requests: []apitype.Request{}, Next: next, Height: height}
	for i, raw := range raws {
		m, err := state.DecodeRequest(raw)
		if err != nil {
			return apitype.RequestList{}, vmerr.Wrap(op, vmerr.Internal, err)
		}
		view := jobs.RequestView(m, MarketParams(), height)
		if view.Location, err = b.locate(it, height, state.NamespaceRequests, keys[i], raw); err != nil {
			return apitype.RequestList{}, err
		}
		out.Requests = append(out.Requests, view)
	}
	return out, nil
}

// Request returns request id at height (0 = latest), with a Location when
// prove is set. Errors: NotFound (unknown, or a height not stored).
func (b *Backend) Request(ctx context.Context, id [32]byte, height int64, prove bool) (apitype.Request, error) {
	const op = "apitest.request"
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, height)
	if err != nil {
		return apitype.Request{}, err
	}
	m, raw, err := jobs.GetRequest(registry.TreeReader{T: it}, id)
	if err != nil {
		return apitype.Request{}, err
	}
	out := jobs.RequestView(m, MarketParams(), height)
	if prove {
		if out.Location, err = b.locate(it, height, state.NamespaceRequests, state.RequestKey(id), raw); err != nil {
			return apitype.Request{}, err
		}
	}
	return out, nil
}

// Result returns request id's resultChain entry at height (0 = latest),
// with a Location when prove is set. Errors: NotFound (unknown, still
// open, or a height not stored).
func (b *Backend) Result(ctx context.Context, id [32]byte, height int64, prove bool) (apitype.Result, error) {
	const op = "apitest.result"
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, height)
	if err != nil {
		return apitype.Result{}, err
	}
	m, raw, err := jobs.GetResult(registry.TreeReader{T: it}, id)
	if err != nil {
		return apitype.Result{}, err
	}
	out := jobs.ResultView(m, height)
	if prove {
		if out.Location, err = b.locate(it, height, state.NamespaceResults, state.ResultKey(id), raw); err != nil {
			return apitype.Result{}, err
		}
	}
	return out, nil
}

// Memo returns the memo of (code, fn, input) at height (0 = latest) with
// the result it holds. Errors: NotFound (no memo, a height not stored).
func (b *Backend) Memo(ctx context.Context, code [32]byte, fn string, input [32]byte, height int64, prove bool) (apitype.Memo, error) {
	const op = "apitest.memo"
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, height)
	if err != nil {
		return apitype.Memo{}, err
	}
	r := registry.TreeReader{T: it}
	memo, _, raw, err := jobs.MemoAt(r, code, fn, input)
	if err != nil {
		return apitype.Memo{}, err
	}
	if memo == nil {
		return apitype.Memo{}, vmerr.E(op, vmerr.NotFound, "no memo of %s on that code and input", fn)
	}
	out := jobs.MemoView(memo, code, fn, input, raw, height)
	if prove {
		key := state.MemoSlot(code, fn, input)
		stored, err := r.Get(key)
		if err != nil {
			return apitype.Memo{}, err
		}
		if out.Location, err = b.locate(it, height, state.NamespaceMemos, key, stored); err != nil {
			return apitype.Memo{}, err
		}
	}
	return out, nil
}

// Data returns key of contract's namespace at height (0 = latest); an
// absent key is Found false, its Location an absence proof. Errors:
// Invalid (name, key), NotFound (a height not stored).
func (b *Backend) Data(ctx context.Context, name string, key []byte, height int64, prove bool) (apitype.DataEntry, error) {
	const op = "apitest.data"
	if err := checkData(op, name, key, nil); err != nil {
		return apitype.DataEntry{}, err
	}
	if len(key) == 0 {
		return apitype.DataEntry{}, vmerr.E(op, vmerr.Invalid, "empty key")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, height)
	if err != nil {
		return apitype.DataEntry{}, err
	}
	k := state.DataKey(name, key)
	raw, err := it.Get(k)
	if err != nil {
		return apitype.DataEntry{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	out := apitype.DataEntry{Contract: name, Key: bytes.Clone(key), Height: height}
	if raw != nil {
		v, val, err := state.DecodeData(raw)
		if err != nil {
			return apitype.DataEntry{}, vmerr.Wrap(op, vmerr.Internal, err)
		}
		out.Value, out.Version, out.Found = val, v, true
	}
	if prove {
		if out.Location, err = b.locate(it, height, state.NamespaceData, k, raw); err != nil {
			return apitype.DataEntry{}, err
		}
	}
	return out, nil
}

// DataRange lists present keys of contract's namespace in [start, end)
// as the ledger does (jobs.DataState.Range), each with its Location.
// Errors: Invalid (name, bounds, limit), NotFound (a height not stored).
func (b *Backend) DataRange(ctx context.Context, name string, start, end []byte, limit int, height int64) (apitype.DataRange, error) {
	const op = "apitest.data_range"
	if err := checkData(op, name, start, end); err != nil {
		return apitype.DataRange{}, err
	}
	switch {
	case limit < 0 || limit > jobs.MaxDataRange:
		return apitype.DataRange{}, vmerr.E(op, vmerr.Invalid, "limit %d not in [1, %d]", limit, jobs.MaxDataRange)
	case limit == 0:
		limit = defaultDataRange
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	it, height, err := b.view(ctx, op, height)
	if err != nil {
		return apitype.DataRange{}, err
	}
	entries, err := jobs.DataState{R: registry.TreeReader{T: it}, Name: name}.Range(start, end, limit)
	if err != nil {
		return apitype.DataRange{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	out := apitype.DataRange{Contract: name, Entries: []apitype.DataEntry{}, Height: height}
	for _, e := range entries {
		d := apitype.DataEntry{Contract: name, Key: e.Key, Value: e.Value, Version: e.Version, Found: true, Height: height}
		if d.Location, err = b.locate(it, height, state.NamespaceData, state.DataKey(name, e.Key), state.EncodeData(e.Version, e.Value)); err != nil {
			return apitype.DataRange{}, err
		}
		out.Entries = append(out.Entries, d)
	}
	return out, nil
}

// checkData checks a name and bounds as the ledger's data queries do.
func checkData(op, name string, start, end []byte) error {
	if err := contract.ValidName(name); err != nil {
		return err
	}
	switch {
	case len(start) > maxDataKey || len(end) > maxDataKey:
		return vmerr.E(op, vmerr.Invalid, "key or bound over %d bytes", maxDataKey)
	case len(end) > 0 && bytes.Compare(start, end) > 0:
		return vmerr.E(op, vmerr.Invalid, "range start %x is after its end %x", start, end)
	}
	return nil
}

// marketEnv is the environment of the market's transitions in the block
// at w.height.
func marketEnv(w *work, bank jobs.Bank) jobs.Env {
	return jobs.Env{S: w, Bank: bank, P: MarketParams(), Height: w.height, Time: blockTime(w.height).Unix(),
		Fees: FeeCollector(), Escrow: EscrowAccount()}
}

// blockTime is block h's time.
func blockTime(h int64) time.Time { return genesisTime.Add(time.Duration(h-1) * time.Second) }

// applyMarket applies message i of s when it is a market message (Request,
// Seal, Reveal, Result) with the ledger's rules (package jobs); ok is
// false for other messages. Unlike the ledger, a memo hit does not refund
// the transaction fee.
func applyMarket(w *work, bank jobs.Bank, s *tx.Signed, i int, m *txpb.Msg) (evs []apitype.Event, ok bool, err error) {
	out, _, ok, err := jobs.Apply(marketEnv(w, bank), s.Signer, s.Hash, uint32(i), m)
	if !ok {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	evs = make([]apitype.Event, len(out))
	for j, e := range out {
		evs[j] = eventOf(e)
	}
	return evs, true, nil
}

// tick runs the market's start-of-block work (jobs.Tick) for the block at
// height h on the working tree and returns its block events. Callers hold
// b.mu.
func (b *Backend) tick(h int64) ([]apitype.Event, error) {
	const op = "apitest.tick"
	w := newWork(b.tree, h)
	accts := newAccounts(b, op)
	out, err := jobs.Tick(marketEnv(w, accts))
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Internal, err)
	}
	if err := accts.flush(); err != nil {
		return nil, err
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	evs := make([]apitype.Event, len(out))
	for i, e := range out {
		evs[i] = eventOf(e)
	}
	return evs, nil
}

// Request is a Request message: run contract (name@range) fn(input).
func Request(contract, fn string, input []byte, gasLimit, price, reward uint64, replicas, quorum uint32, deadline int64) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Request{Request: &txpb.Request{Contract: contract, Fn: fn, Input: input,
		GasLimit: gasLimit, Price: price, Reward: reward, Replicas: replicas, Quorum: quorum, Deadline: deadline}}}
}
