package state

import (
	"encoding/binary"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// FaucetUse is the value stored under FaucetKey: how much one recipient
// has drawn from the faucet in one window. 16 bytes, window index then
// amount used, big-endian. A missing key, or a stored Window other than
// the current one, means nothing was drawn in the current window.
type FaucetUse struct {
	Window uint64 // window index: block height / window length
	Used   uint64 // GAS drawn in that window
}

// FaucetUseSize is the encoded size of a FaucetUse.
const FaucetUseSize = 16

// Encode returns the 16-byte form of u.
func (u FaucetUse) Encode() []byte {
	b := make([]byte, FaucetUseSize)
	binary.BigEndian.PutUint64(b, u.Window)
	binary.BigEndian.PutUint64(b[8:], u.Used)
	return b
}

// DecodeFaucetUse parses the 16-byte form; nil or empty means the zero
// value. Any other length is a Decode error.
func DecodeFaucetUse(b []byte) (FaucetUse, error) {
	if len(b) == 0 {
		return FaucetUse{}, nil
	}
	if len(b) != FaucetUseSize {
		return FaucetUse{}, vmerr.E("state.decode_faucet_use", vmerr.Decode, "faucet use value is %d bytes, want %d", len(b), FaucetUseSize)
	}
	return FaucetUse{Window: binary.BigEndian.Uint64(b), Used: binary.BigEndian.Uint64(b[8:])}, nil
}

// ParamsKey is the store key of the chain parameters (JSON).
func ParamsKey() []byte { return []byte{PrefixParams} }

// SupplyKey is the store key of the total supply (8 bytes, big-endian).
func SupplyKey() []byte { return []byte{PrefixSupply} }
