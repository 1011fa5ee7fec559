package meter_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/virtual-machine/vm/internal/wasm/meter"
)

type engine struct {
	name string
	cfg  func() wazero.RuntimeConfig
}

var engines = []engine{
	{"compiler", wazero.NewRuntimeConfigCompiler},
	{"interpreter", wazero.NewRuntimeConfigInterpreter},
}

// outcome is everything a caller can observe after one call.
type outcome struct {
	results []uint64
	trapped bool
	gasLeft int64
	status  uint32
	depth   uint32
	memory  string // contents of the exported memory "mem" or vm_memory, if any
}

// session is one instantiated module in one engine.
type session struct {
	t   testing.TB
	ctx context.Context
	rt  wazero.Runtime
	mod api.Module
}

// instantiate compiles and instantiates bin in e, without running a
// start function, beside a host module "env" exporting a no-op "f".
func instantiate(t testing.TB, e engine, bin []byte) *session {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, e.cfg().WithCoreFeatures(meter.Features))
	t.Cleanup(func() { rt.Close(ctx) })
	// env.f, a no-op, for modules that test calls to an import.
	if _, err := rt.NewHostModuleBuilder("env").NewFunctionBuilder().WithFunc(func() {}).Export("f").Instantiate(ctx); err != nil {
		t.Fatalf("%s: host module: %v", e.name, err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		t.Fatalf("%s: instantiate: %v", e.name, err)
	}
	return &session{t: t, ctx: ctx, rt: rt, mod: mod}
}

// call runs fn. When metered, it sets vm_gas (and resets vm_status and
// vm_depth) first and reads them afterwards.
func (s *session) call(fn string, gas int64, args ...uint64) outcome {
	s.t.Helper()
	metered := s.mod.ExportedGlobal(meter.ExportGas) != nil
	if metered {
		s.mod.ExportedGlobal(meter.ExportGas).(api.MutableGlobal).Set(uint64(gas))
		s.mod.ExportedGlobal(meter.ExportStatus).(api.MutableGlobal).Set(0)
		s.mod.ExportedGlobal(meter.ExportDepth).(api.MutableGlobal).Set(0)
	}
	f := s.mod.ExportedFunction(fn)
	if f == nil {
		s.t.Fatalf("no export %q", fn)
	}
	res, err := f.Call(s.ctx, args...)
	var o outcome
	if err != nil {
		var exit *sys.ExitError
		if errors.As(err, &exit) {
			s.t.Fatalf("unexpected exit: %v", err)
		}
		o.trapped = true
	}
	o.results = res
	if metered {
		o.gasLeft = int64(s.mod.ExportedGlobal(meter.ExportGas).Get())
		o.status = uint32(s.mod.ExportedGlobal(meter.ExportStatus).Get())
		o.depth = uint32(s.mod.ExportedGlobal(meter.ExportDepth).Get())
	}
	mem := s.mod.ExportedMemory("mem")
	if mem == nil {
		mem = s.mod.ExportedMemory(meter.ExportMemory)
	}
	if mem != nil {
		b, _ := mem.Read(0, mem.Size())
		o.memory = string(b)
	}
	return o
}

// runOnce instantiates bin fresh in e and calls fn once.
func runOnce(t testing.TB, e engine, bin []byte, fn string, gas int64, args ...uint64) outcome {
	t.Helper()
	return instantiate(t, e, bin).call(fn, gas, args...)
}

func mustInstrument(t testing.TB, orig []byte) ([]byte, meter.Info) {
	t.Helper()
	out, info, err := meter.Instrument(orig, meter.DefaultConfig())
	if err != nil {
		t.Fatalf("Instrument: %v", err)
	}
	return out, info
}

func isMeterError(err error, target **meter.Error) bool { return errors.As(err, target) }
