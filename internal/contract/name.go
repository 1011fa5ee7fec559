package contract

import (
	"unicode"
	"unicode/utf8"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits of names, tags and descriptions. They are consensus rules: changing
// one changes which Deploy transactions are valid.
const (
	MinNameLen, MaxNameLen             = 2, 64
	MaxTags, MaxTagLen, MaxDescription = 8, 32, 512
)

// ValidName reports whether name may name a contract chain: 2..64 bytes
// matching ^[a-z][a-z0-9-]*[a-z0-9]$ with no "--" (so names stay readable
// and can never be confused with a separator), and not 40 hex digits: a
// contract calling another is named by its name as the caller, and an
// account by its address, so a contract must never be able to take an
// account's name. It returns nil or an error of kind vmerr.Invalid whose
// message names the rule that broke.
func ValidName(name string) error {
	const op = "contract.name"
	switch {
	case len(name) < MinNameLen:
		return vmerr.E(op, vmerr.Invalid, "name %q is shorter than %d bytes", name, MinNameLen)
	case len(name) > MaxNameLen:
		return vmerr.E(op, vmerr.Invalid, "name is longer than %d bytes (%d)", MaxNameLen, len(name))
	case name[0] < 'a' || name[0] > 'z':
		return vmerr.E(op, vmerr.Invalid, "name %q must start with a lowercase letter a-z", name)
	case name[len(name)-1] == '-':
		return vmerr.E(op, vmerr.Invalid, "name %q must not end with '-'", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isLowerAlnum(c) && c != '-' {
			return vmerr.E(op, vmerr.Invalid, "name %q has byte %q at %d; only a-z, 0-9 and '-' are allowed", name, c, i)
		}
		if c == '-' && name[i-1] == '-' {
			return vmerr.E(op, vmerr.Invalid, "name %q must not contain \"--\"", name)
		}
	}
	if isAddress(name) {
		return vmerr.E(op, vmerr.Invalid, "name %q is 40 hex digits, which names an account", name)
	}
	return nil
}

// isAddress reports whether name has the form of an account address as
// the runtime names a caller: 40 lower-case hex digits.
func isAddress(name string) bool {
	if len(name) != 40 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ValidTags reports whether tags may label a contract version: at most
// MaxTags, each 1..MaxTagLen bytes of [a-z0-9-], no duplicates. Tags are
// search keys, so they are restricted like names but may start with a digit
// or '-'. It returns nil or an error of kind vmerr.Invalid.
func ValidTags(tags []string) error {
	const op = "contract.tags"
	if len(tags) > MaxTags {
		return vmerr.E(op, vmerr.Invalid, "%d tags; at most %d are allowed", len(tags), MaxTags)
	}
	for i, t := range tags {
		if len(t) == 0 || len(t) > MaxTagLen {
			return vmerr.E(op, vmerr.Invalid, "tag %d is %d bytes; a tag has 1..%d bytes", i, len(t), MaxTagLen)
		}
		for j := 0; j < len(t); j++ {
			if !isLowerAlnum(t[j]) && t[j] != '-' {
				return vmerr.E(op, vmerr.Invalid, "tag %q has byte %q; only a-z, 0-9 and '-' are allowed", t, t[j])
			}
		}
		// Quadratic, but over at most MaxTags short strings: cheaper than a map.
		for _, u := range tags[:i] {
			if u == t {
				return vmerr.E(op, vmerr.Invalid, "tag %q appears twice", t)
			}
		}
	}
	return nil
}

// ValidDescription reports whether s may describe a contract version: at most
// MaxDescription bytes of valid UTF-8 without control characters (not even
// '\n' or '\t': a description is one line in every listing). It returns nil
// or an error of kind vmerr.Invalid.
func ValidDescription(s string) error {
	const op = "contract.description"
	if len(s) > MaxDescription {
		return vmerr.E(op, vmerr.Invalid, "description is %d bytes; at most %d are allowed", len(s), MaxDescription)
	}
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return vmerr.E(op, vmerr.Invalid, "description is not valid UTF-8 at byte %d", i)
			}
		}
		if unicode.IsControl(r) {
			return vmerr.E(op, vmerr.Invalid, "description has control character %U at byte %d", r, i)
		}
	}
	return nil
}

func isLowerAlnum(c byte) bool { return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') }
