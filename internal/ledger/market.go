package ledger

import (
	"errors"
	"strconv"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// bank is the block's jobs.Bank.
type bank struct{ b *block }

func (k bank) Move(op string, from, to crypto.Address, amount uint64) error {
	if amount == 0 {
		return nil
	}
	return k.b.move(op, from, to, amount)
}

func (k bank) Balance(addr crypto.Address) (uint64, error) {
	c, err := k.b.account(addr)
	if err != nil {
		return 0, err
	}
	return c.cur.Balance, nil
}

// marketEnv is the block as the market's environment.
func (b *block) marketEnv() jobs.Env {
	return jobs.Env{S: b, Bank: bank{b}, P: b.params.Market, Height: b.height, Time: b.time,
		Fees: b.fees, Escrow: EscrowAccount(), Resolve: b.resolve}
}

// tick runs the market's start-of-block work (jobs.Tick) and returns its
// block events. It changes nothing when no request is due.
func (b *block) tick() ([]abcitypes.Event, error) {
	b.journal = b.journal[:0]
	evs, err := jobs.Tick(b.marketEnv())
	if err != nil {
		b.rollback()
		return nil, err
	}
	b.journal = b.journal[:0]
	return abciEvents(evs), nil
}

// applyMarket applies message i of s when it is a market message; ok is
// false for any other message. memo reports a Request answered from a
// memo.
func (b *block) applyMarket(s *tx.Signed, i int, m *txpb.Msg) (evs []abcitypes.Event, memo, ok bool, err error) {
	out, memo, ok, err := jobs.Apply(b.marketEnv(), s.Signer, s.Hash, uint32(i), m)
	return abciEvents(out), memo, ok, err
}

// workOnly reports whether every message of body is a miner's work
// message (tx.IsWork).
func workOnly(body *txpb.TxBody) bool {
	for _, m := range body.Msgs {
		if !tx.IsWork(m) {
			return false
		}
	}
	return len(body.Msgs) > 0
}

// applyWork applies a work-only transaction's messages one by one: a
// message the market refuses is rolled back alone and reported in a
// "work_refused" event, because miners race each other by design and one
// lost race must not void the rest of a batch. If no message applies, the
// transaction fails with the first refusal, unless every refusal was a
// lost race (lostRace): then it commits, its nonce and fee consumed, so
// that a pipelining miner's later transactions (the next nonces) stay
// valid. Storage failures stop the block as usual.
func (b *block) applyWork(s *tx.Signed, events []abcitypes.Event) ([]abcitypes.Event, error) {
	var first error
	applied, races := 0, 0
	for i, m := range s.Body.Msgs {
		mark := len(b.journal)
		evs, _, _, err := b.applyMarket(s, i, m)
		if err != nil {
			if fatal(err) {
				return nil, err
			}
			b.rollbackTo(mark)
			if first == nil {
				first = vmerr.E("ledger.tx", vmerr.KindOf(err), "message %d: %w", i, err)
			}
			if lostRace(err) {
				races++
			}
			events = append(events, event(eventWorkRefused, "index", strconv.Itoa(i),
				"code", strconv.Itoa(int(vmerr.KindOf(err))), "error", err.Error()))
			continue
		}
		applied++
		events = append(events, evs...)
	}
	if applied == 0 && races < len(s.Body.Msgs) {
		return nil, first
	}
	return events, nil
}

// refusedIndexes returns the message indexes of the "work_refused" events
// of a work-only transaction, in event order (increasing).
func refusedIndexes(events []abcitypes.Event) []int {
	var out []int
	for _, e := range events {
		if e.Type != eventWorkRefused {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == "index" {
				if n, err := strconv.Atoi(a.Value); err == nil {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// eventWorkRefused reports a work message the market refused in a
// work-only transaction (applyWork).
const eventWorkRefused = "work_refused"

// lostRace reports whether a work message was refused only because other
// miners or the clock got there first: the commit or reveal phase closed,
// the request settled or expired, the message was already applied, or a
// reveal met the commit phase (of a round re-offered while the reveal of
// the lapsed one was on its way: a reveal does not name its round).
func lostRace(err error) bool {
	k := vmerr.KindOf(err)
	return k == vmerr.Timeout || k == vmerr.Exists || errors.Is(err, market.ErrNotRevealing)
}

func abciEvents(evs []jobs.Event) []abcitypes.Event {
	out := make([]abcitypes.Event, len(evs))
	for i, e := range evs {
		out[i] = event(e.Type, e.Attrs...)
	}
	return out
}

// escrows validates body's Request messages against the market's
// parameters (statelessly: ranges resolve in the block) and returns the
// escrow they lock in total. Errors: market.Request.Validate's, Overflow.
func (p Params) escrows(body *txpb.TxBody) (uint64, error) {
	var total uint64
	for i, m := range body.Msgs {
		r := m.GetRequest()
		if r == nil {
			continue
		}
		req := jobs.FromMsg(r)
		if _, err := req.Validate(p.Market); err != nil {
			return 0, vmerr.E("ledger.check_tx", vmerr.KindOf(err), "message %d: %w", i, err)
		}
		e, _ := market.Escrow(req)
		if total+e < total {
			return 0, vmerr.E("ledger.check_tx", vmerr.Overflow, "escrows overflow")
		}
		total += e
	}
	return total, nil
}

// ReaderAt returns a read-only view of the committed state at height (0 =
// the latest): what an in-process miner runs a request against, and what
// tests read. Reads take the query lock, so they are safe alongside
// consensus. Errors: NotFound for a height not stored.
func (a *App) ReaderAt(height int64) (registry.Reader, error) {
	a.qmu.RLock()
	defer a.qmu.RUnlock()
	if a.committed == nil {
		return nil, vmerr.E("ledger.reader", vmerr.NotFound, "nothing committed yet")
	}
	if height == 0 || height == a.height {
		return &lockedReader{a: a, r: registry.TreeReader{T: a.committed}}, nil
	}
	t, err := a.tree.GetImmutable(height)
	if err != nil {
		return nil, vmerr.E("ledger.reader", vmerr.NotFound, "height %d is not stored: %v", height, err)
	}
	return &lockedReader{a: a, r: registry.TreeReader{T: t}}, nil
}

// lockedReader reads a committed tree under the query lock.
type lockedReader struct {
	a *App
	r registry.TreeReader
}

func (l *lockedReader) Get(key []byte) ([]byte, error) {
	l.a.qmu.RLock()
	defer l.a.qmu.RUnlock()
	return l.r.Get(key)
}

func (l *lockedReader) Scan(start, end []byte, ascending bool, f func(k, v []byte) bool) error {
	l.a.qmu.RLock()
	defer l.a.qmu.RUnlock()
	return l.r.Scan(start, end, ascending, f)
}
