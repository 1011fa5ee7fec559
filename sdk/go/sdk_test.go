package sdk_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	sdk "github.com/virtual-machine/vm/sdk/go"
)

func entry(b []byte, k, v string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(k)))
	b = append(b, k...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

func TestDecodeRange(t *testing.T) {
	two := entry(entry(nil, "a", "1"), "bb", "")
	tests := []struct {
		name    string
		in      []byte
		count   int
		want    []sdk.KV
		wantErr bool
	}{
		{name: "empty", in: nil, count: 0, want: []sdk.KV{}},
		{name: "two", in: two, count: 2, want: []sdk.KV{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("bb"), Value: []byte{}}}},
		{name: "count too high", in: two, count: 3, wantErr: true},
		{name: "count too low", in: two, count: 1, wantErr: true},
		{name: "negative count", in: nil, count: -1, wantErr: true},
		{name: "truncated", in: two[:len(two)-3], count: 2, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sdk.DecodeRange(tc.in, tc.count)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d entries, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !bytes.Equal(got[i].Key, tc.want[i].Key) || !bytes.Equal(got[i].Value, tc.want[i].Value) {
					t.Errorf("entry %d = %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestStatusName(t *testing.T) {
	for code, want := range map[uint32]string{0: "ok", 5: "abort", 8: "bad_input", 255: "not_found", 9: "status(9)"} {
		if got := sdk.StatusName(code); got != want {
			t.Errorf("StatusName(%d) = %q, want %q", code, got, want)
		}
	}
	if e := (&sdk.CallError{Status: 5, Msg: "no"}); e.Error() != "call failed: status abort: no" {
		t.Errorf("CallError = %q", e.Error())
	}
}

// FuzzDecodeRange: never panics; a successful decode re-encodes to the input.
func FuzzDecodeRange(f *testing.F) {
	f.Add(entry(entry(nil, "a", "1"), "bb", ""), 2)
	f.Add([]byte{1, 0, 0}, 1)
	f.Fuzz(func(t *testing.T, in []byte, count int) {
		kvs, err := sdk.DecodeRange(in, count)
		if err != nil {
			return
		}
		var again []byte
		for _, kv := range kvs {
			again = entry(again, string(kv.Key), string(kv.Value))
		}
		if !bytes.Equal(again, in) {
			t.Fatalf("re-encoding differs: %x vs %x", again, in)
		}
	})
}
