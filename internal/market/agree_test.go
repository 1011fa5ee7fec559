package market_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// rev is a revealed entry of miner m with result res at seal order o;
// res 0 means not revealed.
func rev(o, m, res int) market.Entry {
	e := market.Entry{Order: uint32(o), Miner: addr(m)}
	if res != 0 {
		e.Revealed, e.Result = true, hash(res)
	}
	return e
}

func addrs(ms ...int) []crypto.Address {
	var out []crypto.Address
	for _, m := range ms {
		out = append(out, addr(m))
	}
	return out
}

func TestAgree(t *testing.T) {
	tests := []struct {
		name    string
		in      []market.Entry
		quorum  uint32
		want    market.Agreement
		wantErr string
	}{
		{"empty", nil, 1, market.Agreement{}, ""},
		{"quorum 1", []market.Entry{rev(0, 1, 5)}, 1,
			market.Agreement{Reached: true, Result: hash(5), Agreeing: addrs(1), Possible: true}, ""},
		{"2 of 3 agree", []market.Entry{rev(0, 1, 5), rev(1, 2, 6), rev(2, 3, 5)}, 2,
			market.Agreement{Reached: true, Result: hash(5), Agreeing: addrs(1, 3), Disagreeing: addrs(2), Possible: true}, ""},
		{"input order does not matter", []market.Entry{rev(2, 3, 5), rev(0, 1, 5), rev(1, 2, 6)}, 2,
			market.Agreement{Reached: true, Result: hash(5), Agreeing: addrs(1, 3), Disagreeing: addrs(2), Possible: true}, ""},
		{"not yet, still possible", []market.Entry{rev(0, 1, 5), rev(1, 2, 6), rev(2, 3, 0)}, 2,
			market.Agreement{Unrevealed: addrs(3), Possible: true}, ""},
		{"all differ: impossible", []market.Entry{rev(0, 1, 5), rev(1, 2, 6), rev(2, 3, 7)}, 2,
			market.Agreement{}, ""},
		{"unrevealed cannot make quorum", []market.Entry{rev(0, 1, 5), rev(1, 2, 0), rev(2, 3, 6), rev(3, 4, 7)}, 3,
			market.Agreement{Unrevealed: addrs(2)}, ""},
		{"two hashes reach a low quorum: earlier sealed wins",
			[]market.Entry{rev(0, 1, 6), rev(1, 2, 5), rev(2, 3, 5), rev(3, 4, 6)}, 2,
			market.Agreement{Reached: true, Result: hash(5), Agreeing: addrs(2, 3), Disagreeing: addrs(1, 4), Possible: true}, ""},
		{"agreeing beyond quorum all listed, unrevealed listed",
			[]market.Entry{rev(0, 1, 5), rev(1, 2, 5), rev(2, 3, 5), rev(3, 4, 0)}, 2,
			market.Agreement{Reached: true, Result: hash(5), Agreeing: addrs(1, 2, 3), Unrevealed: addrs(4), Possible: true}, ""},
		{"orders need not be dense", []market.Entry{rev(10, 1, 5), rev(3, 2, 5)}, 2,
			market.Agreement{Reached: true, Result: hash(5), Agreeing: addrs(2, 1), Possible: true}, ""},
		{"quorum 0", []market.Entry{rev(0, 1, 5)}, 0, market.Agreement{}, "quorum 0"},
		{"same order twice", []market.Entry{rev(0, 1, 5), rev(0, 2, 5)}, 1, market.Agreement{}, "seal order 0"},
		{"same miner twice", []market.Entry{rev(0, 1, 5), rev(1, 1, 5)}, 1, market.Agreement{}, "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got, err := market.Agree(tt.in, tt.quorum)
			checkErr(t, err, vmerr.Invalid, tt.wantErr)
			if !equalAgreements(got, tt.want) {
				t.Fatalf("Agree = %+v\nwant %+v", got, tt.want)
			}
			if !slices.Equal(in, tt.in) {
				t.Fatal("Agree changed its input")
			}
		})
	}
}

// TestAgreeRandom checks, on random rounds, that the verdict does not
// depend on input order, that the lists partition the entries, and that the
// winner has at least quorum reveals.
func TestAgreeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for range 2000 {
		es, q := randRound(rng)
		a, err := market.Agree(es, q)
		if err != nil {
			t.Fatal(err)
		}
		rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
		b, err := market.Agree(es, q)
		if err != nil {
			t.Fatal(err)
		}
		if !equalAgreements(a, b) {
			t.Fatalf("order changed the verdict: %+v vs %+v", a, b)
		}
		checkPartition(t, es, q, a)
	}
}

// randRound returns 0..16 entries with a few distinct results, and a quorum.
func randRound(rng *rand.Rand) ([]market.Entry, uint32) {
	k := rng.IntN(market.MaxTiers + 1)
	orders := rng.Perm(100)
	es := make([]market.Entry, k)
	for i := range es {
		es[i] = rev(orders[i], i+1, rng.IntN(4)) // 0: unrevealed
	}
	return es, uint32(1 + rng.IntN(max(k, 1)))
}

func checkPartition(t *testing.T, es []market.Entry, q uint32, a market.Agreement) {
	t.Helper()
	n := len(a.Agreeing) + len(a.Disagreeing) + len(a.Unrevealed)
	revealed := 0
	for _, e := range es {
		if e.Revealed {
			revealed++
		}
	}
	if a.Reached && n != len(es) || !a.Reached && (len(a.Agreeing)+len(a.Disagreeing) != 0 || len(a.Unrevealed) != len(es)-revealed) {
		t.Fatalf("lists do not partition %d entries: %+v", len(es), a)
	}
	if a.Reached && uint32(len(a.Agreeing)) < q {
		t.Fatalf("reached with %d < quorum %d", len(a.Agreeing), q)
	}
	if a.Reached && !a.Possible {
		t.Fatal("reached but not possible")
	}
}
