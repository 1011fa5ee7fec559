package composite

import (
	"math/big"
	"testing"
)

func TestIsIntegerLiteral(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"0", true}, {"-0", true}, {"0.0", true}, {"7", true}, {"-12", true}, {"1.0", true}, {"1.50", false},
		{"1.5e1", true}, {"1.25e1", false}, {"10e-1", true}, {"1e-1", false}, {"100E-2", true}, {"100e-3", false},
		{"1e308", true}, {"1e-308", false}, {"0e-308", true}, {"0.000e5", true}, {"120.0e-1", true}, {"123.4e+1", true},
		{"1.2", false}, {"-0.5", false},
	}
	for _, tt := range tests {
		if got := isIntegerLiteral(tt.in); got != tt.want {
			t.Errorf("isIntegerLiteral(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzIsIntegerLiteral checks the text rule against big.Rat on number
// literals within the limits.
func FuzzIsIntegerLiteral(f *testing.F) {
	for _, s := range []string{"1", "1.0", "1.5e1", "10e-1", "-0.0e-0", "123.456e3", "9e-9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		if !isJSONNumber(lit) || checkNumber(lit) != nil {
			return
		}
		r, ok := new(big.Rat).SetString(lit)
		if !ok {
			t.Fatalf("big.Rat refuses JSON number %q", lit)
		}
		if got := isIntegerLiteral(lit); got != r.IsInt() {
			t.Fatalf("isIntegerLiteral(%q) = %v, big.Rat says %v", lit, got, r.IsInt())
		}
	})
}

// isJSONNumber reports whether s is a JSON number literal (RFC 8259).
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	if n := digits(); n == 0 || (n > 1 && s[start] == '0') {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
