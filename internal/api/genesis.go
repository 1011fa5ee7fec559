package api

import (
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/lightproof"
)

// getGenesis is GET /v1/genesis: the chain's id and genesis validator set
// with the set's hash, what a light client (the portal's Verify) pins as
// its trust root. Errors: the Backend's (Unavailable, or the genesis
// file's NotFound, Decode or Invalid).
func (s *Server) getGenesis(w http.ResponseWriter, r *http.Request) error {
	g, err := s.b.Genesis(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// GenesisOf is the API form of a trusted genesis (lightproof.LoadHome,
// lightproof.ParseGenesis): its chain id, its validators in the set's
// order (power descending, then address) and the set's CometBFT hash, the
// header's validators_hash while the set is unchanged.
func GenesisOf(t lightproof.Trust) apitype.Genesis {
	g := apitype.Genesis{ChainID: t.ChainID}
	if t.Validators == nil {
		return g
	}
	g.Hash = hex.EncodeToString(t.Validators.Hash())
	g.Validators = make([]apitype.GenesisValidator, len(t.Validators.Validators))
	for i, v := range t.Validators.Validators {
		g.Validators[i] = apitype.GenesisValidator{Address: hex.EncodeToString(v.Address),
			PubKey: hex.EncodeToString(v.PubKey.Bytes()), Power: strconv.FormatInt(v.VotingPower, 10)}
	}
	return g
}
