package lightproof_test

import (
	"testing"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/virtual-machine/vm/internal/lightproof"
	"github.com/virtual-machine/vm/internal/state"
)

// BenchmarkVerify measures the light-client check of one account
// location from a real devnet node against the proof check alone
// (state.VerifyLocation, the baseline), in the same run; and Verify
// with a synthetic 4-validator set (all four sign) to show what more
// signatures cost, trusted as it is (each signature checked once) and
// under a trusted set that differs (each checked twice).
func BenchmarkVerify(b *testing.B) {
	f := setup(b)
	loc, commit := f.loc, f.commit
	b.Run("state.VerifyLocation", func(b *testing.B) {
		for b.Loop() {
			if err := state.VerifyLocation(&loc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lightproof.Decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := lightproof.Decode(&commit); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lightproof.Verify/1-validator", func(b *testing.B) {
		for b.Loop() {
			if err := lightproof.Verify(&loc, &commit, f.trust); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same block under a trusted set that is not the block's (the
	// genesis validator plus one that left): the slow path, both power
	// checks, the one signature verified twice.
	trust1x := lightproof.Trust{ChainID: f.trust.ChainID, Validators: cmttypes.NewValidatorSet(
		append(copyVals(f.trust.Validators.Validators), privVal(b).ExtractIntoValidator(1)))}
	b.Run("lightproof.Verify/1-validator-trust-differs", func(b *testing.B) {
		for b.Loop() {
			if err := lightproof.Verify(&loc, &commit, trust1x); err != nil {
				b.Fatal(err)
			}
		}
	})
	pvs := make([]cmttypes.PrivValidator, 4)
	vs := make([]*cmttypes.Validator, 4)
	for i := range pvs {
		pv := privVal(b)
		pvs[i], vs[i] = pv, pv.ExtractIntoValidator(10)
	}
	vals := cmttypes.NewValidatorSet(vs)
	four := forge(b, decode(b, &commit), vals, pvs, nil)
	trust4 := lightproof.Trust{ChainID: f.trust.ChainID, Validators: vals}
	b.Run("lightproof.Verify/4-validators", func(b *testing.B) {
		for b.Loop() {
			if err := lightproof.Verify(&loc, &four, trust4); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A trusted set that is not the block's (a fifth genesis validator
	// that left): both power checks run, each verifying the signatures.
	trust5 := lightproof.Trust{ChainID: f.trust.ChainID,
		Validators: cmttypes.NewValidatorSet(append(copyVals(vs), privVal(b).ExtractIntoValidator(1)))}
	b.Run("lightproof.Verify/4-validators-trust-differs", func(b *testing.B) {
		for b.Loop() {
			if err := lightproof.Verify(&loc, &four, trust5); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func copyVals(vs []*cmttypes.Validator) []*cmttypes.Validator {
	out := make([]*cmttypes.Validator, len(vs))
	for i, v := range vs {
		out[i] = v.Copy()
	}
	return out
}
