package contract

import (
	"bytes"
	"iter"
	"strings"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// Ref names a contract and the versions a caller accepts: "name@range", or
// "name" alone for name@*.
type Ref struct {
	Name  string
	Range *Range
}

// Entry is one version of a contract chain as the ledger stores it.
type Entry struct {
	Version string
	Yanked  bool
}

// ParseRef parses "name@range" or "name" (which means name@*). The name must
// pass ValidName and the range ParseRange; errors are of kind vmerr.Invalid.
func ParseRef(s string) (Ref, error) {
	name, rng, _ := strings.Cut(s, "@")
	if err := ValidName(name); err != nil {
		return Ref{}, err
	}
	r, err := ParseRange(rng)
	if err != nil {
		return Ref{}, err
	}
	return Ref{Name: name, Range: r}, nil
}

// String returns "name@range" ("name@*" for a bare name).
func (r Ref) String() string {
	if r.Range == nil {
		return r.Name + "@*"
	}
	return r.Name + "@" + r.Range.String()
}

// Resolve returns the highest entry that r accepts: r.Check(version) holds
// and the entry is not yanked, unless r is Exact (an exact range resolves a
// yanked version too).
//
// versions yields the entries of chain name in strictly descending SortKey
// order; the caller may start it anywhere at or above r.Upper() and may stop
// it below r.Lower(). Resolve stops at the first acceptable entry and at the
// first entry below r.Lower(), so it reads as little as the bounds allow.
//
// Errors: an error yielded by versions is returned as is; a stored version
// that ParseVersion refuses or entries out of descending order are kind
// vmerr.Internal (the chain's state is corrupt); no acceptable entry is kind
// vmerr.NotFound, "no version of NAME matches RANGE", mentioning yanked
// versions that matched but were skipped.
func Resolve(name string, r *Range, versions iter.Seq2[Entry, error]) (Entry, error) {
	const op = "contract.resolve"
	var key, prev []byte
	yanked := 0
	for e, err := range versions {
		if err != nil {
			return Entry{}, err
		}
		// Order and filter on the SortKey, built from the string without
		// allocating into two reused buffers; parse only the candidates.
		var pre, ok bool
		key, pre, ok = appendKeyOf(key[:0], e.Version)
		if !ok {
			_, err := ParseVersion(e.Version)
			return Entry{}, vmerr.E(op, vmerr.Internal, "stored version of %s: %w", name, err)
		}
		if prev != nil && bytes.Compare(key, prev) >= 0 {
			return Entry{}, vmerr.E(op, vmerr.Internal, "versions of %s are not in descending order at %s", name, e.Version)
		}
		if r.lower != nil && bytes.Compare(key, r.lower) < 0 {
			break
		}
		if r.mayMatch(key, pre) {
			v, err := ParseVersion(e.Version)
			if err != nil { // appendKeyOf accepted it, so this is a bug
				return Entry{}, vmerr.E(op, vmerr.Internal, "stored version of %s: %w", name, err)
			}
			if r.Check(v) {
				if !e.Yanked || r.Exact() {
					return e, nil
				}
				yanked++
			}
		}
		key, prev = prev, key
	}
	if yanked > 0 {
		return Entry{}, vmerr.E(op, vmerr.NotFound, "no version of %s matches %s (%d yanked version(s) match; name one exactly to use it)", name, r, yanked)
	}
	return Entry{}, vmerr.E(op, vmerr.NotFound, "no version of %s matches %s", name, r)
}
