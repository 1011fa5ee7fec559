// Package apitest owns an in-memory api.Backend for tests of the API, its
// client and the CLI. It is a small but real ledger — accounts, transfers,
// the devnet faucet, fees, nonces, signature checks, and the contract
// registry (deploy with metering, composites, yank, owners, range
// resolution: api.ContractBackend), the miner registry
// (api.MinerBackend) and the execution market (requests, seals, reveals,
// results and the start-of-block tick run by package jobs, as the ledger
// runs them: api.MarketBackend) — over an in-memory IAVL tree with the ledger's
// state keys, so accounts and registry records come with genuine ICS23
// proofs that state.VerifyLocation accepts, plus blocks, a tx index
// and an event feed.
// It is not a node: each accepted transaction gets its own block at once,
// and there is no consensus. internal/chain.Node is the real Backend.
package apitest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/cosmos/iavl"
	dbm "github.com/cosmos/iavl/db"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// Config sets up a Backend.
type Config struct {
	ChainID      string // default "vm-test"
	MinFee       uint64 // fee every tx pays, except faucet-only txs (fee 0 allowed)
	Faucet       bool   // enable the faucet message
	FaucetSupply uint64 // GAS in the faucet pool at genesis; default 1e15
	FaucetMax    uint64 // largest faucet amount per message; default 1e9
	SubBuffer    int    // blocks buffered per subscriber before it is dropped; default 64
	// DeployFeePerKiB is charged per started KiB of a Deploy's payload on
	// top of MinFee (contract.DeployFee).
	DeployFeePerKiB uint64
	MaxCodeSize     int // largest module a Deploy may carry; default tx.MaxCodeSize
	// IDCreateFee is charged per Request to create an ID on top of MinFee
	// (jobs.IDCreateFees).
	IDCreateFee uint64
}

// genesisTime is block 1's time; block h is h-1 seconds later.
var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Backend is the in-memory node. All methods are safe for concurrent use.
type Backend struct {
	cfg Config

	mu     sync.Mutex
	tree   *iavl.MutableTree
	blocks []apitype.Block // blocks[h-1] is block h
	txs    map[tx.Hash]apitype.Tx
	subs   map[*sub]struct{}
	fault  error
	closed bool
	// blockEvents are the market's start-of-block events (tick) of the
	// block being built, published with it.
	blockEvents []apitype.Event
	explore     explore // the explorer index (explorer.go)
}

type sub struct{ ch chan apitype.BlockEvents }

// FaucetPool is the module account the faucet pays from.
func FaucetPool() crypto.Address { return state.ModuleAddress("faucet") }

// FeeCollector is the module account fees go to.
func FeeCollector() crypto.Address { return state.ModuleAddress("fees") }

// New builds a Backend at height 1: genesis state (the funded faucet pool)
// committed as version 1, block 1 empty.
func New(cfg Config) (*Backend, error) {
	if cfg.ChainID == "" {
		cfg.ChainID = "vm-test"
	}
	if cfg.FaucetSupply == 0 {
		cfg.FaucetSupply = 1e15
	}
	if cfg.FaucetMax == 0 {
		cfg.FaucetMax = 1e9
	}
	if cfg.SubBuffer <= 0 {
		cfg.SubBuffer = 64
	}
	if cfg.MaxCodeSize <= 0 || cfg.MaxCodeSize > tx.MaxCodeSize {
		cfg.MaxCodeSize = tx.MaxCodeSize
	}
	b := &Backend{cfg: cfg, tree: iavl.NewMutableTree(dbm.NewMemDB(), 0, true, iavl.NewNopLogger()),
		txs: map[tx.Hash]apitype.Tx{}, subs: map[*sub]struct{}{}}
	if err := b.put(FaucetPool(), state.Account{Balance: cfg.FaucetSupply}); err != nil {
		return nil, err
	}
	if _, err := b.commit(nil, nil); err != nil {
		return nil, err
	}
	return b, nil
}

// ChainID is the chain id transactions must name.
func (b *Backend) ChainID() string { return b.cfg.ChainID }

// SetFault makes every Backend method fail with err until it is called
// with nil: a way to test how callers handle a node that is down.
func (b *Backend) SetFault(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fault = err
}

// Close ends every subscription. Later Subscribe calls fail Unavailable.
func (b *Backend) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.ch)
	}
}

// SubmitTx decodes and checks raw (CheckTx: size, structure, chain id,
// signature); a failure answers a SubmitResult with the error's kind as
// Code. A passing tx is executed in a new block at once; its result code
// is reported only with waitCommit, as a node reports CheckTx only. The
// bytes of a tx already committed answer its recorded result.
func (b *Backend) SubmitTx(ctx context.Context, raw []byte, waitCommit bool) (apitype.SubmitResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return apitype.SubmitResult{}, err
	}
	hash := tx.HashOf(raw)
	s, err := tx.Decode(raw, b.cfg.ChainID)
	if err == nil {
		err = s.VerifySignature()
	}
	if err != nil {
		return apitype.SubmitResult{Hash: hash.String(), Code: uint32(vmerr.KindOf(err)), Log: err.Error()}, nil
	}
	// Resubmitting a tx whose nonce is used answers its recorded result, as
	// on a node; a refused tx consumed no nonce, so its bytes run again.
	prev, seen := b.txs[hash]
	if seen && (prev.Code == 0 || b.nonceUsed(s)) {
		return apitype.SubmitResult{Hash: prev.Hash, Code: prev.Code, Log: prev.Log, Height: prev.Height}, nil
	}
	if b.blockEvents, err = b.tick(int64(len(b.blocks)) + 1); err != nil {
		return apitype.SubmitResult{}, err
	}
	events, err := b.apply(s)
	result := apitype.TxResult{Hash: hash.String(), Events: events}
	if err != nil {
		result.Code, result.Log, result.Events = uint32(vmerr.KindOf(err)), err.Error(), nil
	}
	blk, err := b.commit([][]byte{raw}, []apitype.TxResult{result})
	if err != nil {
		return apitype.SubmitResult{}, err
	}
	body, _ := protojson.Marshal(s.Body)
	result.Height = blk.Height
	if !seen || result.Code == 0 { // a failed re-inclusion never replaces the earlier entry
		b.txs[hash] = apitype.Tx{Hash: result.Hash, Height: blk.Height, Code: result.Code, Log: result.Log,
			Events: result.Events, Tx: hex.EncodeToString(raw), Body: body}
	}
	if !waitCommit {
		return apitype.SubmitResult{Hash: result.Hash}, nil
	}
	return apitype.SubmitResult{Hash: result.Hash, Code: result.Code, Log: result.Log, Height: blk.Height}, nil
}

// nonceUsed reports whether s's signer has moved past s's nonce.
func (b *Backend) nonceUsed(s *tx.Signed) bool {
	v, err := b.tree.Get(state.AccountKey(s.Signer))
	if err != nil {
		return false
	}
	acc, err := state.DecodeAccount(v)
	return err == nil && acc.Nonce > s.Body.Nonce
}

// Account returns addr's account at height (0 = latest). With prove, the
// Location proves the account key (or its absence) against the root of
// that version, and the block height+1 whose header commits that root is
// produced (empty) if it does not exist yet. A height above the latest is
// NotFound.
func (b *Backend) Account(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Account, error) {
	const op = "apitest.account"
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return apitype.Account{}, err
	}
	latest := int64(len(b.blocks))
	if height == 0 {
		height = latest
	}
	if height < 0 || height > latest {
		return apitype.Account{}, vmerr.E(op, vmerr.NotFound, "no state at height %d (latest %d)", height, latest)
	}
	it, err := b.tree.GetImmutable(height)
	if err != nil {
		return apitype.Account{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	key := state.AccountKey(addr)
	val, err := it.Get(key)
	if err != nil {
		return apitype.Account{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	acc, err := state.DecodeAccount(val)
	if err != nil {
		return apitype.Account{}, err
	}
	out := apitype.Account{Address: addr.String(), Balance: strconv.FormatUint(acc.Balance, 10), Nonce: acc.Nonce, Height: height}
	if !prove {
		return out, nil
	}
	proof, err := it.GetProof(key)
	if err != nil {
		return apitype.Account{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	pb, err := proof.Marshal()
	if err != nil {
		return apitype.Account{}, vmerr.Wrap(op, vmerr.Internal, err)
	}
	out.Location = &apitype.Location{ChainID: b.cfg.ChainID, Height: height, Namespace: state.NamespaceAccounts,
		Key: hex.EncodeToString(key), Value: hex.EncodeToString(val), AppHash: hex.EncodeToString(it.Hash()),
		Proof: hex.EncodeToString(pb)}
	if height == latest {
		if _, err := b.commit(nil, nil); err != nil {
			return apitype.Account{}, err
		}
	}
	return out, nil
}

// Block returns block height (0 = latest); NotFound beyond the latest.
func (b *Backend) Block(ctx context.Context, height int64) (apitype.Block, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return apitype.Block{}, err
	}
	if height == 0 {
		height = int64(len(b.blocks))
	}
	if height < 1 || height > int64(len(b.blocks)) {
		return apitype.Block{}, vmerr.E("apitest.block", vmerr.NotFound, "no block at height %d (latest %d)", height, len(b.blocks))
	}
	return b.blocks[height-1], nil
}

// Tx returns a committed tx; NotFound for an unknown hash.
func (b *Backend) Tx(ctx context.Context, hash tx.Hash) (apitype.Tx, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return apitype.Tx{}, err
	}
	t, ok := b.txs[hash]
	if !ok {
		return apitype.Tx{}, vmerr.E("apitest.tx", vmerr.NotFound, "no committed tx %s", hash)
	}
	return t, nil
}

// Status describes the chain.
func (b *Backend) Status(ctx context.Context) (apitype.Status, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return apitype.Status{}, err
	}
	last := b.blocks[len(b.blocks)-1]
	st := apitype.Status{ChainID: b.cfg.ChainID, NodeVersion: "apitest", LatestHeight: last.Height,
		LatestBlockHash: last.Hash, LatestAppHash: last.AppHash, LatestBlockTime: last.Time, Validators: 1,
		FaucetEnabled: b.cfg.Faucet, MinFee: strconv.FormatUint(b.cfg.MinFee, 10),
		DeployFeePerKiB: strconv.FormatUint(b.cfg.DeployFeePerKiB, 10), MaxCodeSize: b.cfg.MaxCodeSize,
		IDCreateFee: strconv.FormatUint(b.cfg.IDCreateFee, 10)}
	if b.cfg.Faucet {
		st.FaucetAddress = FaucetPool().String()
	}
	return st, nil
}

// Subscribe streams each new block with its tx results, one BlockEvents
// per block (shared by subscribers, not to be modified). The channel is
// closed when ctx ends, when Close is called, or when the subscriber falls
// SubBuffer blocks behind (it is dropped rather than slowing the chain).
func (b *Backend) Subscribe(ctx context.Context) (<-chan apitype.BlockEvents, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(ctx); err != nil {
		return nil, err
	}
	if b.closed {
		return nil, vmerr.E("apitest.subscribe", vmerr.Unavailable, "backend closed")
	}
	s := &sub{ch: make(chan apitype.BlockEvents, b.cfg.SubBuffer)}
	b.subs[s] = struct{}{}
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.drop(s)
	})
	return s.ch, nil
}

// Subscribers is the number of live subscriptions.
func (b *Backend) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

func (b *Backend) check(ctx context.Context) error {
	if b.fault != nil {
		return b.fault
	}
	if err := ctx.Err(); err != nil {
		return vmerr.Wrap("apitest", vmerr.Timeout, err)
	}
	return nil
}

func (b *Backend) drop(s *sub) {
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.ch)
	}
}

func (b *Backend) publish(ev apitype.BlockEvents) {
	for s := range b.subs {
		select {
		case s.ch <- ev:
		default:
			b.drop(s)
		}
	}
}

// apply executes s against the working tree, all or nothing. On error the
// working tree is unchanged.
func (b *Backend) apply(s *tx.Signed) ([]apitype.Event, error) {
	const op = "apitest.apply"
	accts := newAccounts(b, op)
	get, move, touched := accts.get, accts.move, accts.touched
	body := s.Body
	signer, err := get(s.Signer)
	if err != nil {
		return nil, err
	}
	if body.Nonce != signer.Nonce {
		return nil, vmerr.E(op, vmerr.BadNonce, "nonce %d, account %s expects %d", body.Nonce, s.Signer, signer.Nonce)
	}
	faucetOnly := true
	for _, m := range body.Msgs {
		if m.GetFaucet() == nil {
			faucetOnly = false
		}
	}
	if body.Fee < b.cfg.MinFee && !(faucetOnly && b.cfg.Faucet && body.Fee == 0) {
		return nil, vmerr.E(op, vmerr.InsufficientFunds, "fee %d below the minimum %d", body.Fee, b.cfg.MinFee)
	}
	extra, err := registry.DeployFees(b.cfg.DeployFeePerKiB, body)
	if err != nil {
		return nil, err
	}
	ids, err := jobs.IDCreateFees(b.cfg.IDCreateFee, body)
	if err != nil {
		return nil, err
	}
	if need := b.cfg.MinFee + extra + ids; extra+ids > 0 && body.Fee < need {
		return nil, vmerr.E(op, vmerr.Invalid, "fee %d is below the required %d (minimum %d, plus %d per started KiB deployed, plus %d per ID created)",
			body.Fee, need, b.cfg.MinFee, b.cfg.DeployFeePerKiB, b.cfg.IDCreateFee)
	}
	w := newWork(b.tree, int64(len(b.blocks))+1)
	events := []apitype.Event{{Type: "tx", Attributes: map[string]string{"signer": s.Signer.String(), "nonce": strconv.FormatUint(body.Nonce, 10)}}}
	if body.Fee > 0 {
		if err := move(s.Signer, FeeCollector(), body.Fee); err != nil {
			return nil, err
		}
		events = append(events, apitype.Event{Type: "fee", Attributes: map[string]string{"payer": s.Signer.String(), "amount": strconv.FormatUint(body.Fee, 10)}})
	}
	for i, m := range body.Msgs {
		switch {
		case m.GetTransfer() != nil:
			t := m.GetTransfer()
			to, _ := crypto.AddressFromBytes(t.To)
			if err := move(s.Signer, to, t.Amount); err != nil {
				return nil, vmerr.E(op, vmerr.KindOf(err), "message %d: %w", i, err)
			}
			events = append(events, apitype.Event{Type: "transfer", Attributes: map[string]string{"from": s.Signer.String(), "to": to.String(), "amount": strconv.FormatUint(t.Amount, 10)}})
		case m.GetFaucet() != nil:
			f := m.GetFaucet()
			if !b.cfg.Faucet {
				return nil, vmerr.E(op, vmerr.Disabled, "message %d: the faucet is disabled on this chain", i)
			}
			if f.Amount > b.cfg.FaucetMax {
				return nil, vmerr.E(op, vmerr.Limit, "message %d: faucet amount %d over the cap %d", i, f.Amount, b.cfg.FaucetMax)
			}
			to, _ := crypto.AddressFromBytes(f.To)
			if err := move(FaucetPool(), to, f.Amount); err != nil {
				return nil, vmerr.E(op, vmerr.KindOf(err), "message %d: %w", i, err)
			}
			events = append(events, apitype.Event{Type: "faucet", Attributes: map[string]string{"to": to.String(), "amount": strconv.FormatUint(f.Amount, 10)}})
		default:
			ev, ok, err := b.applyRegistry(w, s.Signer, m)
			if !ok {
				ev, ok, err = applyMiners(w, s.Signer, m)
			}
			evs := []apitype.Event{ev}
			if !ok {
				evs, ok, err = applyMarket(w, accts, s, i, m)
			}
			if !ok {
				err = vmerr.E(op, vmerr.Invalid, "unknown message type")
			}
			if err != nil {
				return nil, vmerr.E(op, vmerr.KindOf(err), "message %d: %w", i, err)
			}
			events = append(events, evs...)
		}
	}
	acc, err := get(s.Signer)
	if err != nil {
		return nil, err
	}
	acc.Nonce++
	touched[s.Signer] = acc
	if err := accts.flush(); err != nil {
		return nil, err
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	return events, nil
}

func (b *Backend) put(a crypto.Address, acc state.Account) error {
	if _, err := b.tree.Set(state.AccountKey(a), acc.Encode()); err != nil {
		return vmerr.Wrap("apitest.put", vmerr.Internal, err)
	}
	return nil
}

// commit saves the working tree as the next version and appends its block,
// whose header carries the previous version's root (CometBFT's rule: block
// h commits the app hash of state after block h-1), then publishes it.
func (b *Backend) commit(raw [][]byte, results []apitype.TxResult) (apitype.Block, error) {
	prev := b.tree.Hash() // root of the last saved version
	if _, _, err := b.tree.SaveVersion(); err != nil {
		return apitype.Block{}, vmerr.Wrap("apitest.commit", vmerr.Internal, err)
	}
	h := int64(len(b.blocks)) + 1
	blk := apitype.Block{Height: h, Time: genesisTime.Add(time.Duration(h-1) * time.Second).Format(time.RFC3339),
		AppHash: hex.EncodeToString(prev), Proposer: FaucetPool().String(), NumTxs: len(raw), TxHashes: []string{}}
	hh := sha256.New()
	_ = binary.Write(hh, binary.BigEndian, h)
	hh.Write(prev)
	for _, r := range raw {
		th := tx.HashOf(r)
		blk.TxHashes = append(blk.TxHashes, th.String())
		hh.Write(th[:])
	}
	blk.Hash = fmt.Sprintf("%X", hh.Sum(nil))
	b.blocks = append(b.blocks, blk)
	ev := apitype.BlockEvents{Block: blk, Txs: make([]apitype.TxResult, len(results)), Events: b.blockEvents}
	b.blockEvents = nil
	for i, r := range results {
		r.Height = h
		r.Index = uint32(i)
		ev.Txs[i] = r
	}
	b.record(blk, blockTime(h), raw, ev.Txs, ev.Events)
	b.publish(ev)
	return blk, nil
}

// Sign builds and signs a tx for this chain: a helper for tests.
func (b *Backend) Sign(k crypto.PrivKey, nonce, fee uint64, msgs ...*txpb.Msg) ([]byte, error) {
	return signBody(b.cfg.ChainID, k, nonce, fee, msgs...)
}

func signBody(chainID string, k crypto.PrivKey, nonce, fee uint64, msgs ...*txpb.Msg) ([]byte, error) {
	return tx.Sign(&txpb.TxBody{ChainId: chainID, Nonce: nonce, Fee: fee, Msgs: msgs}, k)
}

// Transfer is a Transfer message.
func Transfer(to crypto.Address, amount uint64) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: to[:], Amount: amount}}}
}

// Faucet is a Faucet message.
func Faucet(to crypto.Address, amount uint64) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Faucet{Faucet: &txpb.Faucet{To: to[:], Amount: amount}}}
}

// Deploy is a Deploy message publishing code (a module) or, when code is
// nil, manifest (a composite) as name@version.
func Deploy(name, version string, code, manifest []byte) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Deploy{Deploy: &txpb.Deploy{Name: name, Version: version, Code: code, Manifest: manifest}}}
}

// Yank is a Yank message (with undo, an un-yank).
func Yank(name, version string, undo bool) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Yank{Yank: &txpb.Yank{Name: name, Version: version, Undo: undo}}}
}

// AddMaintainer is a ContractOwners message adding one maintainer.
func AddMaintainer(name string, who crypto.Address) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_ContractOwners{ContractOwners: &txpb.ContractOwners{Name: name, Add: [][]byte{who[:]}}}}
}

// EchoModule is a Host ABI v1 module exporting "echo" (output = input)
// and one more function named extra (so modules differ by extra).
func EchoModule(extra string) []byte {
	i32 := wt.I32
	m := wt.New()
	inLen := m.Import("vm", "input_len", nil, []byte{i32})
	inRead := m.Import("vm", "input_read", []byte{i32}, nil)
	out := m.Import("vm", "output_write", []byte{i32, i32}, nil)
	m.Memory(1, 1)
	m.Export("echo", m.Func(nil, nil, nil, wt.Code{}.I32(0).Call(inRead).I32(0).Call(inLen).Call(out)))
	m.Export(extra, m.Func(nil, nil, nil, wt.Code{}))
	return m.Bytes()
}

// accounts caches the accounts one transaction (or one block's market
// tick) touches; flush writes them back.
type accounts struct {
	b       *Backend
	op      string
	touched map[crypto.Address]state.Account
}

func newAccounts(b *Backend, op string) *accounts {
	return &accounts{b: b, op: op, touched: map[crypto.Address]state.Account{}}
}

func (x *accounts) get(a crypto.Address) (state.Account, error) {
	if acc, ok := x.touched[a]; ok {
		return acc, nil
	}
	v, err := x.b.tree.Get(state.AccountKey(a))
	if err != nil {
		return state.Account{}, vmerr.Wrap(x.op, vmerr.Internal, err)
	}
	return state.DecodeAccount(v)
}

// move debits from and credits to with checked arithmetic.
func (x *accounts) move(from, to crypto.Address, amount uint64) error {
	src, err := x.get(from)
	if err != nil {
		return err
	}
	if src.Balance < amount {
		return vmerr.E(x.op, vmerr.InsufficientFunds, "%s has %d GAS, needs %d", from, src.Balance, amount)
	}
	src.Balance -= amount
	x.touched[from] = src
	dst, err := x.get(to)
	if err != nil {
		return err
	}
	if dst.Balance+amount < dst.Balance {
		return vmerr.E(x.op, vmerr.Overflow, "balance of %s overflows", to)
	}
	dst.Balance += amount
	x.touched[to] = dst
	return nil
}

// Move and Balance make accounts the market's jobs.Bank.
func (x *accounts) Move(_ string, from, to crypto.Address, amount uint64) error {
	if amount == 0 {
		return nil
	}
	return x.move(from, to, amount)
}

func (x *accounts) Balance(addr crypto.Address) (uint64, error) {
	a, err := x.get(addr)
	return a.Balance, err
}

func (x *accounts) flush() error {
	for a, v := range x.touched {
		if err := x.b.put(a, v); err != nil {
			return err
		}
	}
	return nil
}
