package miner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// DefaultCacheSize is how many compiled modules an Executor keeps when
// NewExecutor is given 0.
const DefaultCacheSize = 64

// Code is where an Executor finds contract versions and their metered
// modules. *client.Client is the network implementation.
type Code interface {
	// ContractVersion resolves name@rng ("" = any) at height (0 =
	// latest): the highest non-yanked match, or the exact version (yanked
	// or not) when rng names one. Errors: NotFound when nothing matches.
	ContractVersion(ctx context.Context, name, rng string, height int64) (apitype.ContractVersion, error)
	// ContractCode returns the module of name@rng, the metered one when
	// metered is set, and the version it belongs to.
	ContractCode(ctx context.Context, name, rng string, metered bool) ([]byte, apitype.ContractVersion, error)
}

// Data reads a contract's namespace at a committed height.
// *client.Client is the network implementation.
type Data interface {
	// Data returns key of contract's namespace at height; an absent key
	// is an entry with Found false, not an error (an error, NotFound for a
	// height not stored among them, fails the execution).
	Data(ctx context.Context, contract string, key []byte, height int64) (apitype.DataEntry, error)
	// DataRange returns up to limit entries with start <= key < end (an
	// empty end: no bound) in key order at height.
	DataRange(ctx context.Context, contract string, start, end []byte, limit int, height int64) (apitype.DataRange, error)
	// Memo returns the memo of (code, fn, input) at height with the
	// result it holds (Raw); NotFound when there is none.
	Memo(ctx context.Context, code [32]byte, fn string, input [32]byte, height int64) (apitype.Memo, error)
}

// Executor turns an offered request into its result, the way every honest
// miner does, so that their results hash equal:
//
//   - the code is the request's metered module, fetched from Code and
//     checked against the request's MeteredCID (a composite: each step's
//     pinned version's metered module, checked against its version record's
//     metered hash, run by composite.Run with the version's stored,
//     pinned manifest);
//   - the call is wasm.Request{Fn, Input, GasLimit, Caller: the requester's
//     address, Contract: the name, Height: Start, Time: StartTime, Seed},
//     with the wasm.Config the Executor was built with (wasm.DefaultConfig
//     on the network: the config the node meters with);
//   - every namespace is read from Data at height Start;
//   - a contract-to-contract call to name resolves to the highest
//     non-yanked version of name as of height Start (Code.ContractVersion
//     with an empty range at Start); a name with no such version, or whose
//     version is a composite (no code to call), is not found (the caller
//     sees status not-found).
//
// Compiled modules are cached by CID, at most the cache size. The wasm
// runtime itself keeps every module it ever compiled, so the Executor
// moves to a fresh runtime after 4 × the cache size compilations and
// closes the old one when its last call ends: memory stays bounded.
//
// An Executor is safe for concurrent use. Close releases it.
type Executor struct {
	cfg         wasm.Config
	code        Code
	data        Data
	maxCompiled int

	compiling singleflight.Group // one compilation per module and runtime at a time

	mu       sync.Mutex
	cur      *generation
	closed   bool
	mods     *lru[string, *wasm.Module]                // metered CID → module in cur
	versions *lru[versionKey, apitype.ContractVersion] // resolutions
}

// generation is one wasm.Runtime and the calls using it.
type generation struct {
	rt       *wasm.Runtime
	refs     int  // Executes in flight on rt
	compiled int  // modules compiled into rt
	retired  bool // no new Execute uses rt; close it when refs reaches 0
}

type versionKey struct {
	name, rng string
	height    int64
}

// NewExecutor builds an Executor running modules with cfg, reading code
// from code and state from data, caching up to cacheSize compiled modules
// (0 = DefaultCacheSize). Errors: wasm.New's (Invalid for a bad cfg).
func NewExecutor(ctx context.Context, cfg wasm.Config, code Code, data Data, cacheSize int) (*Executor, error) {
	if cacheSize <= 0 {
		cacheSize = DefaultCacheSize
	}
	rt, err := wasm.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Executor{cfg: cfg, code: code, data: data, maxCompiled: 4 * cacheSize,
		cur: &generation{rt: rt}, mods: newLRU[string, *wasm.Module](cacheSize),
		versions: newLRU[versionKey, apitype.ContractVersion](4 * cacheSize)}, nil
}

// Close stops new executions and releases the runtime once the running
// ones end. It is idempotent.
func (e *Executor) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	g := e.cur
	g.retired = true
	done := g.refs == 0
	e.mods.clear()
	e.mu.Unlock()
	if done {
		return g.rt.Close(ctx)
	}
	return nil
}

// Execute runs request r (an offer: an open request's current round) and
// returns its result, the canonical encoding (wasm.Result.MarshalBinary,
// what a Reveal or Result message carries) and that encoding's SHA-256
// (the result hash a seal commits to).
//
// Contract failures (out of gas, trap, abort, bad input, ...) are results.
// Errors are for requests that cannot be run here: Invalid (a malformed
// offer: gas limit, seed, start height, missing CID), Unauthorized (the
// code does not match its CID), Unavailable (the Executor is closed), the
// Code and Data sources' errors (a node that cannot be reached) and
// wasm/composite host failures. A miner must not seal a request it got an
// error for.
func (e *Executor) Execute(ctx context.Context, r apitype.Request) (*wasm.Result, []byte, [32]byte, error) {
	const op = "miner.execute"
	var zero [32]byte
	req, err := callOf(r)
	if err != nil {
		return nil, nil, zero, err
	}
	g, err := e.acquire(ctx)
	if err != nil {
		return nil, nil, zero, err
	}
	defer e.release(ctx, g)

	req.State = e.state(ctx, r.Name, r.Start)
	req.Contracts = resolver{e: e, g: g, height: r.Start}
	var res *wasm.Result
	if !r.Composite {
		if r.MeteredCID == "" {
			return nil, nil, zero, vmerr.E(op, vmerr.Invalid, "request %s names no metered CID", r.ID)
		}
		m, err := e.module(ctx, g, r.Name, r.Version, r.MeteredCID)
		if err != nil {
			return nil, nil, zero, err
		}
		if res, err = g.rt.Call(ctx, m, req); err != nil {
			return nil, nil, zero, err
		}
	} else {
		v, err := e.version(ctx, r.Name, r.Version, 0)
		if err != nil {
			return nil, nil, zero, err
		}
		if len(v.Manifest) == 0 {
			return nil, nil, zero, vmerr.E(op, vmerr.Invalid, "%s@%s is not a composite", r.Name, r.Version)
		}
		man, err := composite.ParseManifest(v.Manifest)
		if err != nil {
			return nil, nil, zero, fmt.Errorf("%s@%s: stored manifest: %w", r.Name, r.Version, err)
		}
		load := func(ctx context.Context, name, version string) (*wasm.Module, wasm.State, error) {
			sv, err := e.version(ctx, name, version, 0)
			if err != nil {
				return nil, nil, err
			}
			if sv.MeteredHash == "" {
				return nil, nil, vmerr.E(op, vmerr.Invalid, "step %s@%s is a composite", name, version)
			}
			m, err := e.module(ctx, g, name, sv.Version, sv.MeteredHash)
			if err != nil {
				return nil, nil, err
			}
			return m, e.state(ctx, name, r.Start), nil
		}
		out, err := composite.RunMemos(ctx, g.rt, man, load, req, e.memos(r.Start))
		if err != nil {
			return nil, nil, zero, err
		}
		res = out.Result
	}
	raw, err := res.MarshalBinary()
	if err != nil {
		return nil, nil, zero, err
	}
	return res, raw, sha256.Sum256(raw), nil
}

// memos answers composite steps from the memos that hold at height:
// the node's memo of the step's (code, fn, input) at that height, when it
// may stand for a step (wasm.StepMemoizable) and every read it records
// still has its version at that height. Every honest miner reads the same
// height, so all hit the same memos.
func (e *Executor) memos(height int64) composite.Memos {
	return func(ctx context.Context, code [32]byte, fn string, input [32]byte) (*wasm.Result, error) {
		m, err := e.data.Memo(ctx, code, fn, input, height)
		switch {
		case vmerr.KindOf(err) == vmerr.NotFound:
			return nil, nil
		case err != nil:
			return nil, err
		}
		var res wasm.Result
		if err := res.UnmarshalBinary(m.Raw); err != nil {
			return nil, vmerr.Wrap("miner.memo", vmerr.Internal, fmt.Errorf("memo of %s: %w", fn, err))
		}
		if !wasm.StepMemoizable(&res) {
			return nil, nil
		}
		i, err := jobs.Stale(res.ReadSet, func(name string) wasm.State { return e.state(ctx, name, height) })
		if err != nil || i >= 0 {
			return nil, err
		}
		return &res, nil
	}
}

// callOf is the wasm.Request of offer r, without State and Contracts.
func callOf(r apitype.Request) (wasm.Request, error) {
	const op = "miner.execute"
	gas, err := strconv.ParseUint(r.GasLimit, 10, 64)
	if err != nil {
		return wasm.Request{}, vmerr.E(op, vmerr.Invalid, "request %s: gas limit %q: %w", r.ID, r.GasLimit, err)
	}
	seed, err := hex.DecodeString(r.Seed)
	if err != nil || len(seed) != 32 {
		return wasm.Request{}, vmerr.E(op, vmerr.Invalid, "request %s: seed %q is not 32 hex bytes", r.ID, r.Seed)
	}
	if r.Start <= 0 || r.Name == "" || r.Version == "" {
		return wasm.Request{}, vmerr.E(op, vmerr.Invalid, "request %s: needs a start height, a name and a version", r.ID)
	}
	req := wasm.Request{Fn: r.Fn, Input: r.Input, GasLimit: gas, Caller: r.Requester, Contract: r.Name,
		Height: r.Start, Time: r.StartTime}
	copy(req.Seed[:], seed)
	return req, nil
}

// acquire returns the current generation with a reference taken, first
// moving to a fresh runtime when the current one compiled too many modules.
func (e *Executor) acquire(ctx context.Context) (*generation, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, vmerr.E("miner.execute", vmerr.Unavailable, "executor closed")
	}
	if e.cur.compiled >= e.maxCompiled {
		rt, err := wasm.New(ctx, e.cfg)
		if err != nil {
			return nil, err
		}
		old := e.cur
		old.retired = true
		if old.refs == 0 {
			_ = old.rt.Close(ctx)
		}
		e.cur = &generation{rt: rt}
		e.mods.clear()
	}
	e.cur.refs++
	return e.cur, nil
}

// release drops a reference taken by acquire, closing a retired runtime
// with its last call.
func (e *Executor) release(ctx context.Context, g *generation) {
	e.mu.Lock()
	g.refs--
	done := g.retired && g.refs == 0
	e.mu.Unlock()
	if done {
		_ = g.rt.Close(context.WithoutCancel(ctx))
	}
}

// module returns the compiled metered module name@version whose CID is
// cidText, from the cache or fetched from Code and verified against the CID.
func (e *Executor) module(ctx context.Context, g *generation, name, version, cidText string) (*wasm.Module, error) {
	e.mu.Lock()
	if g == e.cur {
		if m, ok := e.mods.get(cidText); ok {
			e.mu.Unlock()
			return m, nil
		}
	}
	e.mu.Unlock()
	// A module is compiled once even when several calls (or Warm) want it
	// at the same time: a big module takes seconds to compile.
	m, err, _ := e.compiling.Do(fmt.Sprintf("%p/%s", g, cidText), func() (any, error) {
		return e.compile(ctx, g, name, version, cidText)
	})
	if err != nil {
		return nil, err
	}
	return m.(*wasm.Module), nil
}

// compile fetches, verifies and compiles the module of module's arguments
// into g and caches it.
func (e *Executor) compile(ctx context.Context, g *generation, name, version, cidText string) (*wasm.Module, error) {
	e.mu.Lock()
	if m, ok := e.mods.get(cidText); ok && g == e.cur { // compiled while this call waited
		e.mu.Unlock()
		return m, nil
	}
	e.mu.Unlock()
	c, err := contract.ParseCID(cidText)
	if err != nil {
		return nil, err
	}
	code, _, err := e.code.ContractCode(ctx, name, version, true)
	if err != nil {
		return nil, err
	}
	if err := contract.VerifyCID(c, code); err != nil {
		return nil, fmt.Errorf("metered code of %s@%s: %w", name, version, err)
	}
	m, err := g.rt.Compile(ctx, code)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	g.compiled++
	if g == e.cur {
		e.mods.put(cidText, m)
	}
	e.mu.Unlock()
	return m, nil
}

// Warm compiles the latest version of name@rng ahead of its first call,
// so that call does not wait for the compiler (seconds for a Go
// contract). Errors: resolution's and compilation's.
func (e *Executor) Warm(ctx context.Context, name, rng string) error {
	// Not e.version, which takes only exact versions: any answer will do
	// here, since the code fetched is checked against its CID and a call
	// uses a module only under the CID its request names.
	v, err := e.code.ContractVersion(ctx, name, rng, 0)
	if err != nil {
		return err
	}
	if v.MeteredHash == "" {
		return nil // a composite: its steps are compiled when they run
	}
	g, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	defer e.release(ctx, g)
	_, err = e.module(ctx, g, v.Name, v.Version, v.MeteredHash)
	return err
}

// version resolves name@rng at height through the cache. Only answers
// that cannot change are cached: exact versions, and resolutions at a
// fixed (past) height.
func (e *Executor) version(ctx context.Context, name, rng string, height int64) (apitype.ContractVersion, error) {
	k := versionKey{name, rng, height}
	e.mu.Lock()
	v, ok := e.versions.get(k)
	e.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := e.code.ContractVersion(ctx, name, rng, height)
	if err != nil {
		return v, err
	}
	if v.Name != name || (rng != "" && v.Version != rng) {
		return v, vmerr.E("miner.execute", vmerr.Unauthorized, "asked for %s@%s, the node answered %s@%s", name, rng, v.Name, v.Version)
	}
	v.Location = nil
	e.mu.Lock()
	e.versions.put(k, v)
	e.mu.Unlock()
	return v, nil
}

// state is contract name's namespace at height, read through Data.
func (e *Executor) state(ctx context.Context, name string, height int64) wasm.State {
	return StateAt(ctx, e.data, name, height)
}

// StateAt is contract name's namespace at committed height, read through
// src on each access (what a miner runs against; `vm contract run
// NAME@RANGE` uses it too, so its gas equals a miner's on the same state).
func StateAt(ctx context.Context, src Data, name string, height int64) wasm.State {
	return dataState{ctx: ctx, src: src, name: name, height: height}
}

// resolver resolves cross-contract calls as of a request's start height.
type resolver struct {
	e      *Executor
	g      *generation
	height int64
}

// Resolve returns the highest non-yanked version of name as of the start
// height. Errors: NotFound (no such version, or a composite); Code's.
func (r resolver) Resolve(ctx context.Context, name string) (*wasm.Module, wasm.State, error) {
	v, err := r.e.version(ctx, name, "", r.height)
	if err != nil {
		return nil, nil, err
	}
	if v.MeteredHash == "" {
		return nil, nil, vmerr.E("miner.resolve", vmerr.NotFound, "%s@%s is a composite; it cannot be called", name, v.Version)
	}
	m, err := r.e.module(ctx, r.g, name, v.Version, v.MeteredHash)
	if err != nil {
		return nil, nil, err
	}
	return m, r.e.state(ctx, name, r.height), nil
}

// dataState is a wasm.State over Data at a fixed height. The runtime calls
// it from one goroutine at a time and gives it no context, so it carries
// the Execute's.
type dataState struct {
	ctx    context.Context
	src    Data
	name   string
	height int64
}

func (s dataState) Get(key []byte) ([]byte, uint64, bool, error) {
	d, err := s.src.Data(s.ctx, s.name, key, s.height)
	switch {
	case err != nil:
		return nil, 0, false, err
	case d.Height != 0 && d.Height != s.height:
		return nil, 0, false, vmerr.E("miner.state", vmerr.Internal, "asked for height %d, the node answered %d", s.height, d.Height)
	case !d.Found:
		return nil, 0, false, nil
	}
	return d.Value, d.Version, true, nil
}

// Range pages through Data.DataRange (at most jobs.MaxDataRange a page).
func (s dataState) Range(start, end []byte, limit int) ([]wasm.Entry, error) {
	var out []wasm.Entry
	for len(out) < limit {
		n := min(limit-len(out), jobs.MaxDataRange)
		dr, err := s.src.DataRange(s.ctx, s.name, start, end, n, s.height)
		if err != nil {
			return nil, err
		}
		if dr.Height != 0 && dr.Height != s.height {
			return nil, vmerr.E("miner.state", vmerr.Internal, "asked for height %d, the node answered %d", s.height, dr.Height)
		}
		for _, d := range dr.Entries {
			if bytes.Compare(d.Key, start) < 0 || (len(end) > 0 && bytes.Compare(d.Key, end) >= 0) ||
				(len(out) > 0 && bytes.Compare(d.Key, out[len(out)-1].Key) <= 0) {
				return nil, vmerr.E("miner.state", vmerr.Internal, "the node's range answer is out of order or bounds")
			}
			out = append(out, wasm.Entry{Key: d.Key, Value: d.Value, Version: d.Version})
		}
		if len(dr.Entries) < n {
			break
		}
		start = append(bytes.Clone(out[len(out)-1].Key), 0)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
