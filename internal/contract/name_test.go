package contract_test

import (
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// checkErr fails t unless err is nil when wantErr is empty, or an error of
// kind want whose message contains wantErr.
func checkErr(t *testing.T, err error, want vmerr.Kind, wantErr string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case wantErr == "":
	case err == nil:
		t.Fatalf("got nil error, want %s error containing %q", want, wantErr)
	case vmerr.KindOf(err) != want:
		t.Fatalf("error %q has kind %s, want %s", err, vmerr.KindOf(err), want)
	case !strings.Contains(err.Error(), wantErr):
		t.Fatalf("error %q does not contain %q", err, wantErr)
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"min length", "ab", ""},
		{"max length", "a" + strings.Repeat("b", contract.MaxNameLen-1), ""},
		{"digits and hyphen", "hello-world2", ""},
		{"single hyphens", "a-b-c-9", ""},
		{"ends with digit", "a1", ""},
		{"empty", "", "shorter than 2"},
		{"one byte", "a", "shorter than 2"},
		{"too long", "a" + strings.Repeat("b", contract.MaxNameLen), "longer than 64"},
		{"starts with digit", "1abc", "must start with a lowercase letter"},
		{"starts with hyphen", "-abc", "must start with a lowercase letter"},
		{"starts upper", "Abc", "must start with a lowercase letter"},
		{"ends with hyphen", "abc-", "must not end with '-'"},
		{"upper inside", "aBc", "only a-z, 0-9 and '-'"},
		{"underscore", "a_b", "only a-z, 0-9 and '-'"},
		{"dot", "a.b", "only a-z, 0-9 and '-'"},
		{"at sign", "a@b", "only a-z, 0-9 and '-'"},
		{"nul", "a\x00b", "only a-z, 0-9 and '-'"},
		{"non-ascii", "caf\u00e9", "only a-z, 0-9 and '-'"},
		{"double hyphen", "a--b", `must not contain "--"`},
		{"an account address", "a" + strings.Repeat("0", 38) + "f", "names an account"},
		{"39 hex digits", "a" + strings.Repeat("0", 38), ""},
		{"41 hex digits", "a" + strings.Repeat("0", 40), ""},
		{"40 with a non-hex letter", "g" + strings.Repeat("0", 39), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, contract.ValidName(tt.in), vmerr.Invalid, tt.wantErr)
		})
	}
}

func TestValidTags(t *testing.T) {
	tags := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "t" + strings.Repeat("x", i)
		}
		return out
	}
	tests := []struct {
		name    string
		in      []string
		wantErr string
	}{
		{"none", nil, ""},
		{"max count", tags(contract.MaxTags), ""},
		{"max length", []string{strings.Repeat("a", contract.MaxTagLen)}, ""},
		{"digits and hyphens anywhere", []string{"0", "-", "a-1", "9-"}, ""},
		{"too many", tags(contract.MaxTags + 1), "9 tags; at most 8"},
		{"empty tag", []string{"a", ""}, "tag 1 is 0 bytes"},
		{"too long", []string{strings.Repeat("a", contract.MaxTagLen+1)}, "33 bytes"},
		{"upper", []string{"Go"}, "only a-z, 0-9 and '-'"},
		{"space", []string{"a b"}, "only a-z, 0-9 and '-'"},
		{"duplicate", []string{"a", "b", "a"}, `tag "a" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, contract.ValidTags(tt.in), vmerr.Invalid, tt.wantErr)
		})
	}
}

func TestValidDescription(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"empty", "", ""},
		{"max length", strings.Repeat("a", contract.MaxDescription), ""},
		{"max length multibyte", strings.Repeat("\u00e9", contract.MaxDescription/2), ""},
		{"unicode and punctuation", "Hello, \u4e16\u754c! \u2014 50% off <b>", ""},
		{"too long", strings.Repeat("a", contract.MaxDescription+1), "513 bytes; at most 512"},
		{"newline", "a\nb", "control character U+000A"},
		{"tab", "a\tb", "control character U+0009"},
		{"nul", "a\x00", "control character U+0000"},
		{"del", "a\x7f", "control character U+007F"},
		{"c1 control", "a\u0085", "control character U+0085"},
		{"invalid utf-8", "a\xffb", "not valid UTF-8 at byte 1"},
		{"truncated utf-8", "a\xe2\x82", "not valid UTF-8"},
		{"literal replacement char is fine", "a\uFFFDb", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, contract.ValidDescription(tt.in), vmerr.Invalid, tt.wantErr)
		})
	}
}
