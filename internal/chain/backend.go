package chain

import (
	"context"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/mempool"
	cmtversion "github.com/cometbft/cometbft/version"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// SubmitTx runs CheckTx through the mempool. A tx the application rejects
// is not an error: the result carries its code and log. With waitCommit it
// then waits until the tx is in a committed, indexed block and returns
// the block's result for it (code, log, height). Errors: Invalid (empty),
// TooLarge, Unavailable (not running, mempool full, stopped while
// waiting), Timeout (ctx ended or Options.CommitTimeout passed before the
// block). A tx already committed
// earlier answers with its recorded result.
func (n *Node) SubmitTx(ctx context.Context, b []byte, waitCommit bool) (apitype.SubmitResult, error) {
	const op = "chain.submit_tx"
	if err := n.ready(op); err != nil {
		return apitype.SubmitResult{}, err
	}
	if len(b) == 0 {
		return apitype.SubmitResult{}, vmerr.E(op, vmerr.Invalid, "empty transaction")
	}
	if len(b) > n.cfg.Mempool.MaxTxBytes {
		return apitype.SubmitResult{}, vmerr.E(op, vmerr.TooLarge, "transaction is %d bytes, limit %d", len(b), n.cfg.Mempool.MaxTxBytes)
	}
	h := tx.HashOf(b)
	var done <-chan txResult
	if waitCommit {
		ch, cancel := n.idx.wait(h)
		defer cancel()
		done = ch
	}
	out, pending, err := n.checkTx(b, h)
	if err != nil || !pending {
		return out, err
	}
	if !waitCommit {
		return out, nil
	}
	timer := time.NewTimer(n.opts.CommitTimeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return submitResult(out, r), nil
	case <-n.idx.stopped:
		return out, vmerr.E(op, vmerr.Unavailable, "node stopped before tx %s was committed", out.Hash)
	case <-ctx.Done():
		return out, vmerr.E(op, vmerr.Timeout, "tx %s accepted but not committed yet: %w", out.Hash, ctx.Err())
	case <-timer.C:
		return out, vmerr.E(op, vmerr.Timeout, "tx %s accepted but not committed within %s", out.Hash, n.opts.CommitTimeout)
	}
}

// rejected answers a tx CheckTx refused with code. A tx committed before a
// restart (or evicted from the mempool cache) comes back as a used nonce:
// then its recorded result is the answer.
func (n *Node) rejected(out apitype.SubmitResult, h tx.Hash, code uint32, log string) (apitype.SubmitResult, bool, error) {
	if vmerr.Kind(code) == vmerr.BadNonce {
		r, ok, err := n.committedResult(h)
		if err != nil {
			return out, false, vmerr.Wrap("chain.submit_tx", vmerr.Internal, err)
		}
		if ok {
			return submitResult(out, r), false, nil
		}
	}
	out.Code, out.Log = code, log
	return out, false, nil
}

// checkTx runs b (hash h) through the mempool. pending reports a tx that
// is accepted and not known to be committed yet; otherwise out is final
// (rejected, or the recorded result of a tx committed earlier).
func (n *Node) checkTx(b []byte, h tx.Hash) (out apitype.SubmitResult, pending bool, err error) {
	const op = "chain.submit_tx"
	out = apitype.SubmitResult{Hash: h.String()}
	rr, err := n.cmt.Mempool().CheckTx(b, "")
	if err == nil {
		rr.Wait()
		err = rr.Error()
		if res := rr.Response.GetCheckTx(); err == nil && res != nil && res.Code != 0 {
			return n.rejected(out, h, res.Code, res.Log)
		}
	}
	var (
		full    mempool.ErrMempoolIsFull
		large   mempool.ErrTxTooLarge
		invalid mempool.ErrInvalidTx
	)
	switch {
	case err == nil:
	case errors.As(err, &invalid):
		return n.rejected(out, h, invalid.Code, invalid.Log)
	case errors.Is(err, mempool.ErrTxInCache), errors.Is(err, mempool.ErrTxInMempool):
		if r, ok, lerr := n.committedResult(h); lerr != nil {
			return out, false, vmerr.Wrap(op, vmerr.Internal, lerr)
		} else if ok {
			return submitResult(out, r), false, nil
		}
		out.Log = "already in the mempool"
	case errors.As(err, &full), errors.Is(err, mempool.ErrRecheckFull):
		return out, false, vmerr.Wrap(op, vmerr.Unavailable, err)
	case errors.As(err, &large):
		return out, false, vmerr.Wrap(op, vmerr.TooLarge, err)
	default:
		return out, false, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	return out, true, nil
}

// SubmitTxs is SubmitTx for many txs at once: they go through the mempool
// in order, and with waitCommit every tx's wait is registered before the
// first check, then all are awaited together. The answer has one result
// per tx, in order; a failure of one tx (rejected, mempool full, too
// large, not committed before ctx or Options.CommitTimeout ended) is its
// result's nonzero Code (the vmerr.Kind) and Log, not an error. Errors:
// Unavailable when the node is not running.
func (n *Node) SubmitTxs(ctx context.Context, txs [][]byte, waitCommit bool) ([]apitype.SubmitResult, error) {
	const op = "chain.submit_txs"
	if err := n.ready(op); err != nil {
		return nil, err
	}
	out := make([]apitype.SubmitResult, len(txs))
	dones := make([]<-chan txResult, len(txs))
	hashes := make([]tx.Hash, len(txs))
	var cancels []func()
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	for i, b := range txs {
		hashes[i] = tx.HashOf(b)
		if waitCommit {
			ch, cancel := n.idx.wait(hashes[i])
			cancels = append(cancels, cancel)
			dones[i] = ch
		}
	}
	if pv, ok := n.app.(PreVerifier); ok {
		pv.PreVerify(txs)
	}
	for i, b := range txs {
		var (
			pending bool
			err     error
		)
		switch {
		case len(b) == 0:
			err = vmerr.E(op, vmerr.Invalid, "empty transaction")
		case len(b) > n.cfg.Mempool.MaxTxBytes:
			err = vmerr.E(op, vmerr.TooLarge, "transaction is %d bytes, limit %d", len(b), n.cfg.Mempool.MaxTxBytes)
		default:
			out[i], pending, err = n.checkTx(b, hashes[i])
		}
		if err != nil {
			out[i] = apitype.SubmitResult{Hash: hashes[i].String(), Code: uint32(vmerr.KindOf(err)), Log: err.Error()}
		}
		if !pending {
			dones[i] = nil
		}
	}
	if !waitCommit {
		return out, nil
	}
	timer := time.NewTimer(n.opts.CommitTimeout)
	defer timer.Stop()
	for i, done := range dones {
		if done == nil {
			continue
		}
		select {
		case r := <-done:
			out[i] = submitResult(out[i], r)
			continue
		case <-n.idx.stopped:
			out[i].Code, out[i].Log = uint32(vmerr.Unavailable), "node stopped before the tx was committed"
		case <-ctx.Done():
			out[i].Code, out[i].Log = uint32(vmerr.Timeout), "accepted but not committed yet: "+ctx.Err().Error()
		case <-timer.C:
			out[i].Code, out[i].Log = uint32(vmerr.Timeout), "accepted but not committed within "+n.opts.CommitTimeout.String()
		}
		// Whatever ended the wait ends it for the rest too; a tx whose
		// result is already in hand still gets it.
		for j := i + 1; j < len(dones); j++ {
			if dones[j] == nil {
				continue
			}
			select {
			case r := <-dones[j]:
				out[j] = submitResult(out[j], r)
			default:
				out[j].Code, out[j].Log = out[i].Code, out[i].Log
			}
			dones[j] = nil
		}
		break
	}
	return out, nil
}

// PreVerifier is implemented by an application that can check many
// transactions' signatures at once more cheaply than CheckTx checks them
// one by one (internal/ledger's App). SubmitTxs hands it each batch before
// the batch goes through the mempool; it must change no state and no
// outcome, only what CheckTx has to redo.
type PreVerifier interface {
	PreVerify(txs [][]byte)
}

func submitResult(out apitype.SubmitResult, r txResult) apitype.SubmitResult {
	out.Height = r.height
	if r.res != nil {
		out.Code, out.Log = r.res.Code, r.res.Log
	}
	return out
}

// committedResult returns the recorded outcome of a committed tx.
func (n *Node) committedResult(h tx.Hash) (txResult, bool, error) {
	height, i, ok, err := n.idx.lookup(h)
	if err != nil || !ok {
		return txResult{}, false, err
	}
	resp, err := n.idx.results(height)
	if err != nil {
		return txResult{}, false, err
	}
	r := txResult{height: height, index: i}
	if int(i) < len(resp.TxResults) {
		r.res = resp.TxResults[i]
	}
	return r, true, nil
}

// Account returns addr's balance and nonce at height (0 = latest
// committed). With prove, Location holds the ICS23 proof and the app hash
// it verifies against: the app hash in the header of block height+1, or,
// when that block does not exist yet, the app hash CometBFT's state holds
// for the next header (the same bytes, since a header's app hash is the
// state's app hash after the previous block). Errors: Invalid (negative
// height), NotFound (height above the chain or pruned), Unavailable.
func (n *Node) Account(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Account, error) {
	const op = "chain.account"
	res, err := n.query(ctx, op, "/account", addr[:], height, prove)
	if err != nil {
		return apitype.Account{}, err
	}
	acc, err := state.DecodeAccount(res.Value)
	if err != nil {
		return apitype.Account{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	out := apitype.Account{Address: addr.String(), Balance: strconv.FormatUint(acc.Balance, 10), Nonce: acc.Nonce, Height: res.Height}
	if prove {
		if out.Location, err = n.location(op, state.NamespaceAccounts, res); err != nil {
			return apitype.Account{}, err
		}
		// The key is the account's by construction, whatever the app echoed.
		out.Location.Key = hex.EncodeToString(state.AccountKey(addr))
	}
	return out, nil
}

// appHashAfter is the app hash of the state after block h.
func (n *Node) appHashAfter(h int64) ([]byte, error) {
	if m := n.cmt.BlockStore().LoadBlockMeta(h + 1); m != nil {
		return m.Header.AppHash, nil
	}
	st, err := n.env.StateStore.Load()
	if err != nil {
		return nil, err
	}
	if st.LastBlockHeight == h {
		return st.AppHash, nil
	}
	if m := n.cmt.BlockStore().LoadBlockMeta(h + 1); m != nil { // committed meanwhile
		return m.Header.AppHash, nil
	}
	return nil, errors.New("no app hash known for the state after height " + strconv.FormatInt(h, 10))
}

// Block returns the block at height (0 = latest). Errors: Invalid
// (negative), NotFound (not stored), Unavailable.
func (n *Node) Block(_ context.Context, height int64) (apitype.Block, error) {
	const op = "chain.block"
	if err := n.ready(op); err != nil {
		return apitype.Block{}, err
	}
	if height < 0 {
		return apitype.Block{}, vmerr.E(op, vmerr.Invalid, "height %d is negative", height)
	}
	bs := n.cmt.BlockStore()
	if height == 0 {
		height = bs.Height()
	}
	if height == 0 || height < bs.Base() || height > bs.Height() {
		return apitype.Block{}, vmerr.E(op, vmerr.NotFound, "no block at height %d (have %d..%d)", height, bs.Base(), bs.Height())
	}
	blk, meta := bs.LoadBlock(height)
	if blk == nil {
		return apitype.Block{}, vmerr.E(op, vmerr.NotFound, "no block at height %d", height)
	}
	hashes := make([]tx.Hash, len(blk.Txs))
	for i, t := range blk.Txs {
		hashes[i] = tx.HashOf(t)
	}
	return blockOf(blk, meta, hashes), nil
}

// Tx returns a committed transaction by hash, with its result and its
// decoded body when it decodes. Errors: NotFound, Unavailable.
func (n *Node) Tx(_ context.Context, hash tx.Hash) (apitype.Tx, error) {
	const op = "chain.tx"
	if err := n.ready(op); err != nil {
		return apitype.Tx{}, err
	}
	height, i, ok, err := n.idx.lookup(hash)
	if err != nil {
		return apitype.Tx{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	if !ok {
		return apitype.Tx{}, vmerr.E(op, vmerr.NotFound, "no committed tx %s", hash)
	}
	b, err := n.idx.block(height)
	if err != nil {
		return apitype.Tx{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	r := txResult{height: height, index: i}
	if b.resp != nil && int(i) < len(b.resp.TxResults) {
		r.res = b.resp.TxResults[i]
	}
	blk := b.blk
	if blk == nil || int(r.index) >= len(blk.Txs) {
		return apitype.Tx{}, vmerr.E(op, vmerr.NotFound, "tx %s: block %d is not stored", hash, r.height)
	}
	raw := blk.Txs[r.index]
	out := apitype.Tx{Hash: hash.String(), Height: r.height, Index: r.index, Tx: hex.EncodeToString(raw)}
	if r.res != nil {
		out.Code, out.Log, out.Events = r.res.Code, r.res.Log, eventsOf(r.res.Events)
	}
	if s, err := tx.Decode(raw, n.chainID); err == nil {
		if js, err := protojson.Marshal(s.Body); err == nil {
			out.Body = js
		}
	}
	return out, nil
}

// Status reports the chain id, the latest block and the node's state.
// LatestAppHash is the app hash of the state after LatestHeight (the one
// the next header will carry). FaucetEnabled, FaucetAddress and MinFee are
// the application's and left empty here (internal/node fills them).
// Errors: Unavailable.
func (n *Node) Status(_ context.Context) (apitype.Status, error) {
	const op = "chain.status"
	if err := n.ready(op); err != nil {
		return apitype.Status{}, err
	}
	st, err := n.env.StateStore.Load()
	if err != nil {
		return apitype.Status{}, vmerr.Wrap(op, vmerr.Unavailable, err)
	}
	out := apitype.Status{ChainID: n.chainID, NodeVersion: "cometbft/" + cmtversion.CMTSemVer,
		LatestHeight: st.LastBlockHeight, LatestAppHash: hex.EncodeToString(st.AppHash),
		CatchingUp: n.cmt.ConsensusReactor().WaitSync(), MempoolSize: n.cmt.Mempool().Size()}
	if st.Validators != nil {
		out.Validators = st.Validators.Size()
	}
	if st.LastBlockHeight > 0 {
		out.LatestBlockHash = hex.EncodeToString(st.LastBlockID.Hash)
		out.LatestBlockTime = st.LastBlockTime.UTC().Format(time.RFC3339Nano)
	}
	return out, nil
}

// Subscribe streams every block committed and indexed from now on, in
// height order, as one BlockEvents each: the block and the results of all
// its txs, in block order. Subscribers share the values and must not
// modify them. The channel closes when ctx ends, when the node stops, or
// when the reader falls Options.SubscriberBuf blocks behind (slow readers
// are dropped so they never hold up the chain; the buffer counts blocks,
// so a big block never drops anyone by itself). Errors: Unavailable.
func (n *Node) Subscribe(ctx context.Context) (<-chan apitype.BlockEvents, error) {
	const op = "chain.subscribe"
	if err := n.ready(op); err != nil {
		return nil, err
	}
	ch, ok := n.idx.subscribe(ctx)
	if !ok {
		return nil, vmerr.E(op, vmerr.Unavailable, "node is stopping")
	}
	return ch, nil
}

// Query runs an ABCI query against the application's latest state; it is
// for application-specific reads (e.g. "/params") the Backend does not
// cover. A nonzero result code is returned in the response, not as an
// error. Errors: Unavailable.
func (n *Node) Query(ctx context.Context, path string, data []byte) (code uint32, log string, value []byte, err error) {
	const op = "chain.query"
	if err := n.ready(op); err != nil {
		return 0, "", nil, err
	}
	res, err := n.cmt.ProxyApp().Query().Query(ctx, &abcitypes.QueryRequest{Path: path, Data: data})
	if err != nil {
		return 0, "", nil, vmerr.Wrap(op, vmerr.Unavailable, err)
	}
	return res.Code, res.Log, res.Value, nil
}

// MempoolSize is the number of transactions waiting in the mempool; 0
// when not running.
func (n *Node) MempoolSize() int {
	if !n.running.Load() {
		return 0
	}
	return n.cmt.Mempool().Size()
}

// WaitHeight waits until block h is committed and indexed (so its txs are
// found by hash and streamed). Errors: Timeout when ctx ends first,
// Unavailable when the node is not running.
func (n *Node) WaitHeight(ctx context.Context, h int64) error {
	const op = "chain.wait_height"
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if err := n.ready(op); err != nil {
			return err
		}
		if n.idx.height() >= h {
			return nil
		}
		select {
		case <-ctx.Done():
			return vmerr.E(op, vmerr.Timeout, "height %d not reached: %w", h, ctx.Err())
		case <-t.C:
		}
	}
}
