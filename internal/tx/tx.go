// Package tx owns the transaction wire format shared by the ledger, the
// CLI, the client and the portal: building, signing, decoding and the
// stateless checks every transaction must pass before it touches state.
package tx

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"google.golang.org/protobuf/proto"

	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits every node applies before looking at state.
const (
	MaxTxSize = 64 << 10 // bytes of one encoded Tx without a Deploy message
	// MaxDeployTxSize bounds a Tx that carries a Deploy: room for a
	// MaxCodeSize module plus its interface, manifest and envelope.
	MaxDeployTxSize = MaxCodeSize + 256<<10
	// MaxCodeSize is the largest module any chain accepts; a chain's
	// parameters may set a lower limit.
	MaxCodeSize = 4 << 20
	MaxMsgs     = 256 // messages in one body
	MaxChainID  = 64  // bytes of a chain id
)

// Hash is the SHA-256 of the encoded Tx: the hash CometBFT indexes by.
type Hash [32]byte

// String returns the upper-case hex form CometBFT uses.
func (h Hash) String() string {
	const digits = "0123456789ABCDEF"
	b := make([]byte, 64)
	for i, c := range h {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(b)
}

// ParseHash parses a transaction hash in either hex case.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, vmerr.E("tx.parse_hash", vmerr.Invalid, "tx hash %q: want 64 hex digits", s)
	}
	copy(h[:], b)
	return h, nil
}

// HashOf returns the hash of encoded tx bytes.
func HashOf(b []byte) Hash { return sha256.Sum256(b) }

// Signed is a decoded transaction whose structure is valid. Its signature
// is checked by VerifySignature, not by Decode.
type Signed struct {
	Body      *txpb.TxBody
	BodyBytes []byte
	PubKey    crypto.PubKey
	Signature []byte
	Signer    crypto.Address
	Hash      Hash
	Size      int
}

var marshal = proto.MarshalOptions{Deterministic: true}

// strict drops unknown fields so that the canonical re-encoding check in
// Decode refuses them: a field this node does not know is never silently
// ignored.
var strict = proto.UnmarshalOptions{DiscardUnknown: true}

// Sign encodes body, signs the exact bytes with k and returns the encoded Tx.
func Sign(body *txpb.TxBody, k crypto.PrivKey) ([]byte, error) {
	bb, err := marshal.Marshal(body)
	if err != nil {
		return nil, vmerr.Wrap("tx.sign", vmerr.Invalid, err)
	}
	return marshal.Marshal(&txpb.Tx{Body: bb, PubKey: k.PubKey(), Signature: k.Sign(bb)})
}

// Decode parses b and runs the stateless structural checks (ValidateBody).
// It does not verify the signature. Errors are *vmerr.Error of kind
// TooLarge, Decode, Invalid, WrongChain or Overflow.
func Decode(b []byte, chainID string) (*Signed, error) {
	const op = "tx.decode"
	if len(b) == 0 {
		return nil, vmerr.E(op, vmerr.Decode, "empty transaction")
	}
	if len(b) > MaxDeployTxSize {
		return nil, vmerr.E(op, vmerr.TooLarge, "transaction is %d bytes, limit %d", len(b), MaxDeployTxSize)
	}
	var t txpb.Tx
	if err := strict.Unmarshal(b, &t); err != nil {
		return nil, vmerr.E(op, vmerr.Decode, "transaction: %w", err)
	}
	// One transaction has one encoding: otherwise the same signed body could
	// be re-wrapped under many hashes and slip past the mempool's
	// de-duplication by hash.
	if canon, err := marshal.Marshal(&t); err != nil || !bytes.Equal(canon, b) {
		return nil, vmerr.E(op, vmerr.Decode, "transaction is not canonically encoded (unknown, repeated or reordered fields)")
	}
	if len(t.PubKey) != crypto.PubKeySize {
		return nil, vmerr.E(op, vmerr.Unauthorized, "public key is %d bytes, want %d", len(t.PubKey), crypto.PubKeySize)
	}
	if len(t.Signature) != crypto.SignatureSize {
		return nil, vmerr.E(op, vmerr.Unauthorized, "signature is %d bytes, want %d", len(t.Signature), crypto.SignatureSize)
	}
	var body txpb.TxBody
	if err := strict.Unmarshal(t.Body, &body); err != nil {
		return nil, vmerr.E(op, vmerr.Decode, "transaction body: %w", err)
	}
	if canon, err := marshal.Marshal(&body); err != nil || !bytes.Equal(canon, t.Body) {
		return nil, vmerr.E(op, vmerr.Decode, "transaction body is not canonically encoded (unknown, repeated or reordered fields)")
	}
	if len(b) > MaxTxSize && !hasLarge(&body) {
		return nil, vmerr.E(op, vmerr.TooLarge, "transaction is %d bytes, limit %d without a deploy, request or result message", len(b), MaxTxSize)
	}
	if err := ValidateBody(&body, chainID); err != nil {
		return nil, err
	}
	pk := crypto.PubKey(t.PubKey)
	return &Signed{Body: &body, BodyBytes: t.Body, PubKey: pk, Signature: t.Signature,
		Signer: pk.Address(), Hash: HashOf(b), Size: len(b)}, nil
}

// VerifySignature checks the ed25519 signature over the body bytes.
func (s *Signed) VerifySignature() error {
	if !crypto.Verify(s.PubKey, s.BodyBytes, s.Signature) {
		return vmerr.E("tx.verify", vmerr.Unauthorized, "bad signature for signer %s", s.Signer)
	}
	return nil
}

// ValidateBody checks what can be checked without state: the chain id,
// the message count and each message's own fields.
func ValidateBody(b *txpb.TxBody, chainID string) error {
	const op = "tx.validate"
	if len(b.ChainId) > MaxChainID {
		return vmerr.E(op, vmerr.Invalid, "chain id is %d bytes, limit %d", len(b.ChainId), MaxChainID)
	}
	if b.ChainId != chainID {
		return vmerr.E(op, vmerr.WrongChain, "transaction is for chain %q, this is %q", b.ChainId, chainID)
	}
	if len(b.Msgs) == 0 {
		return vmerr.E(op, vmerr.Invalid, "transaction has no messages")
	}
	if len(b.Msgs) > MaxMsgs {
		return vmerr.E(op, vmerr.TooLarge, "transaction has %d messages, limit %d", len(b.Msgs), MaxMsgs)
	}
	for i, m := range b.Msgs {
		if err := ValidateMsg(m); err != nil {
			return vmerr.E(op, vmerr.KindOf(err), "message %d: %w", i, err)
		}
	}
	return nil
}

// ValidateMsg checks one message's own fields.
func ValidateMsg(m *txpb.Msg) error {
	const op = "tx.validate_msg"
	switch s := m.GetSum().(type) {
	case *txpb.Msg_Transfer:
		return checkPayment(op, "transfer", s.Transfer.GetTo(), s.Transfer.GetAmount())
	case *txpb.Msg_Faucet:
		return checkPayment(op, "faucet", s.Faucet.GetTo(), s.Faucet.GetAmount())
	case *txpb.Msg_Deploy:
		return checkDeploy(s.Deploy)
	case *txpb.Msg_Yank:
		if err := contract.ValidName(s.Yank.Name); err != nil {
			return err
		}
		_, err := contract.ParseVersion(s.Yank.Version)
		return err
	case *txpb.Msg_ContractOwners:
		return checkOwners(s.ContractOwners)
	case *txpb.Msg_MinerRegister:
		return ValidateMinerRegister(s.MinerRegister)
	case *txpb.Msg_Request, *txpb.Msg_Seal, *txpb.Msg_Reveal, *txpb.Msg_Result:
		return checkMarket(m)
	default:
		return vmerr.E(op, vmerr.Invalid, "unknown or empty message type")
	}
}

func checkPayment(op, what string, to []byte, amount uint64) error {
	if len(to) != crypto.AddressSize {
		return vmerr.E(op, vmerr.Invalid, "%s: recipient is %d bytes, want %d", what, len(to), crypto.AddressSize)
	}
	if amount == 0 {
		return vmerr.E(op, vmerr.Invalid, "%s: amount must be positive", what)
	}
	if amount > MaxAmount {
		return vmerr.E(op, vmerr.Overflow, "%s: amount %d exceeds the maximum %d", what, amount, uint64(MaxAmount))
	}
	return nil
}

// MaxAmount bounds any single amount so that sums of a few amounts never
// overflow uint64 before the ledger's checked arithmetic sees them.
const MaxAmount = 1 << 62
