package wasm

import (
	"bytes"
	"context"

	"github.com/tetratelabs/wazero/api"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// snapChunk is the granularity of the memory diff a snapshot stores.
const snapChunk = 4096

// snapshot is a module's state right after initialisation: the outcome of
// the initialisers, and for a successful one the memory (as the chunks that
// differ from a freshly instantiated memory) and the meter-exported
// mutable globals. Restoring it into a fresh instance gives the same
// instance as running the initialisers again, because initialisation
// always runs under the same canonical request.
//
// Table 0 is not captured: wazero offers no access to table contents, and a
// restored instance gets the table its element segments build. Modules
// whose initialisers change the table (table.set/grow/fill/copy/init)
// therefore must not be snapshotted; see docs/RATIONALE.md (wasm).
type snapshot struct {
	status  Status
	gas     uint64
	msg     string
	pages   uint32
	image   []byte     // the whole memory, to reset a reused instance
	cow     *cowImage  // image in a sealed memfd for copy-on-write instances; nil: copy
	chunks  []memChunk // what differs from a fresh instance's memory
	globals []uint64   // values of Module.globals, same order
}

type memChunk struct {
	off  uint32
	data []byte
}

// failure is the outcome of a call whose initialisation did not leave
// enough gas or failed itself; it equals what a from-scratch run with
// budget min(limit, InitGasLimit) reports.
func (s *snapshot) failure(limit uint64) *callOut {
	if s.gas > limit {
		return failOut(StatusOutOfGas, limit, "out of gas")
	}
	return failOut(s.status, s.gas, s.msg)
}

// snapshot returns the snapshot to use for a call with gas limit limit.
//
// A successful initialisation, or one that fails in a way that does not
// depend on its budget (a trap, or running out of InitGasLimit), is built
// once and kept. An initialisation that runs out of a smaller budget is
// only remembered as "needs more than b": a call with limit <= b gets
// out_of_gas at once, a call with a larger limit retries with
// min(InitGasLimit, max(limit, 2b)). So a module whose initialiser loops
// costs each call at most its own limit (amortised), never InitGasLimit,
// and the outcome always equals initialising with min(limit, InitGasLimit).
func (r *Runtime) snapshot(ctx context.Context, m *Module, limit uint64) (*snapshot, error) {
	m.snapMu.Lock()
	defer m.snapMu.Unlock()
	if m.snap != nil {
		return m.snap, nil
	}
	budget := min(limit, r.cfg.InitGasLimit)
	if budget <= m.snapShort {
		return &snapshot{status: StatusOutOfGas, gas: budget, msg: "out of gas"}, nil
	}
	b := min(r.cfg.InitGasLimit, max(budget, 2*m.snapShort))
	s, err := r.buildSnapshot(context.WithoutCancel(ctx), m, b)
	if err != nil {
		return nil, err
	}
	if s.status == StatusOutOfGas && b < r.cfg.InitGasLimit {
		m.snapShort = b
		return &snapshot{status: StatusOutOfGas, gas: budget, msg: "out of gas"}, nil
	}
	m.snap = s
	return s, nil
}

// buildSnapshot initialises a fresh instance of m with budget gas and
// captures the outcome (and, on success, the state).
func (r *Runtime) buildSnapshot(ctx context.Context, m *Module, budget uint64) (*snapshot, error) {
	inst, err := r.instantiate(ctx, m)
	if err != nil {
		out, err := r.instantiateFailure(err)
		if err != nil {
			return nil, err
		}
		return &snapshot{status: out.status, msg: out.msg}, nil
	}
	defer inst.Close(ctx)
	st, used, msg, err := r.initialise(ctx, m, inst, budget)
	if err != nil {
		return nil, err
	}
	s := &snapshot{status: st, gas: used, msg: msg}
	if st == StatusOutOfGas {
		s.gas = budget
	}
	if st != StatusOK {
		return s, nil
	}
	for _, name := range m.globals {
		g := inst.ExportedGlobal(name)
		if g == nil {
			return nil, vmerr.E("wasm.snapshot", vmerr.Internal, "global %s not exported", name)
		}
		s.globals = append(s.globals, g.Get())
	}
	mem := memoryOf(inst)
	if mem == nil {
		return s, nil
	}
	fresh, err := r.instantiate(ctx, m)
	if err != nil {
		return nil, vmerr.E("wasm.snapshot", vmerr.Internal, "second instance: %w", err)
	}
	defer fresh.Close(ctx)
	cur, _ := mem.Read(0, mem.Size())
	var base []byte
	if fm := memoryOf(fresh); fm != nil {
		base, _ = fm.Read(0, fm.Size())
	}
	s.pages = mem.Size() / 65536
	s.image = bytes.Clone(cur)
	if r.cfg.InstancePool > 0 {
		s.cow = newCowImage(s.image, r.pagemap)
	}
	for off := 0; off < len(cur); off += snapChunk {
		end := min(off+snapChunk, len(cur))
		c := cur[off:end]
		var b []byte
		if off < len(base) {
			b = base[off:min(end, len(base))]
		}
		if len(b) == len(c) && bytes.Equal(b, c) {
			continue
		}
		if b == nil && isZero(c) {
			continue
		}
		// Extend the previous chunk when adjacent, to keep copies large.
		if n := len(s.chunks); n > 0 && int(s.chunks[n-1].off)+len(s.chunks[n-1].data) == off {
			s.chunks[n-1].data = append(s.chunks[n-1].data, c...)
			continue
		}
		s.chunks = append(s.chunks, memChunk{off: uint32(off), data: bytes.Clone(c)})
	}
	return s, nil
}

// restore returns an instance of m in the state of snapshot s: an idle
// pooled instance reset to the snapshot (memory image and globals) when
// one is available, else a fresh instance loaded with the snapshot.
func (r *Runtime) restore(ctx context.Context, m *Module, s *snapshot) (*instance, error) {
	select {
	case inst := <-m.pool:
		if inst.IsClosed() {
			break
		}
		if err := r.reset(inst, m, s); err == nil {
			return inst, nil
		}
		_ = inst.Close(ctx)
	default:
	}
	var inst *instance
	var cow *cowMemory
	var err error
	if s.cow != nil {
		inst, cow, err = r.instantiateCow(ctx, m, s.cow)
	} else {
		inst, err = r.instantiate(ctx, m)
	}
	if err != nil {
		return nil, vmerr.E("wasm.restore", vmerr.Internal, "%w", err)
	}
	inst.cow = cow
	fail := func(msg string) (*instance, error) {
		_ = inst.Close(ctx)
		return nil, vmerr.E("wasm.restore", vmerr.Internal, "%s", msg)
	}
	if mem := memoryOf(inst); mem != nil {
		if cur := mem.Size() / 65536; cur < s.pages {
			if _, ok := mem.Grow(s.pages - cur); !ok {
				return fail("cannot grow memory to the snapshot's size")
			}
		}
		// A copy-on-write memory already reads as the image.
		for _, c := range s.chunks {
			if inst.cow == nil && !mem.Write(c.off, c.data) {
				return fail("snapshot chunk out of range")
			}
		}
	}
	for i, name := range m.globals {
		g, ok := inst.ExportedGlobal(name).(api.MutableGlobal)
		if !ok {
			return fail("global " + name + " not mutable")
		}
		g.Set(s.globals[i])
	}
	return inst, nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// reset puts a pooled instance back into the snapshot's state. The pool
// only holds instances whose call succeeded and whose memory has the
// snapshot's size, so writing the whole image and the globals leaves no
// trace of the previous call.
func (r *Runtime) reset(inst *instance, m *Module, s *snapshot) error {
	if mem := memoryOf(inst); mem != nil {
		switch {
		case mem.Size() != uint32(len(s.image)):
			return vmerr.E("wasm.reset", vmerr.Internal, "memory does not match the snapshot")
		case inst.cow != nil:
			if err := inst.cow.reset(s.image); err != nil {
				return vmerr.E("wasm.reset", vmerr.Internal, "restore written pages: %v", err)
			}
		case !mem.Write(0, s.image):
			return vmerr.E("wasm.reset", vmerr.Internal, "memory does not match the snapshot")
		}
	}
	for i, name := range m.globals {
		g, ok := inst.ExportedGlobal(name).(api.MutableGlobal)
		if !ok {
			return vmerr.E("wasm.reset", vmerr.Internal, "global %s not mutable", name)
		}
		g.Set(s.globals[i])
	}
	return nil
}

// release returns inst to m's pool when it can be reused (see reusable;
// memory did not grow), else closes it.
func (r *Runtime) release(ctx context.Context, m *Module, s *snapshot, inst *instance, reusable bool) {
	if reusable {
		if mem := memoryOf(inst); mem == nil || mem.Size() == uint32(len(s.image)) {
			select {
			case m.pool <- inst:
				return
			default:
			}
		}
	}
	_ = inst.Close(ctx)
}
