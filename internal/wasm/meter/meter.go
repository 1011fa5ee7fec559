package meter

import (
	"context"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Features is the WebAssembly feature set the meter accepts: Core 2.0
// without SIMD.
const Features = api.CoreFeaturesV2 &^ api.CoreFeatureSIMD

// Info describes a metered module for the runtime.
type Info struct {
	// HasStart reports that the original had a start function. It no
	// longer runs on instantiation; call the export ExportStart ("vm_start")
	// with gas set, once, right after instantiating.
	HasStart bool
	// Exports lists the original's exported function names in module
	// order (the metered module exports the same names).
	Exports []string
	// Globals lists the vm_g<index> export names of the original's mutable
	// globals, in index order: the runtime's snapshot set.
	Globals []string
	// HasMemory reports memory 0, exported as ExportMemory; MemoryMin and
	// MemoryMax are its limits in pages after the rewrite (MemoryMax is
	// always set, at most Config.MaxMemoryPages).
	HasMemory            bool
	MemoryMin, MemoryMax uint32
	// HasTable reports table 0, exported as ExportTable.
	HasTable bool
	// Imports lists the function imports, all accepted by AllowImport.
	Imports []Import
	// Functions is the number of defined functions.
	Functions int
}

// Import is one function import of the module.
type Import struct {
	Module, Name    string
	Params, Results []ValType
}

// Instrument validates orig and returns it rewritten to meter its own gas,
// enforce the call-depth limit and canonicalise observable NaNs, as
// specified in the package documentation. The output is a deterministic
// function of orig and cfg (AllowImport only accepts or refuses), and
// validates in wazero with Features.
//
// Errors are *Error values wrapping one sentinel:
//   - ErrConfig: cfg fails Config.Validate;
//   - ErrLimit: orig is larger than MaxCodeSize, or declares more memory,
//     table elements, functions, globals, locals or body bytes than allowed,
//     or its metered form would exceed MaxMeteredSize(len(orig));
//   - ErrImport: a memory/table/global/tag import, a function import with
//     float types, or one AllowImport refuses (its error is wrapped too);
//   - ErrUnsupported: SIMD, threads/atomics, tail calls, exception
//     handling, multi-memory, memory64, GC or typed function references, or
//     a binary version other than 1;
//   - ErrInvalid: anything malformed or failing validation, including an
//     export name starting with "vm_";
//   - ErrInternal: the rewritten module failed validation (a bug here).
func Instrument(orig []byte, cfg Config) (metered []byte, info Info, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, Info{}, err
	}
	if len(orig) > cfg.MaxCodeSize {
		return nil, Info{}, errorf("decode", KindLimit, -1, "module is %d bytes, limit %d", len(orig), cfg.MaxCodeSize)
	}
	m, err := decode(orig, &cfg)
	if err != nil {
		return nil, Info{}, err
	}
	// The rewrite walks every instruction, so an unsupported proposal is
	// reported as ErrUnsupported rather than as wazero's "feature disabled".
	// It also refuses every index the original could not use but the
	// metered module could (rewriter.check), so the metered module
	// validating implies the original does: one wazero validation on the
	// success path. On failure the original is validated to tell an invalid
	// input from a bug here.
	out, err := newRewriter(m, &cfg).encode()
	if err != nil {
		return nil, Info{}, err
	}
	// Validation costs time per byte, and code made of nothing but tiny
	// loops grows about 8x when metered: bounding the growth bounds what a
	// deploy can make every validator do.
	if limit := MaxMeteredSize(len(orig)); len(out) > limit {
		return nil, Info{}, errorf("rewrite", KindLimit, -1, "metered module would be %d bytes (%.1fx the original); limit %d (2x + %d)",
			len(out), float64(len(out))/float64(max(len(orig), 1)), limit, MeteredSlack)
	}
	if err := validate(out); err != nil {
		if err := validate(orig); err != nil {
			return nil, Info{}, &Error{Op: "validate", Kind: KindInvalid, Offset: -1, Err: err}
		}
		return nil, Info{}, &Error{Op: "rewrite", Kind: KindInternal, Offset: -1, Msg: "metered module does not validate", Err: err}
	}
	return out, m.info(&cfg), nil
}

// MeteredSlack is the fixed allowance of MaxMeteredSize.
const MeteredSlack = 256 << 10

// MaxMeteredSize is the largest metered module Instrument produces from an
// original of n bytes: 2n + MeteredSlack. Real code grows far less (Go
// contracts about 1.45x).
func MaxMeteredSize(n int) int { return 2*n + MeteredSlack }

// validate compiles bin in a throwaway wazero interpreter runtime, which
// runs wazero's full decoder and validator.
func validate(bin []byte) error {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(Features))
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, bin)
	if err != nil {
		return err
	}
	return cm.Close(ctx)
}

func (m *module) info(cfg *Config) Info {
	info := Info{HasStart: m.hasStart, HasTable: len(m.tables) > 0, Functions: len(m.funcs)}
	for _, e := range m.exports {
		if e.kind == extFunc {
			info.Exports = append(info.Exports, e.name)
		}
	}
	for i, g := range m.globals {
		if g.mut {
			info.Globals = append(info.Globals, globalExportName(uint32(i)))
		}
	}
	if len(m.mems) > 0 {
		l := m.mems[0]
		info.HasMemory, info.MemoryMin, info.MemoryMax = true, l.min, l.max
		if !l.hasMax {
			info.MemoryMax = max(cfg.MaxMemoryPages, l.min)
		}
	}
	for _, imp := range m.imports {
		t := m.types[imp.typ]
		info.Imports = append(info.Imports, Import{Module: imp.module, Name: imp.name, Params: t.params, Results: t.results})
	}
	return info
}
