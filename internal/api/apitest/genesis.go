package apitest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/lightproof"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// GenesisValidatorPower is the voting power of the fake's one genesis
// validator.
const GenesisValidatorPower = 10

// GenesisValidatorKey is the fake's fixed genesis validator: an Ed25519
// key from the seed SHA-256("apitest/genesis-validator"). The fake signs
// no blocks with it (it has no consensus, see Commit); it exists so GET
// /v1/genesis answers a well-formed set.
func GenesisValidatorKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("apitest/genesis-validator"))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Genesis answers the fake's fixed genesis: its chain id and one
// validator, GenesisValidatorKey with GenesisValidatorPower, built and
// hashed by lightproof.ParseGenesis and api.GenesisOf as a node's is.
// Errors: the Backend's fault or closed state, as every call.
func (b *Backend) Genesis(ctx context.Context) (apitype.Genesis, error) {
	const op = "apitest.genesis"
	b.mu.Lock()
	err := b.check(ctx)
	chainID := b.cfg.ChainID
	b.mu.Unlock()
	if err != nil {
		return apitype.Genesis{}, err
	}
	type pubKey struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	type val struct {
		PubKey pubKey `json:"pub_key"`
		Power  string `json:"power"`
	}
	doc, err := json.Marshal(struct {
		ChainID     string `json:"chain_id"`
		GenesisTime string `json:"genesis_time"`
		Validators  []val  `json:"validators"`
	}{chainID, genesisTime.Format("2006-01-02T15:04:05Z"), []val{{
		PubKey: pubKey{"tendermint/PubKeyEd25519", base64.StdEncoding.EncodeToString(GenesisValidatorKey().Public().(ed25519.PublicKey))},
		Power:  "10"}}})
	if err != nil {
		return apitype.Genesis{}, vmerr.E(op, vmerr.Internal, "genesis: %w", err)
	}
	t, err := lightproof.ParseGenesis(doc)
	if err != nil {
		return apitype.Genesis{}, vmerr.E(op, vmerr.Internal, "genesis: %w", err)
	}
	return api.GenesisOf(t), nil
}
