package chain

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/explorer"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// indexVersion is the format of the index database. Version 1 (no
// version key) held only tx hashes; version 2 adds the explorer keys
// below. An index of another version is re-derived from the block store
// on open (see upgrade).
const indexVersion = 2

// Keys of the explorer part of the index. Heights and minutes are 8-byte
// big-endian, so a prefix iterates in time order.
var (
	keyVersion   = []byte("v") // → 1 byte, indexVersion
	prefixAcct   = []byte("a") // + address(20) + height → the account's tx indexes in the block (see appendIndexes)
	prefixTime   = []byte("b") // + height → block time, unix ms (8 bytes)
	prefixStats  = []byte("s") // + len(name)(1) + name + minute (unix s) → explorer.Stats
	prefixResult = []byte("r") // + len(name)(1) + name + height + seq(8) → JSON apitype.ContractResult
)

// derivedPrefixes are the keys an upgrade deletes before re-indexing: all
// that is derived by read-modify-write or would go stale.
var derivedPrefixes = [][]byte{prefixAcct, prefixTime, prefixStats, prefixResult}

// upgrade brings db to indexVersion. A fresh database just gets the
// version key. One written by another version loses its derived keys and
// its "indexed through" height in one synced batch, with the new version,
// so the indexer re-indexes from the block store's base on start (tx keys
// are rewritten idempotently); a crash during the re-index resumes it as
// any catch-up.
func upgrade(db *guardedDB) (bool, error) {
	v, err := db.Get(keyVersion)
	if err != nil {
		return false, err
	}
	if len(v) == 1 && v[0] == indexVersion {
		return false, nil
	}
	done, err := db.Get(keyIndexed)
	if err != nil {
		return false, err
	}
	batch := db.NewBatch()
	defer batch.Close()
	if done != nil {
		for _, p := range derivedPrefixes {
			if err := deletePrefix(db, batch, p); err != nil {
				return false, err
			}
		}
		if err := batch.Delete(keyIndexed); err != nil {
			return false, err
		}
	}
	if err := batch.Set(keyVersion, []byte{indexVersion}); err != nil {
		return false, err
	}
	return done != nil, batch.WriteSync()
}

func deletePrefix(db *guardedDB, batch dbm.Batch, p []byte) error {
	it, err := db.Iterator(p, prefixEnd(p))
	if err != nil {
		return err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if err := batch.Delete(append([]byte(nil), it.Key()...)); err != nil {
			return err
		}
	}
	return it.Error()
}

// explore adds height h's explorer keys to batch: its time, each tx
// under every account it touched (IsAddressAttr over its events; a failed
// tx, which has no events, under its signer), and each result_committed
// event — of the block's txs and of the block itself (settlements and
// expiries at the start of a block) — to its contract's minute stats and
// recent results. Stats are read, added to and written back; the stored
// Through height makes a block count once even if re-indexed. The caller
// writes batch with "indexed through" h, so a lost batch loses all of it.
func (x *index) explore(batch dbm.Batch, h int64, blk *cmttypes.Block, resp *abcitypes.FinalizeBlockResponse) error {
	ms := blk.Time.UnixMilli()
	tv := make([]byte, 8)
	binary.BigEndian.PutUint64(tv, uint64(ms))
	if err := batch.Set(heightKey(prefixTime, h), tv); err != nil {
		return err
	}
	var (
		touched []crypto.Address
		byAcct  = map[crypto.Address][]uint32{} // account → its tx indexes in this block, ascending
		deltas  map[string]*explorer.Stats
		names   []string
	)
	addResults := func(evs []abcitypes.Event) error {
		for _, e := range evs {
			if e.Type != explorer.EventResult {
				continue
			}
			r, ok := explorer.ParseResult(func(k string) string { return attrOf(e.Attributes, k) })
			if !ok || len(r.Name) > 255 {
				continue
			}
			latency, known := int64(0), true
			if r.Included != h {
				inc, err := x.db.Get(heightKey(prefixTime, r.Included))
				if err != nil {
					return err
				}
				if known = len(inc) == 8; known {
					latency = ms - int64(binary.BigEndian.Uint64(inc))
				}
			}
			if deltas == nil {
				deltas = map[string]*explorer.Stats{}
			}
			for _, key := range append([]string{r.Name}, minerKeys(r.Miners)...) {
				d := deltas[key]
				if d == nil {
					d = &explorer.Stats{}
					deltas[key] = d
					names = append(names, key)
				}
				d.Add(r, latency, known)
			}
			row := apitype.ContractResult{RequestID: r.ID, Contract: r.Name + "@" + r.Version, Fn: r.Fn, Status: r.Status,
				ExecStatus: r.ExecStatus, GasUsed: r.GasUsed, Seq: r.Seq, Height: h, Included: r.Included,
				Time: blk.Time.UTC().Format(time.RFC3339Nano), LatencyMS: -1}
			if known {
				row.LatencyMS = latency
			}
			v, err := json.Marshal(row)
			if err != nil {
				return err
			}
			k := append(nameKey(prefixResult, r.Name), make([]byte, 16)...)
			binary.BigEndian.PutUint64(k[len(k)-16:], uint64(h))
			binary.BigEndian.PutUint64(k[len(k)-8:], r.Seq)
			if err := batch.Set(k, v); err != nil {
				return err
			}
		}
		return nil
	}
	if err := addResults(resp.Events); err != nil {
		return err
	}
	for i, t := range blk.Txs {
		touched = touched[:0]
		var res *abcitypes.ExecTxResult
		if i < len(resp.TxResults) {
			res = resp.TxResults[i]
		}
		if res != nil {
			for _, e := range res.Events {
				for _, a := range e.Attributes {
					if !explorer.IsAddressAttr(a.Key, a.Value) {
						continue
					}
					var addr crypto.Address
					if _, err := hex.Decode(addr[:], []byte(a.Value)); err == nil {
						touched = addOnce(touched, addr)
					}
				}
			}
			if res.Code == 0 {
				if err := addResults(res.Events); err != nil {
					return err
				}
			}
		}
		if res == nil || res.Code != 0 {
			if s, err := tx.Decode(t, x.chainID); err == nil {
				touched = addOnce(touched, s.Signer)
			}
		}
		for _, a := range touched {
			byAcct[a] = append(byAcct[a], uint32(i))
		}
	}
	// One key per account and block: an account in many txs of a block
	// (a busy sender, a miner) costs one key, not one per tx. The batch
	// copies keys and values, so one buffer of each serves all.
	key := make([]byte, 0, len(prefixAcct)+20+8)
	var val []byte
	for a, is := range byAcct {
		key = binary.BigEndian.AppendUint64(append(append(key[:0], prefixAcct...), a[:]...), uint64(h))
		val = appendIndexes(val[:0], is)
		if err := batch.Set(key, val); err != nil {
			return err
		}
	}
	minute := explorer.MinuteOf(blk.Time.Unix())
	for _, name := range names {
		k := binary.BigEndian.AppendUint64(nameKey(prefixStats, name), uint64(minute))
		var cur explorer.Stats
		old, err := x.db.Get(k)
		if err != nil {
			return err
		}
		if old != nil {
			if err := cur.UnmarshalBinary(old); err != nil {
				// Never stall the indexer (and every commit waiter) on a
				// damaged record: that minute restarts from this block.
				x.log.Warn("explorer: damaged stats record replaced", "contract", name, "minute", minute, "err", err)
				cur = explorer.Stats{}
			}
		}
		if cur.Through >= h {
			continue // this block is already counted
		}
		cur.Merge(deltas[name])
		cur.Through = h
		v, err := cur.MarshalBinary()
		if err != nil {
			return err
		}
		if err := batch.Set(k, v); err != nil {
			return err
		}
	}
	return nil
}

// AccountTxs returns addr's history: the committed txs it took part in
// (see apitype.AccountTx), newest first, strictly before the cursor
// (q.BeforeHeight, q.BeforeIndex) when set, at most q.Limit (0 = 20,
// max 100). Next is set when more may follow. An account with no history
// answers an empty list. Errors: Invalid (limit, negative cursor),
// Unavailable.
func (n *Node) AccountTxs(ctx context.Context, addr crypto.Address, q apitype.TxQuery) (apitype.TxList, error) {
	const op = "chain.account_txs"
	if err := n.ready(op); err != nil {
		return apitype.TxList{}, err
	}
	limit, err := explorer.PageLimit(op, q.Limit)
	if err != nil {
		return apitype.TxList{}, err
	}
	if q.BeforeHeight < 0 {
		return apitype.TxList{}, vmerr.E(op, vmerr.Invalid, "before height %d is negative", q.BeforeHeight)
	}
	start := append(append([]byte{}, prefixAcct...), addr[:]...)
	end := prefixEnd(start)
	if q.BeforeHeight > 0 { // through the cursor's block; its later indexes are skipped below
		end = binary.BigEndian.AppendUint64(append([]byte{}, start...), uint64(q.BeforeHeight)+1)
	}
	type pos struct {
		h int64
		i uint32
	}
	var ps []pos
	it, err := n.idx.db.ReverseIterator(start, end)
	if err != nil {
		return apitype.TxList{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	defer it.Close()
	for ; it.Valid() && len(ps) <= limit; it.Next() {
		k := it.Key()[len(start):]
		if len(k) != 8 {
			continue
		}
		h := int64(binary.BigEndian.Uint64(k))
		is, err := readIndexes(it.Value())
		if err != nil {
			return apitype.TxList{}, vmerr.Wrap(op, vmerr.Internal, err)
		}
		for j := len(is) - 1; j >= 0 && len(ps) <= limit; j-- {
			if h == q.BeforeHeight && is[j] >= q.BeforeIndex {
				continue
			}
			ps = append(ps, pos{h, is[j]})
		}
	}
	if err := it.Error(); err != nil {
		return apitype.TxList{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	out := apitype.TxList{Address: addr.String(), Txs: []apitype.AccountTx{}}
	if len(ps) > limit {
		ps = ps[:limit]
		last := ps[limit-1]
		out.Next = explorer.Cursor(last.h, uint64(last.i))
	}
	var b *indexedBlock
	for _, p := range ps {
		if ctx.Err() != nil {
			return apitype.TxList{}, vmerr.Wrap(op, vmerr.Timeout, ctx.Err())
		}
		if b == nil || b.blk == nil || b.blk.Height != p.h {
			if b, err = n.idx.block(p.h); err != nil {
				return apitype.TxList{}, vmerr.Wrap(op, vmerr.Internal, err)
			}
		}
		if b.blk == nil || int(p.i) >= len(b.blk.Txs) {
			continue // pruned from the block store
		}
		raw := b.blk.Txs[p.i]
		t := apitype.AccountTx{Hash: tx.HashOf(raw).String(), Height: p.h, Index: p.i,
			Time: b.blk.Time.UTC().Format(time.RFC3339Nano)}
		if b.resp != nil && int(p.i) < len(b.resp.TxResults) {
			r := b.resp.TxResults[p.i]
			t.Code, t.Log, t.Events = r.Code, r.Log, eventsOf(r.Events)
		}
		if s, err := tx.Decode(raw, n.chainID); err == nil {
			if js, err := protojson.Marshal(s.Body); err == nil {
				t.Body = js
			}
		}
		out.Txs = append(out.Txs, t)
	}
	return out, nil
}

// ContractStats returns the results of contract name (any version)
// settled in the window q (see explorer.Window; defaults end at the
// latest indexed block), per step, with totals. A contract with no
// results (or none at all) answers empty buckets. Errors: Invalid (bad
// name, window: see explorer.Window), Unavailable.
func (n *Node) ContractStats(_ context.Context, name string, q apitype.StatsQuery) (apitype.ContractStats, error) {
	const op = "chain.contract_stats"
	if err := n.ready(op); err != nil {
		return apitype.ContractStats{}, err
	}
	if err := contract.ValidName(name); err != nil {
		return apitype.ContractStats{}, vmerr.E(op, vmerr.Invalid, "%w", err)
	}
	return n.stats(op, name, q)
}

// MinerStats returns the jobs miner addr was paid for in the window q,
// per step, with totals, as ContractStats counts calls; Name is the
// address. Errors: Invalid (window), Unavailable.
func (n *Node) MinerStats(_ context.Context, addr crypto.Address, q apitype.StatsQuery) (apitype.ContractStats, error) {
	const op = "chain.miner_stats"
	if err := n.ready(op); err != nil {
		return apitype.ContractStats{}, err
	}
	st, err := n.stats(op, explorer.MinerKey(addr.String()), q)
	st.Name = addr.String()
	return st, err
}

// stats reads the minute stats kept under name over q's window.
func (n *Node) stats(op, name string, q apitype.StatsQuery) (apitype.ContractStats, error) {
	var latest int64
	if v, err := n.idx.db.Get(heightKey(prefixTime, n.idx.height())); err != nil {
		return apitype.ContractStats{}, vmerr.Wrap(op, vmerr.Internal, err)
	} else if len(v) == 8 {
		latest = int64(binary.BigEndian.Uint64(v)) / 1000
	}
	q, nb, err := explorer.Window(op, q, latest)
	if err != nil {
		return apitype.ContractStats{}, err
	}
	p := nameKey(prefixStats, name)
	var minutes []explorer.MinuteStats
	err = n.forward(binary.BigEndian.AppendUint64(append([]byte{}, p...), uint64(q.From)),
		binary.BigEndian.AppendUint64(append([]byte{}, p...), uint64(q.To)), func(k, v []byte) error {
			var m explorer.MinuteStats
			if err := m.Stats.UnmarshalBinary(v); err != nil {
				return err
			}
			m.Start = int64(binary.BigEndian.Uint64(k[len(p):]))
			minutes = append(minutes, m)
			return nil
		})
	if err != nil {
		return apitype.ContractStats{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	return explorer.Build(name, q, nb, minutes), nil
}

// ContractResults returns the latest results of contract name (any
// version), newest first, strictly before the cursor (q.BeforeHeight,
// q.BeforeSeq) when set, at most q.Limit (0 = 20, max 100). Next is set
// when more may follow. Errors: Invalid (bad name, limit, negative
// cursor), Unavailable.
func (n *Node) ContractResults(_ context.Context, name string, q apitype.ResultQuery) (apitype.ContractResultList, error) {
	const op = "chain.contract_results"
	if err := n.ready(op); err != nil {
		return apitype.ContractResultList{}, err
	}
	limit, err := explorer.ResultsQuery(op, name, q)
	if err != nil {
		return apitype.ContractResultList{}, err
	}
	start := nameKey(prefixResult, name)
	end := prefixEnd(start)
	if q.BeforeHeight > 0 {
		end = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(append([]byte{}, start...), uint64(q.BeforeHeight)), q.BeforeSeq)
	}
	out := apitype.ContractResultList{Name: name, Results: []apitype.ContractResult{}}
	err = n.reverse(start, end, limit+1, func(_, v []byte) error {
		var r apitype.ContractResult
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		out.Results = append(out.Results, r)
		return nil
	})
	if err != nil {
		return apitype.ContractResultList{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	if len(out.Results) > limit {
		out.Results = out.Results[:limit]
		last := out.Results[limit-1]
		out.Next = explorer.Cursor(last.Height, last.Seq)
	}
	return out, nil
}

// reverse calls f on at most limit entries of [start, end), last first.
func (n *Node) reverse(start, end []byte, limit int, f func(k, v []byte) error) error {
	it, err := n.idx.db.ReverseIterator(start, end)
	if err != nil {
		return err
	}
	defer it.Close()
	for i := 0; it.Valid() && i < limit; it.Next() {
		if err := f(it.Key(), it.Value()); err != nil {
			return err
		}
		i++
	}
	return it.Error()
}

// forward calls f on every entry of [start, end) in order.
func (n *Node) forward(start, end []byte, f func(k, v []byte) error) error {
	it, err := n.idx.db.Iterator(start, end)
	if err != nil {
		return err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if err := f(it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}

// appendIndexes appends the encoding of ascending tx indexes: the first
// as a uvarint, each next as the uvarint of its difference.
func appendIndexes(b []byte, is []uint32) []byte {
	prev := uint32(0)
	for _, i := range is {
		b = binary.AppendUvarint(b, uint64(i-prev))
		prev = i
	}
	return b
}

// readIndexes decodes appendIndexes' encoding. Errors: a bad varint or
// an index over 2^32−1.
func readIndexes(b []byte) ([]uint32, error) {
	var out []uint32
	var cur uint64
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 || cur+d > 1<<32-1 {
			return nil, errors.New("chain: corrupt account history entry")
		}
		cur += d
		out = append(out, uint32(cur))
		b = b[n:]
	}
	return out, nil
}

func heightKey(p []byte, h int64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, len(p)+8), p...), uint64(h))
}

// nameKey is p + len(name) + name (names are at most 255 bytes).
func nameKey(p []byte, name string) []byte {
	k := make([]byte, 0, len(p)+1+len(name)+16)
	k = append(append(k, p...), byte(len(name)))
	return append(k, name...)
}

// prefixEnd is the first key after every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte{}, p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func attrOf(attrs []abcitypes.EventAttribute, key string) string {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

func addOnce(s []crypto.Address, a crypto.Address) []crypto.Address {
	for _, b := range s {
		if b == a {
			return s
		}
	}
	return append(s, a)
}

// minerKeys are the stats names of the miners paid for a result.
func minerKeys(miners []string) []string {
	out := make([]string, len(miners))
	for i, m := range miners {
		out[i] = explorer.MinerKey(m)
	}
	return out
}
