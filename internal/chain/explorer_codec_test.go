package chain_test

import (
	"slices"
	"testing"

	"github.com/virtual-machine/vm/internal/chain"
)

func TestHistoryIndexes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		want    []uint32
		wantErr bool
	}{
		{"empty", nil, nil, false},
		{"one", chain.AppendIndexes(nil, []uint32{0}), []uint32{0}, false},
		{"ascending", chain.AppendIndexes(nil, []uint32{1, 2, 300, 70000, 1<<32 - 1}), []uint32{1, 2, 300, 70000, 1<<32 - 1}, false},
		{"truncated varint", []byte{0x80}, nil, true},
		{"over 2^32-1", []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chain.ReadIndexes(tc.in)
			if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
				t.Errorf("ReadIndexes(%x) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// FuzzHistoryIndexes checks the history value decoder never panics and
// that what it accepts is ascending and survives a round trip.
func FuzzHistoryIndexes(f *testing.F) {
	f.Add(chain.AppendIndexes(nil, []uint32{0, 5, 9}))
	f.Add([]byte{0x80, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		is, err := chain.ReadIndexes(in)
		if err != nil {
			return
		}
		if !slices.IsSorted(is) {
			t.Fatalf("decoded %v: not ascending", is)
		}
		again, err := chain.ReadIndexes(chain.AppendIndexes(nil, is))
		if err != nil || !slices.Equal(again, is) {
			t.Fatalf("round trip of %v = %v, %v", is, again, err)
		}
	})
}
