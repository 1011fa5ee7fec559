package miner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
	"google.golang.org/protobuf/proto"
)

// SoftwareVersion is this agent's version, for the miner registry.
const SoftwareVersion = "0.1.0"

// Batching and pipelining of work transactions.
const (
	// MaxBatchMsgs is the most work messages one transaction carries.
	MaxBatchMsgs = 200
	// MaxBatchBytes bounds the encoded messages of one transaction; a
	// single larger message (a big result) goes alone.
	MaxBatchBytes = 48 << 10
	// DefaultPipeline is how many work transactions are in flight at once.
	DefaultPipeline = 32
	// BatchLinger is how long a work transaction that is not full waits
	// for more messages before it is signed and sent.
	BatchLinger = 5 * time.Millisecond
	// DefaultBacklogPerSlot times Capacity is how many taken offers may
	// wait for a free execution slot.
	DefaultBacklogPerSlot = 4096
	// MaxBacklogBytes bounds the inputs (plus offerOverhead each) of the
	// offers waiting for a slot, whatever Backlog says.
	MaxBacklogBytes = 64 << 20
	// DefaultPollInterval paces the agent when the node's streams are down.
	DefaultPollInterval = time.Second
	// DrainTimeout is how long Close waits for transactions already
	// sent to reach a block (a few block intervals).
	DrainTimeout = 5 * time.Second
)

// takenMemory bounds how many request rounds the agent remembers having
// taken (so a re-sent offer is not run twice).
const takenMemory = 1 << 16

// Config configures an Agent. Client, Key are required.
type Config struct {
	Client          *client.Client
	Key             crypto.PrivKey // the miner's account: it registers, signs and is paid
	MinGas          uint64         // the least offer (market.Offer, in GAS) taken
	Kind            string         // cpu (default), gpu or browser
	Capacity        int            // requests executed at once, 1..tx.MaxMinerCapacity; 0 = 1
	Endpoint        string         // announced reachability URL, optional
	SoftwareVersion string         // announced software version, optional
	Logger          *slog.Logger   // nil: discard

	Runtime *wasm.Config // nil: wasm.DefaultConfig(), what the network meters with
	// Warm lists contracts (name@range) to compile when the agent starts,
	// in the background, so their first call does not wait seconds for the
	// compiler; WarmSystem is the usual list.
	Warm      []string
	CacheSize int // compiled modules kept; 0 = DefaultCacheSize
	// Backlog is how many taken offers may wait for a free execution slot
	// (0 = DefaultBacklogPerSlot × Capacity; their inputs are bounded by
	// MaxBacklogBytes too). An offer arriving when the backlog is full is
	// not taken; the agent then lists open requests at
	// the next block to find it again.
	Backlog      int
	Pipeline     int           // work transactions in flight; 0 = DefaultPipeline
	PollInterval time.Duration // 0 = DefaultPollInterval
	// CommitWindow is the commit window in blocks assumed for offers that
	// do not carry their own (0 = market.Default().CommitWindow). The
	// window opens with a round's first seal: a taken offer is skipped
	// when, by the time a slot is free, the block stream showed the
	// round's k-th seal, or its first seal CommitWindow blocks back, or
	// its deadline passed. Its seal could only be refused.
	CommitWindow int64

	// WrongResult is for tests: the agent corrupts every result it
	// computes (the first output byte flipped, or the gas used changed
	// when there is no output) before it seals or sends it, as a faulty
	// or dishonest miner would.
	WrongResult bool
	// Copy is for tests: the agent executes nothing and seals nothing; for
	// every request with a quorum above 1 it watches the blocks for
	// another miner's reveal and reveals the same result bytes under its
	// own name, as a copier would. The ledger refuses such reveals.
	Copy bool
}

// Stats are an agent's counters since Start.
type Stats struct {
	Offers      uint64 `json:"offers"`        // offers seen (the stream, and listings)
	Taken       uint64 `json:"taken"`         // request rounds taken: queued for execution (or, copying, watched)
	BelowMinGas uint64 `json:"below_min_gas"` // offers below MinGas, not taken
	NoCapacity  uint64 `json:"no_capacity"`   // offers not taken because the backlog was full
	Stale       uint64 `json:"stale"`         // taken offers skipped: their commit phase ended while queued
	Executed    uint64 `json:"executed"`      // executions that produced a result
	ExecFailed  uint64 `json:"exec_failed"`   // executions that failed (no result: nothing sent)
	Seals       uint64 `json:"seals"`         // seals the ledger accepted
	Reveals     uint64 `json:"reveals"`       // reveals the ledger accepted
	Results     uint64 `json:"results"`       // quorum-1 results the ledger accepted
	Refused     uint64 `json:"refused"`       // work messages the ledger refused (lost races, late, wrong)
	Txs         uint64 `json:"txs"`           // work transactions committed
	TxRetries   uint64 `json:"tx_retries"`    // transactions whose messages were sent again (nonce resync)
}

// Agent is a compute miner: it takes offers from one node, executes them
// with an Executor and posts seals, reveals and quorum-1 results. New is
// cheap; Start registers the miner and starts its goroutines; Close stops
// them.
type Agent struct {
	cfg  Config
	c    *client.Client
	addr crypto.Address
	log  *slog.Logger
	exec *Executor

	offers, taken, belowMin, noCapacity, stale, executed, execFailed atomic.Uint64
	seals, reveals, results, refused, txs, txRetries                 atomic.Uint64

	ready  chan struct{} // a queued offer may be waiting
	outbox chan work
	urgent chan work     // reveals, sent before the outbox
	kick   chan struct{} // wakes the sender for retries
	cancel context.CancelFunc
	// stopSends cancels the transactions in flight; Close calls it only
	// after a grace period, so work already sent is seen through.
	stopSends context.CancelFunc
	wg        sync.WaitGroup

	// Set by Start, read-only afterwards.
	chainID string
	fee     uint64

	mu       sync.Mutex
	started  bool
	height   int64
	heightCh chan struct{}             // closed when height grows
	takenIDs *lru[string, int64]       // request id → round start taken
	rounds   *lru[string, roundSeals]  // request id → its current round's seals seen
	pending  map[string]*pendingReveal // sealed (or sealing) rounds
	copies   map[string]int64          // Copy: request id → round start
	queue    backlog                   // taken offers waiting for a slot
	missed   bool                      // an offer was dropped: list at the next block
	streamUp bool                      // the offer stream is connected
	nonce    uint64                    // next nonce to sign with
	resync   bool                      // re-read the nonce before the next tx
	retry    []work                    // messages to send again
	copied   map[string]bool           // Copy: ids already revealed
}

// pendingReveal is a round this agent sealed and must reveal.
type pendingReveal struct {
	id       [32]byte
	start    int64
	replicas int   // k: the k-th seal closes the commit phase
	window   int64 // the commit window in blocks
	deadline int64
	seen     roundSeals // seals seen in this round's blocks (the block stream)
	raw      []byte
	sealed   bool  // the ledger accepted the seal
	sealedAt int64 // the committed height when it did
	inFlight bool  // a reveal is being sent
}

// windowBase is the height the round's commit window counts from: its
// first seal's block, or, when the stream did not show it, at most the
// block that accepted this agent's seal (0 while unknown).
func (p *pendingReveal) windowBase() int64 {
	if p.seen.first != 0 {
		return p.seen.first
	}
	return p.sealedAt
}

// roundSeals is what the block stream showed of a request's current round:
// how many seals, and the block of the first (0: none yet). The commit
// window opens with the first seal (market.Job.CommitEnd).
type roundSeals struct {
	n     int
	first int64
}

// commitClosed reports whether the block after committed height h can no
// longer accept a seal for r's round, as far as rs shows.
func commitClosed(r apitype.Request, rs roundSeals, window, h int64) bool {
	return h+1 > r.Deadline || (r.Replicas > 0 && rs.n >= int(r.Replicas)) || (rs.first != 0 && h+1 > rs.first+window)
}

// work is one message for the sender.
type work struct {
	msg      *txpb.Msg
	size     int
	id       string // request id, hex
	attempts int    // times sent without reaching a block
}

// New checks cfg and returns an Agent. Errors: Invalid for a missing
// client or key, a bad kind or capacity, a wrong runtime config.
func New(cfg Config) (*Agent, error) {
	const op = "miner.new"
	if cfg.Kind == "" {
		cfg.Kind = "cpu"
	}
	if cfg.Capacity == 0 {
		cfg.Capacity = 1
	}
	switch {
	case cfg.Client == nil:
		return nil, vmerr.E(op, vmerr.Invalid, "no client")
	case len(cfg.Key) != crypto.PrivKeySize:
		return nil, vmerr.E(op, vmerr.Invalid, "no key")
	case cfg.Kind != "cpu" && cfg.Kind != "gpu" && cfg.Kind != "browser":
		return nil, vmerr.E(op, vmerr.Invalid, "kind %q: a compute miner is cpu, gpu or browser", cfg.Kind)
	case cfg.Capacity < 1 || cfg.Capacity > tx.MaxMinerCapacity:
		return nil, vmerr.E(op, vmerr.Invalid, "capacity %d: want 1..%d", cfg.Capacity, tx.MaxMinerCapacity)
	case cfg.MinGas > tx.MaxAmount:
		return nil, vmerr.E(op, vmerr.Invalid, "min gas %d over %d", cfg.MinGas, uint64(tx.MaxAmount))
	}
	if cfg.Backlog <= 0 {
		cfg.Backlog = DefaultBacklogPerSlot * cfg.Capacity
	}
	if cfg.Pipeline <= 0 {
		cfg.Pipeline = DefaultPipeline
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.CommitWindow <= 0 {
		cfg.CommitWindow = market.Default().CommitWindow
	}
	if cfg.Runtime == nil {
		rc := wasm.DefaultConfig()
		cfg.Runtime = &rc
	}
	if err := cfg.Runtime.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	reg := &txpb.MinerRegister{Kind: cfg.Kind, Capacity: uint32(cfg.Capacity), Endpoint: cfg.Endpoint,
		MinGas: cfg.MinGas, SoftwareVersion: cfg.SoftwareVersion, Active: true}
	if err := tx.ValidateMinerRegister(reg); err != nil {
		return nil, err
	}
	return &Agent{cfg: cfg, c: cfg.Client, addr: cfg.Key.Address(), log: log.With("miner", cfg.Key.Address().String()),
		ready: make(chan struct{}, cfg.Capacity), outbox: make(chan work, 4*MaxBatchMsgs), urgent: make(chan work, 4*MaxBatchMsgs),
		kick: make(chan struct{}, 1), heightCh: make(chan struct{}), takenIDs: newLRU[string, int64](takenMemory), rounds: newLRU[string, roundSeals](takenMemory),
		pending: map[string]*pendingReveal{}, copies: map[string]int64{}, copied: map[string]bool{}}, nil
}

// WarmSystem is the Warm list of a miner on a network: the system
// contracts, which the IDChain makes the first thing people call.
func WarmSystem() []string { return []string{idchain.Contract + "@^1"} }

// nodeData is the state an agent runs requests against: its node's, read
// without proofs (client.DataNoProof says why that is safe).
type nodeData struct{ *client.Client }

func (d nodeData) Data(ctx context.Context, contract string, key []byte, height int64) (apitype.DataEntry, error) {
	return d.DataNoProof(ctx, contract, key, height)
}

// Address is the miner's address.
func (a *Agent) Address() crypto.Address { return a.addr }

// Start reads the chain's id and minimum fee, registers the miner (a
// MinerRegister transaction, waited for) unless its record already has
// these attributes and is active, and starts taking offers. ctx bounds
// only these start-up calls; the goroutines run until Close. Errors: the node's (unreachable, the
// registration refused — for example InsufficientFunds for its fee),
// Invalid when started twice.
func (a *Agent) Start(ctx context.Context) error {
	const op = "miner.start"
	a.mu.Lock()
	if a.started {
		a.mu.Unlock()
		return vmerr.E(op, vmerr.Invalid, "agent already started")
	}
	a.started = true
	a.mu.Unlock()
	st, err := a.c.Status(ctx)
	if err != nil {
		return err
	}
	fee, err := strconv.ParseUint(st.MinFee, 10, 64)
	if err != nil {
		return vmerr.E(op, vmerr.Decode, "node's min_fee %q: %w", st.MinFee, err)
	}
	a.chainID, a.fee = st.ChainID, fee
	a.setHeight(st.LatestHeight)
	if err := a.register(ctx); err != nil {
		return err
	}
	acc, err := a.c.AccountNoProof(ctx, a.addr, 0)
	if err != nil {
		return err
	}
	a.nonce = acc.Nonce
	if !a.cfg.Copy {
		if a.exec, err = NewExecutor(ctx, *a.cfg.Runtime, a.c, nodeData{a.c}, a.cfg.CacheSize); err != nil {
			return err
		}
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sctx, stopSends := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel, a.stopSends = cancel, stopSends
	a.spawn(func() { a.offerLoop(rctx) })
	a.spawn(func() { a.blockLoop(rctx) })
	a.spawn(func() { a.sendLoop(rctx, sctx) })
	if !a.cfg.Copy {
		for range a.cfg.Capacity {
			a.spawn(func() { a.worker(rctx) })
		}
		for _, ref := range a.cfg.Warm {
			a.spawn(func() {
				name, rng, _ := strings.Cut(ref, "@")
				if err := a.exec.Warm(rctx, name, rng); err != nil {
					a.log.Debug("warming a contract", "contract", ref, "err", err)
				}
			})
		}
	}
	a.log.Info("miner started", "kind", a.cfg.Kind, "capacity", a.cfg.Capacity, "min_gas", a.cfg.MinGas, "height", st.LatestHeight)
	return nil
}

// Close stops the agent and waits for its goroutines (bounded by ctx).
// Transactions already sent are waited for up to DrainTimeout, so their
// outcomes reach the counters; work not yet sent is dropped. It is
// idempotent.
func (a *Agent) Close(ctx context.Context) error {
	if a.cancel == nil {
		return nil
	}
	a.cancel()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	grace := time.NewTimer(DrainTimeout)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		a.stopSends()
	case <-ctx.Done():
	}
	a.stopSends()
	select {
	case <-done:
	case <-ctx.Done():
		return vmerr.E("miner.close", vmerr.Timeout, "goroutines did not stop: %w", ctx.Err())
	}
	if a.exec != nil {
		return a.exec.Close(ctx)
	}
	return nil
}

// Stats returns the agent's counters.
func (a *Agent) Stats() Stats {
	return Stats{Offers: a.offers.Load(), Taken: a.taken.Load(), BelowMinGas: a.belowMin.Load(),
		NoCapacity: a.noCapacity.Load(), Stale: a.stale.Load(), Executed: a.executed.Load(), ExecFailed: a.execFailed.Load(),
		Seals: a.seals.Load(), Reveals: a.reveals.Load(), Results: a.results.Load(), Refused: a.refused.Load(),
		Txs: a.txs.Load(), TxRetries: a.txRetries.Load()}
}

func (a *Agent) spawn(f func()) {
	a.wg.Add(1)
	go func() { defer a.wg.Done(); f() }()
}

// register submits a MinerRegister unless the record matches.
func (a *Agent) register(ctx context.Context) error {
	want := &txpb.MinerRegister{Kind: a.cfg.Kind, Capacity: uint32(a.cfg.Capacity), Endpoint: a.cfg.Endpoint,
		MinGas: a.cfg.MinGas, SoftwareVersion: a.cfg.SoftwareVersion, Active: true}
	m, err := a.c.MinerNoProof(ctx, a.addr, 0)
	switch {
	case err == nil && m.Active && m.Kind == want.Kind && m.Capacity == want.Capacity && m.Endpoint == want.Endpoint &&
		m.MinGas == strconv.FormatUint(want.MinGas, 10) && m.SoftwareVersion == want.SoftwareVersion:
		return nil
	case err != nil && vmerr.KindOf(err) != vmerr.NotFound:
		return err
	}
	res, err := a.c.Send(ctx, a.cfg.Key, []*txpb.Msg{{Sum: &txpb.Msg_MinerRegister{MinerRegister: want}}}, a.fee, true)
	if err != nil {
		return err
	}
	a.setHeight(res.Height)
	a.log.Info("miner registered", "tx", res.Hash, "height", res.Height)
	return nil
}

// setHeight records a committed height seen.
func (a *Agent) setHeight(h int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if h > a.height {
		a.height = h
		close(a.heightCh)
		a.heightCh = make(chan struct{})
	}
}

// waitHeight waits until the committed height is at least h.
func (a *Agent) waitHeight(ctx context.Context, h int64) error {
	for {
		a.mu.Lock()
		cur, ch := a.height, a.heightCh
		a.mu.Unlock()
		if cur >= h {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(a.cfg.PollInterval):
			if st, err := a.c.Status(ctx); err == nil {
				a.setHeight(st.LatestHeight)
			}
		}
	}
}

// offerLoop keeps the offer stream open, reconnecting with backoff.
func (a *Agent) offerLoop(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		ch, err := a.c.Offers(ctx)
		if err != nil {
			a.log.Debug("offer stream", "err", err)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		a.mu.Lock()
		a.streamUp = true
		a.mu.Unlock()
		backoff = 100 * time.Millisecond
		for r := range ch {
			a.consider(r)
		}
		a.mu.Lock()
		a.streamUp, a.missed = false, true // list open requests at the next tick
		a.mu.Unlock()
		if !sleep(ctx, backoff) {
			return
		}
	}
}

// consider takes offer r when it is in its commit phase, meets MinGas,
// is a round not taken yet and the backlog has room.
func (a *Agent) consider(r apitype.Request) {
	a.offers.Add(1)
	a.setHeight(r.Height)
	if r.Phase != market.PhaseCommit.String() || r.Status != jobs.StatusOpen && r.Status != "" {
		return
	}
	offer, err := strconv.ParseUint(r.Offer, 10, 64)
	if err != nil || offer < a.cfg.MinGas {
		a.belowMin.Add(1)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.takenIDs.get(r.ID); ok && s >= r.Start {
		return
	}
	if a.cfg.Copy {
		if r.Quorum > 1 {
			a.copies[r.ID] = r.Start
			a.takenIDs.put(r.ID, r.Start)
			a.taken.Add(1)
		}
		return
	}
	if a.queue.len() >= a.cfg.Backlog || a.queue.bytes+offerSize(r) > MaxBacklogBytes {
		a.noCapacity.Add(1)
		a.missed = true
		return
	}
	a.queue.push(r)
	a.takenIDs.put(r.ID, r.Start)
	a.taken.Add(1)
	select {
	case a.ready <- struct{}{}:
	default: // every worker has a wake-up pending already
	}
}

// offerOverhead is what a queued offer costs besides its input.
const offerOverhead = 1024

func offerSize(r apitype.Request) int { return len(r.Input) + offerOverhead }

// next pops the first queued offer (see backlog), skipping rounds a newer
// round of the same request superseded.
func (a *Agent) next() (apitype.Request, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		r, ok := a.queue.pop()
		if !ok {
			return r, false
		}
		if s, ok := a.takenIDs.get(r.ID); ok && s > r.Start {
			a.stale.Add(1)
			continue
		}
		return r, true
	}
}

// worker executes taken offers, one at a time, in backlog order.
func (a *Agent) worker(ctx context.Context) {
	for {
		if r, ok := a.next(); ok {
			a.run(ctx, r)
			continue
		}
		select {
		case <-a.ready:
		case <-ctx.Done():
			return
		}
	}
}

// run executes r and queues its Result (quorum 1) or Seal.
func (a *Agent) run(ctx context.Context, r apitype.Request) {
	id, err := requestID(r.ID)
	if err != nil {
		a.execFailed.Add(1)
		return
	}
	if err := a.waitHeight(ctx, r.Start); err != nil {
		return
	}
	a.mu.Lock()
	h := a.height
	a.mu.Unlock()
	window := r.CommitWindow // the request's own, when the node says it
	if window <= 0 {
		window = a.cfg.CommitWindow
	}
	if commitClosed(r, a.sealsSeen(r.ID, r.Start), window, h) {
		a.stale.Add(1)
		return
	}
	res, raw, hash, err := a.exec.Execute(ctx, r)
	if err != nil {
		a.execFailed.Add(1)
		a.log.Warn("execution failed; not sealing", "request", r.ID, "err", err)
		return
	}
	if a.cfg.WrongResult {
		if raw, hash, err = corrupt(res); err != nil {
			a.execFailed.Add(1)
			return
		}
	}
	a.executed.Add(1)
	if r.Quorum <= 1 {
		a.enqueue(ctx, work{msg: &txpb.Msg{Sum: &txpb.Msg_Result{Result: &txpb.Result{RequestId: id[:], Result: raw, Start: r.Start}}}, id: r.ID})
		return
	}
	seen := a.sealsSeen(r.ID, r.Start)
	a.mu.Lock()
	a.pending[r.ID] = &pendingReveal{id: id, start: r.Start, raw: raw, replicas: int(r.Replicas), window: window,
		deadline: r.Deadline, seen: seen}
	a.mu.Unlock()
	seal := market.Seal(a.addr, id, hash)
	a.enqueue(ctx, work{msg: &txpb.Msg{Sum: &txpb.Msg_Seal{Seal: &txpb.Seal{RequestId: id[:], Seal: seal[:], Start: r.Start}}}, id: r.ID})
}

// corrupt is WrongResult's change to a result.
func corrupt(res *wasm.Result) ([]byte, [32]byte, error) {
	if len(res.Output) > 0 {
		res.Output = append([]byte(nil), res.Output...)
		res.Output[0] ^= 0xff
	} else if res.GasUsed > 0 {
		res.GasUsed--
	} else {
		res.GasUsed++
	}
	raw, err := res.MarshalBinary()
	return raw, sha256.Sum256(raw), err
}

// enqueue hands w to the sender; reveals go ahead of everything else,
// because their window is a few blocks and a late one costs a penalty.
func (a *Agent) enqueue(ctx context.Context, w work) {
	w.size = proto.Size(w.msg)
	q := a.outbox
	if w.msg.GetReveal() != nil {
		q = a.urgent
	}
	select {
	case q <- w:
	case <-ctx.Done():
	}
}

// blockLoop follows committed blocks (reconnecting with backoff) and runs
// a tick per block; while the stream is down it ticks every PollInterval.
func (a *Agent) blockLoop(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		// Only the ledger events follow and copyReveals read: the node
		// leaves out every other event of every transaction.
		ch, err := a.c.Blocks(ctx, client.WithEvents(jobs.EventSeal, jobs.EventReveal, jobs.EventResult, jobs.EventReopened, jobs.EventExpired))
		if err != nil {
			a.log.Debug("block stream", "err", err)
			deadline := time.Now().Add(backoff)
			for time.Now().Before(deadline) {
				if st, err := a.c.Status(ctx); err == nil {
					a.setHeight(st.LatestHeight)
				}
				a.tick(ctx, nil)
				if !sleep(ctx, a.cfg.PollInterval) {
					return
				}
			}
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		for be := range ch {
			a.setHeight(be.Block.Height)
			a.tick(ctx, &be)
		}
	}
}

// tick is the per-block work: list open requests when offers may have
// been missed, reveal sealed rounds whose reveal phase opened, and (Copy)
// copy reveals seen in the block. With the block in hand the reveal
// phase is worked out from its events (no query per request); while the
// stream is down (be nil) each sealed round is read back instead.
func (a *Agent) tick(ctx context.Context, be *apitype.BlockEvents) {
	a.mu.Lock()
	list := a.missed || !a.streamUp
	a.missed = false
	a.mu.Unlock()
	if list {
		a.listOpen(ctx)
	}
	if be == nil {
		a.checkReveals(ctx)
		return
	}
	a.follow(be)
	a.revealDue(ctx, be.Block.Height)
	if a.cfg.Copy {
		a.copyReveals(ctx, be)
	}
}

// follow counts the seals of each request in block be and forgets rounds
// that ended in it (settled, expired or re-offered).
func (a *Agent) follow(be *apitype.BlockEvents) {
	a.mu.Lock()
	defer a.mu.Unlock()
	note := func(evs []apitype.Event) {
		for _, e := range evs {
			id := e.Attributes["id"]
			switch e.Type {
			case jobs.EventSeal:
				rs, _ := a.rounds.get(id)
				rs.n++
				if rs.first == 0 {
					rs.first = be.Block.Height
				}
				a.rounds.put(id, rs)
				if p := a.pending[id]; p != nil && rs.first >= p.start {
					p.seen = rs
				}
			case jobs.EventReopened:
				// The new round starts with this block. The offer stream
				// may have delivered it (and this agent sealed it) before
				// the block stream got here: keep that round's pending.
				a.rounds.put(id, roundSeals{})
				if p := a.pending[id]; p != nil && p.start < be.Block.Height {
					delete(a.pending, id)
				}
			case jobs.EventResult, jobs.EventExpired:
				a.rounds.put(id, roundSeals{})
				delete(a.pending, id)
			}
		}
	}
	note(be.Events)
	for _, t := range be.Txs {
		note(t.Events)
	}
}

// sealsSeen is what the stream showed of the seals of request id in the
// round that started at start (none when it is not this round's). The
// offer of a re-offered round can arrive before the block stream shows the
// reopening: seals before start belong to an earlier round.
func (a *Agent) sealsSeen(id string, start int64) roundSeals {
	a.mu.Lock()
	defer a.mu.Unlock()
	rs, _ := a.rounds.get(id)
	if start > a.height || rs.first < start {
		return roundSeals{}
	}
	return rs
}

// revealDue queues the Reveal of each sealed round whose reveal phase the
// block after committed height h accepts: its k-th seal is in, or its
// commit window has closed (if fewer than the quorum sealed, the round
// lapsed and the reveal is refused harmlessly). Rounds long past their
// windows are forgotten.
func (a *Agent) revealDue(ctx context.Context, h int64) {
	var due []work
	a.mu.Lock()
	for id, p := range a.pending {
		switch {
		case !p.sealed || p.inFlight:
			end := p.deadline
			if b := p.windowBase(); b != 0 {
				end = min(end, b+p.window)
			}
			if h > end+4*market.Default().RevealWindow {
				delete(a.pending, id)
			}
			continue
		case p.seen.n < p.replicas && (p.windowBase() == 0 || h+1 <= p.windowBase()+p.window):
			continue
		}
		p.inFlight = true
		due = append(due, work{id: id, msg: &txpb.Msg{Sum: &txpb.Msg_Reveal{Reveal: &txpb.Reveal{RequestId: p.id[:], Miner: a.addr[:], Result: p.raw}}}})
	}
	a.mu.Unlock()
	for _, w := range due {
		a.enqueue(ctx, w)
	}
}

// listOpen offers itself every open request, page by page.
func (a *Agent) listOpen(ctx context.Context) {
	q := apitype.RequestQuery{Open: true, Limit: jobs.MaxListLimit}
	for {
		l, err := a.c.Requests(ctx, q)
		if err != nil {
			a.log.Debug("listing open requests", "err", err)
			a.mu.Lock()
			a.missed = true
			a.mu.Unlock()
			return
		}
		for _, r := range l.Requests {
			if r.Height == 0 {
				r.Height = l.Height
			}
			a.consider(r)
		}
		if l.Next == "" {
			return
		}
		q.After = l.Next
	}
}

// checkReveals reads back each sealed round and queues its Reveal once
// the reveal phase is open; rounds that ended are forgotten.
func (a *Agent) checkReveals(ctx context.Context) {
	a.mu.Lock()
	var ids []string
	for id, p := range a.pending {
		if p.sealed && !p.inFlight {
			ids = append(ids, id)
		}
	}
	a.mu.Unlock()
	for _, id := range ids {
		r, err := a.c.Request(ctx, id, 0)
		if err != nil {
			if vmerr.KindOf(err) == vmerr.NotFound {
				a.forget(id)
			}
			continue
		}
		a.mu.Lock()
		p := a.pending[id]
		if p == nil || p.inFlight {
			a.mu.Unlock()
			continue
		}
		switch {
		case r.Start != p.start || r.Phase != market.PhaseCommit.String() && r.Phase != market.PhaseReveal.String():
			delete(a.pending, id)
			a.mu.Unlock()
		case r.Phase == market.PhaseReveal.String():
			p.inFlight = true
			msg := &txpb.Msg{Sum: &txpb.Msg_Reveal{Reveal: &txpb.Reveal{RequestId: p.id[:], Miner: a.addr[:], Result: p.raw}}}
			a.mu.Unlock()
			a.enqueue(ctx, work{msg: msg, id: id})
		default:
			a.mu.Unlock()
		}
	}
}

func (a *Agent) forget(id string) {
	a.mu.Lock()
	delete(a.pending, id)
	a.mu.Unlock()
}

// copyReveals (Copy) reveals, under this miner's name, the result another
// miner revealed in block be for a watched request.
func (a *Agent) copyReveals(ctx context.Context, be *apitype.BlockEvents) {
	for _, tr := range be.Txs {
		for _, ev := range tr.Events {
			if ev.Type != jobs.EventReveal || ev.Attributes["miner"] == a.addr.String() {
				continue
			}
			id := ev.Attributes["id"]
			a.mu.Lock()
			_, watched := a.copies[id]
			done := a.copied[id]
			a.mu.Unlock()
			if !watched || done {
				continue
			}
			raw, err := a.revealedResult(ctx, tr.Hash, id)
			if err != nil {
				a.log.Debug("copy", "request", id, "err", err)
				continue
			}
			rid, _ := requestID(id)
			a.mu.Lock()
			a.copied[id] = true
			delete(a.copies, id)
			a.mu.Unlock()
			a.enqueue(ctx, work{msg: &txpb.Msg{Sum: &txpb.Msg_Reveal{Reveal: &txpb.Reveal{RequestId: rid[:], Miner: a.addr[:], Result: raw}}}, id: id})
		}
	}
}

// revealedResult fetches tx hash and returns the result bytes of its
// reveal of request id.
func (a *Agent) revealedResult(ctx context.Context, hash, id string) ([]byte, error) {
	h, err := tx.ParseHash(hash)
	if err != nil {
		return nil, err
	}
	t, err := a.c.Tx(ctx, h)
	if err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(t.Tx)
	if err != nil {
		return nil, err
	}
	s, err := tx.Decode(raw, a.chainID)
	if err != nil {
		return nil, err
	}
	for _, m := range s.Body.Msgs {
		if r := m.GetReveal(); r != nil && hex.EncodeToString(r.RequestId) == id {
			return r.Result, nil
		}
		if r := m.GetResult(); r != nil && hex.EncodeToString(r.RequestId) == id {
			return r.Result, nil
		}
	}
	return nil, errors.New("no reveal of the request in the transaction")
}

func requestID(s string) ([32]byte, error) { return state.ParseRequestID(s) }

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
