// Package api owns the node's HTTP JSON API under /v1 and its WebSocket
// event stream: routing, request decoding and limits, the mapping of error
// kinds to HTTP status codes, and request metrics. It holds no business
// rules; every answer comes from a Backend (internal/chain.Node in a real
// node). It must not import CometBFT, the chain or the ledger.
package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx"
)

// Defaults of Options.
const (
	DefaultWaitTimeout  = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultMaxStreams   = 256
	DefaultStreamWindow = 1 << 20
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns (a copy of) the OpenAPI 3.0 document of this API, served
// at GET /v1/openapi.yaml. docs/openapi.yaml is a copy, kept equal by a test.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// Backend is what the API needs from a node (internal/chain.Node
// implements it). Errors should be *vmerr.Error; their Kind picks the HTTP
// status. A transaction that the node rejects is not an error: SubmitTx
// returns it as a SubmitResult with a nonzero Code (a vmerr.Kind value).
type Backend interface {
	// SubmitTx hands encoded tx bytes to the mempool; with waitCommit it
	// waits (bounded by ctx) for the block that includes the tx.
	SubmitTx(ctx context.Context, tx []byte, waitCommit bool) (apitype.SubmitResult, error)
	// Account returns addr's account at height (0 = latest), with a
	// Location when prove is set.
	Account(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Account, error)
	// Block returns the block at height; 0 = latest.
	Block(ctx context.Context, height int64) (apitype.Block, error)
	// Commit returns the signed header of block height (0 = latest) and
	// the validator set that signed it: the proof of the app hash of the
	// state after block height-1 (see internal/lightproof). Errors:
	// Invalid for a negative height, NotFound above the latest block or
	// when no commit is stored, Unavailable.
	Commit(ctx context.Context, height int64) (apitype.Commit, error)
	// Genesis returns the chain's id and genesis validator set, a light
	// client's trust root (see GenesisOf). Errors: Unavailable, or the
	// genesis file's (NotFound, Decode, Invalid).
	Genesis(ctx context.Context) (apitype.Genesis, error)
	// Tx returns a committed transaction by hash.
	Tx(ctx context.Context, hash tx.Hash) (apitype.Tx, error)
	// Status describes the node and its chain.
	Status(ctx context.Context) (apitype.Status, error)
	// Subscribe streams each new block with all its tx results, one
	// value per block in height order (receivers share the values and
	// must not modify them); the channel is closed when ctx ends, when
	// the backend stops, or when it drops a consumer that fell too many
	// blocks behind.
	Subscribe(ctx context.Context) (<-chan apitype.BlockEvents, error)
	// ContractBackend serves the contract registry.
	ContractBackend
	// MinerBackend serves the miner registry.
	MinerBackend
	// MarketBackend serves the execution market's reads.
	MarketBackend
	// ExplorerBackend serves account history and contract metrics.
	ExplorerBackend
}

// BatchBackend is a Backend that submits many transactions in one call
// (internal/chain.Node is one). POST /v1/txs:batch uses it when the
// Backend has it, else calls SubmitTx once per transaction. SubmitTxs
// checks txs in order and returns one result per tx, in order; a tx's own
// failure (rejected, not committed in time) is its result's nonzero Code,
// and an error means the whole call failed.
type BatchBackend interface {
	SubmitTxs(ctx context.Context, txs [][]byte, waitCommit bool) ([]apitype.SubmitResult, error)
}

// ContractBackend is the contract-registry part of a Backend. Errors are
// *vmerr.Error: Invalid for a bad name, range or height, NotFound for no
// such contract or no matching version (and for a composite's code),
// Unavailable when the node cannot answer now.
type ContractBackend interface {
	// Contracts lists registry entries in name order after q.After,
	// filtered by q.Query and q.Tag, at most q.Limit (0 = 50, max 100);
	// Next is set when more may follow.
	Contracts(ctx context.Context, q apitype.ContractQuery) (apitype.ContractList, error)
	// Contract returns the registry entry of name at height (0 =
	// latest), with a Location when prove is set.
	Contract(ctx context.Context, name string, height int64, prove bool) (apitype.Contract, error)
	// ContractVersions returns every version of name in ascending semver
	// order, at height (0 = latest).
	ContractVersions(ctx context.Context, name string, height int64) (apitype.VersionList, error)
	// ContractVersion resolves rng ("" = "*") to the highest non-yanked
	// match (or the exact version, yanked or not).
	ContractVersion(ctx context.Context, name, rng string, height int64, prove bool) (apitype.ContractVersion, error)
	// ContractCode returns the resolved version and its original (or
	// metered) module bytes.
	ContractCode(ctx context.Context, name, rng string, metered bool, height int64) (apitype.ContractVersion, []byte, error)
}

// MinerBackend is the miner-registry part of a Backend. A miner is
// identified by its account address. Errors are *vmerr.Error: Invalid for
// a bad kind, after, limit or height, NotFound for an address that never
// registered, Unavailable when the node cannot answer now.
type MinerBackend interface {
	// Miners lists miner records in address order strictly after
	// q.After, of kind q.Kind when set, at most q.Limit (0 = 50, max
	// 100), each with its Location; Next is set when more may follow.
	Miners(ctx context.Context, q apitype.MinerQuery) (apitype.MinerList, error)
	// Miner returns the record of the miner addr at height (0 = latest),
	// with a Location when prove is set.
	Miner(ctx context.Context, addr crypto.Address, height int64, prove bool) (apitype.Miner, error)
}

// Options configure a Server. The zero value is valid.
type Options struct {
	// Registry receives the API's metrics; nil disables them.
	Registry *prometheus.Registry
	// Logger logs failed requests (5xx); nil discards.
	Logger *slog.Logger
	// AllowedOrigins are extra Origin host patterns (path.Match syntax,
	// e.g. "portal.example.com") allowed to open the event WebSocket from
	// a browser. Programs send no Origin and are always allowed; a browser
	// page is allowed from the API's own host only, unless listed here.
	AllowedOrigins []string
	// WaitTimeout bounds POST /v1/txs?wait=commit; 0 = DefaultWaitTimeout.
	WaitTimeout time.Duration
	// WriteTimeout bounds how long an event stream's client may leave
	// sent events unread: a client that has not read up to a WebSocket
	// ping within WriteTimeout of its sending, or on whose socket one
	// write blocks that long, is disconnected (1008). A big block never
	// trips it by itself. 0 = DefaultWriteTimeout.
	WriteTimeout time.Duration
	// StreamWindow bounds the bytes an event stream sends beyond what its
	// client is known (by pings) to have read; the stream waits, up to
	// WriteTimeout, before sending more. Keeping it below what the socket
	// buffers hold leaves room for the close frame of a client that stops
	// reading. 0 = DefaultStreamWindow.
	StreamWindow int
	// MaxStreams caps concurrent event streams; 0 = DefaultMaxStreams.
	MaxStreams int
}

// Server serves the API over a Backend. Build it with New, serve
// Handler(), and call Close when shutting down: it ends the event streams,
// which http.Server.Shutdown does not (they are hijacked connections).
type Server struct {
	b       Backend
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics

	ctx     context.Context // canceled by Close; parent of every stream
	cancel  context.CancelFunc
	mu      sync.Mutex // guards closed and streams.Add against Close
	closed  bool
	streams sync.WaitGroup
	slots   chan struct{} // one token per open stream
}

// New builds a Server over b. It starts nothing; it fails only by panicking
// when opts.Registry already holds metrics of the same name.
func New(b Backend, opts Options) *Server {
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = DefaultWaitTimeout
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = DefaultMaxStreams
	}
	if opts.StreamWindow <= 0 {
		opts.StreamWindow = DefaultStreamWindow
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{b: b, opts: opts, log: log, ctx: ctx, cancel: cancel,
		slots: make(chan struct{}, opts.MaxStreams), metrics: newMetrics(opts.Registry)}
	s.mux = s.routes()
	return s
}

// Handler returns the http.Handler serving /v1/...
func (s *Server) Handler() http.Handler { return s.mux }

// Close ends every open event stream (with WebSocket status 1001, going
// away) and waits for their goroutines — up to 5 s per stream whose client
// does not answer the close handshake. New streams are refused with 503
// afterwards. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.cancel()
	s.mu.Unlock()
	s.streams.Wait()
}
