package market_test

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/tx"
)

// FuzzSplit: whenever Split accepts its input, the shares and the refund
// add up to the reward exactly, and a non-increasing schedule never pays a
// later seal more than an earlier one.
func FuzzSplit(f *testing.F) {
	f.Add(uint64(100), uint8(3), uint8(3), []byte{0x13, 0x88, 0x09, 0xc4, 0x04, 0xe2})
	f.Add(uint64(1<<64-1), uint8(1), uint8(2), []byte{0x13, 0x88, 0x13, 0x88})
	f.Add(uint64(7), uint8(0), uint8(16), []byte{0x27, 0x10})
	f.Fuzz(func(t *testing.T, reward uint64, paid, k uint8, raw []byte) {
		tiers := make([]uint32, 0, len(raw)/2)
		for i := 0; i+1 < len(raw) && len(tiers) < 32; i += 2 {
			tiers = append(tiers, uint32(binary.BigEndian.Uint16(raw[i:])))
		}
		shares, refund, err := market.Split(reward, int(paid), int(k), tiers)
		if err != nil {
			return
		}
		if len(shares) != int(paid) {
			t.Fatalf("%d shares for %d paid", len(shares), paid)
		}
		sum, nonIncreasing := refund, true
		for i, s := range shares {
			if sum+s < sum {
				t.Fatal("shares overflow")
			}
			sum += s
			nonIncreasing = nonIncreasing && (i == 0 || tiers[i] <= tiers[i-1])
			if nonIncreasing && i > 0 && s > shares[i-1] {
				t.Fatalf("share %d = %d > share %d = %d with tiers %v", i, s, i-1, shares[i-1], tiers)
			}
		}
		if sum != reward {
			t.Fatalf("shares %v + refund %d = %d, reward %d", shares, refund, sum, reward)
		}
	})
}

// FuzzAgreement: the verdict does not depend on the order of the entries,
// and its lists partition them.
func FuzzAgreement(f *testing.F) {
	f.Add([]byte{0, 1, 5, 1, 2, 6, 2, 3, 5}, uint8(2), uint64(1))
	f.Add([]byte{9, 1, 0, 3, 2, 5, 4, 3, 5, 1, 4, 5}, uint8(3), uint64(2))
	f.Add([]byte{0, 1, 5, 0, 2, 5}, uint8(1), uint64(3))
	f.Fuzz(func(t *testing.T, raw []byte, quorum uint8, seed uint64) {
		var es []market.Entry
		for i := 0; i+2 < len(raw) && len(es) < 64; i += 3 {
			es = append(es, rev(int(raw[i]), int(raw[i+1]), int(raw[i+2]%8)))
		}
		a, errA := market.Agree(es, uint32(quorum))
		rand.New(rand.NewPCG(seed, seed)).Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
		b, errB := market.Agree(es, uint32(quorum))
		if (errA == nil) != (errB == nil) {
			t.Fatalf("errors differ: %v vs %v", errA, errB)
		}
		if errA != nil {
			return
		}
		if !equalAgreements(a, b) {
			t.Fatalf("order changed the verdict: %+v vs %+v", a, b)
		}
		checkPartition(t, es, uint32(quorum), a)
	})
}

// FuzzMemoKey: the key does not depend on the order of the reads nor on
// repeated reads, and changing one read's version changes it.
func FuzzMemoKey(f *testing.F) {
	f.Add("greet", []byte("a\x00k1\x01b\x00k2\x02"), uint64(1))
	f.Add("", []byte{}, uint64(2))
	f.Fuzz(func(t *testing.T, fn string, raw []byte, seed uint64) {
		var reads []market.Read
		for i := 0; i+3 < len(raw) && len(reads) < 64; i += 4 {
			reads = append(reads, market.Read{Contract: string(raw[i : i+1]), Key: raw[i+1 : i+2+int(raw[i+2]%2)],
				Found: raw[i+3]&1 == 1, Version: uint64(raw[i+3] >> 1)})
		}
		k := market.MemoKey(hash(1), fn, hash(2), reads)
		rng := rand.New(rand.NewPCG(seed, 0))
		shuffled := append([]market.Read(nil), reads...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if len(reads) > 0 {
			shuffled = append(shuffled, reads[rng.IntN(len(reads))])
		}
		if got := market.MemoKey(hash(1), fn, hash(2), shuffled); got != k {
			t.Fatal("read order or a repeated read changed the key")
		}
		if len(reads) == 0 {
			return
		}
		// Give one (contract, key) pair a version no read of it has.
		i := rng.IntN(len(reads))
		var top uint64
		for _, r := range reads {
			if r.Contract == reads[i].Contract && string(r.Key) == string(reads[i].Key) {
				top = max(top, r.Version)
			}
		}
		changed := append([]market.Read(nil), reads...)
		changed[i].Version = top + 1
		if market.MemoKey(hash(1), fn, hash(2), changed) == k {
			t.Fatal("a new version kept the key")
		}
	})
}

// FuzzRequest: decoding any JSON request and validating it never panics;
// a request Validate accepts has an escrow within tx.MaxAmount and a job
// that accepts seals at its inclusion height.
func FuzzRequest(f *testing.F) {
	for _, r := range []market.Request{goodRequest(), {Contract: "hello", Fn: "f", GasLimit: 1, Replicas: 1, Quorum: 1, Deadline: 10}} {
		b, _ := json.Marshal(r)
		f.Add(b)
	}
	f.Add([]byte(`{"contract":"a@1","gas_limit":"18446744073709551615","price":"2","replicas":16}`))
	p := market.Default()
	f.Fuzz(func(t *testing.T, b []byte) {
		var r market.Request
		if json.Unmarshal(b, &r) != nil {
			return
		}
		if _, err := r.Validate(p); err != nil {
			return
		}
		e, err := market.Escrow(r)
		if err != nil || e > tx.MaxAmount || e < r.Reward {
			t.Fatalf("escrow %d, %v of a valid request", e, err)
		}
		j := market.NewJob(p, hash(1), r, 10)
		if j.Phase(10) != market.PhaseCommit || j.Phase(10+r.Deadline+1) != market.PhaseExpired {
			t.Fatal("a valid request's job has no commit phase or never expires")
		}
	})
}
