package jobs

import (
	"strings"

	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// IDCreateFees is what body's Requests to the IDChain's create function
// add to its fee: perCreate each, whether or not the name turns out to be
// free (the chain cannot know before a miner runs it; `vm id create`
// reads first and sends nothing for an existing ID). This is the price
// that makes squatting names cost something; like every fee it goes to the
// fee collector. Only a top-level Request can create an ID: the contract
// refuses a contract as caller, so no composite or cross-contract call
// avoids the fee. Errors: Overflow.
func IDCreateFees(perCreate uint64, body *txpb.TxBody) (uint64, error) {
	var fee uint64
	for _, m := range body.Msgs {
		r := m.GetRequest()
		if r == nil || r.GetFn() != idchain.FnCreate {
			continue
		}
		if name, _, _ := strings.Cut(r.GetContract(), "@"); name != idchain.Contract {
			continue
		}
		if fee+perCreate < fee {
			return 0, vmerr.E("jobs.fee", vmerr.Overflow, "id creation fees overflow")
		}
		fee += perCreate
	}
	return fee, nil
}
