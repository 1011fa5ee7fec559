package meter

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by Instrument wraps exactly one of
// them; test with errors.Is.
var (
	// ErrInvalid: the module is malformed or fails WebAssembly validation.
	ErrInvalid = errors.New("meter: invalid module")
	// ErrUnsupported: the module uses a proposal the network does not run
	// (SIMD, threads/atomics, tail calls, exception handling, multi-memory,
	// memory64, GC and the like).
	ErrUnsupported = errors.New("meter: unsupported feature")
	// ErrImport: an import is not allowed (any memory, table, global or tag
	// import; a function import refused by Config.AllowImport; any function
	// import with a float parameter or result).
	ErrImport = errors.New("meter: import not allowed")
	// ErrLimit: a declared size or count exceeds a Config limit.
	ErrLimit = errors.New("meter: limit exceeded")
	// ErrConfig: the Config itself is unusable (see Config.Validate).
	ErrConfig = errors.New("meter: invalid config")
	// ErrInternal: the rewrite produced a module wazero rejects. This is a
	// bug in this package, never in the input; the module must be refused.
	ErrInternal = errors.New("meter: internal error")
)

// Kind classifies an Error. Values are stable and append-only.
type Kind uint8

// Kinds, one per sentinel.
const (
	KindInvalid     Kind = 1
	KindUnsupported Kind = 2
	KindImport      Kind = 3
	KindLimit       Kind = 4
	KindConfig      Kind = 5
	KindInternal    Kind = 6
)

func (k Kind) sentinel() error {
	switch k {
	case KindInvalid:
		return ErrInvalid
	case KindUnsupported:
		return ErrUnsupported
	case KindImport:
		return ErrImport
	case KindLimit:
		return ErrLimit
	case KindConfig:
		return ErrConfig
	default:
		return ErrInternal
	}
}

// Error is the one structured error Instrument returns.
type Error struct {
	Op     string // phase: "config", "decode", "validate", "rewrite"
	Kind   Kind
	Offset int    // byte offset in the original module, -1 when unknown
	Msg    string // human-readable detail
	Err    error  // underlying cause (for example wazero's), may be nil
}

func (e *Error) Error() string {
	s := e.Kind.sentinel().Error() + ": " + e.Op
	if e.Offset >= 0 {
		s += fmt.Sprintf(" at offset %#x", e.Offset)
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the Kind's sentinel and the underlying cause, if any.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind.sentinel(), e.Err}
	}
	return []error{e.Kind.sentinel()}
}

func errorf(op string, k Kind, off int, format string, args ...any) *Error {
	return &Error{Op: op, Kind: k, Offset: off, Msg: fmt.Sprintf(format, args...)}
}
