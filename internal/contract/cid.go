package contract

import (
	"bytes"
	"crypto/sha256"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// CID returns the content address of a code blob: CIDv1, codec raw (0x55),
// multihash sha2-256, the address IPFS gives the same bytes added as a raw
// block, so IPFS can hold code later without re-addressing it.
func CID(data []byte) cid.Cid {
	sum := sha256.Sum256(data)
	mh, err := multihash.Encode(sum[:], multihash.SHA2_256)
	if err != nil { // only for an unknown code or a wrong digest length
		panic("contract.CID: " + err.Error())
	}
	return cid.NewCidV1(cid.Raw, mh)
}

// ParseCID parses a CID string in any multibase (the canonical form is
// base32, "bafkrei..."). Only CIDv1 raw sha2-256 addresses are accepted;
// anything else is an error of kind vmerr.Invalid.
func ParseCID(s string) (cid.Cid, error) {
	const op = "contract.cid"
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, vmerr.E(op, vmerr.Invalid, "bad CID %q: %w", s, err)
	}
	if err := checkPrefix(c); err != nil {
		return cid.Undef, vmerr.E(op, vmerr.Invalid, "CID %q: %w", s, err)
	}
	return c, nil
}

// VerifyCID checks that data hashes to c. A c that is not CIDv1 raw
// sha2-256 is kind vmerr.Invalid; data that does not match is kind
// vmerr.Unauthorized (the bytes are not what the chain recorded).
func VerifyCID(c cid.Cid, data []byte) error {
	const op = "contract.verify_cid"
	if err := checkPrefix(c); err != nil {
		return vmerr.E(op, vmerr.Invalid, "CID %s: %w", c, err)
	}
	if got := CID(data); !bytes.Equal(got.Bytes(), c.Bytes()) {
		return vmerr.E(op, vmerr.Unauthorized, "data of %d bytes hashes to %s, not %s", len(data), got, c)
	}
	return nil
}

type prefixError string

func (e prefixError) Error() string { return string(e) }

func checkPrefix(c cid.Cid) error {
	if !c.Defined() {
		return prefixError("undefined CID")
	}
	p := c.Prefix()
	switch {
	case p.Version != 1:
		return prefixError("only CIDv1 is accepted")
	case p.Codec != cid.Raw:
		return prefixError("only the raw codec (0x55) is accepted")
	case p.MhType != multihash.SHA2_256 || p.MhLength != sha256.Size:
		return prefixError("only sha2-256 multihashes are accepted")
	}
	return nil
}
