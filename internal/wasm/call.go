package wasm

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm/meter"
)

// Request is one contract call.
type Request struct {
	Fn        string   // exported function with no params and no results
	Input     []byte   // at most Config.MaxInputSize bytes
	GasLimit  uint64   // at most meter.MaxGas
	Caller    string   // who calls: an account address, ID or contract name
	Contract  string   // the called contract's name; labels its reads, writes and events
	Height    int64    // block height the call runs at (from the request, never the node)
	Time      int64    // block time in unix seconds (from the request, never the wall clock)
	Seed      [32]byte // randomness for the call, derived from the request by the ledger
	State     State    // the contract's namespace; nil means empty
	Contracts Resolver // for cross-contract calls; nil means none resolve
	Depth     int      // contract-call nesting of this request; 0 for a top-level call
}

// Call runs req.Fn of m in a fresh instance (restored from m's
// post-initialisation snapshot when m is metered) and returns the Result.
//
// Every contract failure — out of gas, a trap, an abort, a limit, an
// unknown function, oversized input — is a Result status with err nil. err
// is non-nil only for host failures: the State or Resolver failed (their
// error is wrapped), wazero failed to restore a snapshot, or ctx ended
// before the call started (kind vmerr.Timeout); such a run has no result
// miners could agree on. A ctx that ends during a metered call does not
// stop it (gas does), unless Config.CloseOnContextDone is set.
func (r *Runtime) Call(ctx context.Context, m *Module, req Request) (*Result, error) {
	t := newTxn(r)
	out, err := r.run(ctx, m, &req, t, nil)
	if err != nil {
		return nil, err
	}
	t.flushStdio()
	res := &Result{Status: out.status, GasUsed: out.gasUsed, Error: out.msg, Logs: t.logs, Context: t.context}
	res.ReadSet = t.readSet()
	if out.status == StatusOK {
		res.Output = out.output
		res.WriteSet = out.layer.writeSet()
		res.Events = t.events
	}
	return res, nil
}

// callOut is what one (possibly nested) contract invocation produced.
type callOut struct {
	status  Status
	gasUsed uint64
	msg     string
	output  []byte
	layer   *layer
}

// failOut is a result that used gas but ran nothing more.
func failOut(st Status, gas uint64, msg string) *callOut {
	return &callOut{status: st, gasUsed: gas, msg: msg}
}

// run executes one contract invocation: nested calls use it too, with the
// caller's layer as parent.
func (r *Runtime) run(ctx context.Context, m *Module, req *Request, t *txn, parent *layer) (*callOut, error) {
	if err := ctx.Err(); err != nil {
		return nil, vmerr.E("wasm.call", vmerr.Timeout, "%w", err)
	}
	limit := req.GasLimit
	if limit > uint64(meter.MaxGas) {
		limit = uint64(meter.MaxGas)
	}
	switch {
	case len(req.Input) > r.cfg.MaxInputSize:
		return failOut(StatusBadInput, 0, "input too large"), nil
	case !m.exports[req.Fn] || req.Fn == exportInit || strings.HasPrefix(req.Fn, "vm_"):
		return failOut(StatusBadInput, 0, "no such function"), nil
	case req.Depth > r.cfg.MaxContractCall:
		return failOut(StatusCallDepthExceeded, 0, "call depth exceeded"), nil
	}
	events := len(t.events)
	f := &frame{rt: r, t: t, req: req, state: req.State, layer: newLayer(parent)}
	if f.state == nil {
		f.state = emptyState{}
	}

	var inst *instance
	var initGas uint64
	pooled := m.Snapshots() && !r.cfg.NoSnapshot
	var snap *snapshot
	if pooled {
		var err error
		snap, err = r.snapshot(ctx, m, limit)
		if err != nil {
			return nil, err
		}
		if snap.status != StatusOK || snap.gas > limit {
			return snap.failure(limit), nil
		}
		if inst, err = r.restore(ctx, m, snap); err != nil {
			return nil, err
		}
		initGas = snap.gas
	} else {
		var err error
		if inst, err = r.instantiate(ctx, m); err != nil {
			return r.instantiateFailure(err)
		}
		if len(m.init) > 0 {
			budget := min(limit, r.cfg.InitGasLimit)
			st, used, msg, err := r.initialise(ctx, m, inst, budget)
			if err != nil {
				_ = inst.Close(ctx)
				return nil, err
			}
			if st != StatusOK {
				_ = inst.Close(ctx)
				if st == StatusOutOfGas {
					return failOut(StatusOutOfGas, budget, msg), nil
				}
				return failOut(st, used, msg), nil
			}
			initGas = used
		}
	}
	f.bind(inst, limit-initGas)
	st, msg, err := f.invoke(ctx, req.Fn)
	used := initGas + f.used() // before release: a released instance belongs to the next call
	if pooled {
		r.release(ctx, m, snap, inst, err == nil && reusable(st))
	} else {
		_ = inst.Close(ctx)
	}
	if err != nil {
		return nil, err
	}
	if st == StatusOutOfGas {
		used = limit
	}
	out := &callOut{status: st, gasUsed: used, msg: msg, layer: f.layer}
	if st == StatusOK {
		out.output = f.output
	} else {
		t.events = t.events[:events]
	}
	return out, nil
}

// reusable reports whether an instance whose call ended with st may serve
// another call after a reset to the snapshot: the call ended through the
// host (ok, an abort, the meter running out) rather than a trap, after
// which the engine may have closed the instance. Refusals must not cost a
// miner a fresh instance each (a contract can make them cheap for the
// caller). release still checks memory did not grow, and restore that the
// instance is open.
func reusable(st Status) bool {
	return st == StatusOK || st == StatusAbort || st == StatusOutOfGas
}

// instantiate makes a fresh instance without running any export. Metered
// modules have no start section left; an unmetered one runs its start
// function here, unbounded.
func (r *Runtime) instantiate(ctx context.Context, m *Module) (*instance, error) {
	mod, err := r.rt.InstantiateModule(ctx, m.compiled, r.modCfg)
	if err != nil {
		return nil, err
	}
	return &instance{Module: mod, fns: make(map[string]api.Function)}, nil
}

// instance is a live wazero instance that caches its exported functions:
// wazero builds a new call engine (with its own stack) on every
// ExportedFunction, which was a fifth of a small pooled call. An instance
// serves one call at a time (api.Function is not safe for concurrent use).
type instance struct {
	api.Module
	fns map[string]api.Function
	cow *cowMemory // the copy-on-write memory mapping the snapshot image, or nil
}

// function returns the exported function name, or nil.
func (i *instance) function(name string) api.Function {
	if f, ok := i.fns[name]; ok {
		return f
	}
	f := i.ExportedFunction(name)
	if f != nil {
		i.fns[name] = f
	}
	return f
}

// instantiateFailure classifies an instantiation error, always a property
// of the module: a memory over the cap is memory_limit, a start function
// that traps (unmetered modules only) is trap, anything else (a data or
// element segment out of range) is invalid_module.
func (r *Runtime) instantiateFailure(err error) (*callOut, error) {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "start function"):
		return failOut(StatusTrap, 0, trapName(err)), nil
	case strings.Contains(msg, "memory") && strings.Contains(msg, "limit"):
		return failOut(StatusMemoryLimit, 0, "memory limit"), nil
	}
	return failOut(StatusInvalidModule, 0, "instantiate failed"), nil
}

// initialise runs the module's initialisers in inst under the canonical
// init request (no input, no caller, height 0, time 0, zero seed, empty
// read-only state) with budget gas. Logs of initialisation are discarded.
func (r *Runtime) initialise(ctx context.Context, m *Module, inst *instance, budget uint64) (Status, uint64, string, error) {
	t := newTxn(r)
	f := &frame{rt: r, t: t, req: &Request{}, state: emptyState{}, layer: newLayer(nil), initPhase: true}
	f.bind(inst, budget)
	for _, fn := range m.init {
		st, msg, err := f.invoke(ctx, fn)
		if err != nil || st != StatusOK {
			return st, f.used(), msg, err
		}
	}
	return StatusOK, f.used(), "", nil
}

// frame is one contract invocation's host-side state.
type frame struct {
	rt        *Runtime
	t         *txn
	req       *Request
	state     State
	layer     *layer
	initPhase bool

	ctx    context.Context // the context of the running export call
	inst   *instance
	mem    api.Memory
	gas    api.MutableGlobal // nil for an unmetered module
	status api.MutableGlobal
	limit  uint64
	left   uint64 // gas left of an unmetered module (host charges only)

	output []byte
	ret    []byte // the return buffer (ret_read)
	rand   randStream
	clock  int64 // nanoseconds added to the request time by poll_oneoff sleeps

	failed  bool
	fStatus Status
	fMsg    string
	hostErr error
}

type frameKey struct{}

// trapSignal is the panic value a host function uses to stop the guest
// after recording the outcome in its frame.
type trapSignal struct{}

// bind attaches the frame to a live instance and sets the gas counter.
func (f *frame) bind(inst *instance, gas uint64) {
	f.inst, f.mem, f.limit = inst, memoryOf(inst), gas
	f.rand = newRandStream(f.req.Seed)
	if g, ok := inst.ExportedGlobal(exportGas).(api.MutableGlobal); ok {
		f.gas = g
		g.Set(gas)
		if s, ok := inst.ExportedGlobal(exportStatus).(api.MutableGlobal); ok {
			f.status = s
			s.Set(0)
		}
		if d, ok := inst.ExportedGlobal(exportDepth).(api.MutableGlobal); ok {
			d.Set(0)
		}
	} else {
		f.left = gas
	}
}

// used returns the gas used since bind, capped at the limit.
func (f *frame) used() uint64 {
	left := f.left
	if f.gas != nil {
		v := int64(f.gas.Get())
		if v < 0 {
			v = 0
		}
		left = uint64(v)
	}
	if left > f.limit {
		return 0
	}
	return f.limit - left
}

// setLeft sets the gas left.
func (f *frame) setLeft(v uint64) {
	if f.gas != nil {
		f.gas.Set(v)
	} else {
		f.left = v
	}
}

// invoke calls the exported function fn and classifies how it ended.
func (f *frame) invoke(ctx context.Context, fn string) (Status, string, error) {
	ef := f.inst.function(fn)
	if ef == nil {
		return StatusBadInput, "no such function", nil
	}
	f.ctx = context.WithValue(ctx, frameKey{}, f)
	_, err := ef.Call(f.ctx)
	switch {
	case f.hostErr != nil:
		return 0, "", f.hostErr
	case f.failed:
		if f.fStatus == StatusOutOfGas {
			f.setLeft(0)
		}
		return f.fStatus, f.fMsg, nil
	case err == nil:
		return StatusOK, "", nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return 0, "", vmerr.E("wasm.call", vmerr.Timeout, "%w", cerr)
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return StatusTrap, "exit", nil
	}
	if f.status != nil {
		switch f.status.Get() {
		case meter.StatusOutOfGas:
			f.setLeft(0)
			return StatusOutOfGas, "out of gas", nil
		case meter.StatusCallDepth:
			return StatusCallDepthExceeded, "call depth exceeded", nil
		}
	}
	name := trapName(err)
	if name == "stack overflow" {
		return StatusCallDepthExceeded, "call depth exceeded", nil
	}
	if f.mem != nil && f.mem.Size() >= f.rt.cfg.MaxMemoryPages*65536 {
		return StatusMemoryLimit, "memory limit", nil
	}
	return StatusTrap, name, nil
}

// fail records a contract failure and unwinds the guest.
func (f *frame) fail(st Status, msg string) {
	if !f.failed {
		f.failed, f.fStatus, f.fMsg = true, st, msg
	}
	panic(trapSignal{})
}

// hostFail records a host failure and unwinds the guest.
func (f *frame) hostFail(err error) {
	if f.hostErr == nil {
		f.hostErr = err
	}
	panic(trapSignal{})
}

// charge takes cost gas, or ends the call with out_of_gas.
func (f *frame) charge(cost uint64) {
	var left uint64
	if f.gas != nil {
		v := int64(f.gas.Get())
		if v > 0 {
			left = uint64(v)
		}
	} else {
		left = f.left
	}
	if cost > left {
		f.setLeft(0)
		f.fail(StatusOutOfGas, "out of gas")
	}
	f.setLeft(left - cost)
}

// gasLeft returns the gas left.
func (f *frame) gasLeft() uint64 {
	if f.gas != nil {
		v := int64(f.gas.Get())
		if v < 0 {
			return 0
		}
		return uint64(v)
	}
	return f.left
}

// enter counts one host call and charges its base cost plus perByte per
// byte of n.
func (f *frame) enter(base, n uint64) {
	f.t.hostCalls++
	if f.t.hostCalls > f.rt.cfg.MaxHostCalls {
		f.fail(StatusTrap, "host call limit exceeded")
	}
	f.charge(base + n)
}

// read returns a copy of guest memory [ptr, ptr+n) or traps.
func (f *frame) read(ptr, n uint32) []byte {
	if n == 0 {
		return nil
	}
	f.check(ptr, n)
	b, _ := f.mem.Read(ptr, n)
	return bytes.Clone(b)
}

// memoryOf returns inst's memory or nil. wazero returns a typed nil for a
// module without memory, which a plain nil check misses.
func memoryOf(inst api.Module) api.Memory {
	mem := inst.Memory()
	if mem == nil || reflect.ValueOf(mem).IsNil() {
		return nil
	}
	return mem
}

// check traps unless [ptr, ptr+n) is inside guest memory.
func (f *frame) check(ptr, n uint32) {
	if f.mem == nil || uint64(ptr)+uint64(n) > uint64(f.mem.Size()) {
		f.fail(StatusTrap, "out of bounds memory access")
	}
}

// write copies b to guest memory at ptr or traps.
func (f *frame) write(ptr uint32, b []byte) {
	if len(b) == 0 {
		return
	}
	if f.mem == nil || !f.mem.Write(ptr, b) {
		f.fail(StatusTrap, "out of bounds memory access")
	}
}

// trapNames maps wazero's trap messages to the ABI's canonical names, so
// the text in Result.Error does not depend on the engine.
var trapNames = []string{
	"unreachable", "integer divide by zero", "integer overflow", "out of bounds memory access",
	"invalid table access", "indirect call type mismatch", "invalid conversion to integer",
	"stack overflow",
}

func trapName(err error) string {
	msg := err.Error()
	for _, n := range trapNames {
		if strings.Contains(msg, n) {
			return n
		}
	}
	return "trap"
}

// txn is the state shared by a top-level call and its nested calls.
type txn struct {
	rt        *Runtime
	reads     map[ckey]Read
	logs      []string
	logBytes  int
	events    []Event
	evBytes   int
	writes    int
	hostCalls int
	pending   [2][]byte // partial lines of stdout and stderr
	context   bool      // the caller, height, time or seed was read (Result.Context)
}

type ckey struct{ contract, key string }

func newTxn(r *Runtime) *txn { return &txn{rt: r, reads: make(map[ckey]Read)} }

func (t *txn) readSet() []Read {
	out := make([]Read, 0, len(t.reads))
	for _, rd := range t.reads {
		out = append(out, rd)
	}
	slices.SortFunc(out, func(a, b Read) int { return cmpCK(a.Contract, a.Key, b.Contract, b.Key) })
	return out
}

// layer holds the writes of one invocation on top of its caller's.
type layer struct {
	parent *layer
	writes map[ckey]Write
}

func newLayer(parent *layer) *layer { return &layer{parent: parent, writes: make(map[ckey]Write)} }

// lookup finds the newest write to k in l or its ancestors.
func (l *layer) lookup(k ckey) (Write, bool) {
	for ; l != nil; l = l.parent {
		if w, ok := l.writes[k]; ok {
			return w, true
		}
	}
	return Write{}, false
}

// merge moves the writes of l into its parent (a nested call succeeded).
func (l *layer) merge() {
	for k, w := range l.writes {
		l.parent.writes[k] = w
	}
}

// writeSet returns the writes of l and its ancestors, newest winning,
// sorted. For the top-level layer that is the call's write set.
func (l *layer) writeSet() []Write {
	all := make(map[ckey]Write)
	var chain []*layer
	for x := l; x != nil; x = x.parent {
		chain = append(chain, x)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		for k, w := range chain[i].writes {
			all[k] = w
		}
	}
	out := make([]Write, 0, len(all))
	for _, w := range all {
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b Write) int { return cmpCK(a.Contract, a.Key, b.Contract, b.Key) })
	return out
}

// emptyState is the State of a request without one.
type emptyState struct{}

func (emptyState) Get([]byte) ([]byte, uint64, bool, error)   { return nil, 0, false, nil }
func (emptyState) Range([]byte, []byte, int) ([]Entry, error) { return nil, nil }
