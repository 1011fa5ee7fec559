package ledger

import (
	"context"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// CheckTx admits a transaction to the mempool after the stateless checks:
// size, decoding, chain id, message fields and the signature. It also
// rejects, against the committed state, a nonce below the signer's nonce
// (a replay; BadNonce), a fee below the minimum (Invalid; faucet-only txs
// on a faucet chain may pay 0) and a fee the signer's committed balance
// cannot cover (InsufficientFunds). Whether the messages themselves can be
// paid is FinalizeBlock's decision. A rejection
// is a response with a non-zero Code (the vmerr.Kind), never a Go error.
// Verified signatures are remembered so FinalizeBlock and rechecks need
// not redo them; a tx PreVerify decoded and verified is not decoded or
// verified again.
func (a *App) CheckTx(_ context.Context, req *abcitypes.CheckTxRequest) (*abcitypes.CheckTxResponse, error) {
	if err := a.checkTx(req.Tx, req.Type == abcitypes.CHECK_TX_TYPE_RECHECK); err != nil {
		return &abcitypes.CheckTxResponse{Code: uint32(vmerr.KindOf(err)), Log: err.Error(), Codespace: Codespace}, nil
	}
	return &abcitypes.CheckTxResponse{Code: 0}, nil
}

func (a *App) checkTx(raw []byte, recheck bool) error {
	// A new tx PreVerify decoded and verified is taken as it left it (once).
	var s *tx.Signed
	if !recheck {
		s = a.pre.takeRaw(raw)
	}
	if s != nil {
		a.sigs.add(s.Hash, struct{}{})
	} else {
		var err error
		if s, err = tx.Decode(raw, a.chainID); err != nil {
			return err
		}
		// A recheck (after each block, for every tx left in the mempool)
		// skips the signature it verified before; any other tx is verified.
		if !recheck || !a.sigs.has(s.Hash) {
			if err := s.VerifySignature(); err != nil {
				return err
			}
			a.sigs.add(s.Hash, struct{}{})
		}
	}
	if err := a.checkAccount(s); err != nil {
		return err
	}
	if err := a.checkRequests(s); err != nil {
		return err
	}
	return a.checkRegistry(s)
}

// checkAccount refuses, against committed state, a used nonce and a fee
// below the requirement or above the signer's balance: a tx that cannot
// pay would be included for free (a failed tx changes nothing). What the
// signer's other admitted, uncommitted transactions will spend is
// reserved (spendReservations), so many transactions that each fit the balance
// alone but not together are refused here, not in a block.
func (a *App) checkAccount(s *tx.Signed) error {
	a.qmu.RLock()
	defer a.qmu.RUnlock()
	if a.committed == nil {
		return nil
	}
	raw, err := a.committed.Get(state.AccountKey(s.Signer))
	if err != nil {
		return vmerr.E("ledger.check_tx", vmerr.Unavailable, "read account: %w", err)
	}
	acc, err := state.DecodeAccount(raw)
	if err != nil {
		return vmerr.E("ledger.check_tx", vmerr.Internal, "stored account: %w", err)
	}
	if s.Body.Nonce < acc.Nonce {
		return vmerr.E("ledger.check_tx", vmerr.BadNonce, "nonce %d for %s is already used (account nonce %d)", s.Body.Nonce, s.Signer, acc.Nonce)
	}
	if err := a.params.checkFee(s.Body); err != nil {
		return err
	}
	if s.Body.Fee > acc.Balance {
		return vmerr.E("ledger.check_tx", vmerr.InsufficientFunds, "%s cannot pay the fee %d from its committed balance %d", s.Signer, s.Body.Fee, acc.Balance)
	}
	escrow, err := a.params.escrows(s.Body)
	if err != nil {
		return err
	}
	if escrow > acc.Balance-s.Body.Fee {
		return vmerr.E("ledger.check_tx", vmerr.InsufficientFunds, "%s cannot pay the fee %d and escrow %d from its committed balance %d", s.Signer, s.Body.Fee, escrow, acc.Balance)
	}
	spend, err := spendOf(s.Body, escrow)
	if err != nil {
		return err
	}
	return a.reserved.admit(s.Signer, s.Body.Nonce, spend, acc.Balance, acc.Nonce, a.height)
}

// checkRegistry dry-runs the tx's registry messages (Deploy, Yank,
// ContractOwners) against committed state and refuses the tx if one would
// fail: a failed tx pays nothing, so without this anyone could have every
// validator meter and validate the same doomed deploy block after block.
// Metering runs outside the state lock (it can take a fraction of a
// second) and is cached, so FinalizeBlock does not redo it. A registry tx
// that depends on another not yet committed is refused; send it after.
func (a *App) checkRegistry(s *tx.Signed) error {
	var msgs []*txpb.Msg
	for _, m := range s.Body.Msgs {
		switch m.GetSum().(type) {
		case *txpb.Msg_Deploy, *txpb.Msg_Yank, *txpb.Msg_ContractOwners:
			msgs = append(msgs, m)
			if d := m.GetDeploy(); len(d.GetCode()) > 0 && len(d.GetCode()) <= a.params.CodeLimit() {
				a.meterCode(d.Code, a.params.CodeLimit())
			}
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	a.qmu.RLock()
	defer a.qmu.RUnlock()
	if a.committed == nil {
		return nil
	}
	dry := &registry.Overlay{Base: registry.TreeReader{T: a.committed}}
	env := a.registryEnv(a.height+1, a.params)
	for i, m := range msgs {
		var err error
		switch sum := m.GetSum().(type) {
		case *txpb.Msg_Deploy:
			_, err = registry.Deploy(dry, env, s.Signer, sum.Deploy)
		case *txpb.Msg_Yank:
			_, err = registry.Yank(dry, env, s.Signer, sum.Yank)
		case *txpb.Msg_ContractOwners:
			_, err = registry.SetOwners(dry, env, s.Signer, sum.ContractOwners)
		}
		if err != nil {
			return vmerr.E("ledger.check_tx", vmerr.KindOf(err), "registry message %d would fail: %w", i, err)
		}
	}
	return nil
}

// PrepareProposal orders the mempool's transactions for the block and
// keeps them up to MaxTxBytes (counting raw bytes, as CometBFT's default
// does). Gossip delivers one sender's transactions to a validator by
// several paths at once, so its mempool can hold nonce N+1 before N, or
// N+1 without N; proposed as they are, N+1 would fail with BadNonce and
// be lost. So each signer's transactions are sorted by nonce (in the
// positions its transactions held), and those after a nonce gap are held
// back for a later block, at most GapPatience heights (see order.go).
// Everything else stays, in order: FinalizeBlock records any failure per
// transaction. Only the proposer runs this; ProcessProposal does not
// depend on it.
func (a *App) PrepareProposal(_ context.Context, req *abcitypes.PrepareProposalRequest) (*abcitypes.PrepareProposalResponse, error) {
	ordered, moved, held := a.gaps.orderProposal(req.Height, req.Txs, a.chainID, a.committedNonce)
	if moved > 0 || held > 0 {
		a.log.Debug("proposal reordered", "height", req.Height, "txs", len(req.Txs), "moved", moved, "held_back", held)
	}
	txs := make([][]byte, 0, len(ordered))
	var total int64
	for _, t := range ordered {
		total += int64(len(t))
		if total > req.MaxTxBytes {
			break
		}
		txs = append(txs, t)
	}
	return &abcitypes.PrepareProposalResponse{Txs: txs}, nil
}

// ProcessProposal accepts every proposal: a transaction that fails is
// recorded as failed by FinalizeBlock and changes nothing, so rejecting a
// block for it would only cost a round.
func (a *App) ProcessProposal(context.Context, *abcitypes.ProcessProposalRequest) (*abcitypes.ProcessProposalResponse, error) {
	return &abcitypes.ProcessProposalResponse{Status: abcitypes.PROCESS_PROPOSAL_STATUS_ACCEPT}, nil
}

// ExtendVote adds no vote extension.
func (a *App) ExtendVote(context.Context, *abcitypes.ExtendVoteRequest) (*abcitypes.ExtendVoteResponse, error) {
	return &abcitypes.ExtendVoteResponse{}, nil
}

// VerifyVoteExtension accepts the (empty) vote extensions.
func (a *App) VerifyVoteExtension(context.Context, *abcitypes.VerifyVoteExtensionRequest) (*abcitypes.VerifyVoteExtensionResponse, error) {
	return &abcitypes.VerifyVoteExtensionResponse{Status: abcitypes.VERIFY_VOTE_EXTENSION_STATUS_ACCEPT}, nil
}

// ListSnapshots offers no state-sync snapshots.
func (a *App) ListSnapshots(context.Context, *abcitypes.ListSnapshotsRequest) (*abcitypes.ListSnapshotsResponse, error) {
	return &abcitypes.ListSnapshotsResponse{}, nil
}

// OfferSnapshot rejects state-sync snapshots (not supported).
func (a *App) OfferSnapshot(context.Context, *abcitypes.OfferSnapshotRequest) (*abcitypes.OfferSnapshotResponse, error) {
	return &abcitypes.OfferSnapshotResponse{Result: abcitypes.OFFER_SNAPSHOT_RESULT_REJECT}, nil
}

// LoadSnapshotChunk serves no chunks.
func (a *App) LoadSnapshotChunk(context.Context, *abcitypes.LoadSnapshotChunkRequest) (*abcitypes.LoadSnapshotChunkResponse, error) {
	return &abcitypes.LoadSnapshotChunkResponse{}, nil
}

// ApplySnapshotChunk aborts state sync (not supported).
func (a *App) ApplySnapshotChunk(context.Context, *abcitypes.ApplySnapshotChunkRequest) (*abcitypes.ApplySnapshotChunkResponse, error) {
	return &abcitypes.ApplySnapshotChunkResponse{Result: abcitypes.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT}, nil
}
