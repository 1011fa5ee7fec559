package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/explorer"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// ExplorerBackend is the explorer part of a Backend: indexes the node
// keeps beside the ledger (not in consensus state). Errors are
// *vmerr.Error: Invalid for a bad name, cursor, limit or window,
// Unavailable when the node cannot answer now. Unknown accounts and
// contracts are not errors: they have empty histories and stats.
type ExplorerBackend interface {
	// AccountTxs lists the committed txs addr took part in (failed ones
	// included), newest first, strictly before q's cursor when set, at
	// most q.Limit (0 = 20, max 100); Next is set when more may follow.
	AccountTxs(ctx context.Context, addr crypto.Address, q apitype.TxQuery) (apitype.TxList, error)
	// ContractStats aggregates the results of contract name (every
	// version) per step over q's window (see explorer.Window).
	ContractStats(ctx context.Context, name string, q apitype.StatsQuery) (apitype.ContractStats, error)
	// ContractResults lists name's results newest first, strictly before
	// q's cursor when set, at most q.Limit (0 = 20, max 100); Next is set
	// when more may follow.
	ContractResults(ctx context.Context, name string, q apitype.ResultQuery) (apitype.ContractResultList, error)
	// MinerStats aggregates the results miner addr was paid for (its
	// jobs) per step over q's window; Name is the address.
	MinerStats(ctx context.Context, addr crypto.Address, q apitype.StatsQuery) (apitype.ContractStats, error)
}

// getAccountTxs is GET /v1/accounts/{addr}/txs?before=H:I&limit=N.
func (s *Server) getAccountTxs(w http.ResponseWriter, r *http.Request) error {
	const op = "api.account_txs"
	addr, err := crypto.ParseAddress(r.PathValue("addr"))
	if err != nil {
		return vmerr.Wrap(op, vmerr.Invalid, err)
	}
	q := r.URL.Query()
	var tq apitype.TxQuery
	if tq.Limit, err = limitParam(op, q, explorer.MaxLimit); err != nil {
		return err
	}
	if v := q.Get("before"); v != "" {
		h, i, err := explorer.ParseCursor(op, v)
		if err != nil {
			return err
		}
		if i > 1<<32-1 {
			return vmerr.E(op, vmerr.Invalid, "before=%q: index out of range", v)
		}
		tq.BeforeHeight, tq.BeforeIndex = h, uint32(i)
	}
	l, err := s.b.AccountTxs(r.Context(), addr, tq)
	if err != nil {
		return err
	}
	if l.Txs == nil {
		l.Txs = []apitype.AccountTx{}
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// getContractStats is GET /v1/contracts/{name}/stats?from=&to=&step=
// (unix seconds; step a multiple of 60).
func (s *Server) getContractStats(w http.ResponseWriter, r *http.Request) error {
	const op = "api.contract_stats"
	name, err := plainName(op, r.PathValue("name"))
	if err != nil {
		return err
	}
	sq, err := statsQuery(op, r)
	if err != nil {
		return err
	}
	st, err := s.b.ContractStats(r.Context(), name, sq)
	return writeStats(w, st, err)
}

// getMinerStats is GET /v1/miners/{id}/stats?from=&to=&step=: the jobs
// a miner was paid for, as getContractStats counts a contract's calls.
func (s *Server) getMinerStats(w http.ResponseWriter, r *http.Request) error {
	const op = "api.miner_stats"
	addr, err := crypto.ParseAddress(r.PathValue("id"))
	if err != nil {
		return vmerr.Wrap(op, vmerr.Invalid, err)
	}
	sq, err := statsQuery(op, r)
	if err != nil {
		return err
	}
	st, err := s.b.MinerStats(r.Context(), addr, sq)
	return writeStats(w, st, err)
}

func writeStats(w http.ResponseWriter, st apitype.ContractStats, err error) error {
	if err != nil {
		return err
	}
	if st.Buckets == nil {
		st.Buckets = []apitype.StatsBucket{}
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// statsQuery reads ?from=&to=&step= (unix seconds; step a multiple of 60).
func statsQuery(op string, r *http.Request) (apitype.StatsQuery, error) {
	q := r.URL.Query()
	var sq apitype.StatsQuery
	for _, p := range [...]struct {
		key string
		dst *int64
	}{{"from", &sq.From}, {"to", &sq.To}, {"step", &sq.Step}} {
		v := q.Get(p.key)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			what := "unix seconds"
			if p.key == "step" {
				what = "seconds, a multiple of 60"
			}
			return sq, vmerr.E(op, vmerr.Invalid, "%s=%q: want a positive integer (%s)", p.key, v, what)
		}
		*p.dst = n
	}
	return sq, nil
}

// getContractResults is GET /v1/contracts/{name}/results?before=H:SEQ&limit=N.
func (s *Server) getContractResults(w http.ResponseWriter, r *http.Request) error {
	const op = "api.contract_results"
	name, err := plainName(op, r.PathValue("name"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var rq apitype.ResultQuery
	if rq.Limit, err = limitParam(op, q, explorer.MaxLimit); err != nil {
		return err
	}
	if v := q.Get("before"); v != "" {
		if rq.BeforeHeight, rq.BeforeSeq, err = explorer.ParseCursor(op, v); err != nil {
			return err
		}
	}
	l, err := s.b.ContractResults(r.Context(), name, rq)
	if err != nil {
		return err
	}
	if l.Results == nil {
		l.Results = []apitype.ContractResult{}
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// plainName reads a contract name path value, refusing name@range.
func plainName(op, v string) (string, error) {
	name, _, hasRange, err := parseRef(op, v)
	if err != nil {
		return "", err
	}
	if hasRange {
		return "", vmerr.E(op, vmerr.Invalid, "%q: want a contract name, not name@range (metrics cover every version)", v)
	}
	return name, nil
}
