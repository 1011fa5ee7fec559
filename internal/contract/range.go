package contract

import (
	"bytes"
	"math"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// MaxRangeLen is the longest range string ParseRange accepts.
const MaxRangeLen = 128

// Range is a parsed semver range (a Masterminds constraint) with the SortKey
// bounds of the versions it can match, computed once at parse time. A Range
// is immutable and safe for concurrent use. Build it with ParseRange.
type Range struct {
	src   string
	c     *semver.Constraints
	exact *semver.Version // non-nil when the range names exactly one version
	lower []byte          // inclusive lower key bound; nil = unbounded
	upper []byte          // exclusive upper key bound; nil = unbounded
	// groups are the key intervals of the OR groups, nil when bounds could
	// not analyse the range. Resolve uses them as a cheap necessary
	// condition before the library's Check, which formats an error for
	// every term a version fails and so costs about a microsecond.
	groups []group
}

// group is the analysis of one OR group of a range: its key interval and
// whether it admits prereleases at all.
type group struct {
	bound
	pre bool
}

// ParseRange parses a range in Masterminds syntax ("^1.2", "~1.2.3", "1.x",
// ">=1.0.0 <2.0.0", "1.0.0 - 1.4.0", "^1 || ^2", ...). "" and "*" mean any
// release version. Ranges are at most MaxRangeLen bytes of printable ASCII.
// Errors are of kind vmerr.Invalid.
//
// Matching is Masterminds' Check, including its prerelease rule: an AND group
// matches prerelease versions only when one of its own constraints names a
// prerelease.
func ParseRange(s string) (*Range, error) {
	const op = "contract.range"
	if len(s) > MaxRangeLen {
		return nil, vmerr.E(op, vmerr.Invalid, "range is %d bytes; at most %d are allowed", len(s), MaxRangeLen)
	}
	for i := 0; i < len(s); i++ {
		// Masterminds' \s would let tabs and newlines through; a range is
		// one line of printable ASCII in refs, URLs and logs.
		if s[i] < 0x20 || s[i] > 0x7e {
			return nil, vmerr.E(op, vmerr.Invalid, "range %q has byte %q at %d; only printable ASCII is allowed", s, s[i], i)
		}
	}
	src := s
	if strings.TrimSpace(src) == "" {
		src = "*"
	}
	c, err := semver.NewConstraint(src)
	if err != nil {
		return nil, vmerr.E(op, vmerr.Invalid, "range %q: %w", s, err)
	}
	r := &Range{src: src, c: c}
	if t := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(src), "=")); t != "" {
		if v, err := ParseVersion(t); err == nil {
			r.exact = v
		}
	}
	r.groups = groups(c)
	r.lower, r.upper = hull(r.groups)
	return r, nil
}

// String returns the range as given to ParseRange, "*" for an empty one.
func (r *Range) String() string { return r.src }

// Check reports whether v satisfies the range.
func (r *Range) Check(v *semver.Version) bool { return r.c.Check(v) }

// Exact reports whether the range names exactly one version: a bare full
// version "1.2.3" or "=1.2.3" (with an optional prerelease, without a "v").
// Such a range resolves even to a yanked version.
func (r *Range) Exact() bool { return r.exact != nil }

// Upper returns an exclusive upper bound in SortKey space: every version v
// that ParseVersion accepts and r.Check(v) holds for has
// bytes.Compare(SortKey(v), r.Upper()) < 0. nil means unbounded. The bound is
// tight for the common forms (exact, =, ^, ~, x-ranges, <, <=, hyphen
// ranges) and sound for every range; see groups. The caller owns the result.
func (r *Range) Upper() []byte { return bytes.Clone(r.upper) }

// Lower returns an inclusive lower bound in SortKey space: every version v
// that r.Check(v) holds for has bytes.Compare(SortKey(v), r.Lower()) >= 0.
// nil means unbounded. A descending scan may stop below it. The caller owns
// the result.
func (r *Range) Lower() []byte { return bytes.Clone(r.lower) }

// mayMatch is a necessary condition for Check: false means no version with
// SortKey key (a prerelease when pre) can satisfy the range.
func (r *Range) mayMatch(key []byte, pre bool) bool {
	if r.groups == nil {
		return true
	}
	for _, g := range r.groups {
		if (!pre || g.pre) && g.contains(key) {
			return true
		}
	}
	return false
}

// cvRe is Masterminds' cvRegex (constraints.go, v3.5.0), anchored: the
// version part of one constraint. Its groups give the same m[3..6] as the
// library's constraintRegex, so bounds rebuilds the same constraint version.
var cvRe = regexp.MustCompile(`^v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?` +
	`(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?` +
	`(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$`)

// ops are Masterminds' operators, longest first so a prefix match is right.
var ops = []string{"!=", ">=", "=>", "<=", "=<", "~>", ">", "<", "=", "~", "^"}

// bound is a key interval [lo, hi); nil ends are unbounded.
type bound struct{ lo, hi []byte }

func (b bound) contains(key []byte) bool {
	return (b.lo == nil || bytes.Compare(key, b.lo) >= 0) && (b.hi == nil || bytes.Compare(key, b.hi) < 0)
}

// term is one parsed constraint: operator, constraint version and which
// parts were x (or missing), exactly as Masterminds' parseConstraint sets
// them.
type term struct {
	op                            string
	con                           *semver.Version
	dirty, minorDirty, patchDirty bool
}

// groups analyses c from its canonical String() form ("op+version" terms
// joined by " ", groups joined by " || "), mirroring the library's
// constraint functions: a group's interval is the intersection of its
// terms'. Whatever it cannot analyse it leaves unbounded, which is always
// sound; it returns nil when it cannot even parse a term. Soundness is
// checked against Check by property and fuzz tests.
func groups(c *semver.Constraints) []group {
	var gs []group
	for _, s := range strings.Split(c.String(), " || ") {
		var terms []term
		var g group
		for _, s := range strings.Split(s, " ") {
			tm, ok := parseTerm(s)
			if !ok {
				return nil
			}
			// As Masterminds: a prerelease in any term admits prereleases
			// to the whole group.
			g.pre = g.pre || tm.con.Prerelease() != ""
			terms = append(terms, tm)
		}
		for i, tm := range terms {
			b := tm.bound(g.pre)
			if i == 0 || (b.lo != nil && bytes.Compare(b.lo, g.lo) > 0) {
				g.lo = b.lo
			}
			if i == 0 || (b.hi != nil && (g.hi == nil || bytes.Compare(b.hi, g.hi) < 0)) {
				g.hi = b.hi
			}
		}
		gs = append(gs, g)
	}
	return gs
}

// hull is the least interval holding every group's interval; nil ends are
// unbounded, and so is everything when gs is nil.
func hull(gs []group) (lo, hi []byte) {
	for i, g := range gs {
		if i == 0 {
			lo, hi = g.lo, g.hi
			continue
		}
		if lo != nil && (g.lo == nil || bytes.Compare(g.lo, lo) < 0) {
			lo = g.lo
		}
		if hi != nil && (g.hi == nil || bytes.Compare(g.hi, hi) > 0) {
			hi = g.hi
		}
	}
	return lo, hi
}

// parseTerm parses one "op+version" term as parseConstraint does; ok is
// false when it cannot (bounds then gives up, which is sound).
func parseTerm(s string) (tm term, ok bool) {
	for _, o := range ops {
		if strings.HasPrefix(s, o) {
			tm.op = o
			break
		}
	}
	m := cvRe.FindStringSubmatch(s[len(tm.op):])
	if m == nil {
		return term{}, false
	}
	// An x (or missing part) makes the term "dirty" and the constraint
	// version gets zeros from there on.
	ver := m[0]
	switch {
	case isX(m[1]):
		ver, tm.dirty = "0.0.0"+m[4], true
	case m[2] == "" || isX(m[2][1:]):
		ver, tm.dirty, tm.minorDirty = m[1]+".0.0"+m[4], true, true
	case m[3] == "" || isX(m[3][1:]):
		ver, tm.dirty, tm.patchDirty = m[1]+m[2]+".0"+m[4], true, true
	}
	con, err := semver.NewVersion(ver)
	if err != nil {
		return term{}, false
	}
	tm.con = con
	return tm, true
}

// bound is the key interval of one term, following Masterminds' constraint
// functions case by case. pre tells whether the term's group admits
// prereleases.
func (tm term) bound(pre bool) bound {
	key := appendSortKey(nil, tm.con)
	M, mi, p := tm.con.Major(), tm.con.Minor(), tm.con.Patch()
	above := append(bytes.Clone(key), 0) // the least key greater than key
	nextMajor := tripleBound(M, math.MaxUint64, math.MaxUint64)
	nextMinor := tripleBound(M, mi, math.MaxUint64)
	switch tm.op {
	case "", "=":
		if !tm.dirty {
			return bound{key, above} // v.Equal(con)
		}
		fallthrough // a dirty "=" is a tilde
	case "~", "~>":
		switch {
		case M == 0 && mi == 0 && p == 0 && !tm.minorDirty && !tm.patchDirty:
			return bound{key, nil} // ~0.0.0 and ~* accept anything >= con
		case tm.minorDirty:
			return bound{key, nextMajor}
		default:
			return bound{key, nextMinor}
		}
	case "^":
		switch {
		case M > 0 || tm.minorDirty:
			return bound{key, nextMajor}
		case mi > 0 || tm.patchDirty:
			return bound{key, nextMinor}
		default:
			return bound{key, tripleBound(0, 0, p)}
		}
	case "<":
		if !pre {
			// No prereleases in this group, so "<2.0.0" stops below
			// every 2.0.0-x too: the triple's prefix is the bound.
			return bound{nil, appendTriple(nil, M, mi, p)}
		}
		return bound{nil, key}
	case "<=", "=<":
		switch {
		case !tm.dirty:
			return bound{nil, above}
		case tm.minorDirty:
			return bound{nil, nextMajor}
		default:
			return bound{nil, nextMinor}
		}
	case ">=", "=>":
		return bound{key, nil}
	case ">":
		switch {
		case !tm.dirty || (!tm.minorDirty && !tm.patchDirty):
			return bound{above, nil}
		case tm.minorDirty:
			return bound{nextMajor, nil}
		default:
			return bound{nextMinor, nil}
		}
	}
	return bound{} // "!="
}

// tripleBound returns the key prefix of the least triple after
// (major, minor, patch) where a MaxUint64 part means "any value": the
// exclusive upper bound of all versions whose triple starts with the
// given, non-wildcard parts. nil when there is no larger triple.
func tripleBound(major, minor, patch uint64) []byte {
	switch {
	case patch != math.MaxUint64:
		return appendTriple(nil, major, minor, patch+1)
	case minor != math.MaxUint64:
		return appendTriple(nil, major, minor+1, 0)
	case major != math.MaxUint64:
		return appendTriple(nil, major+1, 0, 0)
	}
	return nil
}

func isX(s string) bool { return s == "x" || s == "X" || s == "*" }
