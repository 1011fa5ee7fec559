package leb128_test

import (
	"bytes"
	"testing"

	"github.com/virtual-machine/vm/internal/leb128"
)

func TestAppend(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"unsigned 0", leb128.AppendUnsigned(nil, 0), []byte{0x00}},
		{"unsigned 127", leb128.AppendUnsigned(nil, 127), []byte{0x7F}},
		{"unsigned 128", leb128.AppendUnsigned(nil, 128), []byte{0x80, 0x01}},
		{"unsigned 624485", leb128.AppendUnsigned(nil, 624485), []byte{0xE5, 0x8E, 0x26}},
		{"signed 0", leb128.AppendSigned(nil, 0), []byte{0x00}},
		{"signed -1", leb128.AppendSigned(nil, -1), []byte{0x7F}},
		{"signed 63", leb128.AppendSigned(nil, 63), []byte{0x3F}},
		{"signed 64", leb128.AppendSigned(nil, 64), []byte{0xC0, 0x00}},
		{"signed -123456", leb128.AppendSigned(nil, -123456), []byte{0xC0, 0xBB, 0x78}},
		{"appends", leb128.AppendUnsigned([]byte{9}, 1), []byte{9, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Equal(tt.got, tt.want) {
				t.Fatalf("got % x, want % x", tt.got, tt.want)
			}
		})
	}
}
