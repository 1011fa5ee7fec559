package meter

import "fmt"

// MaxGas is the largest value a runtime may store in vm_gas before a call.
// Keeping the counter at or below 2^62 while every single charge is below
// 2^57 means the signed subtraction in the metered code can never wrap.
const MaxGas = int64(1) << 62

// maxUnitCost bounds every configurable cost so that no single charge can
// reach 2^57 (see MaxGas).
const maxUnitCost = 1 << 24

// ValType is a WebAssembly value type, encoded as in the binary format.
type ValType byte

// Value types the meter accepts.
const (
	I32       ValType = 0x7F
	I64       ValType = 0x7E
	F32       ValType = 0x7D
	F64       ValType = 0x7C
	FuncRef   ValType = 0x70
	ExternRef ValType = 0x6F
)

func (v ValType) String() string {
	switch v {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	}
	return fmt.Sprintf("valtype(%#x)", byte(v))
}

func (v ValType) isFloat() bool { return v == F32 || v == F64 }

// Config controls validation limits and the cost model. Build it with
// DefaultConfig and adjust fields; a Config is not modified by Instrument.
// Two miners produce byte-identical output only with equal Configs (the
// AllowImport function aside, which only accepts or refuses).
type Config struct {
	// MaxMemoryPages refuses a memory whose declared minimum or maximum is
	// above it; a memory without a maximum gets this as its maximum, so
	// memory.grow fails identically in every engine.
	MaxMemoryPages uint32
	// MaxTableSize does the same for every table (in elements).
	MaxTableSize uint32
	// MaxCallDepth is the deepest nesting of defined-function frames the
	// metered code allows; entering one more sets vm_status=2 and traps.
	MaxCallDepth uint32
	// MaxCodeSize is the largest original module accepted, in bytes.
	MaxCodeSize int
	// MaxFunctions bounds imported plus defined functions.
	MaxFunctions uint32
	// MaxFunctionSize bounds one function body, in bytes.
	MaxFunctionSize uint32
	// MaxLocals bounds parameters plus declared locals of one function.
	MaxLocals uint32
	// MaxGlobals bounds defined globals.
	MaxGlobals uint32

	// AllowImport decides each function import. nil refuses all imports.
	// Memory, table, global and tag imports are always refused, and so is a
	// function import with an f32/f64 parameter or result (NaN bits would
	// cross the host boundary uncanonicalised).
	AllowImport func(module, name string, params, results []ValType) error

	// Costs are the static per-instruction costs.
	Costs CostTable
	// MemoryGrowCostPerPage is charged per page requested by memory.grow,
	// whether or not the grow succeeds.
	MemoryGrowCostPerPage uint64
	// BulkCostPerByte is charged per byte (length operand) of memory.copy,
	// memory.fill and memory.init, before the operation runs.
	BulkCostPerByte uint64
	// TableCostPerElem is charged per element (length operand) of
	// table.copy, table.fill, table.init and table.grow.
	TableCostPerElem uint64
}

// DefaultConfig returns the network defaults.
func DefaultConfig() Config {
	return Config{
		MaxMemoryPages:        256, // 16 MiB
		MaxTableSize:          10_000,
		MaxCallDepth:          1024,
		MaxCodeSize:           16 << 20,
		MaxFunctions:          100_000,
		MaxFunctionSize:       1 << 20,
		MaxLocals:             4096,
		MaxGlobals:            10_000,
		Costs:                 DefaultCosts(),
		MemoryGrowCostPerPage: 4096, // one gas per 16 bytes zeroed
		BulkCostPerByte:       1,
		TableCostPerElem:      1,
	}
}

// TestConfig returns DefaultConfig with small limits for tests: 16 memory
// pages, 100 table elements, call depth 64, and every function import
// allowed (float-typed imports are still refused).
func TestConfig() Config {
	c := DefaultConfig()
	c.MaxMemoryPages = 16
	c.MaxTableSize = 100
	c.MaxCallDepth = 64
	c.AllowImport = func(string, string, []ValType, []ValType) error { return nil }
	return c
}

// Validate reports whether c can be used: limits are non-zero and within
// what the encoding supports, branch and entry costs are at least 1 (so
// every loop iteration and every call consumes gas), and no cost can make a
// single charge large enough to wrap the counter. The error wraps ErrConfig.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return errorf("config", KindConfig, -1, format, args...)
	}
	switch {
	case c.MaxMemoryPages == 0 || c.MaxMemoryPages > 65536:
		return bad("MaxMemoryPages %d not in [1, 65536]", c.MaxMemoryPages)
	case c.MaxTableSize == 0:
		return bad("MaxTableSize is 0")
	case c.MaxCallDepth == 0 || c.MaxCallDepth > 1<<20:
		return bad("MaxCallDepth %d not in [1, 2^20]", c.MaxCallDepth)
	case c.MaxCodeSize <= 0 || c.MaxCodeSize > 1<<30:
		return bad("MaxCodeSize %d not in [1, 2^30]", c.MaxCodeSize)
	case c.MaxFunctions == 0 || c.MaxFunctionSize == 0 || c.MaxLocals == 0 || c.MaxGlobals == 0:
		return bad("structural limits must be non-zero")
	case c.MaxFunctionSize > 1<<24:
		return bad("MaxFunctionSize %d above 2^24", c.MaxFunctionSize)
	case c.MaxLocals > 1<<20:
		return bad("MaxLocals %d above 2^20", c.MaxLocals)
	case c.MemoryGrowCostPerPage > maxUnitCost || c.BulkCostPerByte > maxUnitCost || c.TableCostPerElem > maxUnitCost:
		return bad("a dynamic cost is above 2^24")
	}
	return c.Costs.validate()
}
