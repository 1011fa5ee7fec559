// Package state owns the layout of the ledger's state as clients see it:
// the store keys of each namespace, the encodings of stored values, and the
// offline check of a location (an ICS23 proof against an app hash). It is
// shared by the ledger, which writes these keys, and by clients, which
// verify what a node tells them without trusting it.
package state

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"

	ics23 "github.com/cosmos/ics23/go"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Key prefixes, one byte per namespace. Append-only: the byte values are
// part of every proof ever issued.
const (
	PrefixParams   byte = 0x00 // single key: chain parameters
	PrefixAccount  byte = 0x01 // + address: Account
	PrefixFaucet   byte = 0x02 // + address: FaucetUse
	PrefixSupply   byte = 0x03 // single key: total supply, for the conservation check
	PrefixContract byte = 0x04 // + name: statepb.Contract, the registry entry of a contract chain
	PrefixVersion  byte = 0x05 // + name + 0x00 + sort key: statepb.Version
	PrefixCode     byte = 0x06 // + CID bytes: a module, original or metered
	PrefixTag      byte = 0x07 // + tag + 0x00 + name: TagMark, the tag index of the registry
	PrefixMiner    byte = 0x08 // + address: statepb.Miner, the miner registry
	PrefixRequest  byte = 0x09 // + request id: statepb.Request, an included request and its market state
	PrefixResult   byte = 0x0A // + request id: statepb.Result, the resultChain entry
	PrefixData     byte = 0x0B // + name + 0x00 + key: DataValue, a contract's namespace ("my chain")
	PrefixDataSeq  byte = 0x0C // single key: the last version given to a data write
	PrefixMemo     byte = 0x0D // + SHA-256(code hash, fn, input hash): statepb.Memo
	_              byte = 0x0E // unused: was an index of open requests, which the deadline index now serves
	PrefixDue      byte = 0x0F // + due height (8 bytes) + request id: OpenMark, the deadline index: every open request, once
	PrefixReveal   byte = 0x10 // + request id + result hash: canonical result bytes of an unsettled reveal
	PrefixResultHd byte = 0x11 // single key: statepb.ChainHead, the head of the resultChain
)

// Namespace names used in locations.
const (
	NamespaceAccounts  = "accounts"
	NamespaceContracts = "contracts"
	NamespaceVersions  = "versions"
	NamespaceMiners    = "miners"
	NamespaceRequests  = "requests"
	NamespaceResults   = "results"
	NamespaceData      = "data"
	NamespaceMemos     = "memos"
)

// AccountKey is the store key of addr's account.
func AccountKey(addr crypto.Address) []byte {
	return append([]byte{PrefixAccount}, addr[:]...)
}

// FaucetKey is the store key of addr's faucet usage.
func FaucetKey(addr crypto.Address) []byte {
	return append([]byte{PrefixFaucet}, addr[:]...)
}

// Account is the value stored under AccountKey: 16 bytes, balance then
// nonce, big-endian. A missing key is an account with zero balance and
// nonce 0.
type Account struct {
	Balance uint64
	Nonce   uint64
}

// AccountSize is the encoded size of an Account.
const AccountSize = 16

// Encode returns the 16-byte form of a.
func (a Account) Encode() []byte {
	b := make([]byte, AccountSize)
	binary.BigEndian.PutUint64(b, a.Balance)
	binary.BigEndian.PutUint64(b[8:], a.Nonce)
	return b
}

// DecodeAccount parses the 16-byte form; nil or empty means the zero account.
func DecodeAccount(b []byte) (Account, error) {
	if len(b) == 0 {
		return Account{}, nil
	}
	if len(b) != AccountSize {
		return Account{}, vmerr.E("state.decode_account", vmerr.Decode, "account value is %d bytes, want %d", len(b), AccountSize)
	}
	return Account{Balance: binary.BigEndian.Uint64(b), Nonce: binary.BigEndian.Uint64(b[8:])}, nil
}

// VerifyLocation checks that loc's proof shows (Key, Value) — or, when
// Value is empty, the absence of Key — under loc.AppHash. It does not
// check that AppHash is the chain's; the caller compares it with a block
// header it trusts.
func VerifyLocation(loc *apitype.Location) error {
	const op = "state.verify_location"
	key, err1 := hex.DecodeString(loc.Key)
	val, err2 := hex.DecodeString(loc.Value)
	root, err3 := hex.DecodeString(loc.AppHash)
	raw, err4 := hex.DecodeString(loc.Proof)
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			return vmerr.E(op, vmerr.Decode, "location has a malformed hex field: %w", err)
		}
	}
	if len(key) == 0 || len(root) != 32 || len(raw) == 0 {
		return vmerr.E(op, vmerr.Invalid, "location is missing its key, app hash or proof")
	}
	var p ics23.CommitmentProof
	if err := p.Unmarshal(raw); err != nil {
		return vmerr.E(op, vmerr.Decode, "location proof: %w", err)
	}
	var ok bool
	if len(val) == 0 {
		ok = ics23.VerifyNonMembership(ics23.IavlSpec, root, &p, key)
	} else {
		ok = ics23.VerifyMembership(ics23.IavlSpec, root, &p, key, val)
	}
	if !ok {
		return vmerr.E(op, vmerr.Unauthorized, "proof does not verify key %s against app hash %s", loc.Key, loc.AppHash)
	}
	return nil
}

// SameKey reports whether loc is about key.
func SameKey(loc *apitype.Location, key []byte) bool {
	k, err := hex.DecodeString(loc.Key)
	return err == nil && bytes.Equal(k, key)
}

// ModuleAddress is the keyless account of a chain module (the faucet pool,
// the fee collector): the first 20 bytes of SHA-256("vm/module/" + name).
// No private key exists for it; only the ledger moves its GAS.
func ModuleAddress(name string) crypto.Address {
	return crypto.PubKey("vm/module/" + name).Address()
}
