package lightproof_test

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/lightproof"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// seedBlock is a small well-formed light block signed by one key.
func seedBlock(f *testing.F) []byte {
	pv := cmttypes.NewMockPVWithParams(ed25519.GenPrivKey(), false, false)
	vals := cmttypes.NewValidatorSet([]*cmttypes.Validator{pv.ExtractIntoValidator(10)})
	h := cmttypes.Header{ChainID: "vm-fuzz", Height: 3, Time: time.Unix(5, 0).UTC(),
		ValidatorsHash: vals.Hash(), NextValidatorsHash: vals.Hash(), ProposerAddress: vals.Validators[0].Address,
		AppHash: make([]byte, 32)}
	blockID := cmttypes.BlockID{Hash: h.Hash(), PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: make([]byte, 32)}}
	lb := &cmttypes.LightBlock{SignedHeader: &cmttypes.SignedHeader{Header: &h, Commit: &cmttypes.Commit{Height: 3, BlockID: blockID,
		Signatures: []cmttypes.CommitSig{{BlockIDFlag: cmttypes.BlockIDFlagCommit, ValidatorAddress: vals.Validators[0].Address,
			Timestamp: h.Time, Signature: make([]byte, 64)}}}}, ValidatorSet: vals}
	pb, err := lb.ToProto()
	if err != nil {
		f.Fatal(err)
	}
	raw, err := pb.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	return raw
}

// FuzzDecode feeds arbitrary light-block bytes to Decode and
// VerifyCommit: they must return an error or a block, never panic, and
// a decoded block must encode again to the same display fields.
func FuzzDecode(f *testing.F) {
	f.Add(seedBlock(f))
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00, 0x12, 0x00})
	pv := cmttypes.NewMockPVWithParams(ed25519.GenPrivKey(), false, false)
	trust := lightproof.Trust{ChainID: "vm-fuzz", Validators: cmttypes.NewValidatorSet([]*cmttypes.Validator{pv.ExtractIntoValidator(10)})}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c := &apitype.Commit{LightBlock: hex.EncodeToString(raw)}
		_, err := lightproof.Decode(c)
		if err == nil {
			t.Fatal("decoded a commit with empty display fields")
		}
		if k := vmerr.KindOf(err); k != vmerr.Decode && k != vmerr.Invalid {
			t.Fatalf("kind %v: %v", k, err)
		}
		if !strings.Contains(err.Error(), "display fields") {
			return
		}
		// The block converts: give it its own display fields, and the
		// whole path (Decode, VerifyCommit, Encode) must run.
		var pb cmtproto.LightBlock
		if err := pb.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		lb, err := cmttypes.LightBlockFromProto(&pb)
		if err != nil {
			t.Fatal(err)
		}
		h := lb.Header
		c.ChainID, c.Height, c.Hash = h.ChainID, h.Height, hex.EncodeToString(h.Hash())
		c.AppHash, c.Time = hex.EncodeToString(h.AppHash), h.Time.UTC().Format(time.RFC3339Nano)
		got, err := lightproof.Decode(c)
		if err != nil {
			t.Fatalf("Decode with the header's own display fields: %v", err)
		}
		if _, err := lightproof.Encode(got, false); err != nil {
			t.Logf("decoded block does not encode again: %v", err)
		}
		if _, err := lightproof.VerifyCommit(c, trust); err == nil {
			t.Fatal("a fuzzed block verified against a key nobody signed with")
		}
	})
}

// FuzzParseGenesis feeds arbitrary JSON to ParseGenesis: an error or a
// usable Trust, never a panic.
func FuzzParseGenesis(f *testing.F) {
	pv := cmttypes.NewMockPVWithParams(ed25519.GenPrivKey(), false, false)
	pub, _ := pv.GetPubKey()
	b, err := cmtjson.Marshal(cmttypes.GenesisDoc{ChainID: "vm-x", GenesisTime: time.Unix(1, 0).UTC(),
		Validators: []cmttypes.GenesisValidator{{PubKey: pub, Power: 10}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"chain_id":"x","validators":[{"pub_key":{"type":"tendermint/PubKeyEd25519","value":""},"power":"-1"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := lightproof.ParseGenesis(b)
		if err != nil {
			if k := vmerr.KindOf(err); k != vmerr.Decode && k != vmerr.Invalid {
				t.Fatalf("kind %v: %v", k, err)
			}
			return
		}
		if tr.ChainID == "" || tr.Validators.Size() == 0 {
			t.Fatalf("usable trust without chain or validators: %+v", tr)
		}
	})
}
