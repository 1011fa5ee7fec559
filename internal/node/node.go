// Package node is the one wiring point of a Virtual-Machine node: it opens
// the ledger (the ABCI application), runs it under the in-process CometBFT
// chain, serves the HTTP API and /metrics on one listener, and owns the
// lifecycle of all of them. It also creates node homes (devnet, testnet).
// Only cmd/vm, internal/cli and internal/nodetest import it.
package node

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/chain"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/ledger/sigonly"
	"github.com/virtual-machine/vm/internal/portal"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// HTTP server limits. WriteTimeout leaves room for a submit that waits for
// its block; WebSocket streams are hijacked and not bound by it.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	writeMargin       = 15 * time.Second
	firstBlockWait    = 10 * time.Second
)

// Node is a running Virtual-Machine node: ledger + chain + API.
type Node struct {
	cfg     Config
	log     *slog.Logger
	chainID string

	mu      sync.Mutex
	started bool
	closed  bool
	app     *ledger.App
	chain   *chain.Node
	api     *api.Server
	portal  *portal.Handler
	srv     *http.Server
	ln      net.Listener
	serveWG sync.WaitGroup
	metrics *metrics
}

// New validates cfg and checks that cfg.Home is a node home. It opens
// nothing. Errors are Invalid.
func New(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	id, err := chainIDOf(cfg.Home)
	if err != nil {
		return nil, err
	}
	web, err := portal.New()
	if err != nil {
		return nil, vmerr.Wrap("node.new", vmerr.Internal, err)
	}
	return &Node{cfg: cfg, log: cfg.Logger, chainID: id, portal: web}, nil
}

// Start opens the ledger at home/data/app, starts the chain (replaying any
// block the ledger lacks), then listens on cfg.HTTPAddr and serves the API
// and /metrics under /v1/, and the portal elsewhere. ctx bounds start-up only. On error everything started is
// stopped again. Errors: Invalid (started twice), Unavailable (the address
// is taken), Internal.
func (n *Node) Start(ctx context.Context) (err error) {
	const op = "node.start"
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started {
		return vmerr.E(op, vmerr.Invalid, "node already started")
	}
	n.started = true
	defer func() {
		if err != nil {
			n.shutdown(context.Background())
		}
	}()

	reg := prometheus.NewRegistry()
	n.metrics = newMetrics(reg, n.chainID)
	copts := chain.Options{Metrics: n.cfg.CometMetrics, CommitTimeout: n.cfg.CommitTimeout, OnCommit: n.metrics.onCommit}
	if n.cfg.Baseline {
		n.chain, err = chain.New(n.cfg.Home, sigonly.New(n.chainID), n.log, copts)
	} else {
		n.app, err = ledger.New(ledger.Config{Dir: filepath.Join(n.cfg.Home, "data", "app"), ChainID: n.chainID,
			Logger: n.log.With("module", "ledger"), CacheSize: n.cfg.LedgerCache})
		if err != nil {
			return err
		}
		n.chain, err = chain.New(n.cfg.Home, n.app, n.log, copts)
	}
	if err != nil {
		return err
	}
	if err := n.chain.Start(ctx); err != nil {
		return err
	}
	n.metrics.setMempool(n.chain.MempoolSize)
	// A lone validator makes block 1 at once; wait for it so the API never
	// answers "nothing committed yet". A testnet node does not wait for
	// its peers.
	if st, err := n.chain.Status(ctx); err == nil && st.Validators == 1 {
		wctx, cancel := context.WithTimeout(ctx, firstBlockWait)
		err := n.chain.WaitHeight(wctx, 1)
		cancel()
		if err != nil {
			return err
		}
	}

	n.ln, err = net.Listen("tcp", n.cfg.HTTPAddr)
	if err != nil {
		return vmerr.E(op, vmerr.Unavailable, "listen on %s: %w", n.cfg.HTTPAddr, err)
	}
	n.api = api.New(backend{n.chain, n.app, genesisOnce(n.cfg.Home)}, api.Options{Registry: reg, Logger: n.log.With("module", "api"),
		WaitTimeout: n.cfg.CommitTimeout})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(prometheus.Gatherers{reg, prometheus.DefaultGatherer},
		promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelWarn)}))
	// The API and the portal are separate muxes: the API's unsafe methods
	// refuse cross-origin browser requests (CSRF), the portal answers only
	// GET and HEAD, with its CSP.
	mux.Handle("/v1/", http.NewCrossOriginProtection().Handler(n.api.Handler()))
	mux.Handle("/", n.portal)
	n.srv = &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: n.cfg.CommitTimeout + writeMargin, IdleTimeout: idleTimeout,
		ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelDebug)}
	n.serveWG.Add(1)
	go func() {
		defer n.serveWG.Done()
		if err := n.srv.Serve(n.ln); !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("http server stopped", "err", err)
		}
	}()
	n.log.Info("node started", "chain_id", n.chainID, "api", "http://"+n.ln.Addr().String(), "home", n.cfg.Home)
	return nil
}

// Close stops the API (ending event streams, then waiting for requests in
// flight), the chain and the ledger, in that order. ctx bounds the wait
// for requests in flight (cfg.ShutdownTimeout when ctx has no deadline);
// connections still open then are cut. Close is safe to call more than
// once and before Start.
func (n *Node) Close(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed || !n.started {
		n.closed = true
		return nil
	}
	n.closed = true
	return n.shutdown(ctx)
}

// shutdown stops what Start started. Callers hold n.mu.
func (n *Node) shutdown(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok && n.cfg.ShutdownTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.cfg.ShutdownTimeout)
		defer cancel()
	}
	var errs []error
	if n.api != nil {
		n.api.Close()
	}
	if n.srv != nil {
		if err := n.srv.Shutdown(ctx); err != nil {
			errs = append(errs, n.srv.Close())
		}
		n.serveWG.Wait()
	} else if n.ln != nil {
		errs = append(errs, n.ln.Close())
	}
	if n.chain != nil {
		errs = append(errs, n.chain.Stop())
	}
	if n.app != nil {
		errs = append(errs, n.app.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return vmerr.Wrap("node.close", vmerr.Internal, err)
	}
	n.log.Info("node stopped", "home", n.cfg.Home)
	return nil
}

// APIAddr is the address the API listens on (host:port), with the real
// port when cfg.HTTPAddr had port 0; "" before Start.
func (n *Node) APIAddr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ln == nil {
		return ""
	}
	return n.ln.Addr().String()
}

// URL is the API's base URL, e.g. http://127.0.0.1:8080; "" before Start.
func (n *Node) URL() string {
	if a := n.APIAddr(); a != "" {
		return "http://" + a
	}
	return ""
}

// ChainID is the chain id from the home's genesis.
func (n *Node) ChainID() string { return n.chainID }

// backend is the chain as the API's Backend, with the ledger's parameters
// added to Status.
type backend struct {
	*chain.Node
	app     *ledger.App
	genesis func() (apitype.Genesis, error) // genesisOnce of the home
}

var _ api.Backend = backend{}

// Status is chain.Node.Status plus the faucet and fee parameters.
func (b backend) Status(ctx context.Context) (apitype.Status, error) {
	st, err := b.Node.Status(ctx)
	if err != nil {
		return st, err
	}
	if b.app == nil { // Config.Baseline: no ledger, no parameters
		return st, nil
	}
	p := b.app.Params()
	st.FaucetEnabled = p.FaucetEnabled
	if p.FaucetEnabled {
		st.FaucetAddress = ledger.FaucetPool().String()
	}
	st.MinFee = formatUint(p.MinFee)
	st.DeployFeePerKiB = formatUint(p.DeployFeePerKiB)
	st.IDCreateFee = formatUint(p.IDCreateFee)
	st.MaxCodeSize = p.CodeLimit()
	return st, nil
}
