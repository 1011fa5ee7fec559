// Package wasm owns the deterministic contract runtime: it compiles metered
// WebAssembly modules with wazero, runs one call per fresh (or restored)
// instance under a gas limit, implements Host ABI v1 (docs/ABI.md) and a
// deterministic WASI shim for Go contracts, and produces a Result whose
// canonical encoding every honest miner reproduces byte for byte.
//
// It is the only package that imports wazero.
package wasm

import (
	"context"
	"crypto/sha256"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm/meter"
)

// Engine selects wazero's execution engine. Both give identical results
// and gas; the compiler is faster, the interpreter runs everywhere.
type Engine string

// The engines.
const (
	EngineCompiler    Engine = "compiler"
	EngineInterpreter Engine = "interpreter"
)

// Names the metered module exports (owned by internal/wasm/meter).
const (
	exportGas    = meter.ExportGas
	exportStatus = meter.ExportStatus
	exportDepth  = meter.ExportDepth
	exportStart  = meter.ExportStart
	globalPrefix = meter.ExportGlobalPrefix
	exportInit   = "_initialize" // the WASI reactor initialiser (Go c-shared)
)

// Config is the runtime configuration. Build it with DefaultConfig; it is
// copied by New and never changed afterwards. Limits that shape results
// (every field but Engine, CacheDir and CloseOnContextDone) must be equal
// on all miners.
type Config struct {
	Engine   Engine // "" means EngineCompiler
	CacheDir string // wazero's on-disk compilation cache; "" for none

	MaxMemoryPages  uint32 // linear memory cap in 64 KiB pages (also the meter's)
	MaxContractCall int    // nesting of contract-to-contract calls; the top call is depth 0
	MaxInputSize    int    // bytes of Request.Input
	MaxOutputSize   int    // bytes written by output_write in one call
	MaxLogs         int    // log entries per top-level call (vm log and WASI stdout/stderr)
	MaxLogBytes     int    // bytes of logs per top-level call
	MaxEvents       int    // events per top-level call
	MaxEventBytes   int    // topic+data bytes per top-level call
	MaxKeySize      int    // bytes of one state key
	MaxValueSize    int    // bytes of one state value
	MaxWrites       int    // state_set/state_delete calls per top-level call
	MaxRange        int    // entries one state_range may return
	MaxHostCalls    int    // host calls (ABI and WASI) per top-level call
	MaxErrorSize    int    // bytes of an abort message kept in Result.Error
	InitGasLimit    uint64 // gas budget of module initialisation (vm_start + _initialize)
	NoSnapshot      bool   // initialise every call from scratch (slower, same results)
	InstancePool    int    // idle instances kept per pooled module for reuse (0: none)

	// CloseOnContextDone makes wazero stop execution when the call's
	// context ends. Gas is the bound; this is only a safety net for
	// unmetered diagnostic runs and costs speed. Default false.
	CloseOnContextDone bool
}

// DefaultConfig returns the network defaults.
func DefaultConfig() Config {
	return Config{
		Engine:          EngineCompiler,
		MaxMemoryPages:  512, // 32 MiB: a Go contract starts near 4 MiB
		MaxContractCall: 8,
		MaxInputSize:    1 << 20,
		MaxOutputSize:   1 << 20,
		MaxLogs:         256,
		MaxLogBytes:     64 << 10,
		MaxEvents:       256,
		MaxEventBytes:   64 << 10,
		MaxKeySize:      1 << 10,
		MaxValueSize:    256 << 10,
		MaxWrites:       4096,
		MaxRange:        1024,
		MaxHostCalls:    1 << 20,
		MaxErrorSize:    1 << 10,
		InitGasLimit:    100_000_000,
		InstancePool:    4,
	}
}

// TestConfig returns DefaultConfig with the interpreter-independent limits
// unchanged; it exists so tests share one place to tighten limits.
func TestConfig() Config {
	c := DefaultConfig()
	c.MaxHostCalls = 10_000
	return c
}

// Validate reports whether c is usable; the error is of kind vmerr.Invalid.
func (c *Config) Validate() error {
	bad := func(msg string, args ...any) error { return vmerr.E("wasm.config", vmerr.Invalid, msg, args...) }
	switch {
	case c.Engine != "" && c.Engine != EngineCompiler && c.Engine != EngineInterpreter:
		return bad("engine must be compiler or interpreter, not %q", c.Engine)
	case c.MaxMemoryPages == 0 || c.MaxMemoryPages > 65536:
		return bad("MaxMemoryPages %d not in [1, 65536]", c.MaxMemoryPages)
	case c.MaxContractCall < 0 || c.MaxContractCall > 64:
		return bad("MaxContractCall %d not in [0, 64]", c.MaxContractCall)
	case c.MaxInputSize <= 0 || c.MaxOutputSize <= 0 || c.MaxLogs < 0 || c.MaxLogBytes < 0 ||
		c.MaxEvents < 0 || c.MaxEventBytes < 0 || c.MaxKeySize <= 0 || c.MaxValueSize <= 0 ||
		c.MaxWrites < 0 || c.MaxRange <= 0 || c.MaxHostCalls <= 0 || c.MaxErrorSize <= 0 ||
		c.InstancePool < 0 || c.InstancePool > 1024:
		return bad("size and count limits must be positive")
	case c.InitGasLimit == 0 || c.InitGasLimit > uint64(meter.MaxGas):
		return bad("InitGasLimit %d not in [1, 2^62]", c.InitGasLimit)
	}
	return nil
}

// Runtime compiles and runs contracts. It is safe for concurrent use; each
// Call runs in its own instance. Close releases everything.
type Runtime struct {
	cfg    Config
	rt     wazero.Runtime
	cache  wazero.CompilationCache // nil without CacheDir
	modCfg wazero.ModuleConfig     // every instance's config, built once

	mu   sync.Mutex
	mods map[[32]byte]*Module

	pagemap     int // /proc/self/pagemap for copy-on-write resets (Linux); -1: none. Set by New only
	pagemapOnce sync.Once
}

// Module is a compiled contract. Modules are cached by the SHA-256 of their
// bytes, so Compile of the same code returns the same *Module.
type Module struct {
	hash     [32]byte
	size     int
	compiled wazero.CompiledModule
	metered  bool
	globals  []string // vm_g* exports, the snapshot set
	init     []string // initialisers to run in order
	noSnap   bool     // the code changes instance state a snapshot misses
	exports  map[string]bool

	snapMu    sync.Mutex
	snap      *snapshot      // the kept snapshot, nil until one is built
	snapShort uint64         // largest init budget known to be too small
	pool      chan *instance // idle instances in the snapshot's state after a reset
}

// Hash returns the SHA-256 of the module's bytes.
func (m *Module) Hash() [32]byte { return m.hash }

// Metered reports whether the module carries the meter's gas counter.
func (m *Module) Metered() bool { return m.metered }

// Size returns the module's length in bytes.
func (m *Module) Size() int { return m.size }

// New builds a Runtime and instantiates the host modules ("vm" and
// "wasi_snapshot_preview1"). It fails with vmerr.Invalid for a bad Config
// and vmerr.Internal when wazero cannot start (for example an unusable
// CacheDir).
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var rc wazero.RuntimeConfig
	if cfg.Engine == EngineInterpreter {
		rc = wazero.NewRuntimeConfigInterpreter()
	} else {
		cfg.Engine = EngineCompiler
		rc = wazero.NewRuntimeConfigCompiler()
	}
	rc = rc.WithCoreFeatures(meter.Features).
		WithMemoryLimitPages(cfg.MaxMemoryPages).
		WithCloseOnContextDone(cfg.CloseOnContextDone)
	r := &Runtime{cfg: cfg, mods: make(map[[32]byte]*Module), modCfg: moduleConfig(), pagemap: -1}
	if cfg.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, vmerr.E("wasm.new", vmerr.Internal, "compilation cache: %w", err)
		}
		r.cache = cache
		rc = rc.WithCompilationCache(cache)
	}
	r.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if cfg.InstancePool > 0 {
		r.pagemap = openPagemap()
	}
	if err := r.instantiateHost(ctx); err != nil {
		_ = r.Close(ctx)
		return nil, vmerr.E("wasm.new", vmerr.Internal, "host modules: %w", err)
	}
	return r, nil
}

// Close releases every compiled module and the wazero runtime. Modules
// from this Runtime must not be used afterwards.
func (r *Runtime) Close(ctx context.Context) error {
	err := r.rt.Close(ctx)
	if r.cache != nil {
		if cerr := r.cache.Close(ctx); err == nil {
			err = cerr
		}
	}
	r.mu.Lock()
	for _, m := range r.mods {
		m.snapMu.Lock()
		if m.snap != nil {
			m.snap.cow.close()
		}
		m.snapMu.Unlock()
	}
	r.mods = nil
	r.mu.Unlock()
	r.pagemapOnce.Do(func() { closePagemap(r.pagemap) })
	return err
}

// Config returns the runtime's configuration.
func (r *Runtime) Config() Config { return r.cfg }

// MeterConfig returns the metering configuration this runtime expects:
// meter.DefaultConfig with the runtime's memory cap and the Host ABI v1
// import list (ABI and WASI functions with their exact signatures).
func (r *Runtime) MeterConfig() meter.Config { return r.cfg.MeterConfig() }

// MeterConfig returns the metering configuration of runtimes with c:
// meter.DefaultConfig with c's memory cap and the Host ABI v1 import list.
// The ledger meters deployed code with DefaultConfig().MeterConfig(), so
// it is part of consensus: changing it changes every metered hash.
func (c Config) MeterConfig() meter.Config {
	mc := meter.DefaultConfig()
	mc.MaxMemoryPages = c.MaxMemoryPages
	mc.AllowImport = AllowImport
	return mc
}

// Meter rewrites an original module into the metered module Compile
// expects. Errors wrap the meter's sentinels (meter.ErrInvalid,
// ErrUnsupported, ErrImport, ErrLimit) and are of kind vmerr.Invalid.
func (r *Runtime) Meter(orig []byte) ([]byte, error) {
	out, _, err := meter.Instrument(orig, r.MeterConfig())
	if err != nil {
		return nil, vmerr.Wrap("wasm.meter", vmerr.Invalid, err)
	}
	return out, nil
}

// Compile validates and compiles a module, normally the output of Meter.
// An unmetered module compiles too (for diagnostics): it runs with only
// host calls charged and no bound on its own instructions. Compiling the
// same bytes again returns the cached *Module. Errors: vmerr.Invalid when
// wazero rejects the bytes or an import is not part of the ABI.
func (r *Runtime) Compile(ctx context.Context, bin []byte) (*Module, error) {
	h := sha256.Sum256(bin)
	r.mu.Lock()
	if m, ok := r.mods[h]; ok {
		r.mu.Unlock()
		return m, nil
	}
	r.mu.Unlock()
	cm, err := r.rt.CompileModule(ctx, bin)
	if err != nil {
		return nil, vmerr.E("wasm.compile", vmerr.Invalid, "%w", err)
	}
	m := &Module{hash: h, size: len(bin), compiled: cm, exports: make(map[string]bool),
		pool: make(chan *instance, r.cfg.InstancePool)}
	fail := func(msg string, args ...any) (*Module, error) {
		_ = cm.Close(ctx)
		return nil, vmerr.E("wasm.compile", vmerr.Invalid, msg, args...)
	}
	for _, imp := range cm.ImportedFunctions() {
		mod, name, _ := imp.Import()
		if err := AllowImport(mod, name, valTypes(imp.ParamTypes()), valTypes(imp.ResultTypes())); err != nil {
			return fail("%w", err)
		}
	}
	for name, def := range cm.ExportedFunctions() {
		if len(def.ParamTypes()) == 0 && len(def.ResultTypes()) == 0 {
			m.exports[name] = true
		}
	}
	if _, ok := cm.ExportedFunctions()[exportGas]; ok {
		return fail("%s exported as a function", exportGas)
	}
	if m.globals, err = exportedGlobals(bin); err != nil {
		return fail("%w", err)
	}
	m.metered = hasExportedGlobal(bin, exportGas)
	m.noSnap = instanceStateOutsideSnapshot(bin)
	if m.metered && m.exports[exportStart] {
		m.init = append(m.init, exportStart)
	}
	if m.exports[exportInit] {
		m.init = append(m.init, exportInit)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mods == nil {
		_ = cm.Close(ctx)
		return nil, vmerr.E("wasm.compile", vmerr.Unavailable, "runtime closed")
	}
	if old, ok := r.mods[h]; ok {
		_ = cm.Close(ctx)
		return old, nil
	}
	r.mods[h] = m
	return m, nil
}

// hasExportedGlobal reports whether bin exports a global named name. The
// metered module's gas counter is detected this way because wazero does
// not list exported globals of a compiled module.
func hasExportedGlobal(bin []byte, name string) bool {
	all, err := exportedNames(bin, 3)
	if err != nil {
		return false
	}
	for _, n := range all {
		if n == name {
			return true
		}
	}
	return false
}

func valTypes(ts []api.ValueType) []meter.ValType {
	out := make([]meter.ValType, len(ts))
	for i, t := range ts {
		out[i] = meter.ValType(t)
	}
	return out
}

// Snapshots reports whether calls of m restore a post-initialisation
// snapshot and reuse instances: m is metered and its code never changes
// tables or drops segments. For a module without an initialiser the
// snapshot is the post-instantiation state (memory after the data
// segments, initial globals), so its calls skip instantiation too.
func (m *Module) Snapshots() bool { return m.metered && !m.noSnap }

// moduleConfig is the wazero configuration of every contract instance: no
// name, no start function (metered modules have none; an unmetered one's
// runs at instantiation anyway), and a constant random source. Contracts
// never reach wazero's random source (the WASI shim in wasi.go serves
// random_get from the request's seed), but wazero builds one per instance
// unless given one, and its default seeded generator was about a third of
// a small call's cost.
func moduleConfig() wazero.ModuleConfig {
	return wazero.NewModuleConfig().WithName("").WithStartFunctions().WithRandSource(zeroReader{})
}

// zeroReader is a stateless io.Reader of zero bytes.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
