package ledger

import (
	"sync"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// reservationTTL is how many blocks an admitted transaction's spend stays
// reserved without its nonce being used: past that it has left the
// mempool unincluded (or is about to), and keeping it would hold the
// signer's funds for nothing.
const reservationTTL = 100

// spendReservations reserves, per signer, what the transactions CheckTx
// admitted but no block has applied yet will take from the signer's
// balance (fee, escrows, transfers). Without it every transaction was
// checked alone against the committed balance, so an account that could
// afford one deploy or request could fill blocks with many that then fail
// for lack of funds, paying nothing. One entry per (signer, nonce): a
// later transaction with the same nonce replaces the earlier (only one of
// them can be applied).
type spendReservations struct {
	mu sync.Mutex
	m  map[crypto.Address]map[uint64]reservedTx
}

type reservedTx struct {
	spend  uint64
	height int64 // committed height when admitted
}

// admit reserves spend for signer's transaction nonce, given the signer's
// committed balance and nonce at committed height. Errors:
// InsufficientFunds when the signer's other pending spends and this one
// exceed its balance (nothing is reserved then).
func (p *spendReservations) admit(signer crypto.Address, nonce, spend, balance, accNonce uint64, height int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	txs := p.m[signer]
	var others uint64
	for n, t := range txs {
		switch {
		case n < accNonce || height-t.height > reservationTTL:
			delete(txs, n) // applied, or gone from the mempool
		case n != nonce:
			others += t.spend
		}
	}
	if spend > balance || others > balance-spend {
		return vmerr.E("ledger.check_tx", vmerr.InsufficientFunds,
			"%s cannot pay %d GAS (fee, escrows and transfers) from its committed balance %d: %d GAS are already pending in earlier transactions",
			signer, spend, balance, others)
	}
	if txs == nil {
		if p.m == nil {
			p.m = map[crypto.Address]map[uint64]reservedTx{}
		}
		txs = map[uint64]reservedTx{}
		p.m[signer] = txs
	}
	txs[nonce] = reservedTx{spend: spend, height: height}
	return nil
}

// sweep forgets signers whose reservations all expired at height, so the
// map stays bounded by the signers of the last reservationTTL blocks.
func (p *spendReservations) sweep(height int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s, txs := range p.m {
		for n, t := range txs {
			if height-t.height > reservationTTL {
				delete(txs, n)
			}
		}
		if len(txs) == 0 {
			delete(p.m, s)
		}
	}
}

// spendOf is what body takes from its signer: the fee, the escrows (already
// computed) and the transfers. Errors: Overflow.
func spendOf(body *txpb.TxBody, escrow uint64) (uint64, error) {
	total := body.Fee + escrow
	if total < escrow {
		return 0, vmerr.E("ledger.check_tx", vmerr.Overflow, "fee and escrows overflow")
	}
	for _, m := range body.Msgs {
		if t := m.GetTransfer(); t != nil {
			if total+t.Amount < total {
				return 0, vmerr.E("ledger.check_tx", vmerr.Overflow, "spend overflows")
			}
			total += t.Amount
		}
	}
	return total, nil
}
