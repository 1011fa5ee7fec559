package api

import (
	"net/http"
	"strconv"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// MaxMinerLimit is the largest ?limit= of GET /v1/miners.
const MaxMinerLimit = 100

// maxMinerParam bounds the kind and after query values of GET /v1/miners.
const maxMinerParam = 64

// listMiners is GET /v1/miners?kind=K&after=ADDRESS&limit=N. limit is
// 1..100 (default 50); kind and after are checked by the Backend.
func (s *Server) listMiners(w http.ResponseWriter, r *http.Request) error {
	const op = "api.miners"
	q := r.URL.Query()
	mq := apitype.MinerQuery{Kind: q.Get("kind"), After: q.Get("after")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxMinerLimit {
			return vmerr.E(op, vmerr.Invalid, "limit=%q: want an integer from 1 to %d", v, MaxMinerLimit)
		}
		mq.Limit = n
	}
	for _, p := range [...]struct{ name, v string }{{"kind", mq.Kind}, {"after", mq.After}} {
		if len(p.v) > maxMinerParam {
			return vmerr.E(op, vmerr.Invalid, "%s is %d bytes, limit %d", p.name, len(p.v), maxMinerParam)
		}
	}
	list, err := s.b.Miners(r.Context(), mq)
	if err != nil {
		return err
	}
	if list.Miners == nil {
		list.Miners = []apitype.Miner{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// getMiner is GET /v1/miners/{id}?height=H&prove=true|false; id is the
// miner's account address (40 hex digits). height defaults to 0
// (latest), prove to true.
func (s *Server) getMiner(w http.ResponseWriter, r *http.Request) error {
	const op = "api.miner"
	addr, err := crypto.ParseAddress(r.PathValue("id"))
	if err != nil {
		return vmerr.Wrap(op, vmerr.Invalid, err)
	}
	height, prove, err := heightProve(op, r)
	if err != nil {
		return err
	}
	m, err := s.b.Miner(r.Context(), addr, height, prove)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}
