// Package idchain defines the IDChain, the registry of global IDs: the
// rules for names, record keys and sizes, the layout of the system
// contract's namespace, and the JSON forms of its stored records and of
// its functions' inputs and outputs. The contract (contracts/idchain, built
// for GOOS=wasip1) and the node, API and CLI all use this package, so the
// rules exist once. It imports only the standard library so that it
// builds into the contract.
package idchain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Contract is the IDChain system contract's name; its versions are
// deployed in genesis, owned by no key.
const Contract = "idchain"

// Functions of the contract.
const (
	FnCreate      = "create"      // CreateInput → CreateOutput
	FnSet         = "set"         // SetInput → RecordOutput
	FnRemove      = "rm"          // RemoveInput → RecordOutput
	FnRotate      = "rotate"      // RotateInput → IDOutput
	FnControllers = "controllers" // ControllersInput → IDOutput
	FnAttrs       = "attrs"       // AttrsInput → IDOutput
)

// Limits.
const (
	MinNameLen     = 3
	MaxNameLen     = 32
	MaxKeyLen      = 128      // a record key or attribute name
	MaxAttrs       = 32       // attributes of one ID
	MaxAttrValue   = 1024     // bytes of one attribute value
	MaxValue       = 16 << 10 // bytes of a public record's value
	MaxCiphertext  = 64 << 10 // bytes of a private record's ciphertext
	MaxReaders     = 16       // readers of one private record
	MaxControllers = 8        // controllers of one ID
	PubKeySize     = 32       // an ed25519 public key
	AddressLen     = 40       // hex digits of an account address
	addressBytes   = 20
)

// reserved names cannot be created: chain modules, system contracts and
// names that would mislead.
var reserved = map[string]bool{
	"admin": true, "administrator": true, "root": true, "system": true, "vm": true, "idchain": true,
	"escrow": true, "fees": true, "faucet": true, "validator": true, "validators": true, "miner": true,
	"miners": true, "null": true, "undefined": true, "owner": true, "support": true, "security": true,
	"official": true, "portal": true, "api": true, "www": true,
}

// ValidName checks an ID name: 3 to 32 characters of a-z, 0-9 and '-',
// starting with a letter, not ending with '-', without "--" (which
// punycode reserves), and not reserved.
func ValidName(name string) error {
	if len(name) < MinNameLen || len(name) > MaxNameLen {
		return fmt.Errorf("id %q: a name has %d to %d characters", trunc(name), MinNameLen, MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("id %q: only a-z, 0-9 and '-' are allowed", trunc(name))
		}
	}
	switch {
	case name[0] < 'a' || name[0] > 'z':
		return fmt.Errorf("id %q: a name starts with a letter", name)
	case name[len(name)-1] == '-':
		return fmt.Errorf("id %q: a name does not end with '-'", name)
	case strings.Contains(name, "--"):
		return fmt.Errorf("id %q: a name has no \"--\"", name)
	case reserved[name]:
		return fmt.Errorf("id %q is reserved", name)
	}
	return nil
}

// ValidKey checks a record key or attribute name: 1 to 128 characters of
// A-Z, a-z, 0-9 and "_.-:/@+".
func ValidKey(key string) error {
	if len(key) == 0 || len(key) > MaxKeyLen {
		return fmt.Errorf("key %q: a key has 1 to %d characters", trunc(key), MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.-:/@+", c) >= 0) {
			return fmt.Errorf("key %q: only A-Z, a-z, 0-9 and _.-:/@+ are allowed", trunc(key))
		}
	}
	return nil
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// IDKey is the key, in the contract's namespace, of the ID record of name.
func IDKey(name string) []byte { return []byte("id/" + name) }

// RecordPrefix is the prefix of every record key of name's "my chain".
func RecordPrefix(name string) []byte { return []byte("rec/" + name + "/") }

// RecordRange is the key range [start, end) of every record of name.
func RecordRange(name string) (start, end []byte) {
	return RecordPrefix(name), []byte("rec/" + name + "0") // '0' follows '/'
}

// RecordKey is the key of record key in name's "my chain".
func RecordKey(name, key string) []byte { return append(RecordPrefix(name), key...) }

// Address is the account address of an ed25519 public key, as the
// runtime's caller names it: hex of the first 20 bytes of its SHA-256.
func Address(pub []byte) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:addressBytes])
}

// ValidAddress checks that s is an account address (40 lower-case hex
// digits), which is how an account, not a contract, is named as caller.
func ValidAddress(s string) error {
	if len(s) != AddressLen {
		return fmt.Errorf("address %q: want %d hex digits", trunc(s), AddressLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return fmt.Errorf("address %q: want %d lower-case hex digits", trunc(s), AddressLen)
		}
	}
	return nil
}

// ParsePubKey decodes a hex ed25519 public key.
func ParsePubKey(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != PubKeySize {
		return nil, fmt.Errorf("public key %q: want %d hex digits", trunc(s), 2*PubKeySize)
	}
	return b, nil
}

// decodeStrict decodes JSON b into v refusing unknown fields and trailing
// data.
func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
