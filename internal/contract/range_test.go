package contract_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      string // String()
		wantExact bool
		wantErr   string
	}{
		{"empty is any", "", "*", false, ""},
		{"blank is any", "  ", "*", false, ""},
		{"star", "*", "*", false, ""},
		{"bare version", "1.2.3", "1.2.3", true, ""},
		{"equals version", "=1.2.3", "=1.2.3", true, ""},
		{"equals space version", "= 1.2.3", "= 1.2.3", true, ""},
		{"exact prerelease", "1.2.3-rc.1", "1.2.3-rc.1", true, ""},
		{"v prefix is not exact", "v1.2.3", "v1.2.3", false, ""},
		{"metadata is not exact", "1.2.3+b", "1.2.3+b", false, ""},
		{"partial is not exact", "1.2", "1.2", false, ""},
		{"x is not exact", "1.2.x", "1.2.x", false, ""},
		{"caret", "^1.2", "^1.2", false, ""},
		{"tilde", "~1.2.3", "~1.2.3", false, ""},
		{"comparison pair", ">=1.0.0 <2.0.0", ">=1.0.0 <2.0.0", false, ""},
		{"comma", ">=1.0.0, <2.0.0", ">=1.0.0, <2.0.0", false, ""},
		{"or", "^1 || ^2", "^1 || ^2", false, ""},
		{"hyphen", "1.0.0 - 2.0.0", "1.0.0 - 2.0.0", false, ""},
		{"max length", ">=1.0.0 " + strings.Repeat(" ", contract.MaxRangeLen-16) + "<2.0.0", "", false, ""},
		{"too long", strings.Repeat(" ", contract.MaxRangeLen-4) + "1.0.0", "", false, "129 bytes; at most 128"},
		{"garbage", "hello", "", false, "improper constraint"},
		{"bad operator", "=~1.0.0", "", false, "improper constraint"},
		{"double equals", "==1.2.3", "", false, "improper constraint"},
		{"empty or group", "1.0.0 ||", "", false, "improper constraint"},
		{"newline", "1.0.0\n", "", false, "only printable ASCII"},
		{"tab", ">=1.0.0\t<2.0.0", "", false, "only printable ASCII"},
		{"non-ascii", "^1.2\u00a0", "", false, "only printable ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := contract.ParseRange(tt.in)
			checkErr(t, err, vmerr.Invalid, tt.wantErr)
			if err != nil {
				return
			}
			if tt.want != "" && r.String() != tt.want {
				t.Errorf("String() = %q, want %q", r.String(), tt.want)
			}
			if r.Exact() != tt.wantExact {
				t.Errorf("Exact() = %v, want %v", r.Exact(), tt.wantExact)
			}
		})
	}
}

// TestRangeBoundsTight checks that Upper and Lower are tight for the common
// forms: the largest version the range can match is below Upper, the least
// version above it is not, and the least matching version is not below Lower.
// (Soundness for all ranges is TestRangeBoundsSound.)
func TestRangeBoundsTight(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		least string // least version the range accepts
		most  string // a largest version the range accepts
		above string // the least version above every accepted one; "" = Upper is nil
	}{
		{"exact", "1.2.3", "1.2.3", "1.2.3", "1.2.4-0"},
		{"equals", "=1.2.3", "1.2.3", "1.2.3", "1.2.4-0"},
		{"exact prerelease", "1.2.3-rc.1", "1.2.3-rc.1", "1.2.3-rc.1", "1.2.3-rc.1.0"},
		{"caret major", "^1.2", "1.2.0", "1.18446744073709551615.18446744073709551615", "2.0.0-0"},
		{"caret minor", "^0.2.3", "0.2.3", "0.2.18446744073709551615", "0.3.0-0"},
		{"caret patch", "^0.0.3", "0.0.3", "0.0.3", "0.0.4-0"},
		{"caret one", "^1", "1.0.0", "1.9.9", "2.0.0-0"},
		{"tilde", "~1.2.3", "1.2.3", "1.2.99", "1.3.0-0"},
		{"tilde minor", "~1.2", "1.2.0", "1.2.99", "1.3.0-0"},
		{"x major", "1.x", "1.0.0", "1.99.99", "2.0.0-0"},
		{"x minor", "1.2.x", "1.2.0", "1.2.99", "1.3.0-0"},
		{"less", "<2.0.0", "0.0.0", "1.99.99", "2.0.0-0"},
		{"less or equal", "<=1.4.0", "0.0.0", "1.4.0", "1.4.1-0"},
		{"less or equal partial", "<=1.4", "0.0.0", "1.4.99", "1.5.0-0"},
		{"hyphen", "1.0.0 - 1.4.0", "1.0.0", "1.4.0", "1.4.1-0"},
		{"and", ">=1.2.0 <1.5.0", "1.2.0", "1.4.99", "1.5.0-0"},
		{"greater partial", ">1.2 <3", "1.3.0", "2.99.99", "3.0.0-0"},
		{"or", "^1.2 || ~3.1", "1.2.0", "3.1.99", "3.2.0-0"},
		{"max major", "^18446744073709551615", "18446744073709551615.0.0", "18446744073709551615.9.9", ""},
		{"any", "*", "0.0.0", "99.0.0", ""},
		{"greater", ">1.0.0", "1.0.1", "99.0.0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRange(t, tt.in)
			least, most := mustVersion(t, tt.least), mustVersion(t, tt.most)
			if !r.Check(least) || !r.Check(most) {
				t.Fatalf("test data: %q must accept %s and %s", tt.in, least, most)
			}
			if lo := r.Lower(); lo != nil && bytes.Compare(contract.SortKey(least), lo) < 0 {
				t.Errorf("Lower %x is above accepted %s", lo, least)
			}
			up := r.Upper()
			if tt.above == "" {
				if up != nil {
					t.Errorf("Upper = %x, want nil", up)
				}
				return
			}
			above := mustVersion(t, tt.above)
			if r.Check(above) {
				t.Fatalf("test data: %q must not accept %s", tt.in, above)
			}
			if up == nil || bytes.Compare(contract.SortKey(most), up) >= 0 || bytes.Compare(contract.SortKey(above), up) < 0 {
				t.Errorf("Upper = %x, want in (%x, %x]", up, contract.SortKey(most), contract.SortKey(above))
			}
		})
	}
}

// TestRangeBoundsSound checks, for random ranges and versions, that every
// version a range accepts lies in [Lower, Upper).
func TestRangeBoundsSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	versions := make([]*semver.Version, 300)
	keys := make([][]byte, len(versions))
	for i := range versions {
		versions[i] = randVersion(rng)
		keys[i] = contract.SortKey(versions[i])
	}
	parsed, bounded := 0, 0
	for range 2000 {
		r, err := contract.ParseRange(randRange(rng))
		if err != nil {
			continue
		}
		parsed++
		if r.Upper() != nil {
			bounded++
		}
		lo, up := r.Lower(), r.Upper()
		for i, v := range versions {
			if r.Check(v) {
				checkKey(t, r, v, keys[i], lo, up)
			}
		}
	}
	if parsed < 700 || bounded < parsed/3 {
		t.Fatalf("generator too weak: %d ranges parsed, %d with an upper bound", parsed, bounded)
	}
}

func checkBounds(t *testing.T, r *contract.Range, v *semver.Version) {
	t.Helper()
	if r.Check(v) {
		checkKey(t, r, v, contract.SortKey(v), r.Lower(), r.Upper())
	}
}

func checkKey(t *testing.T, r *contract.Range, v *semver.Version, k, lo, up []byte) {
	t.Helper()
	if up != nil && bytes.Compare(k, up) >= 0 {
		t.Fatalf("range %q accepts %s (key %x) but Upper is %x", r, v, k, up)
	}
	if !contract.MayMatch(r, v) {
		t.Fatalf("range %q accepts %s but its group bounds reject it", r, v)
	}
	if lo != nil && bytes.Compare(k, lo) < 0 {
		t.Fatalf("range %q accepts %s (key %x) but Lower is %x", r, v, k, lo)
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"", "*", "1.2.3", "=1.2.3", "^1.2", "^0.2.3", "~1.2.3", "1.x", "1.2.x",
		"<2.0.0", "<=1.4.0", ">1.2 <3", "1.0.0 - 2.0.0", "^1 || ~2.3", "!=1.0.0", "^0.0", "~0.0.0", ">*", "<=*",
		">=1.0.0-alpha <1.0.0", "~1.2.4-rc.0", "=<1.2", "=>1.2.3-0"} {
		f.Add(s, uint64(1), uint64(2), uint64(3), "")
		f.Add(s, uint64(0), uint64(2), uint64(9), "rc.1")
		f.Add(s, uint64(1), uint64(2), uint64(3), "rc.1")
	}
	f.Fuzz(func(t *testing.T, s string, major, minor, patch uint64, pre string) {
		r, err := contract.ParseRange(s)
		if err != nil {
			if vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("error of kind %s: %v", vmerr.KindOf(err), err)
			}
			return
		}
		_ = r.String()
		exact := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "="))
		if r.Exact() {
			if _, err := contract.ParseVersion(exact); err != nil {
				t.Fatalf("Exact() for %q, which names no version", s)
			}
		}
		// Small parts collide with the ranges' numbers; huge ones test the
		// uint64 edges.
		small := func(n uint64) uint64 {
			if n < 1<<62 {
				return n % 5
			}
			return n
		}
		vs := fmt.Sprintf("%d.%d.%d", small(major), small(minor), small(patch))
		if pre != "" {
			vs += "-" + pre
		}
		if v, err := contract.ParseVersion(vs); err == nil {
			checkBounds(t, r, v)
			if r.Exact() && r.Check(v) != (v.String() == exact) {
				t.Fatalf("exact range %q: Check(%s) = %v", s, v, r.Check(v))
			}
		}
	})
}
