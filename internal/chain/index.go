package chain

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/tx"
)

// Keys of the chain's own index database (the explorer's are in
// explorer.go).
var (
	keyIndexed = []byte("h") // → 8-byte height indexed through
	prefixTx   = []byte("t") // + tx hash → 8-byte height, 4-byte index
)

// recentBlocks is how many of the latest indexed blocks the index keeps
// decoded (block, meta and FinalizeBlock results), so reading back a
// just-committed tx — what a miner does after every work transaction —
// does not load and decode its whole block and results again.
const recentBlocks = 8

// indexedBlock is one indexed height as the index decoded it. It is
// shared and never modified.
type indexedBlock struct {
	blk  *cmttypes.Block
	meta *cmttypes.BlockMeta
	resp *abcitypes.FinalizeBlockResponse
}

// txResult is where a committed tx landed and how it ended.
type txResult struct {
	height int64
	index  uint32
	res    *abcitypes.ExecTxResult
}

// index keeps hash → (height, index) for every committed transaction,
// written with one batch per block before anyone is told the block
// happened; after a crash, Start re-indexes from CometBFT's (synced) block
// and state stores before answering, so a tx reported committed can always
// be found by hash.
// It also feeds SubmitTx waiters and Subscribe streams. CometBFT's own
// indexer is off: it is not closed on Stop and is asynchronous to the
// events a waiter sees.
type index struct {
	db       *guardedDB
	blocks   *store.BlockStore
	states   sm.Store
	chainID  string
	bufSize  int
	onCommit func(Commit)
	log      *slog.Logger

	wake    chan struct{}
	stopped chan struct{} // closed by close

	mu      sync.Mutex
	target  int64 // highest height known committed
	done    int64 // highest height indexed
	waiters map[tx.Hash][]chan txResult
	subs    map[*subscriber]struct{}
	closed  bool
	recent  [recentBlocks]*indexedBlock // by height % recentBlocks
}

type subscriber struct {
	ch chan apitype.BlockEvents
}

func newIndex(db *guardedDB, blocks *store.BlockStore, states sm.Store, chainID string, bufSize int, onCommit func(Commit), log *slog.Logger) (*index, error) {
	reindex, err := upgrade(db)
	if err != nil {
		return nil, err
	}
	if reindex {
		log.Info("index format changed: re-indexing from the block store", "from", max(blocks.Base(), 1), "to", blocks.Height())
	}
	b, err := db.Get(keyIndexed)
	if err != nil {
		return nil, err
	}
	var done int64
	if len(b) == 8 {
		done = int64(binary.BigEndian.Uint64(b))
	}
	if base := blocks.Base(); done == 0 && base > 1 {
		done = base - 1
	}
	return &index{db: db, blocks: blocks, states: states, chainID: chainID, bufSize: bufSize, onCommit: onCommit, log: log,
		wake: make(chan struct{}, 1), stopped: make(chan struct{}), done: done,
		waiters: map[tx.Hash][]chan txResult{}, subs: map[*subscriber]struct{}{}}, nil
}

// committed records that height h is committed and wakes the indexer.
func (x *index) committed(h int64) {
	x.mu.Lock()
	if h > x.target {
		x.target = h
	}
	x.mu.Unlock()
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// height is the highest indexed height.
func (x *index) height() int64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.done
}

// catchUp indexes every committed height up to h not indexed yet; Start
// runs it before the node answers, so lookups never miss a block a crash
// left unindexed.
func (x *index) catchUp(h int64) error {
	x.committed(h)
	for i := x.height() + 1; i <= h; i++ {
		if err := x.indexHeight(i); err != nil {
			return err
		}
	}
	return nil
}

// run indexes committed heights until ctx ends.
func (x *index) run(ctx context.Context) {
	for {
		x.mu.Lock()
		from, to := x.done+1, x.target
		x.mu.Unlock()
		for h := from; h <= to && ctx.Err() == nil; h++ {
			if err := x.indexHeight(h); err != nil {
				x.log.Warn("index block", "height", h, "err", err)
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-x.wake:
		case <-time.After(time.Second):
		}
	}
}

// indexHeight writes height h's txs to the index, then notifies waiters
// and subscribers.
func (x *index) indexHeight(h int64) error {
	blk, meta := x.blocks.LoadBlock(h)
	if blk == nil {
		return fmt.Errorf("block %d not in the block store", h)
	}
	resp, err := x.states.LoadFinalizeBlockResponse(h)
	if err != nil {
		return err
	}
	batch := x.db.NewBatch()
	defer batch.Close()
	hashes, err := x.indexTxs(batch, h, blk, resp)
	if err != nil {
		return err
	}
	if err := x.explore(batch, h, blk, resp); err != nil {
		return err
	}
	hb := make([]byte, 8)
	binary.BigEndian.PutUint64(hb, uint64(h))
	if err := batch.Set(keyIndexed, hb); err != nil {
		return err
	}
	// No fsync: CometBFT has already synced the block and its results, and
	// on start catchUp re-indexes whatever a crash lost (pebble loses only
	// a suffix of batches, so "indexed through" never runs ahead).
	if err := batch.Write(); err != nil {
		return err
	}
	if x.onCommit != nil {
		c := Commit{Height: h, Time: blk.Time, Txs: make([][]byte, len(blk.Txs)), Codes: make([]uint32, len(blk.Txs))}
		for i, t := range blk.Txs {
			c.Txs[i] = t
			if i < len(resp.TxResults) {
				c.Codes[i] = resp.TxResults[i].Code
			}
		}
		x.onCommit(c)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.done = h
	x.recent[h%recentBlocks] = &indexedBlock{blk: blk, meta: meta, resp: resp}
	var ev apitype.BlockEvents
	if len(x.subs) > 0 {
		ev = apitype.BlockEvents{Block: blockOf(blk, meta, hashes), Txs: make([]apitype.TxResult, len(hashes)),
			Events: eventsOf(resp.Events)}
	}
	for i, hash := range hashes {
		var res *abcitypes.ExecTxResult
		if i < len(resp.TxResults) {
			res = resp.TxResults[i]
		}
		r := txResult{height: h, index: uint32(i), res: res}
		for _, w := range x.waiters[hash] {
			select {
			case w <- r:
			default:
			}
		}
		delete(x.waiters, hash)
		if ev.Txs != nil {
			ev.Txs[i] = txResultOf(hash, r)
		}
	}
	if len(x.subs) > 0 {
		x.publish(ev)
	}
	return nil
}

// indexTxs adds height h's hash → (height, index) keys to batch and
// returns the txs' hashes.
func (x *index) indexTxs(batch dbm.Batch, h int64, blk *cmttypes.Block, resp *abcitypes.FinalizeBlockResponse) ([]tx.Hash, error) {
	hashes := make([]tx.Hash, len(blk.Txs))
	var inBlock map[tx.Hash]bool // hashes this block already indexed; made on the first failure
	for i, t := range blk.Txs {
		hashes[i] = tx.HashOf(t)
		key := append(append([]byte{}, prefixTx...), hashes[i][:]...)
		if i < len(resp.TxResults) && resp.TxResults[i].Code != 0 {
			// The same bytes can be included again (a faulty proposer); a
			// failure never replaces an earlier entry, so a tx that
			// succeeded stays reported as it was. Only failures look.
			if inBlock == nil {
				inBlock = make(map[tx.Hash]bool)
				for _, p := range hashes[:i] {
					inBlock[p] = true
				}
			}
			if inBlock[hashes[i]] {
				continue
			}
			if old, err := x.db.Get(key); err != nil {
				return nil, err
			} else if old != nil {
				continue
			}
		}
		if inBlock != nil {
			inBlock[hashes[i]] = true
		}
		v := make([]byte, 12)
		binary.BigEndian.PutUint64(v, uint64(h))
		binary.BigEndian.PutUint32(v[8:], uint32(i))
		if err := batch.Set(key, v); err != nil {
			return nil, err
		}
	}
	return hashes, nil
}

// publish sends one block's events to every subscriber; one whose buffer
// (bufSize blocks) is full is dropped (its channel closed) so it never
// slows the chain. Subscribers share ev. Callers hold x.mu.
func (x *index) publish(ev apitype.BlockEvents) {
	for s := range x.subs {
		select {
		case s.ch <- ev:
		default:
			delete(x.subs, s)
			close(s.ch)
		}
	}
}

// block returns height h's block, meta and FinalizeBlock results: from
// the recent indexed blocks when h is one of them, else from CometBFT's
// stores. blk is nil when the block is not stored. The values are shared:
// callers must not modify them.
func (x *index) block(h int64) (*indexedBlock, error) {
	x.mu.Lock()
	b := x.recent[h%recentBlocks]
	x.mu.Unlock()
	if b != nil && b.blk.Height == h {
		return b, nil
	}
	blk, meta := x.blocks.LoadBlock(h)
	if blk == nil {
		return &indexedBlock{}, nil
	}
	resp, err := x.states.LoadFinalizeBlockResponse(h)
	if err != nil {
		return nil, err
	}
	return &indexedBlock{blk: blk, meta: meta, resp: resp}, nil
}

// results returns height h's FinalizeBlock results (see block).
func (x *index) results(h int64) (*abcitypes.FinalizeBlockResponse, error) {
	x.mu.Lock()
	b := x.recent[h%recentBlocks]
	x.mu.Unlock()
	if b != nil && b.blk.Height == h {
		return b.resp, nil
	}
	return x.states.LoadFinalizeBlockResponse(h)
}

// lookup finds a committed tx by hash.
func (x *index) lookup(h tx.Hash) (height int64, idx uint32, ok bool, err error) {
	v, err := x.db.Get(append(append([]byte{}, prefixTx...), h[:]...))
	if err != nil || len(v) != 12 {
		return 0, 0, false, err
	}
	return int64(binary.BigEndian.Uint64(v)), binary.BigEndian.Uint32(v[8:]), true, nil
}

// wait registers interest in h's commit; the returned func cancels it.
func (x *index) wait(h tx.Hash) (<-chan txResult, func()) {
	ch := make(chan txResult, 1)
	x.mu.Lock()
	x.waiters[h] = append(x.waiters[h], ch)
	x.mu.Unlock()
	return ch, func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		ws := x.waiters[h]
		for i, w := range ws {
			if w == ch {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(x.waiters, h)
		} else {
			x.waiters[h] = ws
		}
	}
}

// subscribe adds a stream that ends when ctx ends, when the index closes,
// or when the subscriber falls bufSize blocks behind.
func (x *index) subscribe(ctx context.Context) (<-chan apitype.BlockEvents, bool) {
	s := &subscriber{ch: make(chan apitype.BlockEvents, x.bufSize)}
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil, false
	}
	x.subs[s] = struct{}{}
	x.mu.Unlock()
	context.AfterFunc(ctx, func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		if _, ok := x.subs[s]; ok {
			delete(x.subs, s)
			close(s.ch)
		}
	})
	return s.ch, true
}

// close ends every stream.
func (x *index) close() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return
	}
	x.closed = true
	close(x.stopped)
	for s := range x.subs {
		delete(x.subs, s)
		close(s.ch)
	}
}

func blockOf(b *cmttypes.Block, meta *cmttypes.BlockMeta, hashes []tx.Hash) apitype.Block {
	hs := make([]string, len(hashes))
	for i, h := range hashes {
		hs[i] = h.String()
	}
	out := apitype.Block{Height: b.Height, Time: b.Time.UTC().Format(time.RFC3339Nano),
		AppHash: hex.EncodeToString(b.AppHash), Proposer: hex.EncodeToString(b.ProposerAddress),
		NumTxs: len(b.Txs), TxHashes: hs}
	if meta != nil {
		out.Hash = hex.EncodeToString(meta.BlockID.Hash)
	} else {
		out.Hash = hex.EncodeToString(b.Hash())
	}
	return out
}

func txResultOf(h tx.Hash, r txResult) apitype.TxResult {
	out := apitype.TxResult{Hash: h.String(), Height: r.height, Index: r.index}
	if r.res != nil {
		out.Code, out.Log, out.Events = r.res.Code, r.res.Log, eventsOf(r.res.Events)
	}
	return out
}

func eventsOf(evs []abcitypes.Event) []apitype.Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]apitype.Event, len(evs))
	for i, e := range evs {
		out[i].Type = e.Type
		if len(e.Attributes) > 0 {
			out[i].Attributes = make(map[string]string, len(e.Attributes))
			for _, a := range e.Attributes {
				out[i].Attributes[a.Key] = a.Value
			}
		}
	}
	return out
}
