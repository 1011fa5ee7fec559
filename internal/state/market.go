package state

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"google.golang.org/protobuf/proto"

	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// OpenMark is the value of a deadline index entry (PrefixDue): the key
// carries everything; iavl refuses empty values.
var OpenMark = []byte{1}

// RequestKey is the store key of request id.
func RequestKey(id [32]byte) []byte { return append([]byte{PrefixRequest}, id[:]...) }

// ResultKey is the store key of request id's resultChain entry.
func ResultKey(id [32]byte) []byte { return append([]byte{PrefixResult}, id[:]...) }

// ResultHeadKey is the store key of the resultChain head.
func ResultHeadKey() []byte { return []byte{PrefixResultHd} }

// DataSeqKey is the store key of the last data version given out.
func DataSeqKey() []byte { return []byte{PrefixDataSeq} }

// DueKey is the deadline index entry of id at height due.
func DueKey(due int64, id [32]byte) []byte {
	b := make([]byte, 0, 1+8+32)
	b = append(b, PrefixDue)
	b = binary.BigEndian.AppendUint64(b, uint64(due))
	return append(b, id[:]...)
}

// DueHeight returns the height of a DueKey and its request id.
func DueHeight(key []byte) (int64, [32]byte, error) {
	var id [32]byte
	if len(key) != 1+8+32 || key[0] != PrefixDue {
		return 0, id, vmerr.E("state.due_key", vmerr.Decode, "deadline index key %x is malformed", key)
	}
	copy(id[:], key[9:])
	return int64(binary.BigEndian.Uint64(key[1:9])), id, nil
}

// DueCursor is the paging cursor of the open-request listing that ends at
// the deadline index entry key: its due height and request id, 80 hex
// digits.
func DueCursor(key []byte) string { return hex.EncodeToString(key[1:]) }

// ParseDueCursor parses a DueCursor back into its deadline index key.
// Errors: Invalid.
func ParseDueCursor(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 8+32 {
		return nil, vmerr.E("state.due_cursor", vmerr.Invalid, "cursor %q: want 80 hex digits (due height and request id), the `next` of a listing", s)
	}
	return append([]byte{PrefixDue}, b...), nil
}

// RevealKey is the store key of a revealed, not yet settled result.
func RevealKey(id, resultHash [32]byte) []byte {
	b := make([]byte, 0, 65)
	b = append(b, PrefixReveal)
	b = append(b, id[:]...)
	return append(b, resultHash[:]...)
}

// MemoSlot is the store key of the memo of (code hash, fn, input hash):
// PrefixMemo + SHA-256 over the three, fn length-prefixed.
func MemoSlot(codeHash [32]byte, fn string, inputHash [32]byte) []byte {
	h := sha256.New()
	h.Write(codeHash[:])
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(fn))))
	h.Write([]byte(fn))
	h.Write(inputHash[:])
	return h.Sum([]byte{PrefixMemo})
}

// DataPrefix is the prefix of every key of contract name's namespace.
func DataPrefix(name string) []byte {
	b := make([]byte, 0, 2+len(name))
	b = append(b, PrefixData)
	b = append(b, name...)
	return append(b, 0)
}

// DataKey is the store key of key in contract name's namespace. Names
// contain no 0x00 (contract.ValidName), so the encoding is unambiguous.
func DataKey(name string, key []byte) []byte {
	return append(DataPrefix(name), key...)
}

// EncodeData is the stored form of a namespace value: its version (8
// bytes, big-endian, >= 1) then the value.
func EncodeData(version uint64, value []byte) []byte {
	b := make([]byte, 8, 8+len(value))
	binary.BigEndian.PutUint64(b, version)
	return append(b, value...)
}

// DecodeData parses EncodeData's form. Errors: Decode.
func DecodeData(b []byte) (version uint64, value []byte, err error) {
	if len(b) < 8 || binary.BigEndian.Uint64(b) == 0 {
		return 0, nil, vmerr.E("state.decode_data", vmerr.Decode, "data value of %d bytes has no version", len(b))
	}
	return binary.BigEndian.Uint64(b), b[8:], nil
}

// DecodeRequest parses a stored request. Errors: Decode.
func DecodeRequest(b []byte) (*statepb.Request, error) {
	m, err := decodeRecord[statepb.Request]("request", b)
	if err == nil && (len(m.Id) != 32 || len(m.Requester) != 20) {
		return nil, vmerr.E("state.decode_request", vmerr.Decode, "request record: id or requester has the wrong size")
	}
	return m, err
}

// DecodeResult parses a stored resultChain entry. Errors: Decode.
func DecodeResult(b []byte) (*statepb.Result, error) {
	m, err := decodeRecord[statepb.Result]("result", b)
	if err == nil && len(m.RequestId) != 32 {
		return nil, vmerr.E("state.decode_result", vmerr.Decode, "result record: request id has the wrong size")
	}
	return m, err
}

// DecodeMemo parses a stored memo. Errors: Decode.
func DecodeMemo(b []byte) (*statepb.Memo, error) {
	return decodeRecord[statepb.Memo]("memo", b)
}

// DecodeChainHead parses the resultChain head; nil or empty is the empty
// chain. Errors: Decode.
func DecodeChainHead(b []byte) (*statepb.ChainHead, error) {
	var m statepb.ChainHead
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, vmerr.E("state.decode_head", vmerr.Decode, "resultChain head: %v", err)
	}
	return &m, nil
}

// ParseRequestID parses a request id: 64 hex digits. Errors: Invalid.
func ParseRequestID(s string) ([32]byte, error) {
	var id [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return id, vmerr.E("state.request_id", vmerr.Invalid, "request id %q: want 64 hex digits", s)
	}
	copy(id[:], b)
	return id, nil
}

// RequestIDBytes checks a 32-byte id from a message. Errors: Invalid.
func RequestIDBytes(b []byte) ([32]byte, error) {
	var id [32]byte
	if len(b) != 32 {
		return id, vmerr.E("state.request_id", vmerr.Invalid, "request id is %d bytes, want 32", len(b))
	}
	copy(id[:], b)
	return id, nil
}
