package api

import "net/http"

// getCommit is GET /v1/commits/{height}: the signed header and validator
// set of block height (a positive integer or "latest"), the proof of the
// app hash of the state after block height-1 (internal/lightproof checks
// a Location at height H against the Commit of H+1). Errors: Invalid for
// a bad height; the Backend's NotFound above the latest block or when no
// commit is stored.
func (s *Server) getCommit(w http.ResponseWriter, r *http.Request) error {
	var height int64
	if v := r.PathValue("height"); v != "latest" {
		var err error
		if height, err = parseHeight(v); err != nil {
			return err
		}
	}
	c, err := s.b.Commit(r.Context(), height)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
