package market

import (
	"errors"
	"fmt"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Phase is where one request stands at a height.
type Phase uint8

// The phases. A round is a commit phase followed by a reveal phase; a
// request has one round, plus one more each time the ledger re-offers it
// (Reopen) before its deadline.
const (
	// PhaseCommit: seals are accepted (until k are in), reveals are not.
	PhaseCommit Phase = iota
	// PhaseReveal: the commit phase closed; reveals are accepted, seals
	// are not.
	PhaseReveal
	// PhaseLapsed: the round ended without settling and the deadline has
	// not passed: either the reveal window closed, or the commit window
	// closed with fewer than q seals. The ledger penalises the round's
	// unrevealed miners and may Reopen the request.
	PhaseLapsed
	// PhaseSettled: a result reached quorum and was applied.
	PhaseSettled
	// PhaseExpired: the deadline passed unsettled; the escrow is refunded.
	PhaseExpired
)

var phaseNames = [...]string{"commit", "reveal", "lapsed", "settled", "expired"}

// String returns the phase's lower-case name.
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// Sentinel errors, wrapped in a *vmerr.Error with the kind given.
var (
	ErrCommitClosed = errors.New("commit phase closed")                 // vmerr.Timeout
	ErrRevealClosed = errors.New("reveal phase closed")                 // vmerr.Timeout
	ErrNotRevealing = errors.New("reveals are not open yet")            // vmerr.Invalid
	ErrSettled      = errors.New("request already settled")             // vmerr.Exists
	ErrExpired      = errors.New("request deadline passed")             // vmerr.Timeout
	ErrDoubleSeal   = errors.New("miner already sealed this request")   // vmerr.Exists
	ErrDoubleReveal = errors.New("miner already revealed this request") // vmerr.Exists
	ErrNoSeal       = errors.New("no seal from this miner")             // vmerr.Unauthorized
	ErrNotMiner     = errors.New("signer is not the miner")             // vmerr.Unauthorized
	ErrBadSeal      = errors.New("result does not match the seal")      // vmerr.Unauthorized
)

// Commit is one miner's part in the current round, in seal order.
type Commit struct {
	Miner    crypto.Address
	Seal     [32]byte
	Height   int64    // the block that accepted the seal
	Revealed bool     // a reveal opened the seal
	Result   [32]byte // the revealed result hash, when Revealed
}

// Job is the market state of one included request: the part of the Request
// the phase machine needs, the windows copied from Params at inclusion, and
// the current round's seals. The ledger stores it; every method is
// deterministic and changes j only when it returns nil.
type Job struct {
	ID           [32]byte // RequestID of the request
	Replicas     uint32   // k
	Quorum       uint32   // q
	Start        int64    // height the current round's commit phase opened
	Deadline     int64    // last height at which the request may settle
	CommitWindow int64
	RevealWindow int64
	// ClosedAt is the height whose block accepted the k-th seal, 0 while
	// fewer than k seals are in.
	ClosedAt int64
	Commits  []Commit // the current round's seals, in the order accepted
	Settled  bool     // set by the ledger once it applied a result
}

// NewJob returns the Job of request id, validated by Request.Validate,
// included in the block at height (heights start at 1, so ClosedAt 0 can
// mean "open"): its first round opens at that height and its deadline is
// height + r.Deadline.
func NewJob(p Params, id [32]byte, r Request, height int64) *Job {
	return &Job{ID: id, Replicas: r.Replicas, Quorum: r.Quorum, Start: height, Deadline: height + r.Deadline,
		CommitWindow: p.CommitWindow, RevealWindow: p.RevealWindow}
}

// Phase returns the phase of j at height h. Seals are accepted until
// CommitEnd; a commit phase that ended with fewer than q seals cannot reach
// quorum, and the round lapses at once. Reveals are accepted from the block
// after the commit phase ended for RevealWindow blocks, and never after
// Deadline.
func (j *Job) Phase(h int64) Phase {
	switch {
	case j.Settled:
		return PhaseSettled
	case h > j.Deadline:
		return PhaseExpired
	}
	end := j.CommitEnd()
	switch {
	case h <= end:
		return PhaseCommit
	case j.ClosedAt == 0 && len(j.Commits) < int(j.Quorum):
		return PhaseLapsed
	case h-end <= j.RevealWindow:
		return PhaseReveal
	}
	return PhaseLapsed
}

// CommitEnd is the last height of the current round's commit phase: the
// block that accepted the k-th seal; else CommitWindow blocks after the
// round's first seal. The window opens with the first seal, not with the
// round: under load, miners reach an offer late but at about the same
// time, so counting from the round's start would lapse rounds nobody had
// a chance to seal and waste every execution already under way. A round
// nobody has sealed stays open until the deadline.
func (j *Job) CommitEnd() int64 {
	switch {
	case j.ClosedAt != 0:
		return j.ClosedAt
	case len(j.Commits) == 0:
		return j.Deadline
	}
	return j.Commits[0].Height + j.CommitWindow
}

// Seal records miner's seal at height h. It is refused, leaving j as it
// was, when j is settled (ErrSettled, kind vmerr.Exists), expired
// (ErrExpired, kind vmerr.Timeout), past its commit phase or already holding
// k seals (ErrCommitClosed, kind vmerr.Timeout), or when miner has sealed
// this round (ErrDoubleSeal, kind vmerr.Exists). The k-th seal closes the
// commit phase with block h.
func (j *Job) Seal(miner crypto.Address, seal [32]byte, h int64) error {
	const op = "market.seal"
	if err := j.expect(op, PhaseCommit, h); err != nil {
		return err
	}
	if len(j.Commits) >= int(j.Replicas) {
		return vmerr.E(op, vmerr.Timeout, "all %d seals are in: %w", j.Replicas, ErrCommitClosed)
	}
	if j.find(miner) >= 0 {
		return vmerr.E(op, vmerr.Exists, "miner %s: %w", miner, ErrDoubleSeal)
	}
	j.Commits = append(j.Commits, Commit{Miner: miner, Seal: seal, Height: h})
	if len(j.Commits) == int(j.Replicas) {
		j.ClosedAt = h
	}
	return nil
}

// Reveal records that signer revealed resultHash as miner's result at
// height h. It is refused, leaving j as it was: when signer is not miner
// (ErrNotMiner, kind vmerr.Unauthorized); when j is settled (ErrSettled,
// kind vmerr.Exists) or expired (ErrExpired, kind vmerr.Timeout); in the
// commit phase (ErrNotRevealing, kind vmerr.Invalid); after the reveal window
// (ErrRevealClosed, kind vmerr.Timeout); when miner has no seal this round
// (ErrNoSeal, kind vmerr.Unauthorized); when miner already revealed
// (ErrDoubleReveal, kind vmerr.Exists); when resultHash does not open
// miner's seal of this request (ErrBadSeal, kind vmerr.Unauthorized). After a
// reveal, Agreement tells whether the request can settle.
func (j *Job) Reveal(signer, miner crypto.Address, resultHash [32]byte, h int64) error {
	const op = "market.reveal"
	if signer != miner {
		return vmerr.E(op, vmerr.Unauthorized, "signer %s, miner %s: %w", signer, miner, ErrNotMiner)
	}
	if err := j.expect(op, PhaseReveal, h); err != nil {
		return err
	}
	i := j.find(miner)
	switch {
	case i < 0:
		return vmerr.E(op, vmerr.Unauthorized, "miner %s: %w", miner, ErrNoSeal)
	case j.Commits[i].Revealed:
		return vmerr.E(op, vmerr.Exists, "miner %s: %w", miner, ErrDoubleReveal)
	case !VerifySeal(j.Commits[i].Seal, miner, j.ID, resultHash):
		return vmerr.E(op, vmerr.Unauthorized, "miner %s: %w", miner, ErrBadSeal)
	}
	j.Commits[i].Revealed, j.Commits[i].Result = true, resultHash
	return nil
}

// Result records a quorum-1 request's single result transaction: the seal
// and the reveal of signer's result at once, at height h. The request then
// has its quorum: Agreement reports it reached, and the ledger settles it in
// the same block. It is refused, leaving j as it was, when j's quorum is not
// 1 (kind vmerr.Invalid: a result must be sealed first), and otherwise as
// Seal refuses it.
func (j *Job) Result(signer crypto.Address, resultHash [32]byte, h int64) error {
	if j.Quorum != 1 {
		return vmerr.E("market.result", vmerr.Invalid, "quorum is %d: seal the result, then reveal it", j.Quorum)
	}
	if err := j.Seal(signer, Seal(signer, j.ID, resultHash), h); err != nil {
		return err
	}
	c := &j.Commits[len(j.Commits)-1]
	c.Revealed, c.Result = true, resultHash
	return nil
}

// Reopen starts a new round at height h: the seals of the current round
// are dropped and seals are accepted again from block h. The ledger calls it
// when a round lapsed, or when a result reached quorum on stale reads (its
// writes were not applied). Reopening a settled or expired request is
// refused (ErrSettled kind vmerr.Exists, ErrExpired kind vmerr.Timeout), and
// so is reopening during the commit phase (kind vmerr.Invalid). The
// miners to penalise are those Agreement reports unrevealed before Reopen,
// and only for a lapsed round (a stale quorum ends the round early).
func (j *Job) Reopen(h int64) error {
	const op = "market.reopen"
	switch ph := j.Phase(h); ph {
	case PhaseSettled, PhaseExpired:
		return j.expect(op, PhaseReveal, h)
	case PhaseCommit:
		return vmerr.E(op, vmerr.Invalid, "request is in its commit phase")
	}
	j.Start, j.ClosedAt, j.Commits = h, 0, nil
	return nil
}

// Unrevealed returns, in seal order, the miners the ledger penalises at
// height h: those that sealed in the current round and did not reveal
// although the round had a reveal phase of at least one block that is now
// over (the round lapsed, or the deadline passed). A round whose commit
// phase ended with fewer than q seals had no reveal phase: nobody in it is
// penalised. Before the reveal phase is over the answer is nil.
func (j *Job) Unrevealed(h int64) []crypto.Address {
	if ph := j.Phase(h); (ph != PhaseLapsed && ph != PhaseExpired) || len(j.Commits) < int(j.Quorum) {
		return nil
	}
	if j.CommitEnd() >= j.Deadline {
		return nil
	}
	var out []crypto.Address
	for _, c := range j.Commits {
		if !c.Revealed {
			out = append(out, c.Miner)
		}
	}
	return out
}

// Agreement returns the agreement of the current round's reveals (see
// Agree).
func (j *Job) Agreement() Agreement {
	a, err := agree(j.entries(), j.Quorum)
	if err != nil { // a Job's commits have distinct miners and orders
		panic(err)
	}
	return a
}

// entries returns the commits as Agree's input.
func (j *Job) entries() []Entry {
	es := make([]Entry, len(j.Commits))
	for i, c := range j.Commits {
		es[i] = Entry{Order: uint32(i), Miner: c.Miner, Revealed: c.Revealed, Result: c.Result}
	}
	return es
}

// expect returns the error for a message that needs phase want at h.
func (j *Job) expect(op string, want Phase, h int64) error {
	ph := j.Phase(h)
	switch {
	case ph == want:
		return nil
	case ph == PhaseSettled:
		return vmerr.E(op, vmerr.Exists, "%w", ErrSettled)
	case ph == PhaseExpired:
		return vmerr.E(op, vmerr.Timeout, "deadline was height %d: %w", j.Deadline, ErrExpired)
	case want == PhaseCommit:
		return vmerr.E(op, vmerr.Timeout, "at height %d: %w", h, ErrCommitClosed)
	case ph == PhaseCommit:
		return vmerr.E(op, vmerr.Invalid, "at height %d: %w", h, ErrNotRevealing)
	}
	return vmerr.E(op, vmerr.Timeout, "at height %d: %w", h, ErrRevealClosed)
}

func (j *Job) find(miner crypto.Address) int {
	for i, c := range j.Commits {
		if c.Miner == miner {
			return i
		}
	}
	return -1
}
