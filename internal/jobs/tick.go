package jobs

import (
	"bytes"
	"encoding/hex"
	"strconv"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
)

// Tick runs at the start of block env.Height, before its transactions:
// every open request whose phase changed by the passing of blocks is
// handled in deadline-index order (due height, then id). A request past its
// deadline is expired: its escrow is refunded and the miners that sealed and
// did not reveal in time are penalised. A round that lapsed (its reveal
// window closed, or its commit window closed without enough seals) has its
// unrevealed miners penalised and is re-offered from this block.
func Tick(env Env) ([]Event, error) {
	end := state.DueKey(env.Height+1, [32]byte{})
	var ids [][32]byte
	if err := env.S.Scan([]byte{state.PrefixDue}, end, true, func(k, _ []byte) bool {
		_, id, err := state.DueHeight(k)
		if err == nil {
			ids = append(ids, id)
		}
		return true
	}); err != nil {
		return nil, err
	}
	var evs []Event
	for _, id := range ids {
		m, _, err := GetRequest(env.S, id)
		if err != nil {
			return nil, &registry.CorruptError{Err: err}
		}
		ev, err := tickOne(env, m)
		if err != nil {
			return nil, err
		}
		evs = append(evs, ev...)
	}
	return evs, nil
}

func tickOne(env Env, m *statepb.Request) ([]Event, error) {
	j := jobOf(m)
	idHex := hex.EncodeToString(m.Id)
	switch j.Phase(env.Height) {
	case market.PhaseExpired:
		late, evs, err := penalise(env, m, j.Unrevealed(env.Height))
		if err != nil {
			return nil, err
		}
		if err := env.Bank.Move("jobs.expire", env.Escrow, crypto.Address(m.Requester), m.Escrow); err != nil {
			return nil, err
		}
		if err := dropReveals(env.S, j); err != nil {
			return nil, err
		}
		m.Status = StatusExpired
		if err := save(env.S, m); err != nil {
			return nil, err
		}
		rec := &statepb.Result{Status: StatusExpired, Refund: m.Escrow, Unrevealed: late}
		more, err := appendResult(env, m, rec, "")
		if err != nil {
			return nil, err
		}
		evs = append(evs, Event{Type: EventExpired, Attrs: []string{"id", idHex}})
		return append(evs, more...), nil
	case market.PhaseLapsed:
		_, evs, err := penalise(env, m, j.Unrevealed(env.Height))
		if err != nil {
			return nil, err
		}
		if err := dropReveals(env.S, j); err != nil {
			return nil, err
		}
		if err := j.Reopen(env.Height); err != nil {
			return nil, err
		}
		storeJob(m, j)
		m.StartTime, m.Round = env.Time, m.Round+1
		if err := save(env.S, m); err != nil {
			return nil, err
		}
		return append(evs, Event{Type: EventReopened, Attrs: []string{"id", idHex, "reason", "lapsed",
			"round", strconv.FormatUint(uint64(m.Round), 10)}}), nil
	}
	return nil, save(env.S, m) // a stale index entry: move it to the next due height
}

// penalise charges each miner UnrevealedPenalty (at most its balance) to
// the fee collector and counts a timeout.
func penalise(env Env, m *statepb.Request, late []crypto.Address) ([][]byte, []Event, error) {
	var (
		out [][]byte
		evs []Event
	)
	for _, miner := range late {
		bal, err := env.Bank.Balance(miner)
		if err != nil {
			return nil, nil, err
		}
		amt := min(bal, env.P.UnrevealedPenalty)
		if err := env.Bank.Move("jobs.penalty", miner, env.Fees, amt); err != nil {
			return nil, nil, err
		}
		if err := bumpMiner(env.S, miner, func(r *statepb.Miner) { r.TimedOut++ }); err != nil {
			return nil, nil, err
		}
		out = append(out, bytes.Clone(miner[:]))
		evs = append(evs, Event{Type: EventPenalty, Attrs: []string{"miner", miner.String(), "request", hex.EncodeToString(m.Id),
			"amount", strconv.FormatUint(amt, 10)}})
	}
	return out, evs, nil
}
