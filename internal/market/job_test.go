package market_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// newJob includes goodRequest (k 3, q 2, deadline 20) at height 100 under the
// default windows (5 and 5): the commit phase runs until 5 blocks after the
// first seal (or the k-th seal), reveals from the block after it ends for 5
// blocks, deadline 120.
func newJob(t *testing.T, mod func(*market.Request)) (*market.Job, market.Request) {
	t.Helper()
	r := goodRequest()
	if mod != nil {
		mod(&r)
	}
	if _, err := r.Validate(market.Default()); err != nil {
		t.Fatal(err)
	}
	return market.NewJob(market.Default(), market.RequestID(hash(99), 0), r, 100), r
}

// seal posts miner i's seal of result res at h.
func seal(t *testing.T, j *market.Job, i, res int, h int64) {
	t.Helper()
	if err := j.Seal(addr(i), market.Seal(addr(i), j.ID, hash(res)), h); err != nil {
		t.Fatal(err)
	}
}

func TestJobPhase(t *testing.T) {
	tests := []struct {
		name  string
		seals []int64 // heights of seals by miners 1, 2, ...
		at    []int64
		want  []market.Phase
	}{
		{"no seals: open until the deadline", nil,
			[]int64{100, 106, 120, 121},
			[]market.Phase{market.PhaseCommit, market.PhaseCommit, market.PhaseCommit, market.PhaseExpired}},
		{"one seal is below quorum", []int64{101},
			[]int64{106, 107}, []market.Phase{market.PhaseCommit, market.PhaseLapsed}},
		{"quorum of seals, window ends", []int64{101, 103},
			[]int64{106, 107, 111, 112, 121},
			[]market.Phase{market.PhaseCommit, market.PhaseReveal, market.PhaseReveal, market.PhaseLapsed, market.PhaseExpired}},
		{"the window opens with the first seal", []int64{110, 112},
			[]int64{115, 116, 120, 121},
			[]market.Phase{market.PhaseCommit, market.PhaseReveal, market.PhaseReveal, market.PhaseExpired}},
		{"k seals close early", []int64{101, 101, 102},
			[]int64{102, 103, 107, 108},
			[]market.Phase{market.PhaseCommit, market.PhaseReveal, market.PhaseReveal, market.PhaseLapsed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, _ := newJob(t, nil)
			for i, h := range tt.seals {
				seal(t, j, i+1, 1, h)
			}
			for i, h := range tt.at {
				if got := j.Phase(h); got != tt.want[i] {
					t.Errorf("Phase(%d) = %s, want %s", h, got, tt.want[i])
				}
			}
		})
	}
	j, _ := newJob(t, nil)
	j.Settled = true
	if got := j.Phase(500); got != market.PhaseSettled {
		t.Fatalf("settled job: Phase = %s", got)
	}
	if got := market.Phase(9).String(); got != "phase(9)" {
		t.Fatalf("unknown phase prints %q", got)
	}
}

func TestJobSealReveal(t *testing.T) {
	type step struct {
		op      string // "seal", "reveal", "result", "reopen"
		signer  int
		miner   int
		res     int // the result revealed (or sealed)
		h       int64
		wantErr error
		kind    vmerr.Kind
	}
	const good, bad = 1, 2
	tests := []struct {
		name  string
		mod   func(*market.Request)
		steps []step
		want  market.Agreement
	}{
		{"two agree, one disagrees", nil, []step{
			{"seal", 1, 1, good, 101, nil, 0},
			{"seal", 2, 2, bad, 101, nil, 0},
			{"seal", 3, 3, good, 102, nil, 0},
			{"reveal", 2, 2, bad, 103, nil, 0},
			{"reveal", 3, 3, good, 103, nil, 0},
			{"reveal", 1, 1, good, 104, nil, 0},
		}, market.Agreement{Reached: true, Result: hash(good), Agreeing: []crypto.Address{addr(1), addr(3)},
			Disagreeing: []crypto.Address{addr(2)}, Possible: true}},
		{"refusals change nothing", nil, []step{
			{"reveal", 1, 1, good, 101, market.ErrNotRevealing, vmerr.Invalid},
			{"seal", 1, 1, good, 101, nil, 0},
			{"seal", 1, 1, good, 101, market.ErrDoubleSeal, vmerr.Exists},
			{"reveal", 1, 1, good, 102, market.ErrNotRevealing, vmerr.Invalid},
			{"seal", 2, 2, good, 106, nil, 0},
			{"seal", 3, 3, good, 107, market.ErrCommitClosed, vmerr.Timeout},
			{"reveal", 3, 3, good, 107, market.ErrNoSeal, vmerr.Unauthorized},
			{"reveal", 3, 1, good, 107, market.ErrNotMiner, vmerr.Unauthorized},
			{"reveal", 1, 1, bad, 107, market.ErrBadSeal, vmerr.Unauthorized},
			{"reveal", 1, 1, good, 107, nil, 0},
			{"reveal", 1, 1, good, 108, market.ErrDoubleReveal, vmerr.Exists},
			{"reveal", 2, 2, good, 112, market.ErrRevealClosed, vmerr.Timeout},
			{"result", 2, 2, good, 107, nil, vmerr.Invalid},
		}, market.Agreement{Unrevealed: []crypto.Address{addr(2)}, Possible: true}},
		{"a copied result fails the copier's seal", nil, []step{
			{"seal", 1, 1, good, 101, nil, 0},
			{"seal", 2, 2, bad, 101, nil, 0}, // the copier sealed a guess
			{"seal", 3, 3, bad, 101, nil, 0},
			{"reveal", 1, 1, good, 102, nil, 0},
			{"reveal", 2, 2, good, 102, market.ErrBadSeal, vmerr.Unauthorized},
		}, market.Agreement{Unrevealed: []crypto.Address{addr(2), addr(3)}, Possible: true}},
		{"a k+1-th seal in the closing block is refused", nil, []step{
			{"seal", 1, 1, good, 101, nil, 0},
			{"seal", 2, 2, good, 101, nil, 0},
			{"seal", 3, 3, good, 101, nil, 0},
			{"seal", 4, 4, good, 101, market.ErrCommitClosed, vmerr.Timeout},
			{"reveal", 1, 1, good, 101, market.ErrNotRevealing, vmerr.Invalid},
			{"reveal", 1, 1, good, 102, nil, 0},
		}, market.Agreement{Unrevealed: []crypto.Address{addr(2), addr(3)}, Possible: true}},
		{"after the deadline", nil, []step{
			{"seal", 1, 1, good, 121, market.ErrExpired, vmerr.Timeout},
			{"reopen", 0, 0, 0, 121, market.ErrExpired, vmerr.Timeout},
		}, market.Agreement{Possible: false}},
		{"reopen after a lapsed round", nil, []step{
			{"seal", 1, 1, good, 101, nil, 0},
			{"seal", 2, 2, bad, 101, nil, 0},
			{"reopen", 0, 0, 0, 106, nil, vmerr.Invalid}, // still committing
			{"reveal", 1, 1, good, 107, nil, 0},
			{"reveal", 2, 2, bad, 107, nil, 0},
			{"reopen", 0, 0, 0, 112, nil, 0},
			{"reveal", 1, 1, good, 112, market.ErrNotRevealing, vmerr.Invalid},
			{"seal", 1, 1, good, 112, nil, 0},
			{"seal", 3, 3, good, 113, nil, 0},
			{"reveal", 3, 3, good, 118, nil, 0},
			{"reveal", 1, 1, good, 118, nil, 0},
		}, market.Agreement{Reached: true, Result: hash(good), Agreeing: []crypto.Address{addr(1), addr(3)}, Possible: true}},
		{"quorum 1: one result settles", func(r *market.Request) { r.Replicas, r.Quorum = 1, 1 }, []step{
			{"result", 1, 1, good, 101, nil, 0},
			{"result", 2, 2, bad, 101, market.ErrCommitClosed, vmerr.Timeout},
			{"seal", 2, 2, bad, 101, market.ErrCommitClosed, vmerr.Timeout},
		}, market.Agreement{Reached: true, Result: hash(good), Agreeing: []crypto.Address{addr(1)}, Possible: true}},
		{"quorum 1: seal then reveal works too", func(r *market.Request) { r.Replicas, r.Quorum = 1, 1 }, []step{
			{"seal", 1, 1, good, 101, nil, 0},
			{"result", 1, 1, good, 101, market.ErrCommitClosed, vmerr.Timeout},
			{"reveal", 1, 1, good, 102, nil, 0},
		}, market.Agreement{Reached: true, Result: hash(good), Agreeing: []crypto.Address{addr(1)}, Possible: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, _ := newJob(t, tt.mod)
			for i, s := range tt.steps {
				before := clone(j)
				var err error
				switch s.op {
				case "seal":
					err = j.Seal(addr(s.miner), market.Seal(addr(s.miner), j.ID, hash(s.res)), s.h)
				case "reveal":
					err = j.Reveal(addr(s.signer), addr(s.miner), hash(s.res), s.h)
				case "result":
					err = j.Result(addr(s.miner), hash(s.res), s.h)
				case "reopen":
					err = j.Reopen(s.h)
				}
				if s.wantErr == nil && s.kind != 0 {
					if vmerr.KindOf(err) != s.kind {
						t.Fatalf("step %d %s: error %v, want kind %s", i, s.op, err, s.kind)
					}
				} else {
					checkIs(t, err, s.wantErr, s.kind)
				}
				if err != nil && !equalJobs(before, j) {
					t.Fatalf("step %d %s: refused but the job changed", i, s.op)
				}
			}
			got := j.Agreement()
			if !equalAgreements(got, tt.want) {
				t.Fatalf("Agreement = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestJobUnrevealed(t *testing.T) {
	tests := []struct {
		name    string
		seals   []int64
		reveals []int // miners that reveal at 107
		reopen  int64 // reopen at this height afterwards, when > 0
		at      int64
		want    []crypto.Address
	}{
		{"round lapsed", []int64{101, 102}, []int{2}, 0, 112, []crypto.Address{addr(1)}},
		{"still revealing", []int64{101, 102}, nil, 0, 111, nil},
		{"expired", []int64{101, 102}, nil, 0, 121, []crypto.Address{addr(1), addr(2)}},
		{"below quorum: no reveal phase, no penalty", []int64{101}, nil, 0, 107, nil},
		{"all revealed", []int64{101, 102}, []int{1, 2}, 0, 112, nil},
		{"reopened round cut by the deadline", []int64{101, 102}, nil, 112, 121, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, _ := newJob(t, nil)
			for i, h := range tt.seals {
				seal(t, j, i+1, 1, h)
			}
			for _, m := range tt.reveals {
				if err := j.Reveal(addr(m), addr(m), hash(1), 107); err != nil {
					t.Fatal(err)
				}
			}
			if tt.reopen > 0 {
				if err := j.Reopen(tt.reopen); err != nil {
					t.Fatal(err)
				}
				seal(t, j, 1, 1, 118)
				seal(t, j, 2, 1, 119)
				seal(t, j, 3, 1, 120) // closes at the deadline: no reveal block
			}
			if got := j.Unrevealed(tt.at); !slices.Equal(got, tt.want) {
				t.Fatalf("Unrevealed(%d) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

// TestJobSettle runs one request from inclusion to payout.
func TestJobSettle(t *testing.T) {
	p := market.Default()
	j, r := newJob(t, nil)
	escrow, err := market.Escrow(r)
	if err != nil {
		t.Fatal(err)
	}
	seal(t, j, 7, 1, 101)
	seal(t, j, 8, 1, 101)
	seal(t, j, 9, 2, 102)
	for _, m := range []int{9, 8, 7} {
		res := 1
		if m == 9 {
			res = 2
		}
		if err := j.Reveal(addr(m), addr(m), hash(res), 103); err != nil {
			t.Fatal(err)
		}
	}
	a := j.Agreement()
	out, err := market.Settle(p, r, a.Agreeing, 400_000)
	if err != nil {
		t.Fatal(err)
	}
	// k = 3 with the default schedule: tiers 2500 and 1250 fix shares 25
	// and 12 of 100, the fastest takes 63; miner 9 disagreed, so the third
	// share (12) and two replicas' unused gas are refunded.
	want := market.Payout{Miners: []market.Pay{{Miner: addr(7), Reward: 63, Gas: 400_000}, {Miner: addr(8), Reward: 25, Gas: 400_000}},
		Refund: 12 + 3*1_000_000 - 2*400_000}
	if !slices.Equal(out.Miners, want.Miners) || out.Refund != want.Refund {
		t.Fatalf("Settle = %+v, want %+v", out, want)
	}
	if out.Total() != escrow {
		t.Fatalf("total %d, escrow %d", out.Total(), escrow)
	}
	if !slices.Equal(a.Disagreeing, []crypto.Address{addr(9)}) {
		t.Fatalf("disagreeing %v", a.Disagreeing)
	}
}

func clone(j *market.Job) market.Job {
	c := *j
	c.Commits = slices.Clone(j.Commits)
	return c
}

func equalJobs(a market.Job, b *market.Job) bool { return reflect.DeepEqual(a, *b) }

func equalAgreements(a, b market.Agreement) bool {
	return a.Reached == b.Reached && a.Result == b.Result && a.Possible == b.Possible &&
		slices.Equal(a.Agreeing, b.Agreeing) && slices.Equal(a.Disagreeing, b.Disagreeing) &&
		slices.Equal(a.Unrevealed, b.Unrevealed)
}
