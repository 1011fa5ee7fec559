//go:build wasip1

package sdk

import (
	"encoding/json"
	"fmt"
	"unsafe"
)

//go:wasmimport vm input_len
func inputLen() uint32

//go:wasmimport vm input_read
func inputRead(ptr unsafe.Pointer)

//go:wasmimport vm output_write
func outputWrite(ptr unsafe.Pointer, n uint32)

//go:wasmimport vm caller
func callerLoad() uint32

//go:wasmimport vm ret_read
func retRead(ptr unsafe.Pointer)

//go:wasmimport vm ret_len
func retLen() uint32

//go:wasmimport vm state_get
func stateGet(kp unsafe.Pointer, kl uint32) int32

//go:wasmimport vm state_set
func stateSet(kp unsafe.Pointer, kl uint32, vp unsafe.Pointer, vl uint32)

//go:wasmimport vm state_delete
func stateDelete(kp unsafe.Pointer, kl uint32)

//go:wasmimport vm state_range
func stateRange(sp unsafe.Pointer, sl uint32, ep unsafe.Pointer, el uint32, limit int32) int32

//go:wasmimport vm log
func logWrite(p unsafe.Pointer, n uint32)

//go:wasmimport vm event
func eventEmit(tp unsafe.Pointer, tl uint32, dp unsafe.Pointer, dl uint32)

//go:wasmimport vm call
func callContract(np unsafe.Pointer, nl uint32, fp unsafe.Pointer, fl uint32, ip unsafe.Pointer, il uint32) uint32

//go:wasmimport vm abort
func abort(p unsafe.Pointer, n uint32)

//go:wasmimport vm height
func height() int64

//go:wasmimport vm time
func blockTime() int64

//go:wasmimport vm seed
func seed(p unsafe.Pointer)

//go:wasmimport vm gas_left
func gasLeft() int64

// ptr returns the address of b's first byte, nil for an empty slice.
func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// readRet copies the host's return buffer of n bytes.
func readRet(n uint32) []byte {
	b := make([]byte, n)
	if n > 0 {
		retRead(ptr(b))
	}
	return b
}

// readRetAll copies the whole return buffer.
func readRetAll() []byte { return readRet(retLen()) }

// Input returns the call's input bytes.
func Input() []byte {
	b := make([]byte, inputLen())
	if len(b) > 0 {
		inputRead(ptr(b))
	}
	return b
}

// InputJSON decodes the input as JSON into v; on failure it aborts the
// call with a message naming the problem.
func InputJSON(v any) {
	if err := json.Unmarshal(Input(), v); err != nil {
		Abort("bad input: " + err.Error())
	}
}

// Output appends b to the call's output.
func Output(b []byte) { outputWrite(ptr(b), uint32(len(b))) }

// OutputJSON appends the JSON encoding of v to the output; a value that
// cannot be encoded aborts the call.
func OutputJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		Abort("encode output: " + err.Error())
	}
	Output(b)
}

// Caller returns who called: an account, an ID or the calling contract.
func Caller() string { return string(readRet(callerLoad())) }

// Get returns the value of key in the contract's namespace.
func Get(key []byte) ([]byte, bool) {
	n := stateGet(ptr(key), uint32(len(key)))
	if n < 0 {
		return nil, false
	}
	return readRet(uint32(n)), true
}

// Set stores value under key (visible to later Gets of this call; applied
// to the chain only if the call succeeds).
func Set(key, value []byte) { stateSet(ptr(key), uint32(len(key)), ptr(value), uint32(len(value))) }

// Delete removes key.
func Delete(key []byte) { stateDelete(ptr(key), uint32(len(key))) }

// Range returns up to limit entries with start <= key < end in key order
// (an empty end means no upper bound).
func Range(start, end []byte, limit int) []KV {
	n := stateRange(ptr(start), uint32(len(start)), ptr(end), uint32(len(end)), int32(limit))
	if n <= 0 {
		return nil
	}
	kvs, err := DecodeRange(readRetAll(), int(n))
	if err != nil {
		Abort(err.Error())
	}
	return kvs
}

// Log records a log line in the result.
func Log(msg string) {
	b := []byte(msg)
	logWrite(ptr(b), uint32(len(b)))
}

// Logf formats and records a log line.
func Logf(format string, args ...any) { Log(fmt.Sprintf(format, args...)) }

// Event emits an event with a topic and data.
func Event(topic string, data []byte) {
	t := []byte(topic)
	eventEmit(ptr(t), uint32(len(t)), ptr(data), uint32(len(data)))
}

// Call runs fn of another contract with input, sharing this call's gas.
// Its writes become part of this call's writes only if it succeeds.
func Call(contract, fn string, input []byte) ([]byte, error) {
	c, f := []byte(contract), []byte(fn)
	st := callContract(ptr(c), uint32(len(c)), ptr(f), uint32(len(f)), ptr(input), uint32(len(input)))
	out := readRetAll()
	if st != 0 {
		return nil, &CallError{Status: st, Msg: string(out)}
	}
	return out, nil
}

// Abort ends the call with status abort and msg as the result's error.
func Abort(msg string) {
	b := []byte(msg)
	abort(ptr(b), uint32(len(b)))
	panic("unreachable: abort returned")
}

// Abortf formats and aborts.
func Abortf(format string, args ...any) { Abort(fmt.Sprintf(format, args...)) }

// Height returns the block height the call runs at.
func Height() int64 { return height() }

// Time returns the block time in unix seconds.
func Time() int64 { return blockTime() }

// Seed returns the call's 32-byte deterministic random seed.
func Seed() [32]byte {
	var s [32]byte
	seed(unsafe.Pointer(&s[0]))
	return s
}

// GasLeft returns the gas the call has left.
func GasLeft() uint64 { return uint64(gasLeft()) }
