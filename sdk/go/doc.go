// Package sdk is the Go SDK for Virtual-Machine contracts: typed wrappers
// over Host ABI v1 (docs/ABI.md) for input and output (raw and JSON),
// state get/set/delete/range on the contract's own namespace, logs and
// events, cross-contract calls, abort, and the request's caller, height,
// time and seed.
//
// Build a contract as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o c.wasm .
//
// and export each entry point with //go:wasmexport and no parameters or
// results. The host functions exist only in GOOS=wasip1 builds; the
// encoding helpers in this package build everywhere so they can be tested.
package sdk

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// KV is one entry of a Range.
type KV struct {
	Key, Value []byte
}

// CallError is the failure of a cross-contract call: the callee's status
// (Host ABI status code, 255 for an unknown contract) and its message.
type CallError struct {
	Status uint32
	Msg    string
}

func (e *CallError) Error() string {
	return fmt.Sprintf("call failed: status %s: %s", StatusName(e.Status), e.Msg)
}

// StatusName returns the ABI name of a call status code.
func StatusName(code uint32) string {
	names := []string{"ok", "out_of_gas", "call_depth_exceeded", "memory_limit", "trap", "abort",
		"invalid_module", "output_too_large", "bad_input"}
	if int(code) < len(names) {
		return names[code]
	}
	if code == 255 {
		return "not_found"
	}
	return fmt.Sprintf("status(%d)", code)
}

// errRange is the error of a malformed state_range buffer.
var errRange = errors.New("sdk: malformed range entries")

// DecodeRange decodes the state_range return buffer: count entries of
// [u32 LE key length][key][u32 LE value length][value], nothing after.
func DecodeRange(buf []byte, count int) ([]KV, error) {
	if count < 0 {
		return nil, errRange
	}
	out := make([]KV, 0, min(count, len(buf)/8))
	for i := 0; i < count; i++ {
		var kv KV
		for j := 0; j < 2; j++ {
			if len(buf) < 4 {
				return nil, errRange
			}
			n := binary.LittleEndian.Uint32(buf)
			buf = buf[4:]
			if uint64(n) > uint64(len(buf)) {
				return nil, errRange
			}
			v := append([]byte{}, buf[:n]...)
			buf = buf[n:]
			if j == 0 {
				kv.Key = v
			} else {
				kv.Value = v
			}
		}
		out = append(out, kv)
	}
	if len(buf) != 0 {
		return nil, errRange
	}
	return out, nil
}
