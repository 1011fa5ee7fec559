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
	ph := j.Phase(env.Height)
	if ph != market.PhaseExpired && ph != market.PhaseLapsed {
		return nil, save(env.S, m) // a stale index entry: move it to the next due height
	}
	if a := j.Agreement(); a.Reached {
		// The quorum agreed but some sealed miners never revealed: they
		// are penalised and the round settles without them.
		late, evs, err := penalise(env, m, a.Unrevealed)
		if err != nil {
			return nil, err
		}
		more, err := settle(env, m, j, a, late)
		return append(evs, more...), err
	}
	late, evs, err := penalise(env, m, j.Unrevealed(env.Height))
	if err != nil {
		return nil, err
	}
	var more []Event
	if ph == market.PhaseExpired {
		more, err = expire(env, m, j, late)
	} else {
		more, err = reopen(env, m, j, "lapsed")
	}
	return append(evs, more...), err
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
