package ledger_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// withCustom appends a custom section holding i: the module means the same
// but has another hash, so every deploy meters afresh (the meter drops
// custom sections, so the metered code is the same size).
func withCustom(code []byte, i int) []byte {
	payload := fmt.Appendf(nil, "\x04seed%d", i)
	out := append([]byte{}, code...)
	out = append(out, 0, byte(len(payload)))
	return append(out, payload...)
}

// smallContract is a ~5 KB module: ABI imports, a few functions and a
// data segment, about the size of a hand-written AssemblyScript contract.
func smallContract() []byte {
	m := wasmtest.New()
	m.Memory(1, 1)
	in := m.Import("vm", "input_len", nil, []byte{wasmtest.I32})
	f := m.Func(nil, nil, []byte{wasmtest.I32}, wasmtest.Code{}.Call(in).LocalSet(0).Loop().LocalGet(0).I32(1).Op(0x6B).LocalSet(0).LocalGet(0).BrIf(0).End())
	m.Export("run", f)
	m.Data(0, make([]byte, 4800))
	return m.Bytes()
}

// BenchmarkDeploy times a block holding one Deploy (FinalizeBlock +
// Commit) of a 2.5 MB Go contract and of a ~5 KB contract, against a block
// holding one transfer in the same run. "cold" meters inside FinalizeBlock
// (a tx first seen in a proposal); "checked" runs CheckTx first, untimed,
// as the mempool does, so FinalizeBlock finds the metered code cached.
// Reports the fee paid and the ratio to the transfer block.
func BenchmarkDeploy(b *testing.B) {
	goCode := goContract(b)
	codes := []struct {
		name string
		code []byte
	}{{"go-2.5MB", goCode}, {"small-5KB", smallContract()}}
	for _, c := range codes {
		for _, mode := range []string{"cold", "checked"} {
			b.Run(c.name+"/"+mode, func(b *testing.B) {
				g := contractGenesis(b)
				n := newNode(b, g)
				n.block()
				s := &signer{k: key(b, 0), g: g}
				var paid uint64
				b.ResetTimer()
				for i := range b.N {
					b.StopTimer()
					msg := deploy("bench", fmt.Sprintf("1.0.%d", i), withCustom(c.code, i))
					raw := s.tx(b, msg)
					paid = fee(b, g, msg)
					if mode == "checked" {
						if r, _ := n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: raw}); r.Code != 0 {
							b.Fatal(r.Log)
						}
					}
					b.StartTimer()
					if r := n.block(raw).TxResults[0]; r.Code != 0 {
						b.Fatal(r.Log)
					}
					s.nonce++
				}
				b.ReportMetric(float64(paid), "GAS-fee")
				b.ReportMetric(float64(len(c.code)), "code-bytes")
			})
		}
	}
	b.Run("baseline-transfer", func(b *testing.B) {
		g := contractGenesis(b)
		n := newNode(b, g)
		n.block()
		s := &signer{k: key(b, 0), g: g}
		to := key(b, 1).Address()
		for range b.N {
			if r := n.block(s.tx(b, transfer(to, 1))).TxResults[0]; r.Code != 0 {
				b.Fatal(r.Log)
			}
			s.nonce++
		}
	})
}

func goContract(b *testing.B) []byte {
	b.Helper()
	path, err := examples.Build(context.Background(), filepath.Join(os.TempDir(), "vm-ledger-bench"), "sha256")
	if err != nil {
		b.Fatal(err)
	}
	code, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return code
}

// BenchmarkResolve resolves ranges in a chain of 1,000 versions through
// the query path (no proof): "^1" matches near the top of the scan, an
// exact version sits near the bottom, "^0.5" matches only yanked versions
// (the scan walks its whole band). The baseline reads one registry entry
// (a single Get through the same path).
func BenchmarkResolve(b *testing.B) {
	g := contractGenesis(b)
	n := newNode(b, g)
	s := &signer{k: key(b, 0), g: g}
	code := module(1, "f")
	var msgs []*txpb.Msg
	for i := range 1000 {
		msgs = append(msgs, deploy("big", fmt.Sprintf("%d.%d.%d", i/100, (i/10)%10, i%10), code))
		if len(msgs) == 50 {
			n.mustOK(s, msgs...)
			msgs = nil
		}
	}
	var yanks []*txpb.Msg
	for i := range 10 {
		yanks = append(yanks, yank("big", fmt.Sprintf("0.5.%d", i), false))
	}
	n.mustOK(s, yanks...)
	cases := []struct{ name, path, data string }{
		{"baseline-get", ledger.PathContract, "big"},
		{"caret-top", ledger.PathVersion, "big@^9"},
		{"exact-bottom", ledger.PathVersion, "big@0.0.3"},
		{"caret-mid", ledger.PathVersion, "big@^4.2"},
		{"star", ledger.PathVersion, "big@*"},
		{"yanked-band", ledger.PathVersion, "big@~0.5"},
		{"or-range", ledger.PathVersion, "big@^1 || ^2"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := &abcitypes.QueryRequest{Path: c.path, Data: []byte(c.data)}
			for range b.N {
				n.app.Query(ctx, req)
			}
		})
	}
}
