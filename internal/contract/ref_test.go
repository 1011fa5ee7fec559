package contract_test

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // String()
		wantErr string
	}{
		{"bare name", "hello", "hello@*", ""},
		{"empty range", "hello@", "hello@*", ""},
		{"caret", "hello@^1.2", "hello@^1.2", ""},
		{"exact", "hello@1.2.3", "hello@1.2.3", ""},
		{"spaces in range", "hello@>=1.0.0 <2.0.0", "hello@>=1.0.0 <2.0.0", ""},
		{"empty", "", "", "shorter than 2"},
		{"no name", "@1.2.3", "", "shorter than 2"},
		{"bad name", "Hello@1", "", "must start with a lowercase letter"},
		{"bad range", "hello@banana", "", "improper constraint"},
		{"second at", "hello@1.0.0@2", "", "improper constraint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := contract.ParseRef(tt.in)
			checkErr(t, err, vmerr.Invalid, tt.wantErr)
			if err == nil && ref.String() != tt.want {
				t.Fatalf("String() = %q, want %q", ref.String(), tt.want)
			}
		})
	}
}

// chain is a contract chain in ascending order, as a ledger would hold it,
// with each entry's parsed version and SortKey.
type chain struct {
	es   []contract.Entry
	vs   []*semver.Version
	keys [][]byte
}

// sortedChain sorts entries ascending by semver precedence.
func sortedChain(t testing.TB, es []contract.Entry) chain {
	c := chain{es: slices.Clone(es)}
	slices.SortFunc(c.es, func(a, b contract.Entry) int {
		return mustVersion(t, a.Version).Compare(mustVersion(t, b.Version))
	})
	for _, e := range c.es {
		v := mustVersion(t, e.Version)
		c.vs = append(c.vs, v)
		c.keys = append(c.keys, contract.SortKey(v))
	}
	return c
}

// from yields the entries in descending order, starting with the highest one
// whose SortKey is below upper (all of them for nil), as the ledger scans
// its keys.
func (c chain) from(upper []byte) iter.Seq2[contract.Entry, error] {
	i := len(c.es)
	if upper != nil {
		i = sort.Search(len(c.keys), func(i int) bool { return bytes.Compare(c.keys[i], upper) >= 0 })
	}
	return func(yield func(contract.Entry, error) bool) {
		for j := i - 1; j >= 0; j-- {
			if !yield(c.es[j], nil) {
				return
			}
		}
	}
}

var testChain = []contract.Entry{
	{"0.1.0", false}, {"0.1.1", false}, {"0.2.0", false}, {"0.2.3", false}, {"0.2.5", true},
	{"1.0.0-alpha", false}, {"1.0.0-beta.2", false}, {"1.0.0", false}, {"1.0.1", true},
	{"1.2.0", false}, {"1.2.3", false}, {"1.2.4-rc.1", false}, {"1.2.4", true},
	{"1.3.0", false}, {"1.10.0", false}, {"2.0.0-rc.1", false}, {"2.0.0", false}, {"2.1.0", true},
	{"3.0.0-beta", false},
}

func TestResolve(t *testing.T) {
	c := sortedChain(t, testChain)
	tests := []struct {
		name    string
		in      string // the range
		want    string // chosen version
		wantErr string // NotFound message part
	}{
		{"empty", "", "2.0.0", ""},
		{"star", "*", "2.0.0", ""},
		{"exact", "1.2.3", "1.2.3", ""},
		{"exact yanked", "1.2.4", "1.2.4", ""},
		{"equals yanked", "=1.0.1", "1.0.1", ""},
		{"equals space", "= 2.1.0", "2.1.0", ""},
		{"exact prerelease", "1.2.4-rc.1", "1.2.4-rc.1", ""},
		{"exact missing", "1.2.5", "", "no version of hello matches 1.2.5"},
		{"v exact is a range, skips yanked", "v1.2.4", "", "1 yanked version(s) match"},
		{"v exact not yanked", "v1.2.3", "1.2.3", ""},
		{"caret major", "^1", "1.10.0", ""},
		{"caret minor", "^1.2", "1.10.0", ""},
		{"caret patch", "^1.2.4", "1.10.0", ""},
		{"caret zero minor skips yanked", "^0.2", "0.2.3", ""},
		{"caret zero patch", "^0.2.3", "0.2.3", ""},
		{"caret zero one", "^0.1", "0.1.1", ""},
		{"caret zero zero", "^0.0", "", "no version of hello matches ^0.0"},
		{"caret prerelease", "^2.0.0-rc.0", "2.0.0", ""},
		{"caret 3 has only a prerelease", "^3", "", "no version of hello matches ^3"},
		{"tilde skips yanked and prerelease", "~1.2.3", "1.2.3", ""},
		{"tilde minor", "~1.2", "1.2.3", ""},
		{"tilde major", "~1", "1.10.0", ""},
		{"tilde arrow", "~>1.2.0", "1.2.3", ""},
		{"tilde prerelease", "~1.2.4-rc.0", "1.2.4-rc.1", ""},
		{"x major", "1.x", "1.10.0", ""},
		{"x minor", "1.2.x", "1.2.3", ""},
		{"X minor", "1.2.X", "1.2.3", ""},
		{"star minor", "1.2.*", "1.2.3", ""},
		{"partial is tilde", "1.10", "1.10.0", ""},
		{"x skips yanked", "2.x", "2.0.0", ""},
		{"x only yanked", "2.1.x", "", "no version of hello matches 2.1.x (1 yanked"},
		{"less", "<2.0.0", "1.10.0", ""},
		{"less partial", "<1.3", "1.2.3", ""},
		{"less exact", "<1.2.3", "1.2.0", ""},
		{"less or equal", "<=1.2.3", "1.2.3", ""},
		{"less or equal gap", "<=1.4.0", "1.3.0", ""},
		{"less or equal yanked", "<=1.0.1", "1.0.0", ""},
		{"greater", ">1.10.0", "2.0.0", ""},
		{"greater or equal none", ">=3.0.0", "", "no version of hello matches >=3.0.0"},
		{"greater or equal prerelease", ">=3.0.0-alpha", "3.0.0-beta", ""},
		{"and", ">=1.2.0 <1.3.0", "1.2.3", ""},
		{"and comma", ">1.2.3, <1.10.0", "1.3.0", ""},
		{"and skips yanked", ">0.2.0 <1.0.0", "0.2.3", ""},
		{"and prerelease", ">=1.0.0-alpha <1.0.0", "1.0.0-beta.2", ""},
		{"not equal", "!=2.0.0", "1.10.0", ""},
		{"hyphen", "1.0.0 - 1.2.0", "1.2.0", ""},
		{"hyphen zero", "0.1.0 - 0.2.9", "0.2.3", ""},
		{"hyphen partial", "1 - 1.2", "1.2.3", ""},
		{"or", "^0.1 || ^1.2", "1.10.0", ""},
		{"or with only yanked", "^0.1 || 2.1.x", "0.1.1", ""},
		{"or none", "4.x || <0.1.0", "", "no version of hello matches 4.x || <0.1.0"},
		{"below all", "<0.1.0", "", "no version of hello matches <0.1.0"},
		{"above all", "4.x", "", "no version of hello matches 4.x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRange(t, tt.in)
			// The ledger's scan (from Upper) and a full scan must agree.
			for _, start := range [][]byte{r.Upper(), nil} {
				got, err := contract.Resolve("hello", r, c.from(start))
				checkErr(t, err, vmerr.NotFound, tt.wantErr)
				if got.Version != tt.want {
					t.Fatalf("Resolve(%q) from %x = %q, want %q", tt.in, start, got.Version, tt.want)
				}
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	boom := vmerr.E("ledger.iter", vmerr.Unavailable, "disk gone")
	seq := func(es ...contract.Entry) iter.Seq2[contract.Entry, error] {
		return func(yield func(contract.Entry, error) bool) {
			for _, e := range es {
				if !yield(e, nil) {
					return
				}
			}
			yield(contract.Entry{}, boom)
		}
	}
	tests := []struct {
		name    string
		in      iter.Seq2[contract.Entry, error]
		want    vmerr.Kind
		wantErr string
	}{
		{"iterator error", seq(contract.Entry{Version: "2.0.0"}), vmerr.Unavailable, "disk gone"},
		{"corrupt version", seq(contract.Entry{Version: "1.0"}), vmerr.Internal, "stored version of hello"},
		{"ascending", seq(contract.Entry{Version: "2.0.0"}, contract.Entry{Version: "3.0.0"}), vmerr.Internal, "not in descending order at 3.0.0"},
		{"duplicate", seq(contract.Entry{Version: "2.0.0"}, contract.Entry{Version: "2.0.0"}), vmerr.Internal, "not in descending order"},
		{"empty", func(func(contract.Entry, error) bool) {}, vmerr.NotFound, "no version of hello matches ^1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := contract.Resolve("hello", mustRange(t, "^1"), tt.in)
			checkErr(t, err, tt.want, tt.wantErr)
			if tt.want == vmerr.Unavailable && !errors.Is(err, boom) {
				t.Fatalf("iterator error not returned as is: %v", err)
			}
		})
	}
}

// TestResolveNightlies: many prereleases above the only release; "*"
// skips them all (the pre-filter must not change the answer).
func TestResolveNightlies(t *testing.T) {
	es := []contract.Entry{{Version: "0.9.0", Yanked: true}, {Version: "1.0.0"}}
	for i := range 50 {
		es = append(es, contract.Entry{Version: fmt.Sprintf("2.0.0-nightly.%d", i)})
	}
	c := sortedChain(t, es)
	tests := []struct{ in, want string }{
		{"*", "1.0.0"},
		{">=2.0.0-nightly.7", "2.0.0-nightly.49"},
		{"<2.0.0-nightly.7", "2.0.0-nightly.6"},
		{"2.0.0-nightly.3", "2.0.0-nightly.3"},
		{"<1.0.0 || >=2.0.0", ""},
		{"<=1.0.0 || >=3.0.0-0", "1.0.0"},
		{"0.9.0", "0.9.0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r := mustRange(t, tt.in)
			got, err := contract.Resolve("n1", r, c.from(r.Upper()))
			want, ok := bruteForce(c, r)
			if got.Version != tt.want || want.Version != tt.want || (err == nil) != ok {
				t.Fatalf("Resolve = %q, %v; brute force %q; want %q", got.Version, err, want.Version, tt.want)
			}
		})
	}
}

// TestResolveStopsEarly checks that Resolve reads no further than needed:
// it stops at the first acceptable entry and below Lower.
func TestResolveStopsEarly(t *testing.T) {
	c := sortedChain(t, testChain)
	tests := []struct {
		name string
		in   string
		want int // entries read
	}{
		{"match at the top", "^2", 2}, // 2.1.0 (yanked), 2.0.0
		{"exact", "1.0.0", 1},
		{"below lower", ">=2.0.0", 3},          // 3.0.0-beta (prerelease), 2.1.0 (yanked), 2.0.0
		{"nothing above", ">=4.0.0", 1},        // Upper is nil; 3.0.0-beta is below Lower
		{"nothing in the middle", "~1.5.0", 1}, // 1.3.0 is below 1.5.0
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRange(t, tt.in)
			read := 0
			seq := func(yield func(contract.Entry, error) bool) {
				for e := range c.from(r.Upper()) {
					read++
					if !yield(e, nil) {
						return
					}
				}
			}
			_, _ = contract.Resolve("hello", r, seq)
			if read != tt.want {
				t.Fatalf("read %d entries, want %d", read, tt.want)
			}
		})
	}
}

// bruteForce is the reference resolution: the greatest acceptable version
// over the whole chain, by semver Compare, without SortKey or bounds.
func bruteForce(c chain, r *contract.Range) (contract.Entry, bool) {
	best := -1
	for i, e := range c.es {
		if !r.Check(c.vs[i]) || (e.Yanked && !r.Exact()) {
			continue
		}
		if best < 0 || c.vs[i].Compare(c.vs[best]) > 0 {
			best = i
		}
	}
	if best < 0 {
		return contract.Entry{}, false
	}
	return c.es[best], true
}

// TestResolveRandom is the determinism and soundness test: for random chains
// with yanked versions and random ranges, Resolve over the descending scan
// that starts at Upper returns exactly what the brute force returns.
func TestResolveRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	found := 0
	for range 150 {
		seen := map[string]bool{}
		var es []contract.Entry
		for range 1 + rng.IntN(60) {
			v := randVersion(rng).String()
			if !seen[v] {
				seen[v] = true
				es = append(es, contract.Entry{Version: v, Yanked: rng.IntN(4) == 0})
			}
		}
		c := sortedChain(t, es)
		for range 40 {
			s := randRange(rng)
			if rng.IntN(5) == 0 { // exact ranges of versions in the chain, often yanked
				s = "="[:rng.IntN(2)] + c.es[rng.IntN(len(c.es))].Version
			}
			r, err := contract.ParseRange(s)
			if err != nil {
				continue
			}
			want, ok := bruteForce(c, r)
			got, err := contract.Resolve("x1", r, c.from(r.Upper()))
			switch {
			case ok && (err != nil || got != want):
				t.Fatalf("range %q over %v: got %v, %v; want %v", s, c, got, err, want)
			case !ok && vmerr.KindOf(err) != vmerr.NotFound:
				t.Fatalf("range %q over %v: got %v, %v; want NotFound", s, c, got, err)
			}
			if ok {
				found++
			}
		}
	}
	if found < 500 {
		t.Fatalf("generator too weak: only %d resolutions found a version", found)
	}
}
