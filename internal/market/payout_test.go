package market_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestSplit(t *testing.T) {
	def := market.Default().Tiers
	tests := []struct {
		name       string
		reward     uint64
		paid, k    int
		tiers      []uint32
		want       []uint64
		wantRefund uint64
		wantErr    string
	}{
		{"one replica takes all", 100, 1, 1, def, []uint64{100}, 0, ""},
		{"two of two", 100, 2, 2, def, []uint64{75, 25}, 0, ""},
		{"three of three", 1000, 3, 3, def, []uint64{625, 250, 125}, 0, ""},
		{"two of three", 1000, 2, 3, def, []uint64{625, 250}, 125, ""},
		{"none paid", 1000, 0, 3, def, []uint64{}, 1000, ""},
		{"rounding goes to the fastest", 7, 3, 3, def, []uint64{6, 1, 0}, 0, ""},
		{"zero reward", 0, 2, 2, def, []uint64{0, 0}, 0, ""},
		{"16 tiers", 10000, 16, 16, def, []uint64{5000, 2500, 1250, 625, 312, 156, 78, 39, 20, 10, 5, 1, 1, 1, 1, 1}, 0, ""},
		{"max reward", math.MaxUint64, 2, 2, []uint32{5000, 5000}, []uint64{math.MaxUint64 - math.MaxUint64/2, math.MaxUint64 / 2}, 0, ""},
		{"flat schedule", 10, 3, 3, []uint32{3000, 3000, 3000}, []uint64{4, 3, 3}, 0, ""},
		{"k over tiers", 10, 1, 3, []uint32{5000, 5000}, nil, 0, "3 replicas with 2 tiers"},
		{"k 0", 10, 0, 0, def, nil, 0, "0 replicas"},
		{"paid over k", 10, 3, 2, def, nil, 0, "3 paid of 2"},
		{"paid negative", 10, -1, 2, def, nil, 0, "-1 paid"},
		{"tiers over the whole", 10, 3, 3, []uint32{6000, 6000, 6000}, nil, 0, "tiers 0..1 sum to more than 10000"},
		{"tier over the whole", 10, 2, 2, []uint32{20000, 20000}, nil, 0, "tiers 0..0 sum to more than"},
		{"unused tiers do not count", 10, 1, 1, []uint32{10000, 10000}, []uint64{10}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refund, err := market.Split(tt.reward, tt.paid, tt.k, tt.tiers)
			checkErr(t, err, vmerr.Invalid, tt.wantErr)
			if !slices.Equal(got, tt.want) || refund != tt.wantRefund {
				t.Fatalf("Split = %v, refund %d; want %v, refund %d", got, refund, tt.want, tt.wantRefund)
			}
		})
	}
}

func TestSettle(t *testing.T) {
	p := market.Default()
	r := goodRequest() // reward 100, gas 1e6 × 1, k 3, q 2
	tests := []struct {
		name     string
		req      market.Request
		agreeing []crypto.Address
		gasUsed  uint64
		want     market.Payout
		wantKind vmerr.Kind
		wantErr  string
	}{
		{"all three", r, addrs(1, 2, 3), 10,
			market.Payout{Miners: []market.Pay{{addr(1), 63, 10}, {addr(2), 25, 10}, {addr(3), 12, 10}}, Refund: 3_000_000 - 30}, 0, ""},
		{"quorum only", r, addrs(3, 1), 1_000_000,
			market.Payout{Miners: []market.Pay{{addr(3), 63, 1_000_000}, {addr(1), 25, 1_000_000}}, Refund: 12 + 1_000_000}, 0, ""},
		{"price 3", func() market.Request { r := r; r.Price = 3; return r }(), addrs(1, 2), 5,
			market.Payout{Miners: []market.Pay{{addr(1), 63, 15}, {addr(2), 25, 15}}, Refund: 12 + 9_000_000 - 30}, 0, ""},
		{"more agreeing than k: first k paid", r, addrs(1, 2, 3, 4), 0,
			market.Payout{Miners: []market.Pay{{addr(1), 63, 0}, {addr(2), 25, 0}, {addr(3), 12, 0}}, Refund: 3_000_000}, 0, ""},
		{"below quorum", r, addrs(1), 1, market.Payout{}, vmerr.Invalid, "quorum is 2"},
		{"gas over limit", r, addrs(1, 2), 1_000_001, market.Payout{}, vmerr.Invalid, "exceeds the limit"},
		{"escrow overflow", func() market.Request { r := r; r.Reward = tx.MaxAmount; return r }(), addrs(1, 2), 1, market.Payout{}, vmerr.Overflow, "exceeds"},
		{"k over the schedule", func() market.Request { r := r; r.Replicas = 17; return r }(), addrs(1, 2), 1, market.Payout{}, vmerr.Invalid, "17 replicas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := market.Settle(p, tt.req, tt.agreeing, tt.gasUsed)
			checkErr(t, err, tt.wantKind, tt.wantErr)
			if !slices.Equal(got.Miners, tt.want.Miners) || got.Refund != tt.want.Refund {
				t.Fatalf("Settle = %+v\nwant %+v", got, tt.want)
			}
			if err == nil {
				if e, _ := market.Escrow(tt.req); got.Total() != e {
					t.Fatalf("total %d != escrow %d", got.Total(), e)
				}
			}
		})
	}
}

// TestSettleConservation: for random valid schedules and requests, the
// payout spends the escrow exactly, pays only agreeing miners, at most k of
// them, and a faster seal never earns less than a slower one.
func TestSettleConservation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for i := range 5000 {
		p := market.Default()
		p.Tiers = randTiers(rng)
		p.MaxReplicas = uint32(len(p.Tiers))
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		k := uint32(1 + rng.IntN(len(p.Tiers)))
		q := uint32(1 + rng.IntN(int(k)))
		if q == 1 {
			k = 1
		}
		r := market.Request{Contract: "cc", Fn: "f", GasLimit: 1 + rng.Uint64N(1<<20), Price: rng.Uint64N(1 << 20),
			Reward: randAmount(rng), Replicas: k, Quorum: q, Deadline: 10}
		if _, err := r.Validate(p); err != nil {
			if vmerr.KindOf(err) == vmerr.Overflow {
				continue
			}
			t.Fatal(err)
		}
		agreeing := addrs(rng.Perm(40)[:int(q)+rng.IntN(int(k)-int(q)+1)]...)
		gas := rng.Uint64N(r.GasLimit + 1)
		out, err := market.Settle(p, r, agreeing, gas)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		checkPayout(t, r, agreeing, gas, out)
		checked++
	}
	if checked < 3000 {
		t.Fatalf("only %d of 5000 random requests were valid", checked)
	}
}

func checkPayout(t *testing.T, r market.Request, agreeing []crypto.Address, gas uint64, out market.Payout) {
	t.Helper()
	escrow, err := market.Escrow(r)
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for i, m := range out.Miners {
		if i >= len(agreeing) || m.Miner != agreeing[i] {
			t.Fatalf("pay %d to %s, not the %d-th agreeing miner", i, m.Miner, i)
		}
		if m.Gas != gas*r.Price {
			t.Fatalf("gas pay %d, want %d", m.Gas, gas*r.Price)
		}
		if i > 0 && m.Reward > out.Miners[i-1].Reward {
			t.Fatalf("seal %d earns %d > seal %d's %d", i, m.Reward, i-1, out.Miners[i-1].Reward)
		}
		sum += m.Reward + m.Gas
	}
	if len(out.Miners) != min(len(agreeing), int(r.Replicas)) {
		t.Fatalf("%d paid, %d agreeing, k %d", len(out.Miners), len(agreeing), r.Replicas)
	}
	if sum+out.Refund != escrow || out.Total() != escrow {
		t.Fatalf("paid %d + refund %d != escrow %d", sum, out.Refund, escrow)
	}
}

// randTiers returns a valid random schedule: non-increasing, positive,
// summing to at most 10000.
func randTiers(rng *rand.Rand) []uint32 {
	n := 1 + rng.IntN(market.MaxTiers)
	budget := uint32(n + rng.IntN(market.BasisPoints-n+1))
	ts := make([]uint32, n)
	prev := budget
	for i := range ts {
		left := budget - uint32(n-i-1) // keep 1 for each later tier
		hi := min(prev, left)
		ts[i] = 1 + uint32(rng.IntN(int(hi)))
		if i == 0 && rng.IntN(2) == 0 {
			ts[i] = hi
		}
		budget -= ts[i]
		prev = ts[i]
	}
	return ts
}

func randAmount(rng *rand.Rand) uint64 {
	switch rng.IntN(4) {
	case 0:
		return rng.Uint64N(10)
	case 1:
		return rng.Uint64N(1_000_000)
	case 2:
		return rng.Uint64N(tx.MaxAmount / 2)
	}
	return rng.Uint64()
}

func TestOffer(t *testing.T) {
	p := market.Default()
	with := func(f func(*market.Request)) market.Request {
		r := goodRequest()
		f(&r)
		return r
	}
	tests := []struct {
		name     string
		in       market.Request
		want     uint64
		wantKind vmerr.Kind
		wantErr  string
	}{
		{"three replicas", goodRequest(), 63 + 1_000_000, 0, ""},
		{"one replica takes the whole reward", with(func(r *market.Request) { r.Replicas, r.Quorum = 1, 1 }), 100 + 1_000_000, 0, ""},
		{"free gas", with(func(r *market.Request) { r.Price = 0 }), 63, 0, ""},
		{"overflow", with(func(r *market.Request) { r.Price = 1 << 60 }), 0, vmerr.Overflow, "overflows"},
		{"no replicas", with(func(r *market.Request) { r.Replicas = 0 }), 0, vmerr.Invalid, "0 replicas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := market.Offer(p, tt.in)
			checkErr(t, err, tt.wantKind, tt.wantErr)
			if got != tt.want {
				t.Fatalf("Offer = %d, want %d", got, tt.want)
			}
		})
	}
}
