// Package chain owns the in-process CometBFT v1 node: creating validator
// homes (one devnet validator or an N-validator testnet), running consensus
// over any ABCI 2.0 application, and answering the node's read and submit
// calls (blocks, transactions, accounts with proofs, status and an event
// stream) in-process, without CometBFT's RPC server. It is, with
// internal/ledger, the only package that imports CometBFT.
package chain

import (
	"context"
	"errors"
	"github.com/virtual-machine/vm/internal/market"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/proxy"
	rpccore "github.com/cometbft/cometbft/rpc/core"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// Defaults of Options.
const (
	DefaultCommitTimeout = 30 * time.Second
	DefaultSubscriberBuf = 64
)

// Options tune a Node. The zero value is usable.
type Options struct {
	// Metrics turns on CometBFT's Prometheus metrics. CometBFT registers
	// them on the process-global default registry, which holds one set per
	// process: a second node in the same process runs without them.
	Metrics bool
	// CommitTimeout bounds how long SubmitTx waits for a block;
	// DefaultCommitTimeout when 0.
	CommitTimeout time.Duration
	// SubscriberBuf is the buffer of one Subscribe call in blocks (each
	// with all its tx results, however many); a subscriber that falls
	// this many blocks behind is dropped. DefaultSubscriberBuf when 0.
	SubscriberBuf int
	// OnCommit, when set, is called once per committed block, in height
	// order, after the block's txs are indexed: raw txs and their result
	// codes. It runs on the indexer goroutine and must be quick (metrics).
	OnCommit func(c Commit)
}

// Commit describes one committed block for Options.OnCommit.
type Commit struct {
	Height int64
	Time   time.Time
	Txs    [][]byte
	Codes  []uint32
}

// Node is one CometBFT validator running an ABCI application in-process.
// Its read and submit methods satisfy internal/api's Backend. They are
// safe for concurrent use; before Start and after Stop they fail with
// Unavailable.
type Node struct {
	home string
	app  abcitypes.Application
	log  *slog.Logger
	opts Options
	cfg  *cmtcfg.Config

	mu      sync.Mutex // guards the lifecycle fields below
	started bool
	stopped bool
	cmt     *cmtnode.Node
	env     *rpccore.Environment
	dbs     *dbSet
	idx     *index
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	running  atomic.Bool
	stopping atomic.Bool // quiets CometBFT's shutdown errors
	chainID  string
	// marketP caches the market parameters: fixed at genesis (no
	// transaction changes them), so the first read serves every later one.
	marketP atomic.Pointer[market.Params]
}

// New checks that home is an initialized CometBFT home (see InitHome) and
// returns a Node that will run app. It starts nothing. Errors: Invalid
// for a missing or bad home.
func New(home string, app abcitypes.Application, logger *slog.Logger, opts Options) (*Node, error) {
	const op = "chain.new"
	if app == nil {
		return nil, vmerr.E(op, vmerr.Invalid, "no application")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if !exists(home + "/config/genesis.json") {
		return nil, vmerr.E(op, vmerr.Invalid, "%s is not a node home (no config/genesis.json); initialise it first", home)
	}
	cfg, err := loadConfig(home)
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	if opts.CommitTimeout <= 0 {
		opts.CommitTimeout = DefaultCommitTimeout
	}
	if opts.SubscriberBuf <= 0 {
		opts.SubscriberBuf = DefaultSubscriberBuf
	}
	return &Node{home: home, app: app, log: logger, opts: opts, cfg: cfg}, nil
}

// Start opens the databases, replays committed blocks the application has
// not seen (the ABCI handshake), and starts consensus, P2P and the chain's
// indexer. ctx bounds the start-up only. A Node starts once; a second Start
// is an Invalid error. On error everything opened is closed again.
func (n *Node) Start(ctx context.Context) (err error) {
	const op = "chain.start"
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started {
		return vmerr.E(op, vmerr.Invalid, "node already started")
	}
	n.started = true

	pv, err := loadPV(n.cfg.PrivValidatorKeyFile(), n.cfg.PrivValidatorStateFile())
	if err != nil {
		return vmerr.Wrap(op, vmerr.Invalid, err)
	}
	nk, err := p2p.LoadNodeKey(n.cfg.NodeKeyFile())
	if err != nil {
		return vmerr.Wrap(op, vmerr.Invalid, err)
	}
	n.dbs = &dbSet{log: n.log}
	defer func() {
		if err != nil {
			n.teardown()
		}
	}()
	idxDB, err := n.dbs.open("vmtx", n.cfg.DBDir())
	if err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}
	n.cmt, err = cmtnode.NewNode(ctx, n.cfg, pv, nk, proxy.NewConsensusSyncLocalClientCreator(n.app),
		cmtnode.DefaultGenesisDocProviderFunc(n.cfg), n.dbs.provider, n.metricsProvider(),
		cometLogger{l: n.log.With("module", "cometbft"), stopping: &n.stopping})
	if err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}
	n.env, err = n.cmt.ConfigureRPC()
	if err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}
	n.chainID = n.cmt.GenesisDoc().ChainID
	st, err := n.env.StateStore.Load()
	if err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}
	n.idx, err = newIndex(idxDB, n.cmt.BlockStore(), n.env.StateStore, n.chainID, n.opts.SubscriberBuf, n.opts.OnCommit, n.log)
	if err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}
	if err := n.idx.catchUp(st.LastBlockHeight); err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}

	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	sub, err := n.cmt.EventBus().Subscribe(runCtx, "vm-chain", cmttypes.EventQueryNewBlock, 4096)
	if err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}
	n.wg.Add(2)
	go n.watchBlocks(runCtx, sub)
	go func() {
		defer n.wg.Done()
		n.idx.run(runCtx)
	}()
	if err := n.cmt.Start(); err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}
	n.running.Store(true)
	n.log.Info("chain started", "chain_id", n.chainID, "height", st.LastBlockHeight,
		"p2p", n.cfg.P2P.ListenAddress, "home", n.home)
	return nil
}

// Stop stops consensus and P2P, ends every Subscribe stream, stops the
// indexer and closes the databases. It is safe to call more than once and
// before Start. CometBFT itself leaves a few goroutines behind (see
// docs/RATIONALE.md (chain)).
func (n *Node) Stop() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.started || n.stopped {
		n.stopped = true
		return nil
	}
	n.stopped = true
	return n.teardown()
}

// teardown stops whatever Start got to. Callers hold n.mu.
func (n *Node) teardown() error {
	n.running.Store(false)
	n.stopping.Store(true)
	var errs []error
	if n.cmt != nil {
		if n.cmt.IsRunning() {
			if err := n.cmt.Stop(); err != nil {
				errs = append(errs, err)
			}
			n.cmt.Wait()
		}
		if pa := n.cmt.ProxyApp(); pa != nil && pa.IsRunning() {
			if err := pa.Stop(); err != nil {
				errs = append(errs, err)
			}
		}
		if eb := n.cmt.EventBus(); eb != nil && eb.IsRunning() {
			if err := eb.Stop(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	if n.idx != nil {
		n.idx.close()
	}
	if n.dbs != nil {
		errs = append(errs, n.dbs.closeAll())
	}
	if err := errors.Join(errs...); err != nil {
		return vmerr.Wrap("chain.stop", vmerr.Internal, err)
	}
	return nil
}

// ChainID is the chain id from the genesis; "" before Start.
func (n *Node) ChainID() string { return n.chainID }

// Home is the node's home directory.
func (n *Node) Home() string { return n.home }

// watchBlocks turns new-block events into index wake-ups. It only records
// the height, so it never holds up consensus; if CometBFT cancels the
// subscription anyway it subscribes again (the indexer catches up from
// the block store).
func (n *Node) watchBlocks(ctx context.Context, sub cmttypes.Subscription) {
	defer n.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-sub.Out():
			if ev, ok := msg.Data().(cmttypes.EventDataNewBlock); ok && ev.Block != nil {
				n.idx.committed(ev.Block.Height)
			}
		case <-sub.Canceled():
			if ctx.Err() != nil || !n.running.Load() {
				return
			}
			n.log.Warn("block subscription cancelled; resubscribing", "err", sub.Err())
			for {
				var err error
				sub, err = n.cmt.EventBus().Subscribe(ctx, "vm-chain", cmttypes.EventQueryNewBlock, 4096)
				if err == nil {
					break
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
			n.idx.committed(n.cmt.BlockStore().Height() - 1)
		}
	}
}

// metricsProvider returns CometBFT's Prometheus metrics when asked for and
// still free in this process, else no-op metrics. CometBFT registers on
// the default registry and panics on a duplicate, so the probe checks one
// of its metric names first.
func (n *Node) metricsProvider() cmtnode.MetricsProvider {
	off := cmtnode.DefaultMetricsProvider(&cmtcfg.InstrumentationConfig{Prometheus: false})
	if !n.opts.Metrics {
		return off
	}
	probe := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "cometbft", Subsystem: "consensus",
		Name: "height", Help: "Height of the chain."}, []string{"chain_id"})
	if err := prometheus.Register(probe); err != nil {
		n.log.Warn("CometBFT metrics already registered in this process; this node runs without them")
		return off
	}
	prometheus.Unregister(probe)
	return cmtnode.DefaultMetricsProvider(&cmtcfg.InstrumentationConfig{Prometheus: true, Namespace: "cometbft"})
}

// ready returns the running CometBFT node or Unavailable.
func (n *Node) ready(op string) error {
	if !n.running.Load() {
		return vmerr.E(op, vmerr.Unavailable, "node is not running")
	}
	return nil
}
