package market

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// Read is one state read of a run: the contract namespace, the key, whether
// a value was found and its version (0 when absent). Its fields are those of
// wasm.Read, so market.Read(r) converts one.
type Read struct {
	Contract string
	Key      []byte
	Found    bool
	Version  uint64
}

// Memoizable reports whether a run with these reads can be memoized: every
// read must name a stored version. A read that found a value at version 0
// was served by an earlier step's writes inside a composite (see
// composite.StepResult): such a step depends on those steps, not only on
// stored state, so it is not memoizable. Stored values have versions >= 1.
func Memoizable(reads []Read) bool {
	for _, r := range reads {
		if r.Found && r.Version == 0 {
			return false
		}
	}
	return true
}

// MemoKey is the key of a memo (DESIGN §1): SHA-256 of the memo tag, the
// metered code hash, the function name, the input hash and the read set.
// The read set is canonical: sorted by contract, key, found, version, exact
// duplicates dropped, so the key does not depend on the order reads came in;
// every variable-length field is prefixed with its length (4 bytes, big
// endian) and the version is 8 bytes, so distinct inputs never encode alike.
// A memo is valid while every read still has the version it names (and an
// absent key is still absent).
//
// A composite is memoized step by step: each step is keyed with its own
// pinned version's metered code hash, function, input and reads, and only
// when Memoizable(its reads). The caller must not build a key for a run that
// is not Memoizable.
func MemoKey(meteredCodeHash [32]byte, fn string, inputHash [32]byte, reads []Read) [32]byte {
	rs := slices.Clone(reads)
	slices.SortFunc(rs, cmpRead)
	rs = slices.CompactFunc(rs, func(a, b Read) bool { return cmpRead(a, b) == 0 })
	h := sha256.New()
	var b []byte
	b = append(b, memoTag...)
	b = append(b, meteredCodeHash[:]...)
	b = appendBytes(b, []byte(fn))
	b = append(b, inputHash[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(rs)))
	for _, r := range rs {
		b = appendBytes(b, []byte(r.Contract))
		b = appendBytes(b, r.Key)
		if r.Found {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = binary.BigEndian.AppendUint64(b, r.Version)
		if len(b) >= 4096 {
			h.Write(b)
			b = b[:0]
		}
	}
	h.Write(b)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func appendBytes(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

func cmpRead(a, b Read) int {
	if c := cmp.Compare(a.Contract, b.Contract); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	if a.Found != b.Found {
		if a.Found {
			return 1
		}
		return -1
	}
	return cmp.Compare(a.Version, b.Version)
}
