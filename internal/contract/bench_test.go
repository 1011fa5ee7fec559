package contract_test

import (
	"fmt"
	"testing"

	"github.com/virtual-machine/vm/internal/contract"
)

// benchChain is a chain of 1,000 versions 1.0.0 .. 1.99.9 with every
// seventh version yanked.
func benchChain(b *testing.B) chain {
	var es []contract.Entry
	for minor := range 100 {
		for patch := range 10 {
			es = append(es, contract.Entry{Version: fmt.Sprintf("1.%d.%d", minor, patch), Yanked: len(es)%7 == 3})
		}
	}
	return sortedChain(b, es)
}

// BenchmarkResolve measures Resolve over an in-memory descending scan that
// starts at Range.Upper (found by binary search, as the ledger seeks its
// iterator), against the brute-force baseline that parses and checks every
// version of the chain, in the same run.
func BenchmarkResolve(b *testing.B) {
	c := benchChain(b)
	cases := []struct{ name, rng, want string }{
		{"caret-top", "^1", "1.99.9"},
		{"exact-bottom", "1.0.3", "1.0.3"}, // yanked: resolves because exact
		{"tilde-middle", "~1.50.0", "1.50.9"},
		{"none-bounded", "^2", ""},
		{"none-unbounded", "<1.0.0 || >=2.0.0", ""}, // bounds cannot help: scans all 1,000
	}
	for _, tc := range cases {
		r := mustRange(b, tc.rng)
		b.Run(tc.name+"/resolve", func(b *testing.B) {
			for b.Loop() {
				e, _ := contract.Resolve("bench", r, c.from(r.Upper()))
				if e.Version != tc.want {
					b.Fatalf("got %q, want %q", e.Version, tc.want)
				}
			}
		})
		b.Run(tc.name+"/bruteforce", func(b *testing.B) {
			for b.Loop() {
				best := -1
				for i, e := range c.es {
					v, err := contract.ParseVersion(e.Version)
					if err != nil || !r.Check(v) || (e.Yanked && !r.Exact()) {
						continue
					}
					if best < 0 || v.Compare(c.vs[best]) > 0 {
						best = i
					}
				}
				got := ""
				if best >= 0 {
					got = c.es[best].Version
				}
				if got != tc.want {
					b.Fatalf("brute force got %q, want %q", got, tc.want)
				}
			}
		})
	}
}

// BenchmarkResolveNightlies: 999 prereleases above the one release, and the
// range "*", which excludes prereleases and has no upper bound.
func BenchmarkResolveNightlies(b *testing.B) {
	es := []contract.Entry{{Version: "1.0.0"}}
	for i := range 999 {
		es = append(es, contract.Entry{Version: fmt.Sprintf("2.0.0-nightly.%d", i)})
	}
	c := sortedChain(b, es)
	r := mustRange(b, "*")
	b.Run("resolve", func(b *testing.B) {
		for b.Loop() {
			if e, _ := contract.Resolve("bench", r, c.from(r.Upper())); e.Version != "1.0.0" {
				b.Fatalf("got %q", e.Version)
			}
		}
	})
	b.Run("bruteforce", func(b *testing.B) {
		for b.Loop() {
			best := -1
			for i, e := range c.es {
				v, err := contract.ParseVersion(e.Version)
				if err == nil && r.Check(v) && (best < 0 || v.Compare(c.vs[best]) > 0) {
					best = i
				}
			}
			if best < 0 || c.es[best].Version != "1.0.0" {
				b.Fatal("brute force disagrees")
			}
		}
	})
}

func BenchmarkSortKey(b *testing.B) {
	v := mustVersion(b, "1.22.333-rc.4.beta")
	for b.Loop() {
		_ = contract.SortKey(v)
	}
}

func BenchmarkParseRange(b *testing.B) {
	for b.Loop() {
		if _, err := contract.ParseRange(">=1.2.0 <1.5.0 || ^2.1"); err != nil {
			b.Fatal(err)
		}
	}
}
