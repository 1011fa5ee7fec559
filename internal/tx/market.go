package tx

import (
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// MaxResultSize bounds the canonical result bytes a Reveal or Result
// carries.
const MaxResultSize = 2 << 20

// IsWork reports whether m is a miner's work message: Seal, Reveal or
// Result. A body of work messages only applies each one on its own (see
// the ledger).
func IsWork(m *txpb.Msg) bool {
	switch m.GetSum().(type) {
	case *txpb.Msg_Seal, *txpb.Msg_Reveal, *txpb.Msg_Result:
		return true
	}
	return false
}

// checkMarket checks the sizes of a market message's fields; the market's
// own limits (market.Request.Validate) need the chain's parameters and
// apply in the ledger.
func checkMarket(m *txpb.Msg) error {
	const op = "tx.market"
	var id, result []byte
	switch s := m.GetSum().(type) {
	case *txpb.Msg_Request:
		if s.Request.GetContract() == "" || s.Request.GetFn() == "" {
			return vmerr.E(op, vmerr.Invalid, "request: contract and fn are required")
		}
		if s.Request.GetGasLimit() > MaxAmount || s.Request.GetPrice() > MaxAmount || s.Request.GetReward() > MaxAmount {
			return vmerr.E(op, vmerr.Overflow, "request: gas limit, price and reward are at most %d", uint64(MaxAmount))
		}
		return nil
	case *txpb.Msg_Seal:
		if len(s.Seal.GetSeal()) != 32 {
			return vmerr.E(op, vmerr.Invalid, "seal: seal is %d bytes, want 32", len(s.Seal.GetSeal()))
		}
		id = s.Seal.GetRequestId()
	case *txpb.Msg_Reveal:
		if len(s.Reveal.GetMiner()) != crypto.AddressSize {
			return vmerr.E(op, vmerr.Invalid, "reveal: miner is %d bytes, want %d", len(s.Reveal.GetMiner()), crypto.AddressSize)
		}
		id, result = s.Reveal.GetRequestId(), s.Reveal.GetResult()
	case *txpb.Msg_Result:
		id, result = s.Result.GetRequestId(), s.Result.GetResult()
	}
	if len(id) != 32 {
		return vmerr.E(op, vmerr.Invalid, "request id is %d bytes, want 32", len(id))
	}
	if m.GetSeal() == nil && (len(result) == 0 || len(result) > MaxResultSize) {
		return vmerr.E(op, vmerr.Invalid, "result is %d bytes; 1..%d are allowed", len(result), MaxResultSize)
	}
	return nil
}
