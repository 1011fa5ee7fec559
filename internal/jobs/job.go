package jobs

import (
	"bytes"

	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
)

// Bank moves GAS between accounts of the block being built, all or
// nothing per call, with checked arithmetic.
type Bank interface {
	// Move debits from and credits to. Errors: InsufficientFunds, Overflow,
	// and storage failures.
	Move(op string, from, to crypto.Address, amount uint64) error
	// Balance returns addr's balance.
	Balance(addr crypto.Address) (uint64, error)
}

// Env is the block a transition runs in.
type Env struct {
	S      registry.Store
	Bank   Bank
	P      market.Params
	Height int64          // the block being built
	Time   int64          // its block time, unix seconds
	Fees   crypto.Address // the fee collector: penalties go there
	Escrow crypto.Address // the escrow module account
	// Resolve finds the version name@rng selects in S (registry.Resolve's
	// answer); nil means registry.Resolve itself. The ledger passes a
	// cached one.
	Resolve func(name string, rng *contract.Range) (*statepb.Version, error)
}

func (e Env) resolve(name string, rng *contract.Range) (*statepb.Version, error) {
	if e.Resolve != nil {
		return e.Resolve(name, rng)
	}
	v, _, _, err := registry.Resolve(e.S, name, rng)
	return v, err
}

// Event is what a transition reports.
type Event = registry.Event

// marketRequest is the market.Request a stored request was included as.
func marketRequest(m *statepb.Request) market.Request {
	return market.Request{Contract: m.Contract, Fn: m.Fn, Input: m.Input, GasLimit: m.GasLimit, Price: m.Price,
		Reward: m.Reward, Replicas: m.Replicas, Quorum: m.Quorum, Deadline: m.Deadline - m.Included}
}

// jobOf is the phase machine of a stored request.
func jobOf(m *statepb.Request) *market.Job {
	j := &market.Job{ID: id32(m.Id), Replicas: m.Replicas, Quorum: m.Quorum, Start: m.Start, Deadline: m.Deadline,
		CommitWindow: m.CommitWindow, RevealWindow: m.RevealWindow, ClosedAt: m.ClosedAt,
		Settled: m.Status == StatusSettled || m.Status == StatusMemo, Commits: make([]market.Commit, len(m.Commits))}
	for i, c := range m.Commits {
		mc := market.Commit{Miner: crypto.Address(c.Miner), Seal: id32(c.Seal), Height: c.Height, Revealed: c.Revealed}
		if c.Revealed {
			mc.Result = id32(c.Result)
		}
		j.Commits[i] = mc
	}
	return j
}

// storeJob copies j's round back into m.
func storeJob(m *statepb.Request, j *market.Job) {
	m.Start, m.ClosedAt = j.Start, j.ClosedAt
	m.Commits = make([]*statepb.Commit, len(j.Commits))
	for i, c := range j.Commits {
		sc := &statepb.Commit{Miner: bytes.Clone(c.Miner[:]), Seal: bytes.Clone(c.Seal[:]), Height: c.Height, Revealed: c.Revealed}
		if c.Revealed {
			sc.Result = bytes.Clone(c.Result[:])
		}
		m.Commits[i] = sc
	}
}

// nextDue is the first height at which j's phase can change without a
// message: its commit window closing without enough seals, its reveal
// window closing, or its deadline passing.
func nextDue(j *market.Job) int64 {
	due, end := j.Deadline+1, j.CommitEnd()
	if j.ClosedAt == 0 && len(j.Commits) < int(j.Quorum) {
		return min(due, end+1)
	}
	return min(due, end+j.RevealWindow+1)
}

// save writes m and keeps its deadline index entry at nextDue (or removes
// it once m is closed): the index holds every open request exactly once,
// so it is also the listing of open requests.
func save(s registry.Store, m *statepb.Request) error {
	id := id32(m.Id)
	want := int64(0)
	if m.Status == StatusOpen {
		want = nextDue(jobOf(m))
	}
	if m.Due != want {
		if m.Due != 0 {
			if err := s.Set(state.DueKey(m.Due, id), nil); err != nil {
				return err
			}
		}
		if want != 0 {
			if err := s.Set(state.DueKey(want, id), state.OpenMark); err != nil {
				return err
			}
		}
		m.Due = want
	}
	return s.Set(state.RequestKey(id), state.EncodeRecord(m))
}
