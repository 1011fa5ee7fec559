package ledger_test

import (
	"crypto/sha256"
	"os"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/wasm"
	"github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

var (
	exampleOnce sync.Once
	exampleCode map[string][]byte
	exampleErr  error
)

// example returns the compiled example contract name (built once per
// test binary).
func example(t testing.TB, name string) []byte {
	t.Helper()
	exampleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vm-ledger-examples")
		if err != nil {
			exampleErr = err
			return
		}
		defer os.RemoveAll(dir)
		exampleCode = map[string][]byte{}
		for _, n := range []string{"hello", "counter"} {
			p, err := examples.Build(ctx, dir, n)
			if err != nil {
				exampleErr = err
				return
			}
			if exampleCode[n], err = os.ReadFile(p); err != nil {
				exampleErr = err
				return
			}
		}
	})
	if exampleErr != nil {
		t.Fatal(exampleErr)
	}
	return exampleCode[name]
}

// swapContract is a small read-modify-write contract: swap returns the
// stored value of key "k" (nothing when absent) and stores its input
// there, so two swaps run on the same state conflict.
func swapContract() []byte {
	m := wasmtest.New()
	m.Memory(1, 1)
	m.Data(0, []byte("k"))
	get := m.Import("vm", "state_get", []byte{wasmtest.I32, wasmtest.I32}, []byte{wasmtest.I32})
	ret := m.Import("vm", "ret_read", []byte{wasmtest.I32}, nil)
	inLen := m.Import("vm", "input_len", nil, []byte{wasmtest.I32})
	inRead := m.Import("vm", "input_read", []byte{wasmtest.I32}, nil)
	out := m.Import("vm", "output_write", []byte{wasmtest.I32, wasmtest.I32}, nil)
	set := m.Import("vm", "state_set", []byte{wasmtest.I32, wasmtest.I32, wasmtest.I32, wasmtest.I32}, nil)
	body := wasmtest.Code{}.I32(0).I32(1).Call(get).LocalSet(0).
		LocalGet(0).I32(0).Op(0x4E, 0x04, 0x40). // if n >= 0
		I32(16).Call(ret).I32(16).LocalGet(0).Call(out).
		End().
		I32(32768).Call(inRead).
		I32(0).I32(1).I32(32768).Call(inLen).Call(set)
	m.Export("swap", m.Func(nil, nil, []byte{wasmtest.I32}, body))
	return m.Bytes()
}

func requestMsg(contract, fn, input string, gas, price, reward uint64, k, q uint32, deadline int64) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Request{Request: &txpb.Request{Contract: contract, Fn: fn, Input: []byte(input),
		GasLimit: gas, Price: price, Reward: reward, Replicas: k, Quorum: q, Deadline: deadline}}}
}

func sealMsg(id [32]byte, seal [32]byte, start int64) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Seal{Seal: &txpb.Seal{RequestId: id[:], Seal: seal[:], Start: start}}}
}

func revealMsg(id [32]byte, miner crypto.Address, raw []byte) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Reveal{Reveal: &txpb.Reveal{RequestId: id[:], Miner: miner[:], Result: raw}}}
}

func resultMsg(id [32]byte, raw []byte, start int64) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Result{Result: &txpb.Result{RequestId: id[:], Result: raw, Start: start}}}
}

// requestID is the id of message idx of the encoded tx raw.
func requestID(raw []byte, idx uint32) [32]byte { return market.RequestID(sha256.Sum256(raw), idx) }

// readerAt is the committed state at height (0 = latest).
func (n *node) readerAt(height int64) registry.Reader {
	n.t.Helper()
	r, err := n.app.ReaderAt(height)
	if err != nil {
		n.t.Fatal(err)
	}
	return r
}

// request reads request id at the latest height.
func (n *node) request(id [32]byte) *statepb.Request {
	n.t.Helper()
	m, _, err := jobs.GetRequest(n.readerAt(0), id)
	if err != nil {
		n.t.Fatal(err)
	}
	return m
}

// start is the current round's start of request id (0 when unknown).
func (n *node) start(id [32]byte) int64 {
	n.t.Helper()
	if m, _, err := jobs.GetRequest(n.readerAt(0), id); err == nil {
		return m.Start
	}
	return 0
}

// result reads request id's resultChain entry, nil while there is none.
func (n *node) result(id [32]byte) *statepb.Result {
	n.t.Helper()
	m, _, err := jobs.GetResult(n.readerAt(0), id)
	if err != nil {
		return nil
	}
	return m
}

// execute runs request id the way an honest miner does: the metered code
// stored under its CID, against the contract's namespace at the round's
// start height, and returns the canonical result bytes and their hash.
func (n *node) execute(rt *wasm.Runtime, id [32]byte) ([]byte, [32]byte, *wasm.Result) {
	n.t.Helper()
	m := n.request(id)
	r := n.readerAt(m.Start)
	c, err := cid.Cast(m.MeteredCid)
	if err != nil {
		n.t.Fatal(err)
	}
	code, err := r.Get(state.CodeKey(c))
	if err != nil || code == nil {
		n.t.Fatalf("metered code %s: %v", c, err)
	}
	mod, err := compiled(rt, code)
	if err != nil {
		n.t.Fatal(err)
	}
	res, err := rt.Call(ctx, mod, wasm.Request{Fn: m.Fn, Input: m.Input, GasLimit: m.GasLimit,
		Caller: crypto.Address(m.Requester).String(), Contract: m.Name, Height: m.Start, Time: m.StartTime,
		Seed: jobs.Seed(id, m.Start), State: jobs.DataState{R: r, Name: m.Name}})
	if err != nil {
		n.t.Fatal(err)
	}
	raw, err := res.MarshalBinary()
	if err != nil {
		n.t.Fatal(err)
	}
	return raw, sha256.Sum256(raw), res
}

func newRuntime(t testing.TB) *wasm.Runtime {
	t.Helper()
	rt, err := wasm.New(ctx, wasm.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(ctx) })
	return rt
}

var (
	modMu   sync.Mutex
	modules = map[*wasm.Runtime]map[[32]byte]*wasm.Module{}
)

// compiled compiles code once per runtime.
func compiled(rt *wasm.Runtime, code []byte) (*wasm.Module, error) {
	modMu.Lock()
	defer modMu.Unlock()
	h := sha256.Sum256(code)
	if m := modules[rt][h]; m != nil {
		return m, nil
	}
	m, err := rt.Compile(ctx, code)
	if err != nil {
		return nil, err
	}
	if modules[rt] == nil {
		modules[rt] = map[[32]byte]*wasm.Module{}
	}
	modules[rt][h] = m
	return m, nil
}
