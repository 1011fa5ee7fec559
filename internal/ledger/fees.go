package ledger

import (
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// RequiredFee is the least fee body must pay: MinFee plus DeployFeePerKiB
// per started KiB of each Deploy's payload plus IDCreateFee per Request
// to create an ID (IDCreateFees); 0 for a faucet-only body on a faucet
// chain. Errors: Overflow.
func (p Params) RequiredFee(body *txpb.TxBody) (uint64, error) {
	if p.FaucetEnabled && faucetOnly(body) {
		return 0, nil
	}
	extra, err := registry.DeployFees(p.DeployFeePerKiB, body)
	if err != nil {
		return 0, err
	}
	ids, err := jobs.IDCreateFees(p.IDCreateFee, body)
	if err != nil {
		return 0, err
	}
	fee := p.MinFee + extra
	if fee < extra || fee+ids < ids {
		return 0, vmerr.E("ledger.fee", vmerr.Overflow, "fee overflows")
	}
	return fee + ids, nil
}

// checkFee refuses a body whose fee is below RequiredFee (kind Invalid).
func (p Params) checkFee(body *txpb.TxBody) error {
	need, err := p.RequiredFee(body)
	if err != nil {
		return err
	}
	if body.Fee < need && need == p.MinFee {
		return vmerr.E("ledger.fee", vmerr.Invalid, "fee %d is below the minimum %d", body.Fee, need)
	}
	if body.Fee < need {
		return vmerr.E("ledger.fee", vmerr.Invalid, "fee %d is below the required %d (minimum %d, plus %d per started KiB deployed, plus %d per ID created)",
			body.Fee, need, p.MinFee, p.DeployFeePerKiB, p.IDCreateFee)
	}
	return nil
}
