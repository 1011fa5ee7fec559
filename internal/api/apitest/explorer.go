package apitest

import (
	"context"
	"encoding/hex"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/explorer"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// explore is the fake's explorer index, kept in memory from what each
// committed block recorded, by the same rules (package explorer) as the
// node's index: history per account in commit order, minute stats and
// results per contract name.
type explore struct {
	history map[crypto.Address][]apitype.AccountTx // oldest first
	minutes map[string]map[int64]*explorer.Stats   // name → minute → stats
	results map[string][]apitype.ContractResult    // name → oldest first
}

// record indexes block blk (time t) with its raw txs, their results and
// the block's own events. Callers hold b.mu.
func (b *Backend) record(blk apitype.Block, t time.Time, raw [][]byte, results []apitype.TxResult, blockEvents []apitype.Event) {
	x := &b.explore
	if x.history == nil {
		x.history, x.minutes, x.results = map[crypto.Address][]apitype.AccountTx{}, map[string]map[int64]*explorer.Stats{}, map[string][]apitype.ContractResult{}
	}
	h := blk.Height
	b.results(h, t, blockEvents)
	for i, r := range results {
		var touched []crypto.Address
		for _, e := range r.Events {
			for k, v := range e.Attributes {
				if explorer.IsAddressAttr(k, v) {
					var a crypto.Address
					if _, err := hex.Decode(a[:], []byte(v)); err == nil && !contains(touched, a) {
						touched = append(touched, a)
					}
				}
			}
		}
		at := apitype.AccountTx{Hash: r.Hash, Height: h, Index: uint32(i), Time: t.UTC().Format(time.RFC3339Nano),
			Code: r.Code, Log: r.Log, Events: r.Events}
		if s, err := tx.Decode(raw[i], b.cfg.ChainID); err == nil {
			at.Body, _ = protojson.Marshal(s.Body)
			if r.Code != 0 && !contains(touched, s.Signer) {
				touched = append(touched, s.Signer)
			}
		}
		for _, a := range touched {
			x.history[a] = append(x.history[a], at)
		}
		if r.Code == 0 {
			b.results(h, t, r.Events)
		}
	}
}

// results counts the result_committed events of evs, settled at height
// h, time t.
func (b *Backend) results(h int64, t time.Time, evs []apitype.Event) {
	x := &b.explore
	for _, e := range evs {
		if e.Type != explorer.EventResult {
			continue
		}
		r, ok := explorer.ParseResult(func(k string) string { return e.Attributes[k] })
		if !ok {
			continue
		}
		latency := t.Sub(blockTime(r.Included)).Milliseconds()
		minute := explorer.MinuteOf(t.Unix())
		keys := []string{r.Name}
		for _, a := range r.Miners {
			keys = append(keys, explorer.MinerKey(a))
		}
		for _, key := range keys {
			m := x.minutes[key]
			if m == nil {
				m = map[int64]*explorer.Stats{}
				x.minutes[key] = m
			}
			if m[minute] == nil {
				m[minute] = &explorer.Stats{}
			}
			m[minute].Add(r, latency, true)
			m[minute].Through = h
		}
		x.results[r.Name] = append(x.results[r.Name], apitype.ContractResult{RequestID: r.ID, Contract: r.Name + "@" + r.Version,
			Fn: r.Fn, Status: r.Status, ExecStatus: r.ExecStatus, GasUsed: r.GasUsed, Seq: r.Seq, Height: h,
			Included: r.Included, Time: t.UTC().Format(time.RFC3339Nano), LatencyMS: latency})
	}
}

// AccountTxs lists addr's history newest first (see api.ExplorerBackend).
// Errors: Invalid for a bad limit or a negative cursor.
func (b *Backend) AccountTxs(ctx context.Context, addr crypto.Address, q apitype.TxQuery) (apitype.TxList, error) {
	const op = "apitest.account_txs"
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return apitype.TxList{}, err
	}
	limit, err := explorer.PageLimit(op, q.Limit)
	if err != nil {
		return apitype.TxList{}, err
	}
	if q.BeforeHeight < 0 {
		return apitype.TxList{}, vmerr.E(op, vmerr.Invalid, "before height %d is negative", q.BeforeHeight)
	}
	out := apitype.TxList{Address: addr.String(), Txs: []apitype.AccountTx{}}
	hs := b.explore.history[addr]
	for i := len(hs) - 1; i >= 0; i-- {
		t := hs[i]
		if q.BeforeHeight > 0 && (t.Height > q.BeforeHeight || t.Height == q.BeforeHeight && t.Index >= q.BeforeIndex) {
			continue
		}
		if len(out.Txs) == limit {
			last := out.Txs[limit-1]
			out.Next = explorer.Cursor(last.Height, uint64(last.Index))
			break
		}
		out.Txs = append(out.Txs, t)
	}
	return out, nil
}

// ContractStats aggregates name's results over q's window (see
// api.ExplorerBackend); the default window ends with the latest block.
// Errors: Invalid for a bad name or window.
func (b *Backend) ContractStats(ctx context.Context, name string, q apitype.StatsQuery) (apitype.ContractStats, error) {
	const op = "apitest.contract_stats"
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return apitype.ContractStats{}, err
	}
	if err := contract.ValidName(name); err != nil {
		return apitype.ContractStats{}, vmerr.E(op, vmerr.Invalid, "%w", err)
	}
	return b.stats(op, name, q)
}

// MinerStats aggregates the results miner addr was paid for over q's
// window (see api.ExplorerBackend). Errors: Invalid for a bad window.
func (b *Backend) MinerStats(ctx context.Context, addr crypto.Address, q apitype.StatsQuery) (apitype.ContractStats, error) {
	const op = "apitest.miner_stats"
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return apitype.ContractStats{}, err
	}
	st, err := b.stats(op, explorer.MinerKey(addr.String()), q)
	st.Name = addr.String()
	return st, err
}

// stats builds the answer for the minutes kept under name. Callers hold
// b.mu.
func (b *Backend) stats(op, name string, q apitype.StatsQuery) (apitype.ContractStats, error) {
	q, n, err := explorer.Window(op, q, blockTime(int64(len(b.blocks))).Unix())
	if err != nil {
		return apitype.ContractStats{}, err
	}
	var ms []explorer.MinuteStats
	for start, s := range b.explore.minutes[name] {
		ms = append(ms, explorer.MinuteStats{Start: start, Stats: *s})
	}
	return explorer.Build(name, q, n, ms), nil
}

// ContractResults lists name's results newest first (see
// api.ExplorerBackend). Errors: Invalid for a bad name, limit or cursor.
func (b *Backend) ContractResults(ctx context.Context, name string, q apitype.ResultQuery) (apitype.ContractResultList, error) {
	const op = "apitest.contract_results"
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return apitype.ContractResultList{}, err
	}
	limit, err := explorer.ResultsQuery(op, name, q)
	if err != nil {
		return apitype.ContractResultList{}, err
	}
	out := apitype.ContractResultList{Name: name, Results: []apitype.ContractResult{}}
	rs := b.explore.results[name]
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		if q.BeforeHeight > 0 && (r.Height > q.BeforeHeight || r.Height == q.BeforeHeight && r.Seq >= q.BeforeSeq) {
			continue
		}
		if len(out.Results) == limit {
			last := out.Results[limit-1]
			out.Next = explorer.Cursor(last.Height, last.Seq)
			break
		}
		out.Results = append(out.Results, r)
	}
	return out, nil
}

func contains(s []crypto.Address, a crypto.Address) bool {
	for _, b := range s {
		if b == a {
			return true
		}
	}
	return false
}
