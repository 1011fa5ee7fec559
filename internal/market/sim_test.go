package market_test

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Miner behaviours in the simulation.
const (
	honest = iota // seals the true result, reveals it
	wrong         // seals and reveals the one wrong result all wrong miners share
	silent        // seals the true result, never reveals
	copier        // seals a guess, then reveals a result another miner revealed
	numBehaviours
)

// TestMarketSimulation drives random requests through the market rules the
// way the ledger will: every block, miners act in random order; refused
// actions must leave the job unchanged; a reached quorum settles with
// Settle, a lapsed round penalises and reopens, an expired request refunds.
// After every block the GAS held by the requester, the miners, the fee
// collector and the escrow adds up to the starting total; only miners that
// revealed the winning hash are ever paid; every request ends settled or
// expired by its deadline.
func TestMarketSimulation(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 13))
	p := market.Default()
	stats := map[string]int{}
	for run := range 400 {
		k := uint32(1 + rng.IntN(6))
		q := uint32(1 + rng.IntN(int(k)))
		if q == 1 {
			k = 1
		}
		r := market.Request{Contract: "hello@^1", Fn: "greet", GasLimit: 1 + rng.Uint64N(1000), Price: rng.Uint64N(5),
			Reward: rng.Uint64N(10_000), Replicas: k, Quorum: q, Deadline: 10 + rng.Int64N(30)}
		if _, err := r.Validate(p); err != nil {
			t.Fatal(err)
		}
		escrow, _ := market.Escrow(r)

		// Accounts: 0 the requester, 1 the fee collector, 2.. the miners.
		nMiners := 1 + rng.IntN(8)
		bal := make([]uint64, 2+nMiners)
		bal[0] = escrow
		for i := 2; i < len(bal); i++ {
			bal[i] = rng.Uint64N(2 * p.UnrevealedPenalty)
		}
		behaviour := make([]int, len(bal))
		for i := 2; i < len(bal); i++ {
			behaviour[i] = rng.IntN(numBehaviours)
		}
		sum := func() (s uint64) {
			for _, b := range bal {
				s += b
			}
			return s
		}
		total := sum()
		const H = 1000
		bal[0] -= escrow
		held := escrow
		j := market.NewJob(p, market.RequestID(hash(run), 0), r, H)
		truth, lie := hash(1_000_000+run), hash(2_000_000+run)
		sealed := map[int][32]byte{}
		gasUsed := rng.Uint64N(r.GasLimit + 1)

		penalise := func(h int64) {
			for _, m := range j.Unrevealed(h) {
				i := int(m[1]) | int(m[0])<<8
				fine := min(p.UnrevealedPenalty, bal[i])
				bal[i] -= fine
				bal[1] += fine
				stats["penalised"]++
			}
		}
		done := false
		for h := int64(H); !done; h++ {
			if h > H+r.Deadline+1 {
				t.Fatalf("run %d: not finished after its deadline", run)
			}
			switch j.Phase(h) {
			case market.PhaseExpired:
				penalise(h)
				bal[0] += held
				held = 0
				stats["expired"]++
				done = true
				continue
			case market.PhaseLapsed:
				penalise(h)
				if err := j.Reopen(h); err != nil {
					t.Fatal(err)
				}
				clear(sealed)
				stats["reopened"]++
			}
			for _, mi := range rng.Perm(nMiners) {
				i := mi + 2
				m := addr(i)
				if rng.IntN(3) == 0 { // not this block
					continue
				}
				before := clone(j)
				var err error
				var act string
				switch ph := j.Phase(h); {
				case ph == market.PhaseCommit && r.Quorum == 1 && behaviour[i] != silent && rng.IntN(2) == 0:
					act = "result"
					res := truth
					if behaviour[i] == wrong {
						res = lie
					}
					err = j.Result(m, res, h) // a copier here front-runs: accepted for quorum 1
					if err == nil {
						sealed[i] = res
					}
				case ph == market.PhaseCommit || rng.IntN(8) == 0: // sometimes seal late
					act = "seal"
					res := truth
					switch behaviour[i] {
					case wrong:
						res = lie
					case copier:
						res = hash(3_000_000 + i)
					}
					err = j.Seal(m, market.Seal(m, j.ID, res), h)
					if err == nil {
						sealed[i] = res
					}
				default:
					act = "reveal"
					res, ok := sealed[i]
					switch {
					case behaviour[i] == silent:
						continue
					case behaviour[i] == copier:
						res = truth // copied from another reveal
					case !ok:
						res = truth // reveal without a seal
					}
					err = j.Reveal(m, m, res, h)
					if behaviour[i] == copier && err == nil && sealed[i] != truth {
						t.Fatalf("run %d: a copied result opened a seal", run)
					}
				}
				if err != nil {
					stats["refused "+act+" "+vmerr.KindOf(err).String()]++
					if !reflect.DeepEqual(before, *j) {
						t.Fatalf("run %d: refused %s changed the job: %v", run, act, err)
					}
					if errors.Is(err, market.ErrBadSeal) && behaviour[i] != copier {
						t.Fatalf("run %d: an honest reveal failed its seal", run)
					}
					continue
				}
				if a := j.Agreement(); a.Reached {
					out, err := market.Settle(p, r, a.Agreeing, gasUsed)
					if err != nil {
						t.Fatalf("run %d: %v", run, err)
					}
					for _, pay := range out.Miners {
						pi := int(pay.Miner[1]) | int(pay.Miner[0])<<8
						if sealed[pi] != a.Result {
							t.Fatalf("run %d: paid miner %d (behaviour %d) that did not seal the winner", run, pi, behaviour[pi])
						}
						if behaviour[pi] == silent || behaviour[pi] == copier && r.Quorum > 1 {
							t.Fatalf("run %d: paid a miner of behaviour %d", run, behaviour[pi])
						}
						bal[pi] += pay.Reward + pay.Gas
					}
					bal[0] += out.Refund
					held -= out.Total()
					j.Settled = true
					stats["settled"]++
					if a.Result == lie {
						stats["settled on the shared lie"]++
					}
					done = true
					break
				}
			}
			if got := sum() + held; got != total {
				t.Fatalf("run %d height %d: %d GAS accounted for, want %d", run, h, got, total)
			}
		}
		if held != 0 {
			t.Fatalf("run %d: %d GAS left in escrow", run, held)
		}
	}
	for _, want := range []string{"settled", "expired", "reopened", "penalised", "refused seal timeout", "refused reveal unauthorized"} {
		if stats[want] == 0 {
			t.Errorf("the simulation never saw %q: %v", want, stats)
		}
	}
	t.Logf("%v", stats)
}
