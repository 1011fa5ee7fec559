package contract_test

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{"release", "1.2.3", "1.2.3", ""},
		{"zeros", "0.0.0", "0.0.0", ""},
		{"prerelease", "1.0.0-alpha.1", "1.0.0-alpha.1", ""},
		{"prerelease hyphens", "1.0.0-x-y.--.0a", "1.0.0-x-y.--.0a", ""},
		{"max uint64 parts", "18446744073709551615.0.18446744073709551615", "18446744073709551615.0.18446744073709551615", ""},
		{"max uint64 prerelease id", "1.0.0-18446744073709551615", "1.0.0-18446744073709551615", ""},
		{"max length", "1.0.0-" + strings.Repeat("a", 58), "1.0.0-" + strings.Repeat("a", 58), ""},
		{"too long", "1.0.0-" + strings.Repeat("a", 59), "", "65 bytes; at most 64"},
		{"empty", "", "", "not strict semver"},
		{"v prefix", "v1.2.3", "", `must not start with "v"`},
		{"V prefix", "V1.2.3", "", `must not start with "V"`},
		{"two parts", "1.2", "", "not strict semver"},
		{"four parts", "1.2.3.4", "", "not strict semver"},
		{"leading zero", "01.2.3", "", "not strict semver"},
		{"leading zero prerelease", "1.2.3-01", "", "not strict semver"},
		{"empty prerelease id", "1.2.3-a..b", "", "not strict semver"},
		{"empty prerelease", "1.2.3-", "", "not strict semver"},
		{"bad prerelease char", "1.2.3-a_b", "", "not strict semver"},
		{"build metadata", "1.2.3+build.5", "", `build metadata "build.5"`},
		{"prerelease and metadata", "1.2.3-rc.1+b", "", "build metadata"},
		{"major overflows", "18446744073709551616.0.0", "", "not strict semver"},
		{"prerelease number overflows", "1.0.0-18446744073709551616", "", "exceeds 2^64-1"},
		{"space", " 1.2.3", "", "not strict semver"},
		{"x", "1.2.x", "", "not strict semver"},
		{"negative", "-1.2.3", "", "not strict semver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := contract.ParseVersion(tt.in)
			checkErr(t, err, vmerr.Invalid, tt.wantErr)
			if err == nil && v.String() != tt.want {
				t.Fatalf("ParseVersion(%q) = %s, want %s", tt.in, v, tt.want)
			}
			// Resolve's allocation-free encoder must agree on every input.
			key, pre, ok := contract.KeyOf(tt.in)
			if ok != (err == nil) || (ok && (!bytes.Equal(key, contract.SortKey(v)) || pre != (v.Prerelease() != ""))) {
				t.Fatalf("KeyOf(%q) = %x, %v, %v; ParseVersion error %v", tt.in, key, pre, ok, err)
			}
		})
	}
}

// TestSortKeyOrder checks SortKey against semver precedence on the examples
// of the semver 2.0.0 spec, in ascending order.
func TestSortKeyOrder(t *testing.T) {
	asc := []string{
		"0.0.0-0", "0.0.0", "0.0.1", "0.1.0", "0.255.0", "0.256.0",
		"1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-255", "1.0.0-256", "1.0.0-18446744073709551615",
		"1.0.0--", "1.0.0-A", "1.0.0-Z", "1.0.0-a", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
		"1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0",
		"2.0.0", "2.1.0", "2.1.1", "10.0.0", "255.0.0", "256.0.0", "18446744073709551615.0.0",
	}
	for i := 1; i < len(asc); i++ {
		a, b := mustVersion(t, asc[i-1]), mustVersion(t, asc[i])
		if a.Compare(b) != -1 {
			t.Fatalf("test data: %s is not below %s in semver", a, b)
		}
		if bytes.Compare(contract.SortKey(a), contract.SortKey(b)) != -1 {
			t.Errorf("SortKey(%s)=%x is not below SortKey(%s)=%x", a, contract.SortKey(a), b, contract.SortKey(b))
		}
	}
}

// TestSortKeyLibraryVersions checks that SortKey is total and still equals
// Compare on versions the library parses but ParseVersion refuses: oversized
// numeric identifiers (compared as text by the library) and build metadata
// (ignored).
func TestSortKeyLibraryVersions(t *testing.T) {
	asc := []string{"1.0.0-5", "1.0.0-18446744073709551615", "1.0.0-18446744073709551616",
		"1.0.0-99999999999999999999", "1.0.0-a", "1.0.0+zzz", "v1.0.1"}
	for i := 1; i < len(asc); i++ {
		a, err1 := semver.NewVersion(asc[i-1])
		b, err2 := semver.NewVersion(asc[i])
		if err1 != nil || err2 != nil || a.Compare(b) != -1 {
			t.Fatalf("test data: %s < %s: %v %v", asc[i-1], asc[i], err1, err2)
		}
		if bytes.Compare(contract.SortKey(a), contract.SortKey(b)) != -1 {
			t.Errorf("SortKey(%s) is not below SortKey(%s)", a, b)
		}
	}
	same := []string{"1.0.0", "1.0.0+b", "v1.0.0"}
	for _, s := range same {
		if v, err := semver.NewVersion(s); err != nil || !bytes.Equal(contract.SortKey(v), contract.SortKey(mustVersion(t, "1.0.0"))) {
			t.Errorf("SortKey(%s) differs from SortKey(1.0.0): %v", s, err)
		}
	}
}

func TestSortKeyRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a, b := randVersion(rng), randVersion(rng)
		ka, kb := contract.SortKey(a), contract.SortKey(b)
		if got, want := bytes.Compare(ka, kb), a.Compare(b); got != want {
			t.Fatalf("bytes.Compare(SortKey(%s), SortKey(%s)) = %d, semver Compare = %d", a, b, got, want)
		}
		back, err := contract.VersionFromSortKey(ka)
		if err != nil || back.String() != a.String() {
			t.Fatalf("VersionFromSortKey(SortKey(%s)) = %v, %v", a, back, err)
		}
		if fast, _, ok := contract.KeyOf(a.String()); !ok || !bytes.Equal(fast, ka) {
			t.Fatalf("KeyOf(%s) = %x, %v; SortKey %x", a, fast, ok, ka)
		}
	}
}

func TestVersionFromSortKeyGarbage(t *testing.T) {
	valid := contract.SortKey(mustVersion(t, "1.2.3-alpha.7"))
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"truncated number", []byte{1}},
		{"number too long", []byte{9, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"leading zero byte", []byte{2, 0, 1, 0, 0, 3}},
		{"no tag", []byte{1, 1, 0, 0}},
		{"bytes after release", []byte{1, 1, 0, 0, 3, 3}},
		{"unknown tag", []byte{1, 1, 0, 0, 4}},
		{"unterminated identifier", []byte{1, 1, 0, 0, 2, 'a'}},
		{"empty identifier", []byte{1, 1, 0, 0, 2, 0}},
		{"digits as alphanumeric", []byte{1, 1, 0, 0, 2, '7', 0}},
		{"bad identifier byte", []byte{1, 1, 0, 0, 2, '_', 0}},
		{"release tag after prerelease", append(bytes.Clone(valid), 3)},
		{"truncated", valid[:len(valid)-1]},
		{"too long", append([]byte{1, 1, 0, 0, 2}, append(bytes.Repeat([]byte{'a'}, 64), 0)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := contract.VersionFromSortKey(tt.in)
			checkErr(t, err, vmerr.Decode, "bad version sort key")
			if v != nil {
				t.Fatalf("got version %s with an error", v)
			}
		})
	}
}

func FuzzSortKey(f *testing.F) {
	f.Add("1.0.0", "1.0.0-rc.1")
	f.Add("1.0.0-alpha", "1.0.0-alpha.1")
	f.Add("1.0.0-2", "1.0.0-10")
	f.Add("1.0.0-1", "1.0.0-a")
	f.Add("0.0.255", "0.0.256")
	f.Add("1.0.0-01", "01.0.0")
	f.Add("1.0.0-18446744073709551616", "1.0.0+b")
	f.Add("1.0.0-", "1.0.0-a..b")
	f.Add("1.0.0-5", "1.0.0-99999999999999999999")
	f.Fuzz(func(t *testing.T, a, b string) {
		va, err := contract.ParseVersion(a)
		fast, pre, ok := contract.KeyOf(a)
		if ok != (err == nil) {
			t.Fatalf("KeyOf(%q) ok=%v, ParseVersion error %v", a, ok, err)
		}
		if err != nil {
			return
		}
		ka := contract.SortKey(va)
		if !bytes.Equal(fast, ka) || pre != (va.Prerelease() != "") {
			t.Fatalf("KeyOf(%q) = %x, %v; SortKey %x", a, fast, pre, ka)
		}
		back, err := contract.VersionFromSortKey(ka)
		if err != nil || back.String() != va.String() {
			t.Fatalf("round trip of %s: %v, %v", va, back, err)
		}
		// Order holds for every version the library parses, too.
		if la, err := semver.NewVersion(a); err == nil {
			if got, want := bytes.Compare(contract.SortKey(la), ka), la.Compare(va); got != want {
				t.Fatalf("order of library version %s vs %s: keys %d, semver %d", la, va, got, want)
			}
		}
		vb, err := contract.ParseVersion(b)
		if err != nil {
			if lb, err := semver.NewVersion(b); err == nil {
				if got, want := bytes.Compare(ka, contract.SortKey(lb)), va.Compare(lb); got != want {
					t.Fatalf("order of %s vs library version %s: keys %d, semver %d", va, lb, got, want)
				}
			}
			return
		}
		if got, want := bytes.Compare(ka, contract.SortKey(vb)), va.Compare(vb); got != want {
			t.Fatalf("order of %s, %s: keys %d, semver %d", va, vb, got, want)
		}
	})
}

func FuzzVersionFromSortKey(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 1, 0, 0, 3})
	f.Add(contract.SortKey(mustVersion(f, "1.2.3-alpha.7.x-y")))
	f.Add([]byte{1, 1, 0, 0, 2, '7', 0})
	f.Fuzz(func(t *testing.T, k []byte) {
		v, err := contract.VersionFromSortKey(k)
		if err != nil {
			if vmerr.KindOf(err) != vmerr.Decode {
				t.Fatalf("error of kind %s: %v", vmerr.KindOf(err), err)
			}
			return
		}
		if _, err := contract.ParseVersion(v.String()); err != nil {
			t.Fatalf("decoded %s that ParseVersion refuses: %v", v, err)
		}
		if got := contract.SortKey(v); !bytes.Equal(got, k) {
			t.Fatalf("decoded %x to %s, which encodes to %x", k, v, got)
		}
	})
}
