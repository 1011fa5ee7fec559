// Package sigonly owns the throughput baseline of `vm bench transfers
// --baseline`: a bare ABCI 2.0 application that only decodes transactions
// and verifies their ed25519 signatures, with no accounts, no state and
// no disk. Running the same load against it and against the ledger on
// the same chain code isolates what the ledger costs. It is not a ledger:
// never use it for a real network.
package sigonly

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"sync"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Codespace is the codespace of every non-zero result code.
const Codespace = "sigonly"

// App is the signature-only application. CheckTx decodes a transaction
// (tx.Decode: size, canonical encoding, chain id, message fields) and
// verifies its signature; FinalizeBlock decodes each block transaction
// again (signatures were verified by CheckTx on this, the only, validator)
// and accepts it. The app hash chains the block height and the hashes of
// the accepted transactions, so it is deterministic. State is in memory
// only: after a restart CometBFT replays the blocks into it.
type App struct {
	abcitypes.BaseApplication
	chainID string

	mu      sync.Mutex
	height  int64  // last committed height
	appHash []byte // after height
	pending []byte // app hash of the finalized, uncommitted block
	pendH   int64
}

var _ abcitypes.Application = (*App)(nil)

// New returns an App that accepts transactions for chainID.
func New(chainID string) *App { return &App{chainID: chainID} }

// Info reports the last committed height and app hash.
func (a *App) Info(context.Context, *abcitypes.InfoRequest) (*abcitypes.InfoResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &abcitypes.InfoResponse{Data: "sigonly", LastBlockHeight: a.height, LastBlockAppHash: a.appHash}, nil
}

// CheckTx admits a transaction that decodes and carries a valid
// signature. A rejection is a response whose Code is the vmerr.Kind
// (Decode, Invalid, WrongChain, TooLarge, Unauthorized …), never a Go
// error.
func (a *App) CheckTx(_ context.Context, req *abcitypes.CheckTxRequest) (*abcitypes.CheckTxResponse, error) {
	s, err := tx.Decode(req.Tx, a.chainID)
	if err == nil {
		err = s.VerifySignature()
	}
	if err != nil {
		return &abcitypes.CheckTxResponse{Code: uint32(vmerr.KindOf(err)), Log: err.Error(), Codespace: Codespace}, nil
	}
	return &abcitypes.CheckTxResponse{}, nil
}

// FinalizeBlock accepts every transaction that decodes (code 0) and
// records the others as failed with their kind. It never returns a Go
// error.
func (a *App) FinalizeBlock(_ context.Context, req *abcitypes.FinalizeBlockRequest) (*abcitypes.FinalizeBlockResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := sha256.New()
	h.Write(a.appHash)
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(req.Height)))
	res := make([]*abcitypes.ExecTxResult, len(req.Txs))
	for i, raw := range req.Txs {
		if _, err := tx.Decode(raw, a.chainID); err != nil {
			res[i] = &abcitypes.ExecTxResult{Code: uint32(vmerr.KindOf(err)), Log: err.Error(), Codespace: Codespace}
			continue
		}
		th := tx.HashOf(raw)
		h.Write(th[:])
		res[i] = &abcitypes.ExecTxResult{}
	}
	a.pending, a.pendH = h.Sum(nil), req.Height
	return &abcitypes.FinalizeBlockResponse{TxResults: res, AppHash: a.pending}, nil
}

// Commit makes the last finalized block the committed one.
func (a *App) Commit(context.Context, *abcitypes.CommitRequest) (*abcitypes.CommitResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending != nil {
		a.height, a.appHash, a.pending = a.pendH, a.pending, nil
	}
	return &abcitypes.CommitResponse{}, nil
}
