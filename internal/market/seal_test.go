package market_test

import (
	"crypto/sha256"
	"testing"

	"github.com/virtual-machine/vm/internal/market"
)

func TestRequestID(t *testing.T) {
	tx := hash(1)
	// The documented encoding, built independently.
	want := sha256.Sum256(append(append([]byte("vm/market/request/v1\x00"), tx[:]...), 0, 0, 1, 2))
	if got := market.RequestID(tx, 0x0102); got != want {
		t.Fatalf("RequestID = %x, want %x", got, want)
	}
	seen := map[[32]byte]string{}
	for _, c := range []struct {
		name string
		tx   [32]byte
		i    uint32
	}{{"a0", hash(1), 0}, {"a1", hash(1), 1}, {"b0", hash(2), 0}, {"b1", hash(2), 1}, {"amax", hash(1), 1<<32 - 1}} {
		id := market.RequestID(c.tx, c.i)
		if prev, ok := seen[id]; ok {
			t.Fatalf("%s and %s have the same id", prev, c.name)
		}
		seen[id] = c.name
	}
}

func TestSeal(t *testing.T) {
	m, id, res := addr(1), hash(10), hash(20)
	var b []byte
	b = append(b, "vm/market/seal/v1\x00"...)
	b = append(b, m[:]...)
	b = append(b, id[:]...)
	b = append(b, res[:]...)
	if got, want := market.Seal(m, id, res), sha256.Sum256(b); got != want {
		t.Fatalf("Seal = %x, want %x", got, want)
	}
	seal := market.Seal(m, id, res)
	tests := []struct {
		name  string
		miner int
		id    int
		res   int
		want  bool
	}{
		{"opens", 1, 10, 20, true},
		{"other miner (a copier)", 2, 10, 20, false},
		{"other request", 1, 11, 20, false},
		{"other result", 1, 10, 21, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := market.VerifySeal(seal, addr(tt.miner), hash(tt.id), hash(tt.res)); got != tt.want {
				t.Fatalf("VerifySeal = %v, want %v", got, tt.want)
			}
		})
	}
	if market.Seal(m, id, res) == market.RequestID(id, 0) {
		t.Fatal("a seal equals a request id")
	}
}
