package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// FinalizeBlock applies the block's transactions in order to the working
// state and returns one result per transaction and the new app hash.
//
// A transaction is all or nothing: any failure (undecodable, wrong chain,
// bad signature, wrong nonce, fee below MinFee, insufficient funds,
// overflow, faucet disabled or over its cap) leaves state exactly as it
// was — no fee is taken and the nonce is not consumed — and its result
// carries Code = the error's vmerr.Kind, Codespace "vm" and the error text
// as Log. On success the fee moves to FeeCollector, the messages apply in
// order and the signer's nonce increments.
//
// Accounts touched in the block are cached and written once, in address
// order, at the end; a block with no successful transaction writes nothing,
// so the app hash does not change. A Go error is returned only when the
// node must stop: a height out of sequence, no genesis, or a storage
// failure.
func (a *App) FinalizeBlock(_ context.Context, req *abcitypes.FinalizeBlockRequest) (*abcitypes.FinalizeBlockResponse, error) {
	const op = "ledger.finalize_block"
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, vmerr.E(op, vmerr.Unavailable, "ledger is closed")
	}
	if !a.haveParams {
		return nil, vmerr.E(op, vmerr.Invalid, "block %d before genesis (InitChain)", req.Height)
	}
	want := a.committedHeight() + 1
	if want == 1 {
		want = max(a.initialHeight, 1)
	}
	if req.Height != want {
		return nil, vmerr.E(op, vmerr.Invalid, "block height %d, want %d", req.Height, want)
	}
	// A block finalized but never committed (e.g. a proposal re-run) is
	// discarded before this one is applied.
	if a.pending != nil {
		a.rollback()
	}

	checked := a.decodeAndVerify(req.Txs)
	b := newBlock(a, req.Height)
	b.time = req.Time.Unix()
	blockEvents, err := b.tick()
	if err != nil {
		a.rollback()
		return nil, vmerr.E(op, vmerr.Internal, "market tick: %w", err)
	}
	results := make([]*abcitypes.ExecTxResult, len(req.Txs))
	failed := 0
	for i, d := range checked {
		err := d.err
		var events []abcitypes.Event
		if err == nil {
			events, err = b.applyTx(d.s)
		}
		if fatal(err) {
			a.rollback()
			return nil, vmerr.E(op, vmerr.Internal, "tx %d: %w", i, err)
		}
		if err != nil {
			failed++
		}
		results[i] = txResult(err, events)
		if err == nil && workOnly(d.s.Body) {
			results[i].Log = jobs.WorkLog(refusedIndexes(events))
		}
	}
	hash, err := b.flush()
	if err != nil {
		a.rollback()
		return nil, err
	}
	a.pending = &pendingBlock{height: req.Height, appHash: hash}
	a.log.Debug("block finalized", "height", req.Height, "txs", len(req.Txs), "failed", failed,
		"accounts_touched", len(b.accts), "app_hash", fmt.Sprintf("%X", hash))
	return &abcitypes.FinalizeBlockResponse{TxResults: results, AppHash: hash, Events: blockEvents}, nil
}

// fatal reports whether err is a storage failure or a corrupt record: not
// the transaction's fault, so the block stops instead of recording it.
func fatal(err error) bool {
	var se *storageError
	var ce *registry.CorruptError
	return errors.As(err, &se) || errors.As(err, &ce)
}

func txResult(err error, events []abcitypes.Event) *abcitypes.ExecTxResult {
	if err != nil {
		return &abcitypes.ExecTxResult{Code: uint32(vmerr.KindOf(err)), Log: err.Error(), Codespace: Codespace}
	}
	return &abcitypes.ExecTxResult{Events: events}
}

// storageError marks a failure to read or decode stored state: not the
// transaction's fault, so FinalizeBlock stops instead of recording it.
type storageError struct{ err error }

func (e *storageError) Error() string { return "state storage: " + e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

// acct is a cached account: its value at the start of the block and now.
type acct struct {
	orig, cur state.Account
}

// faucetUse is a cached faucet record.
type faucetUse struct {
	orig, cur state.FaucetUse
}

// undo restores one cached value when a transaction fails: a generic key
// when kv is set, else a faucet record or an account.
type undo struct {
	addr   crypto.Address
	faucet bool
	acct   state.Account
	use    state.FaucetUse
	kv     string
	val    []byte
}

// block is the working state of one block: a write-back cache over the
// tree plus the undo journal of the transaction being applied.
type block struct {
	a       *App
	height  int64
	time    int64 // block time, unix seconds
	params  Params
	fees    crypto.Address // FeeCollector()
	pool    crypto.Address // FaucetPool()
	accts   map[crypto.Address]*acct
	faucets map[crypto.Address]*faucetUse
	kv      map[string]*kvEntry // contract registry keys, see kv.go
	journal []undo
}

func newBlock(a *App, height int64) *block {
	return &block{a: a, height: height, params: a.params, fees: a.fees, pool: a.pool,
		accts: make(map[crypto.Address]*acct), faucets: make(map[crypto.Address]*faucetUse),
		kv: make(map[string]*kvEntry)}
}

func (b *block) account(addr crypto.Address) (*acct, error) {
	if c, ok := b.accts[addr]; ok {
		return c, nil
	}
	raw, err := b.a.tree.Get(state.AccountKey(addr))
	if err != nil {
		return nil, &storageError{err}
	}
	v, err := state.DecodeAccount(raw)
	if err != nil {
		return nil, &storageError{err}
	}
	c := &acct{orig: v, cur: v}
	b.accts[addr] = c
	return c, nil
}

func (b *block) faucetUse(addr crypto.Address) (*faucetUse, error) {
	if c, ok := b.faucets[addr]; ok {
		return c, nil
	}
	raw, err := b.a.tree.Get(state.FaucetKey(addr))
	if err != nil {
		return nil, &storageError{err}
	}
	v, err := state.DecodeFaucetUse(raw)
	if err != nil {
		return nil, &storageError{err}
	}
	c := &faucetUse{orig: v, cur: v}
	b.faucets[addr] = c
	return c, nil
}

func (b *block) setAccount(addr crypto.Address, c *acct, v state.Account) {
	b.journal = append(b.journal, undo{addr: addr, acct: c.cur})
	c.cur = v
}

// move debits from and credits to with checked arithmetic. Errors:
// InsufficientFunds, Overflow, or a storage failure.
func (b *block) move(op string, from, to crypto.Address, amount uint64) error {
	src, err := b.account(from)
	if err != nil {
		return err
	}
	if src.cur.Balance < amount {
		return vmerr.E(op, vmerr.InsufficientFunds, "%s has %d GAS, needs %d", from, src.cur.Balance, amount)
	}
	b.setAccount(from, src, state.Account{Balance: src.cur.Balance - amount, Nonce: src.cur.Nonce})
	dst, err := b.account(to)
	if err != nil {
		return err
	}
	sum := dst.cur.Balance + amount
	if sum < dst.cur.Balance {
		return vmerr.E(op, vmerr.Overflow, "balance of %s would overflow", to)
	}
	b.setAccount(to, dst, state.Account{Balance: sum, Nonce: dst.cur.Nonce})
	return nil
}

// applyTx applies one decoded, signature-checked transaction atomically:
// on error every cached value it changed is restored.
func (b *block) applyTx(s *tx.Signed) (events []abcitypes.Event, err error) {
	b.journal = b.journal[:0]
	defer func() {
		if err != nil {
			b.rollback()
		}
	}()
	const op = "ledger.tx"
	body := s.Body
	signer, err := b.account(s.Signer)
	if err != nil {
		return nil, err
	}
	if body.Nonce != signer.cur.Nonce {
		return nil, vmerr.E(op, vmerr.BadNonce, "nonce %d for %s, expected %d", body.Nonce, s.Signer, signer.cur.Nonce)
	}
	if err := b.params.checkFee(body); err != nil {
		return nil, err
	}
	signerHex := s.Signer.String()
	events = make([]abcitypes.Event, 0, 2+len(body.Msgs))
	events = append(events, event("tx", "signer", signerHex, "nonce", strconv.FormatUint(body.Nonce, 10)))
	if body.Fee > 0 {
		if err := b.move("ledger.fee", s.Signer, b.fees, body.Fee); err != nil {
			return nil, err
		}
		events = append(events, event("fee", "payer", signerHex, "amount", strconv.FormatUint(body.Fee, 10)))
	}
	if workOnly(body) {
		events, err = b.applyWork(s, events)
	} else {
		events, err = b.applyMsgs(s, signerHex, events)
	}
	if err != nil {
		return nil, err
	}
	// signer is the cache entry: it includes what the messages paid the
	// signer itself.
	b.setAccount(s.Signer, signer, state.Account{Balance: signer.cur.Balance, Nonce: signer.cur.Nonce + 1})
	return events, nil
}

// applyMsgs applies s's messages in order, all or nothing (the caller
// rolls back on error), and appends their events.
func (b *block) applyMsgs(s *tx.Signed, signerHex string, events []abcitypes.Event) ([]abcitypes.Event, error) {
	const op = "ledger.tx"
	body := s.Body
	for i, m := range body.Msgs {
		evs, memo, ok, err := b.applyMarket(s, i, m)
		if !ok {
			var ev abcitypes.Event
			ev, err = b.applyMsg(s.Signer, signerHex, m)
			evs = []abcitypes.Event{ev}
		}
		if err != nil {
			return nil, vmerr.E(op, vmerr.KindOf(err), "message %d: %w", i, err)
		}
		events = append(events, evs...)
		if memo && len(body.Msgs) == 1 && body.Fee > 0 {
			// A request answered from a memo costs its requester exactly
			// market.MemoFee in total: the transaction fee goes back.
			if err := b.move("ledger.memo", b.fees, s.Signer, body.Fee); err != nil {
				return nil, err
			}
			events = append(events, event("fee_refund", "payer", signerHex, "amount", strconv.FormatUint(body.Fee, 10)))
		}
	}
	return events, nil
}

func (b *block) applyMsg(signer crypto.Address, signerHex string, m *txpb.Msg) (abcitypes.Event, error) {
	switch s := m.GetSum().(type) {
	case *txpb.Msg_Transfer:
		to, err := crypto.AddressFromBytes(s.Transfer.GetTo())
		if err != nil {
			return abcitypes.Event{}, vmerr.Wrap("ledger.transfer", vmerr.Invalid, err)
		}
		amount := s.Transfer.GetAmount()
		if err := b.move("ledger.transfer", signer, to, amount); err != nil {
			return abcitypes.Event{}, err
		}
		return event("transfer", "from", signerHex, "to", to.String(), "amount", strconv.FormatUint(amount, 10)), nil
	case *txpb.Msg_Faucet:
		to, err := crypto.AddressFromBytes(s.Faucet.GetTo())
		if err != nil {
			return abcitypes.Event{}, vmerr.Wrap("ledger.faucet", vmerr.Invalid, err)
		}
		amount := s.Faucet.GetAmount()
		if err := b.faucet(to, amount); err != nil {
			return abcitypes.Event{}, err
		}
		return event("faucet", "to", to.String(), "amount", strconv.FormatUint(amount, 10)), nil
	default:
		if ev, ok, err := b.applyRegistry(signer, m); ok {
			return ev, err
		}
		if ev, ok, err := b.applyMiners(signer, m); ok {
			return ev, err
		}
		return abcitypes.Event{}, vmerr.E("ledger.msg", vmerr.Invalid, "unknown or empty message type")
	}
}

// faucet pays amount from FaucetPool to to, within to's cap for the
// current window. Errors: Disabled, Limit, InsufficientFunds (pool empty).
func (b *block) faucet(to crypto.Address, amount uint64) error {
	const op = "ledger.faucet"
	p := b.params
	if !p.FaucetEnabled {
		return vmerr.E(op, vmerr.Disabled, "the faucet is disabled on this chain")
	}
	window := uint64(b.height / p.FaucetWindow)
	use, err := b.faucetUse(to)
	if err != nil {
		return err
	}
	used := use.cur.Used
	if use.cur.Window != window {
		used = 0
	}
	if amount > p.FaucetPerWindow || used > p.FaucetPerWindow-amount {
		return vmerr.E(op, vmerr.Limit, "%s has drawn %d of %d GAS this window (%d blocks); %d more is over the cap",
			to, used, p.FaucetPerWindow, p.FaucetWindow, amount)
	}
	if err := b.move(op, b.pool, to, amount); err != nil {
		return err
	}
	b.journal = append(b.journal, undo{addr: to, faucet: true, use: use.cur})
	use.cur = state.FaucetUse{Window: window, Used: used + amount}
	return nil
}

func (b *block) rollback() { b.rollbackTo(0) }

// rollbackTo undoes the journal back to its first n entries.
func (b *block) rollbackTo(n int) {
	for i := len(b.journal) - 1; i >= n; i-- {
		u := b.journal[i]
		if u.kv != "" {
			b.kv[u.kv].cur = u.val
		} else if u.faucet {
			b.faucets[u.addr].cur = u.use
		} else {
			b.accts[u.addr].cur = u.acct
		}
	}
	b.journal = b.journal[:n]
}

// flush writes every changed value to the tree in key order (the tree's
// shape, and so the app hash, depends on the order of writes) and returns
// the working hash.
func (b *block) flush() ([]byte, error) {
	type kv struct{ k, v []byte }
	var w []kv
	for addr, c := range b.accts {
		if c.cur != c.orig {
			w = append(w, kv{state.AccountKey(addr), c.cur.Encode()})
		}
	}
	for addr, c := range b.faucets {
		if c.cur != c.orig {
			w = append(w, kv{state.FaucetKey(addr), c.cur.Encode()})
		}
	}
	for k, e := range b.kv {
		if !bytes.Equal(e.cur, e.orig) || (e.cur == nil) != (e.orig == nil) {
			w = append(w, kv{[]byte(k), e.cur})
		}
	}
	slices.SortFunc(w, func(x, y kv) int { return bytes.Compare(x.k, y.k) })
	b.a.qmu.Lock()
	defer b.a.qmu.Unlock()
	for _, e := range w {
		var err error
		if e.v == nil {
			_, _, err = b.a.tree.Remove(e.k)
		} else {
			_, err = b.a.tree.Set(e.k, e.v)
		}
		if err != nil {
			return nil, vmerr.E("ledger.flush", vmerr.Internal, "write %X: %w", e.k, err)
		}
	}
	return b.a.tree.WorkingHash(), nil
}

func faucetOnly(body *txpb.TxBody) bool {
	for _, m := range body.Msgs {
		if m.GetFaucet() == nil {
			return false
		}
	}
	return len(body.Msgs) > 0
}

// event builds an ABCI event from key, value pairs; every attribute is
// indexed.
func event(typ string, kv ...string) abcitypes.Event {
	attrs := make([]abcitypes.EventAttribute, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		attrs = append(attrs, abcitypes.EventAttribute{Key: kv[i], Value: kv[i+1], Index: true})
	}
	return abcitypes.Event{Type: typ, Attributes: attrs}
}
