package chain_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"sync"

	abcitypes "github.com/cometbft/cometbft/abci/types"
)

// kvApp is a small persistent ABCI application for testing the chain
// without the ledger: txs are "key=value", CheckTx rejects txs without
// "=", FinalizeBlock rejects the value "bad" with code 2, and the app
// hash chains over each block's txs (unchanged by empty blocks). /account
// answers 16 bytes (balance = number of committed txs, nonce = height).
// A "once=" tx fails with code 3 when its key is already set, and txs in
// replay are added to the next proposal, as a faulty proposer might.
type kvApp struct {
	abcitypes.BaseApplication
	path string

	mu      sync.Mutex
	st      kvState
	pending kvState
	replay  [][]byte
}

type kvState struct {
	Height  int64             `json:"height"`
	AppHash []byte            `json:"app_hash"`
	KV      map[string]string `json:"kv"`
	Count   uint64            `json:"count"`
}

func newKVApp(dir string) *kvApp {
	a := &kvApp{path: filepath.Join(dir, "kvapp.json"), st: kvState{KV: map[string]string{}}}
	if b, err := os.ReadFile(a.path); err == nil {
		if err := json.Unmarshal(b, &a.st); err != nil {
			panic(err)
		}
	}
	return a
}

func (a *kvApp) Info(context.Context, *abcitypes.InfoRequest) (*abcitypes.InfoResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &abcitypes.InfoResponse{LastBlockHeight: a.st.Height, LastBlockAppHash: a.st.AppHash}, nil
}

func (a *kvApp) CheckTx(_ context.Context, req *abcitypes.CheckTxRequest) (*abcitypes.CheckTxResponse, error) {
	if !bytes.Contains(req.Tx, []byte("=")) {
		return &abcitypes.CheckTxResponse{Code: 2, Log: "want key=value", Codespace: "vm"}, nil
	}
	return &abcitypes.CheckTxResponse{}, nil
}

// PrepareProposal leaves out txs starting with "hold=", so a test can
// have a tx that CheckTx accepts but no block ever includes.
func (a *kvApp) PrepareProposal(_ context.Context, req *abcitypes.PrepareProposalRequest) (*abcitypes.PrepareProposalResponse, error) {
	a.mu.Lock()
	txs := a.replay
	a.replay = nil
	a.mu.Unlock()
	for _, t := range req.Txs {
		if !bytes.HasPrefix(t, []byte("hold=")) {
			txs = append(txs, t)
		}
	}
	return &abcitypes.PrepareProposalResponse{Txs: txs}, nil
}

func (a *kvApp) FinalizeBlock(_ context.Context, req *abcitypes.FinalizeBlockRequest) (*abcitypes.FinalizeBlockResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := kvState{Height: req.Height, AppHash: a.st.AppHash, KV: map[string]string{}, Count: a.st.Count}
	for k, v := range a.st.KV {
		p.KV[k] = v
	}
	res := make([]*abcitypes.ExecTxResult, len(req.Txs))
	for i, t := range req.Txs {
		k, v, _ := bytes.Cut(t, []byte("="))
		if string(v) == "bad" {
			res[i] = &abcitypes.ExecTxResult{Code: 2, Log: "bad value"}
			continue
		}
		if _, set := p.KV[string(k)]; set && string(k) == "once" {
			res[i] = &abcitypes.ExecTxResult{Code: 3, Log: "already set"}
			continue
		}
		p.KV[string(k)] = string(v)
		p.Count++
		res[i] = &abcitypes.ExecTxResult{Events: []abcitypes.Event{{Type: "set",
			Attributes: []abcitypes.EventAttribute{{Key: "key", Value: string(k)}}}}}
	}
	if len(req.Txs) > 0 {
		h := sha256.New()
		h.Write(a.st.AppHash)
		keys := make([]string, 0, len(p.KV))
		for k := range p.KV {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			h.Write([]byte(k + "=" + p.KV[k] + ";"))
		}
		p.AppHash = h.Sum(nil)
	}
	a.pending = p
	return &abcitypes.FinalizeBlockResponse{TxResults: res, AppHash: p.AppHash}, nil
}

func (a *kvApp) Commit(context.Context, *abcitypes.CommitRequest) (*abcitypes.CommitResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.st = a.pending
	b, err := json.Marshal(a.st)
	if err != nil {
		return nil, err
	}
	tmp := a.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, err
	}
	return &abcitypes.CommitResponse{}, os.Rename(tmp, a.path)
}

func (a *kvApp) Query(_ context.Context, req *abcitypes.QueryRequest) (*abcitypes.QueryResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if req.Path != "/account" {
		return &abcitypes.QueryResponse{Code: 2, Codespace: "vm", Log: "unknown path"}, nil
	}
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v, a.st.Count)
	binary.BigEndian.PutUint64(v[8:], uint64(a.st.Height))
	return &abcitypes.QueryResponse{Value: v, Height: a.st.Height}, nil
}
