package evm

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm/runtime"

	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// GasLimit is the gas limit the benchmarks use, EVM and wasm: large enough
// that no benchmarked input runs out. Tests pass a small limit instead, so
// a broken program ends out of gas rather than looping for hours.
const GasLimit uint64 = 1 << 50

// Geth runs the EVM programs with go-ethereum's core/vm interpreter on an
// in-memory state (Cancun rules, runtime's defaults). Each program is
// deployed once at its own address. Not safe for concurrent use.
type Geth struct {
	cfg   runtime.Config
	addrs [numPrograms]common.Address
}

// NewGeth deploys every program's Code into a fresh in-memory state; every
// call runs with gas limit limit.
func NewGeth(limit uint64) (*Geth, error) {
	st, err := state.New(types.EmptyRootHash, state.NewDatabaseForTesting())
	if err != nil {
		return nil, vmerr.E("evm.geth", vmerr.Internal, "state: %w", err)
	}
	g := &Geth{cfg: runtime.Config{State: st, GasLimit: limit}}
	for p := range numPrograms {
		addr := common.BigToAddress(big.NewInt(0x1000 + int64(p)))
		st.CreateAccount(addr)
		st.SetCode(addr, Code(p), tracing.CodeChangeUnspecified)
		g.addrs[p] = addr
	}
	return g, nil
}

// Run calls program p with n and returns its 32-byte return value and the
// EVM gas it used (execution gas of the call; no intrinsic transaction
// gas). Any EVM error (out of gas, stack limit, invalid jump) is returned
// wrapped, of kind vmerr.Internal: these programs never fail when correct.
func (g *Geth) Run(p Program, n uint64) (Word, uint64, error) {
	in := WordOf(n)
	ret, left, err := runtime.Call(g.addrs[p], in[:], &g.cfg)
	if err != nil {
		return Word{}, 0, vmerr.E("evm.geth", vmerr.Internal, "%v(%d): %w", p, n, err)
	}
	if len(ret) != 32 {
		return Word{}, 0, vmerr.E("evm.geth", vmerr.Internal, "%v(%d): returned %d bytes", p, n, len(ret))
	}
	return Word(ret), g.cfg.GasLimit - left, nil
}

// Wasm runs the hand-written modules (Module for Fib and Loop, HashModule
// for SHA256 and Keccak) through internal/wasm on wazero's compiler,
// metered as deployed (rt.Meter) and, for reference, unmetered.
type Wasm struct {
	rt      *wasm.Runtime
	limit   uint64
	metered [numPrograms]*wasm.Module
	plain   [numPrograms]*wasm.Module
}

// NewWasm builds a runtime with wasm.DefaultConfig and compiles both
// modules metered and unmetered; every call runs with gas limit limit.
// Close releases it.
func NewWasm(ctx context.Context, limit uint64) (*Wasm, error) {
	rt, err := wasm.New(ctx, wasm.DefaultConfig())
	if err != nil {
		return nil, err
	}
	w := &Wasm{rt: rt, limit: limit}
	for _, mod := range []struct {
		orig  []byte
		progs []Program
	}{{Module(), []Program{Fib, Loop}}, {HashModule(), []Program{SHA256, Keccak}}} {
		metered, plain, err := w.compile(ctx, mod.orig)
		if err != nil {
			_ = rt.Close(ctx)
			return nil, err
		}
		for _, p := range mod.progs {
			w.metered[p], w.plain[p] = metered, plain
		}
	}
	return w, nil
}

func (w *Wasm) compile(ctx context.Context, orig []byte) (metered, plain *wasm.Module, err error) {
	bin, err := w.rt.Meter(orig)
	if err != nil {
		return nil, nil, err
	}
	if metered, err = w.rt.Compile(ctx, bin); err != nil {
		return nil, nil, err
	}
	if plain, err = w.rt.Compile(ctx, orig); err != nil {
		return nil, nil, err
	}
	return metered, plain, nil
}

// Close releases the runtime.
func (w *Wasm) Close(ctx context.Context) error { return w.rt.Close(ctx) }

// Run calls p with n, metered or not, and returns the result and the gas
// used (host-call gas only when unmetered). A status other than ok, or an
// output of the wrong size, is an error of kind vmerr.Internal.
func (w *Wasm) Run(ctx context.Context, p Program, n uint64, metered bool) (Word, uint64, error) {
	if p < 0 || p >= numPrograms {
		return Word{}, 0, vmerr.E("evm.wasm", vmerr.Invalid, "unknown program %d", int(p))
	}
	m := w.plain[p]
	if metered {
		m = w.metered[p]
	}
	in := binary.LittleEndian.AppendUint64(nil, n)
	res, err := w.rt.Call(ctx, m, wasm.Request{Fn: p.String(), Input: in, GasLimit: w.limit})
	if err != nil {
		return Word{}, 0, err
	}
	want := 32
	if p == Fib || p == Loop {
		want = 8
	}
	if res.Status != wasm.StatusOK || len(res.Output) != want {
		return Word{}, 0, vmerr.E("evm.wasm", vmerr.Internal, "%v(%d): status %v %q, %d output bytes",
			p, n, res.Status, res.Error, len(res.Output))
	}
	if want == 8 {
		return WordOf(binary.LittleEndian.Uint64(res.Output)), res.GasUsed, nil
	}
	return Word(res.Output), res.GasUsed, nil
}

// GoContract is one Go example contract (contracts/examples, built for
// wasip1), metered and compiled on a Runtime.
type GoContract struct {
	rt *wasm.Runtime
	m  *wasm.Module
	p  Program
}

// NewGoContract meters and compiles the built example bin for program p:
// bin must be contracts/examples/fib for Fib or contracts/examples/sha256
// for SHA256 (their inputs and outputs are decimal and hex text).
func NewGoContract(ctx context.Context, rt *wasm.Runtime, p Program, bin []byte) (*GoContract, error) {
	if p != Fib && p != SHA256 {
		return nil, vmerr.E("evm.gocontract", vmerr.Invalid, "no Go example contract for %v", p)
	}
	metered, err := rt.Meter(bin)
	if err != nil {
		return nil, err
	}
	m, err := rt.Compile(ctx, metered)
	if err != nil {
		return nil, err
	}
	return &GoContract{rt: rt, m: m, p: p}, nil
}

// Run calls the contract with n and returns the result as a Word and the
// gas used. A failed call or unparsable output is of kind vmerr.Internal.
func (c *GoContract) Run(ctx context.Context, n uint64) (Word, uint64, error) {
	fn := map[Program]string{Fib: "fib", SHA256: "hash"}[c.p]
	in := []byte(strconv.FormatUint(n, 10))
	res, err := c.rt.Call(ctx, c.m, wasm.Request{Fn: fn, Input: in, GasLimit: GasLimit})
	if err != nil {
		return Word{}, 0, err
	}
	bad := func(msg string) (Word, uint64, error) {
		return Word{}, 0, vmerr.E("evm.gocontract", vmerr.Internal, "%v(%d): %s", c.p, n, msg)
	}
	if res.Status != wasm.StatusOK {
		return bad(res.Status.String() + ": " + res.Error)
	}
	out := strings.TrimSpace(string(res.Output))
	if c.p == Fib {
		v, err := strconv.ParseUint(out, 10, 64)
		if err != nil {
			return bad("output " + strconv.Quote(out))
		}
		return WordOf(v), res.GasUsed, nil
	}
	var w Word
	if b, err := hex.DecodeString(out); err != nil || len(b) != 32 {
		return bad("output " + strconv.Quote(out))
	} else {
		copy(w[:], b)
	}
	return w, res.GasUsed, nil
}
