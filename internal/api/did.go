package api

import (
	"encoding/json"
	"fmt"

	"filippo.io/edwards25519"
	"github.com/multiformats/go-multibase"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/idchain"
)

// DIDMethod is the DID method of IDChain IDs: did:vm:<name>.
const DIDMethod = "did:vm:"

// Multicodec prefixes of the keys in a DID document (varint-encoded
// ed25519-pub 0xed and x25519-pub 0xec).
var (
	codecEd25519 = []byte{0xed, 0x01}
	codecX25519  = []byte{0xec, 0x01}
)

type didDocument struct {
	Context            []string             `json:"@context"`
	ID                 string               `json:"id"`
	Controller         string               `json:"controller"`
	VerificationMethod []verificationMethod `json:"verificationMethod"`
	Authentication     []string             `json:"authentication"`
	AssertionMethod    []string             `json:"assertionMethod"`
	KeyAgreement       []string             `json:"keyAgreement"`
	AlsoKnownAs        []string             `json:"alsoKnownAs"`
}

type verificationMethod struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Controller         string `json:"controller"`
	PublicKeyMultibase string `json:"publicKeyMultibase"`
}

// DIDDocument is id's DID document in the W3C DID Core shape: the owner's
// ed25519 key (Ed25519VerificationKey2020) authenticates and asserts for
// did:vm:<name>, the X25519 form of the same key (X25519KeyAgreementKey2020,
// the key private records are encrypted to) is its key agreement, and
// alsoKnownAs names the owning account. Controller addresses are not
// listed: they hold no key the document could show.
func DIDDocument(id apitype.ID) ([]byte, error) {
	pub, err := idchain.ParsePubKey(id.PubKey)
	if err != nil {
		return nil, err
	}
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return nil, fmt.Errorf("public key %s is not a curve point: %w", id.PubKey, err)
	}
	ed, err := multibase.Encode(multibase.Base58BTC, append(append([]byte{}, codecEd25519...), pub...))
	if err != nil {
		return nil, err
	}
	x, err := multibase.Encode(multibase.Base58BTC, append(append([]byte{}, codecX25519...), p.BytesMontgomery()...))
	if err != nil {
		return nil, err
	}
	did := DIDMethod + id.ID
	owner, agree := did+"#owner", did+"#owner-x25519"
	return json.Marshal(didDocument{
		Context: []string{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/ed25519-2020/v1",
			"https://w3id.org/security/suites/x25519-2020/v1"},
		ID: did, Controller: did,
		VerificationMethod: []verificationMethod{
			{ID: owner, Type: "Ed25519VerificationKey2020", Controller: did, PublicKeyMultibase: ed},
			{ID: agree, Type: "X25519KeyAgreementKey2020", Controller: did, PublicKeyMultibase: x},
		},
		Authentication: []string{owner}, AssertionMethod: []string{owner}, KeyAgreement: []string{agree},
		AlsoKnownAs: []string{"vm:account:" + id.Owner},
	})
}
