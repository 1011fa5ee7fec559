package market

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/virtual-machine/vm/internal/crypto"
)

// Domain tags. Each hash input starts with one, so a hash of one kind is
// never a valid hash of another; every field after it has a fixed size or
// a length prefix, so the encoding is unambiguous.
const (
	requestTag = "vm/market/request/v1\x00"
	sealTag    = "vm/market/seal/v1\x00"
	memoTag    = "vm/market/memo/v1\x00"
)

// RequestID is the id of the Request that message msgIndex of the
// transaction with hash txHash carries: SHA-256 of the request tag, the
// 32-byte hash and the index as 4 big-endian bytes. Transaction hashes are
// unique on a chain (replays are refused by nonce), so ids are too.
func RequestID(txHash [32]byte, msgIndex uint32) [32]byte {
	var b [len(requestTag) + 32 + 4]byte
	n := copy(b[:], requestTag)
	n += copy(b[n:], txHash[:])
	binary.BigEndian.PutUint32(b[n:], msgIndex)
	return sha256.Sum256(b[:])
}

// Seal is the commitment a miner posts before its result: SHA-256 of the
// seal tag, the miner's 20-byte address, the 32-byte request id and the
// 32-byte result hash (wasm.Result.Hash). Binding the miner means a result
// copied from another miner's reveal does not open the copier's seal.
func Seal(miner crypto.Address, requestID, resultHash [32]byte) [32]byte {
	var b [len(sealTag) + crypto.AddressSize + 32 + 32]byte
	n := copy(b[:], sealTag)
	n += copy(b[n:], miner[:])
	n += copy(b[n:], requestID[:])
	copy(b[n:], resultHash[:])
	return sha256.Sum256(b[:])
}

// VerifySeal reports whether seal is Seal(miner, requestID, resultHash).
func VerifySeal(seal [32]byte, miner crypto.Address, requestID, resultHash [32]byte) bool {
	return Seal(miner, requestID, resultHash) == seal
}
