package market_test

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/virtual-machine/vm/internal/market"
)

func TestMemoKey(t *testing.T) {
	code, in := hash(1), hash(2)
	reads := []market.Read{
		{Contract: "bb", Key: []byte("k2"), Found: true, Version: 7},
		{Contract: "aa", Key: []byte("k1"), Found: false, Version: 0},
		{Contract: "bb", Key: []byte("k1"), Found: true, Version: 3},
	}
	base := market.MemoKey(code, "f", in, reads)

	// The documented encoding, built independently on the sorted reads.
	var b []byte
	b = append(b, "vm/market/memo/v1\x00"...)
	b = append(b, code[:]...)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = append(b, 'f')
	b = append(b, in[:]...)
	b = binary.BigEndian.AppendUint32(b, 3)
	for _, r := range []market.Read{reads[1], reads[2], reads[0]} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(r.Contract)))
		b = append(b, r.Contract...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(r.Key)))
		b = append(b, r.Key...)
		if r.Found {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = binary.BigEndian.AppendUint64(b, r.Version)
	}
	if want := sha256.Sum256(b); base != want {
		t.Fatalf("MemoKey = %x, want %x", base, want)
	}

	tests := []struct {
		name  string
		code  [32]byte
		fn    string
		in    [32]byte
		reads []market.Read
		same  bool
	}{
		{"reordered reads", code, "f", in, []market.Read{reads[2], reads[0], reads[1]}, true},
		{"duplicate read", code, "f", in, append([]market.Read{reads[0]}, reads...), true},
		{"other code", hash(3), "f", in, reads, false},
		{"other fn", code, "g", in, reads, false},
		{"other input", code, "f", hash(4), reads, false},
		{"other version", code, "f", in, []market.Read{reads[1], reads[2], {Contract: "bb", Key: []byte("k2"), Found: true, Version: 8}}, false},
		{"now found", code, "f", in, []market.Read{{Contract: "aa", Key: []byte("k1"), Found: true}, reads[2], reads[0]}, false},
		{"one read fewer", code, "f", in, reads[:2], false},
		{"no reads", code, "f", in, nil, false},
		{"contract/key boundary moved", code, "f", in, []market.Read{{Contract: "a", Key: []byte("ak1")}, reads[2], reads[0]}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := market.MemoKey(tt.code, tt.fn, tt.in, tt.reads)
			if (got == base) != tt.same {
				t.Fatalf("same key = %v, want %v", got == base, tt.same)
			}
		})
	}
	if market.MemoKey(code, "", in, nil) == market.MemoKey(code, "", in, []market.Read{{}}) {
		t.Fatal("an empty read encodes like no read")
	}
}

func TestMemoKeyLongReadSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	reads := make([]market.Read, 300) // over the 4 KiB flush
	for i := range reads {
		reads[i] = market.Read{Contract: "c", Key: binary.BigEndian.AppendUint32(nil, uint32(i)), Found: true, Version: uint64(i + 1)}
	}
	a := market.MemoKey(hash(1), "f", hash(2), reads)
	rng.Shuffle(len(reads), func(i, j int) { reads[i], reads[j] = reads[j], reads[i] })
	if b := market.MemoKey(hash(1), "f", hash(2), reads); a != b {
		t.Fatal("order changed the key")
	}
	reads[0].Version++
	if b := market.MemoKey(hash(1), "f", hash(2), reads); a == b {
		t.Fatal("a version change kept the key")
	}
}

func TestMemoizable(t *testing.T) {
	tests := []struct {
		name string
		in   []market.Read
		want bool
	}{
		{"no reads", nil, true},
		{"stored values", []market.Read{{Contract: "a", Found: true, Version: 1}, {Contract: "b", Found: true, Version: 9}}, true},
		{"absent key", []market.Read{{Contract: "a", Found: false, Version: 0}}, true},
		{"served by an earlier step", []market.Read{{Contract: "a", Found: true, Version: 3}, {Contract: "b", Found: true, Version: 0}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := market.Memoizable(tt.in); got != tt.want {
				t.Fatalf("Memoizable = %v, want %v", got, tt.want)
			}
		})
	}
}
