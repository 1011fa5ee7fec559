// Package lightproof owns the light-client check of a location: that a
// Location's app hash is the one the chain's validators committed to, so
// a client trusts the chain's genesis validators instead of the node that
// answered. A Location at height H proves (key, value) against the app
// hash of the state after block H; CometBFT commits that app hash in the
// header of block H+1, so the proof of the app hash is block H+1's signed
// header and validator set (apitype.Commit). Verify checks the pair with
// CometBFT's own light-client functions; Encode and Decode are the one
// wire form of an apitype.Commit, used by the node and by clients.
package lightproof

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmtmath "github.com/cometbft/cometbft/libs/math"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// MaxLightBlockSize bounds the encoded LightBlock of a Commit, bytes
// (before hex): room for CometBFT's largest validator set (10,000
// validators, each in the set and in the commit).
const MaxLightBlockSize = 4 << 20

// TrustLevel returns the share of the trusted (genesis) validators' power that
// must have signed a block: CometBFT's light.DefaultTrustLevel, 1/3, so at
// least one honest genesis validator vouches for the block. It is a copy
// (a test keeps it equal) because package light brings CometBFT's RPC
// and P2P code along.
func TrustLevel() cmtmath.Fraction { return cmtmath.Fraction{Numerator: 1, Denominator: 3} }

// MaxGenesisSize bounds a genesis file LoadGenesis reads, bytes.
const MaxGenesisSize = 64 << 20

// Trust is what a light client takes on faith: the chain's id and its
// genesis validator set. Build it with LoadGenesis or ParseGenesis (or
// by hand in tests); Verify checks it before use.
type Trust struct {
	ChainID    string
	Validators *cmttypes.ValidatorSet
}

// Verify checks that loc is a true record of the chain trust names: the
// location's ICS23 proof verifies against loc.AppHash (state.VerifyLocation),
// c is block loc.Height+1 of chain trust.ChainID whose header carries
// loc.AppHash, the header and commit are well formed and the commit signs
// that header, c's validator set hashes to the header's ValidatorsHash and
// more than 2/3 of its power signed the commit (VerifyCommitLight), and
// validators of trust hold more than CometBFT's default trust level (1/3)
// of trust's power among the commit's signatures
// (VerifyCommitLightTrusting), so a node cannot invent a validator set.
//
// It does not check loc.Namespace, which no proof covers: the caller
// compares loc.Key with the store key it asked for (state.SameKey, e.g.
// with state.AccountKey(addr)), whose prefix byte is the namespace.
//
// Errors are *vmerr.Error naming what failed: Invalid for a nil argument,
// an unusable trust or a structurally invalid location, header, commit or
// validator set; Decode for bytes that do not decode (hex, protobuf,
// proof); TooLarge for a light block over MaxLightBlockSize; Unauthorized for every check that fails on well-formed input
// (proof, chain id, height, app hash, commit not for the header,
// validator set not the header's, too few signatures, too little trusted
// power).
func Verify(loc *apitype.Location, c *apitype.Commit, trust Trust) error {
	const op = "lightproof.verify"
	if loc == nil || c == nil {
		return vmerr.E(op, vmerr.Invalid, "no location or no commit")
	}
	if err := trust.check(); err != nil {
		return vmerr.Wrap(op, vmerr.Invalid, err)
	}
	if err := state.VerifyLocation(loc); err != nil {
		return vmerr.E(op, vmerr.KindOf(err), "location: %w", err)
	}
	if loc.ChainID != trust.ChainID {
		return vmerr.E(op, vmerr.Unauthorized, "location is on chain %q, the trusted chain is %q", loc.ChainID, trust.ChainID)
	}
	if loc.Height < 1 {
		return vmerr.E(op, vmerr.Invalid, "location height %d is not positive", loc.Height)
	}
	lb, err := Decode(c)
	if err != nil {
		return vmerr.E(op, vmerr.KindOf(err), "commit: %w", err)
	}
	h := lb.Header
	if h.ChainID != trust.ChainID {
		return vmerr.E(op, vmerr.Unauthorized, "header is of chain %q, the trusted chain is %q", h.ChainID, trust.ChainID)
	}
	if h.Height != loc.Height+1 {
		return vmerr.E(op, vmerr.Unauthorized, "header is block %d; a location at height %d needs block %d", h.Height, loc.Height, loc.Height+1)
	}
	root, _ := hex.DecodeString(loc.AppHash) // VerifyLocation decoded it
	if !bytes.Equal(h.AppHash, root) {
		return vmerr.E(op, vmerr.Unauthorized, "header %d has app hash %X, the location claims %s", h.Height, h.AppHash, loc.AppHash)
	}
	return verifyBlock(op, lb, trust)
}

// VerifyCommit checks c alone against trust, as Verify does after the
// location checks: header, commit and validator set well formed, the
// commit signs the header with more than 2/3 of the set's power, the set
// is the header's, and trust's validators hold more than 1/3 of trust's
// power among the signatures. It returns the verified LightBlock, whose
// header (AppHash, Time, Height) the caller may then rely on. Errors as
// Verify's.
func VerifyCommit(c *apitype.Commit, trust Trust) (*cmttypes.LightBlock, error) {
	const op = "lightproof.verify_commit"
	if c == nil {
		return nil, vmerr.E(op, vmerr.Invalid, "no commit")
	}
	if err := trust.check(); err != nil {
		return nil, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	lb, err := Decode(c)
	if err != nil {
		return nil, err
	}
	if lb.Header.ChainID != trust.ChainID {
		return nil, vmerr.E(op, vmerr.Unauthorized, "header is of chain %q, the trusted chain is %q", lb.Header.ChainID, trust.ChainID)
	}
	if err := verifyBlock(op, lb, trust); err != nil {
		return nil, err
	}
	return lb, nil
}

// verifyBlock runs the consensus checks on a decoded light block whose
// chain id the caller has compared with trust's.
func verifyBlock(op string, lb *cmttypes.LightBlock, trust Trust) error {
	h, commit, vals := lb.Header, lb.Commit, lb.ValidatorSet
	if err := h.ValidateBasic(); err != nil {
		return vmerr.E(op, vmerr.Invalid, "header: %w", err)
	}
	if err := commit.ValidateBasic(); err != nil {
		return vmerr.E(op, vmerr.Invalid, "commit: %w", err)
	}
	if commit.Height != h.Height {
		return vmerr.E(op, vmerr.Invalid, "commit is for height %d, header is block %d", commit.Height, h.Height)
	}
	if hh := h.Hash(); !bytes.Equal(hh, commit.BlockID.Hash) {
		return vmerr.E(op, vmerr.Unauthorized, "commit signs block %X, the header hashes to %X", commit.BlockID.Hash, hh)
	}
	if err := lb.SignedHeader.ValidateBasic(trust.ChainID); err != nil {
		return vmerr.E(op, vmerr.Invalid, "signed header: %w", err)
	}
	if err := vals.ValidateBasic(); err != nil {
		return vmerr.E(op, vmerr.Invalid, "validator set: %w", err)
	}
	vh := vals.Hash()
	if !bytes.Equal(vh, h.ValidatorsHash) {
		return vmerr.E(op, vmerr.Unauthorized, "validator set hashes to %X, header %d names %X", vh, h.Height, h.ValidatorsHash)
	}
	// The trusted set first: it is bounded by the genesis, while the
	// untrusted set is whatever the node sent. When the block's set is
	// the trusted set itself, +2/3 of it (checked next) is more than the
	// trust level, and each signature is checked once instead of twice.
	if bytes.Equal(vh, trust.Validators.Hash()) {
		if err := vals.VerifyCommitLight(trust.ChainID, commit.BlockID, h.Height, commit); err != nil {
			return vmerr.E(op, vmerr.Unauthorized, "genesis validators did not sign block %d with +2/3 of their power: %w", h.Height, err)
		}
		return nil
	}
	if err := trust.Validators.VerifyCommitLightTrusting(trust.ChainID, commit, TrustLevel()); err != nil {
		return vmerr.E(op, vmerr.Unauthorized, "genesis validators did not sign block %d with %v of their power: %w",
			h.Height, TrustLevel(), err)
	}
	if err := vals.VerifyCommitLight(trust.ChainID, commit.BlockID, h.Height, commit); err != nil {
		return vmerr.E(op, vmerr.Unauthorized, "block %d's validators did not sign it with +2/3 of their power: %w", h.Height, err)
	}
	return nil
}

// Encode builds the wire form of lb as the Commit of its height: the
// protobuf LightBlock in hex and the header's fields repeated for
// display. canonical says whether lb's commit is the one block
// Height+1 carries. Errors: Invalid for a light block without a header,
// commit or validator set, or one that does not encode.
func Encode(lb *cmttypes.LightBlock, canonical bool) (apitype.Commit, error) {
	const op = "lightproof.encode"
	if lb == nil || lb.SignedHeader == nil || lb.Header == nil || lb.Commit == nil || lb.ValidatorSet == nil {
		return apitype.Commit{}, vmerr.E(op, vmerr.Invalid, "light block lacks a header, commit or validator set")
	}
	pb, err := lb.ToProto()
	if err != nil {
		return apitype.Commit{}, vmerr.E(op, vmerr.Invalid, "light block: %w", err)
	}
	raw, err := pb.Marshal()
	if err != nil {
		return apitype.Commit{}, vmerr.E(op, vmerr.Invalid, "encode light block: %w", err)
	}
	h := lb.Header
	return apitype.Commit{ChainID: h.ChainID, Height: h.Height, Hash: hex.EncodeToString(h.Hash()),
		AppHash: hex.EncodeToString(h.AppHash), Time: h.Time.UTC().Format(time.RFC3339Nano),
		Canonical: canonical, LightBlock: hex.EncodeToString(raw)}, nil
}

// Decode parses c's LightBlock and checks that c's display fields
// (ChainID, Height, Hash, AppHash, Time) repeat its header. It verifies
// no signature. Errors: TooLarge over MaxLightBlockSize; Decode for bad
// hex or protobuf, or a light block CometBFT cannot convert; Invalid for
// a light block without a header, commit or validator set, a validator
// set whose power overflows CometBFT's bound, or display fields that
// disagree with the header.
func Decode(c *apitype.Commit) (lb *cmttypes.LightBlock, err error) {
	const op = "lightproof.decode"
	if c == nil {
		return nil, vmerr.E(op, vmerr.Invalid, "no commit")
	}
	if len(c.LightBlock) > 2*MaxLightBlockSize {
		return nil, vmerr.E(op, vmerr.TooLarge, "light block is %d bytes, limit %d", len(c.LightBlock)/2, MaxLightBlockSize)
	}
	raw, err := hex.DecodeString(c.LightBlock)
	if err != nil {
		return nil, vmerr.E(op, vmerr.Decode, "light_block is not hex: %w", err)
	}
	var pb cmtproto.LightBlock
	if err := pb.Unmarshal(raw); err != nil {
		return nil, vmerr.E(op, vmerr.Decode, "light block: %w", err)
	}
	if pb.SignedHeader == nil || pb.SignedHeader.Header == nil || pb.SignedHeader.Commit == nil || pb.ValidatorSet == nil {
		return nil, vmerr.E(op, vmerr.Invalid, "light block lacks a header, commit or validator set")
	}
	if err := checkPower(pb.ValidatorSet); err != nil {
		return nil, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	// CometBFT's converters panic on some hostile inputs (they assume
	// peers already checked them); such bytes are a decode error here.
	defer func() {
		if r := recover(); r != nil {
			lb, err = nil, vmerr.E(op, vmerr.Decode, "light block: %v", r)
		}
	}()
	lb, err = cmttypes.LightBlockFromProto(&pb)
	if err != nil {
		return nil, vmerr.E(op, vmerr.Decode, "light block: %w", err)
	}
	h := lb.Header
	switch {
	case c.ChainID != h.ChainID:
		err = fmt.Errorf("chain_id %q, header says %q", c.ChainID, h.ChainID)
	case c.Height != h.Height:
		err = fmt.Errorf("height %d, header is block %d", c.Height, h.Height)
	case c.Hash != hex.EncodeToString(h.Hash()):
		err = fmt.Errorf("hash %s, header hashes to %X", c.Hash, h.Hash())
	case c.AppHash != hex.EncodeToString(h.AppHash):
		err = fmt.Errorf("app_hash %s, header says %X", c.AppHash, h.AppHash)
	case c.Time != h.Time.UTC().Format(time.RFC3339Nano):
		err = fmt.Errorf("time %s, header says %s", c.Time, h.Time.UTC().Format(time.RFC3339Nano))
	}
	if err != nil {
		return nil, vmerr.E(op, vmerr.Invalid, "commit display fields disagree with its header: %w", err)
	}
	return lb, nil
}

// LoadGenesis reads a CometBFT genesis file (a node's
// config/genesis.json) and returns its chain id and validator set as a
// Trust. Errors: NotFound for a missing file, TooLarge over
// MaxGenesisSize, Internal for other read failures, and ParseGenesis's.
func LoadGenesis(path string) (Trust, error) {
	const op = "lightproof.load_genesis"
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return Trust{}, vmerr.E(op, vmerr.NotFound, "genesis file: %w", err)
		}
		return Trust{}, vmerr.E(op, vmerr.Internal, "genesis file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxGenesisSize+1))
	if err != nil {
		return Trust{}, vmerr.E(op, vmerr.Internal, "read genesis file: %w", err)
	}
	if len(b) > MaxGenesisSize {
		return Trust{}, vmerr.E(op, vmerr.TooLarge, "genesis file %s is over the limit of %d bytes", path, MaxGenesisSize)
	}
	return ParseGenesis(b)
}

// ParseGenesis decodes CometBFT genesis JSON (cmttypes.GenesisDoc) and
// returns its chain id and validator set. Errors: Decode for JSON that is
// not a genesis document; Invalid for one CometBFT rejects, one without
// validators, or validators with non-positive or overflowing power or a
// repeated address.
func ParseGenesis(b []byte) (Trust, error) {
	const op = "lightproof.parse_genesis"
	doc, err := decodeGenesis(b)
	if err != nil {
		return Trust{}, vmerr.E(op, vmerr.Decode, "genesis: %w", err)
	}
	if err := validateGenesis(doc); err != nil {
		return Trust{}, vmerr.E(op, vmerr.Invalid, "genesis: %w", err)
	}
	if len(doc.Validators) == 0 {
		return Trust{}, vmerr.E(op, vmerr.Invalid, "genesis of %q names no validators", doc.ChainID)
	}
	vals := make([]*cmttypes.Validator, len(doc.Validators))
	seen := make(map[string]bool, len(doc.Validators))
	var total int64
	for i, gv := range doc.Validators {
		if gv.PubKey == nil {
			return Trust{}, vmerr.E(op, vmerr.Invalid, "genesis validator %d has no public key", i)
		}
		if gv.Power <= 0 || gv.Power > cmttypes.MaxTotalVotingPower-total {
			return Trust{}, vmerr.E(op, vmerr.Invalid, "genesis validator %d has power %d (must be positive, total at most %d)", i, gv.Power, cmttypes.MaxTotalVotingPower)
		}
		total += gv.Power
		v := cmttypes.NewValidator(gv.PubKey, gv.Power)
		if seen[string(v.Address)] {
			return Trust{}, vmerr.E(op, vmerr.Invalid, "genesis validator %X is listed twice", v.Address)
		}
		seen[string(v.Address)] = true
		vals[i] = v
	}
	t := Trust{ChainID: doc.ChainID, Validators: cmttypes.NewValidatorSet(vals)}
	if err := t.check(); err != nil {
		return Trust{}, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	return t, nil
}

// check reports whether t can be used to verify.
func (t Trust) check() error {
	if t.ChainID == "" {
		return fmt.Errorf("trust has no chain id")
	}
	if t.Validators == nil {
		return fmt.Errorf("trust has no validator set")
	}
	if err := t.Validators.ValidateBasic(); err != nil {
		return fmt.Errorf("trusted validator set: %w", err)
	}
	return nil
}

// decodeGenesis runs CometBFT's JSON decoder, turning its panics on
// hostile input into errors.
func decodeGenesis(b []byte) (doc *cmttypes.GenesisDoc, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("%v", r)
		}
	}()
	doc = new(cmttypes.GenesisDoc)
	if err := cmtjson.Unmarshal(b, doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// validateGenesis runs CometBFT's ValidateAndComplete, turning its
// panics (a public key of the wrong size) into errors.
func validateGenesis(doc *cmttypes.GenesisDoc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return doc.ValidateAndComplete()
}

// checkPower refuses a validator set CometBFT's converter would panic
// on: more than MaxVotesCount validators, or powers outside 0..max whose
// sum passes cmttypes.MaxTotalVotingPower.
func checkPower(vs *cmtproto.ValidatorSet) error {
	if len(vs.Validators) > cmttypes.MaxVotesCount {
		return fmt.Errorf("validator set has %d validators, limit %d", len(vs.Validators), cmttypes.MaxVotesCount)
	}
	var total int64
	for i, v := range vs.Validators {
		if v == nil {
			return fmt.Errorf("validator %d is empty", i)
		}
		if v.VotingPower < 0 || v.VotingPower > cmttypes.MaxTotalVotingPower-total {
			return fmt.Errorf("validator %d has power %d: the set's total passes %d", i, v.VotingPower, cmttypes.MaxTotalVotingPower)
		}
		total += v.VotingPower
	}
	return nil
}

// LoadHome is LoadGenesis of a node home's config/genesis.json.
func LoadHome(home string) (Trust, error) {
	return LoadGenesis(filepath.Join(home, "config", "genesis.json"))
}
