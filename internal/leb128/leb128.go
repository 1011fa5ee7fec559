// Package leb128 encodes the variable-length integers of the WebAssembly
// binary format (LEB128), shared by the metering rewriter and the module
// builders of tests and benchmarks.
package leb128

import "encoding/binary"

// AppendUnsigned appends the unsigned LEB128 encoding of v to b. It is the
// standard library's uvarint, which is the same encoding.
func AppendUnsigned(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// AppendSigned appends the signed LEB128 encoding of v to b.
func AppendSigned(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
