package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"

	"github.com/tetratelabs/wazero/api"

	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm/meter"
)

// ABIModule is the import module name of Host ABI v1.
const ABIModule = "vm"

// Gas charges of Host ABI v1 (docs/ABI.md, "Gas"). Every host function
// charges GasHostCall plus the listed extra before doing any work.
const (
	GasHostCall   = 20   // every host function, ABI and WASI
	GasStateRead  = 100  // state_get, state_range (plus bytes)
	GasStateWrite = 200  // state_set, state_delete (plus bytes)
	GasRangeEntry = 20   // per entry state_range returns (plus its bytes)
	GasEvent      = 50   // event (plus bytes)
	GasCall       = 1000 // call (plus bytes; the callee's gas comes on top)
	GasWriteByte  = 2    // per key+value byte of state_set
)

// Call statuses as the call import returns them to the caller: the
// callee's Status value; callNotFound when no contract has the name.
const callNotFound = 255

// hostFn is one host function: its signature and its implementation.
type hostFn struct {
	name            string
	params, results []api.ValueType
	fn              func(f *frame, stack []uint64)
}

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

func sig(ps ...api.ValueType) []api.ValueType { return ps }

// abiFuncs is Host ABI v1, module "vm". Pointers and lengths are i32 and
// read as unsigned.
var abiFuncs = []hostFn{
	{"input_len", nil, sig(i32), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 0)
		s[0] = uint64(len(f.req.Input))
	}},
	{"input_read", sig(i32), nil, func(f *frame, s []uint64) {
		f.enter(GasHostCall, uint64(len(f.req.Input)))
		f.write(u32(s[0]), f.req.Input)
	}},
	{"output_write", sig(i32, i32), nil, func(f *frame, s []uint64) {
		n := u32(s[1])
		f.enter(GasHostCall, uint64(n))
		if len(f.output)+int(n) > f.rt.cfg.MaxOutputSize {
			f.fail(StatusOutputTooLarge, "output too large")
		}
		f.output = append(f.output, f.read(u32(s[0]), n)...)
	}},
	{"caller", nil, sig(i32), func(f *frame, s []uint64) {
		f.enter(GasHostCall, uint64(len(f.req.Caller)))
		f.t.context = true
		f.ret = []byte(f.req.Caller)
		s[0] = uint64(len(f.ret))
	}},
	{"ret_read", sig(i32), nil, func(f *frame, s []uint64) {
		f.enter(GasHostCall, uint64(len(f.ret)))
		f.write(u32(s[0]), f.ret)
	}},
	{"ret_len", nil, sig(i32), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 0)
		s[0] = uint64(len(f.ret))
	}},
	{"state_get", sig(i32, i32), sig(i32), func(f *frame, s []uint64) {
		kl := u32(s[1])
		f.enter(GasHostCall+GasStateRead, uint64(kl))
		key := f.key(u32(s[0]), kl)
		v, found := f.get(key)
		if !found {
			f.ret = nil
			s[0] = api.EncodeI32(-1)
			return
		}
		f.charge(uint64(len(v)))
		f.ret = v
		s[0] = uint64(len(v))
	}},
	{"state_set", sig(i32, i32, i32, i32), nil, func(f *frame, s []uint64) {
		kl, vl := u32(s[1]), u32(s[3])
		f.enter(GasHostCall+GasStateWrite, GasWriteByte*(uint64(kl)+uint64(vl)))
		key := f.key(u32(s[0]), kl)
		if int(vl) > f.rt.cfg.MaxValueSize {
			f.fail(StatusTrap, "state value too large")
		}
		f.put(key, Write{Value: f.read(u32(s[2]), vl)})
	}},
	{"state_delete", sig(i32, i32), nil, func(f *frame, s []uint64) {
		kl := u32(s[1])
		f.enter(GasHostCall+GasStateWrite, uint64(kl))
		f.put(f.key(u32(s[0]), kl), Write{Delete: true})
	}},
	{"state_range", sig(i32, i32, i32, i32, i32), sig(i32), func(f *frame, s []uint64) {
		sl, el := u32(s[1]), u32(s[3])
		f.enter(GasHostCall+GasStateRead, uint64(sl)+uint64(el))
		start, end := f.key(u32(s[0]), sl), f.key(u32(s[2]), el)
		limit := int(int32(u32(s[4])))
		if limit < 0 || limit > f.rt.cfg.MaxRange {
			f.fail(StatusTrap, "state_range limit out of range")
		}
		entries := f.rangeEntries(start, end, limit)
		var buf []byte
		for _, e := range entries {
			f.charge(GasRangeEntry + uint64(len(e.Key)) + uint64(len(e.Value)))
			buf = binary.LittleEndian.AppendUint32(buf, uint32(len(e.Key)))
			buf = append(buf, e.Key...)
			buf = binary.LittleEndian.AppendUint32(buf, uint32(len(e.Value)))
			buf = append(buf, e.Value...)
		}
		f.ret = buf
		s[0] = uint64(len(entries))
	}},
	{"log", sig(i32, i32), nil, func(f *frame, s []uint64) {
		n := u32(s[1])
		f.enter(GasHostCall, uint64(n))
		if len(f.t.logs) >= f.rt.cfg.MaxLogs || f.t.logBytes+int(n) > f.rt.cfg.MaxLogBytes {
			f.fail(StatusTrap, "log limit exceeded")
		}
		f.addLog(f.read(u32(s[0]), n))
	}},
	{"event", sig(i32, i32, i32, i32), nil, func(f *frame, s []uint64) {
		tl, dl := u32(s[1]), u32(s[3])
		f.enter(GasHostCall+GasEvent, uint64(tl)+uint64(dl))
		if f.initPhase {
			f.fail(StatusTrap, "events are not available during initialisation")
		}
		if len(f.t.events) >= f.rt.cfg.MaxEvents || f.t.evBytes+int(tl)+int(dl) > f.rt.cfg.MaxEventBytes {
			f.fail(StatusTrap, "event limit exceeded")
		}
		topic, data := f.read(u32(s[0]), tl), f.read(u32(s[2]), dl)
		f.t.evBytes += int(tl) + int(dl)
		f.t.events = append(f.t.events, Event{Contract: f.req.Contract, Topic: string(topic), Data: data})
	}},
	{"call", sig(i32, i32, i32, i32, i32, i32), sig(i32), func(f *frame, s []uint64) {
		nl, fl, il := u32(s[1]), u32(s[3]), u32(s[5])
		f.enter(GasHostCall+GasCall, uint64(nl)+uint64(fl)+uint64(il))
		name, fn, input := f.read(u32(s[0]), nl), f.read(u32(s[2]), fl), f.read(u32(s[4]), il)
		s[0] = uint64(f.callContract(string(name), string(fn), input))
	}},
	{"abort", sig(i32, i32), nil, func(f *frame, s []uint64) {
		n := u32(s[1])
		f.enter(GasHostCall, uint64(n))
		msg := f.read(u32(s[0]), min(n, uint32(f.rt.cfg.MaxErrorSize)))
		f.fail(StatusAbort, string(msg))
	}},
	{"height", nil, sig(i64), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 0)
		f.t.context = true
		s[0] = uint64(f.req.Height)
	}},
	{"time", nil, sig(i64), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 0)
		f.t.context = true
		s[0] = uint64(f.req.Time)
	}},
	{"seed", sig(i32), nil, func(f *frame, s []uint64) {
		f.enter(GasHostCall, 32)
		f.t.context = true
		f.write(u32(s[0]), f.req.Seed[:])
	}},
	{"gas_left", nil, sig(i64), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 0)
		s[0] = f.gasLeft()
	}},
}

// AllowImport accepts exactly the functions of Host ABI v1 (module "vm")
// and of the WASI shim (module "wasi_snapshot_preview1") with their exact
// signatures; it is the meter's Config.AllowImport. The error is of kind
// vmerr.Invalid.
func AllowImport(module, name string, params, results []meter.ValType) error {
	var table []hostFn
	switch module {
	case ABIModule:
		table = abiFuncs
	case WASIModule:
		table = wasiFuncs
	default:
		return vmerr.E("wasm.import", vmerr.Invalid, "import module %q is not %q or %q", module, ABIModule, WASIModule)
	}
	for _, h := range table {
		if h.name != name {
			continue
		}
		if !sameTypes(h.params, params) || !sameTypes(h.results, results) {
			return vmerr.E("wasm.import", vmerr.Invalid, "import %s.%s has signature %v -> %v, want %v -> %v",
				module, name, params, results, typeNames(h.params), typeNames(h.results))
		}
		return nil
	}
	return vmerr.E("wasm.import", vmerr.Invalid, "import %s.%s is not in Host ABI v1", module, name)
}

func sameTypes(want []api.ValueType, got []meter.ValType) bool {
	return slices.Equal(valTypes(want), got)
}

func typeNames(ts []api.ValueType) []meter.ValType { return valTypes(ts) }

// instantiateHost registers the two host modules in the runtime.
func (r *Runtime) instantiateHost(ctx context.Context) error {
	for _, hm := range []struct {
		name string
		fns  []hostFn
	}{{ABIModule, abiFuncs}, {WASIModule, wasiFuncs}} {
		b := r.rt.NewHostModuleBuilder(hm.name)
		for _, h := range hm.fns {
			impl := h.fn
			b.NewFunctionBuilder().
				WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
					f, ok := ctx.Value(frameKey{}).(*frame)
					if !ok {
						panic(fmt.Errorf("wasm: host function called outside a call"))
					}
					impl(f, stack)
				}), h.params, h.results).
				Export(h.name)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return err
		}
	}
	return nil
}

func u32(v uint64) uint32 { return uint32(v) }

// key reads a state key, enforcing the key size limit and the init-phase
// ban on state access.
func (f *frame) key(ptr, n uint32) []byte {
	if f.initPhase {
		f.fail(StatusTrap, "state is not available during initialisation")
	}
	if int(n) > f.rt.cfg.MaxKeySize {
		f.fail(StatusTrap, "state key too large")
	}
	return f.read(ptr, n)
}

// get reads key through the call's own writes, then the State, recording
// State reads in the read set.
func (f *frame) get(key []byte) ([]byte, bool) {
	k := ckey{f.req.Contract, string(key)}
	if w, ok := f.layer.lookup(k); ok {
		if w.Delete {
			return nil, false
		}
		return slices.Clone(w.Value), true
	}
	v, ver, found, err := f.state.Get(key)
	if err != nil {
		f.hostFail(vmerr.E("wasm.state", vmerr.Unavailable, "get: %w", err))
	}
	f.record(k, found, ver)
	return v, found
}

func (f *frame) record(k ckey, found bool, ver uint64) {
	if _, ok := f.t.reads[k]; !ok {
		f.t.reads[k] = Read{Contract: k.contract, Key: []byte(k.key), Found: found, Version: ver}
	}
}

// put buffers a write in the frame's layer.
func (f *frame) put(key []byte, w Write) {
	f.t.writes++
	if f.t.writes > f.rt.cfg.MaxWrites {
		f.fail(StatusTrap, "state write limit exceeded")
	}
	w.Contract, w.Key = f.req.Contract, key
	f.layer.writes[ckey{f.req.Contract, string(key)}] = w
}

// rangeEntries merges the State's entries in [start, end) with the call's
// own writes and returns the first limit of them in key order.
func (f *frame) rangeEntries(start, end []byte, limit int) []Entry {
	if limit == 0 {
		return nil
	}
	inRange := func(k string) bool {
		return k >= string(start) && (len(end) == 0 || k < string(end))
	}
	own := make(map[string]Write)
	for l := f.layer; l != nil; l = l.parent {
		for k, w := range l.writes {
			if k.contract != f.req.Contract || !inRange(k.key) {
				continue
			}
			if _, seen := own[k.key]; !seen {
				own[k.key] = w
			}
		}
	}
	deletes := 0
	for _, w := range own {
		if w.Delete {
			deletes++
		}
	}
	base, err := f.state.Range(start, end, limit+deletes)
	if err != nil {
		f.hostFail(vmerr.E("wasm.state", vmerr.Unavailable, "range: %w", err))
	}
	merged := make(map[string]Entry, len(base)+len(own))
	fromState := make(map[string]uint64)
	for _, e := range base {
		merged[string(e.Key)] = e
		fromState[string(e.Key)] = e.Version
	}
	for k, w := range own {
		if w.Delete {
			delete(merged, k)
		} else {
			merged[k] = Entry{Key: []byte(k), Value: w.Value}
		}
		delete(fromState, k)
	}
	out := make([]Entry, 0, len(merged))
	for _, e := range merged {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i].Key) < string(out[j].Key) })
	if len(out) > limit {
		out = out[:limit]
	}
	for _, e := range out {
		if ver, ok := fromState[string(e.Key)]; ok {
			f.record(ckey{f.req.Contract, string(e.Key)}, true, ver)
		}
	}
	return out
}

// addLog appends one log entry (caps are checked by the caller).
func (f *frame) addLog(b []byte) {
	if f.initPhase {
		return
	}
	f.t.logBytes += len(b)
	f.t.logs = append(f.t.logs, string(b))
}

// callContract runs another contract with the caller's remaining gas and
// returns the callee's status (callNotFound for an unknown name). The
// callee's output or error message goes to the return buffer.
func (f *frame) callContract(name, fn string, input []byte) uint32 {
	if f.initPhase {
		f.fail(StatusTrap, "calls are not available during initialisation")
	}
	f.ret = nil
	if f.req.Contracts == nil {
		f.ret = []byte("contract not found")
		return callNotFound
	}
	ctx := f.ctx
	m, st, err := f.req.Contracts.Resolve(ctx, name)
	if err != nil {
		if vmerr.KindOf(err) == vmerr.NotFound {
			f.ret = []byte("contract not found")
			return callNotFound
		}
		f.hostFail(vmerr.E("wasm.call", vmerr.Unavailable, "resolve %q: %w", name, err))
	}
	sub := &Request{
		Fn: fn, Input: input, GasLimit: f.gasLeft(), Caller: f.req.Contract, Contract: name,
		Height: f.req.Height, Time: f.req.Time, Seed: sha256.Sum256(append(f.req.Seed[:], name...)),
		State: st, Contracts: f.req.Contracts, Depth: f.req.Depth + 1,
	}
	out, err := f.rt.run(ctx, m, sub, f.t, f.layer)
	if err != nil {
		f.hostFail(err)
	}
	f.charge(out.gasUsed)
	if out.status == StatusOK {
		out.layer.merge()
		f.ret = out.output
	} else {
		f.ret = []byte(out.msg)
	}
	return uint32(out.status)
}
