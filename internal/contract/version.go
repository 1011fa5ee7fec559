package contract

import (
	"bytes"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// MaxVersionLen is the longest version string a chain accepts.
const MaxVersionLen = 64

// Tags of the SortKey encoding after MAJOR, MINOR and PATCH. Their order is
// the semver precedence: a numeric prerelease identifier < an alphanumeric
// one < "no prerelease at all" (a release outranks its prereleases).
const (
	tagNum     = 0x01 // numeric prerelease identifier: a uint follows
	tagAlnum   = 0x02 // alphanumeric identifier: its bytes and 0x00 follow
	tagRelease = 0x03 // no prerelease; ends the key
)

// ParseVersion parses a strict semver 2.0.0 version MAJOR.MINOR.PATCH with an
// optional -PRERELEASE: no "v" prefix, no leading zeros, no build metadata
// (two versions differing only in metadata have equal precedence and would
// collide in the chain), at most MaxVersionLen bytes, and every numeric
// prerelease identifier at most 2^64-1 (the semver library compares larger
// ones as text, which SortKey could not reproduce). Errors are of kind
// vmerr.Invalid.
func ParseVersion(s string) (*semver.Version, error) {
	const op = "contract.version"
	if len(s) > MaxVersionLen {
		return nil, vmerr.E(op, vmerr.Invalid, "version is %d bytes; at most %d are allowed", len(s), MaxVersionLen)
	}
	if strings.HasPrefix(s, "v") || strings.HasPrefix(s, "V") {
		return nil, vmerr.E(op, vmerr.Invalid, "version %q must not start with %q", s, s[:1])
	}
	v, err := semver.StrictNewVersion(s)
	if err != nil {
		return nil, vmerr.E(op, vmerr.Invalid, "version %q is not strict semver MAJOR.MINOR.PATCH[-PRERELEASE]: %w", s, err)
	}
	if v.Metadata() != "" {
		return nil, vmerr.E(op, vmerr.Invalid, "version %q has build metadata %q, which is not allowed", s, v.Metadata())
	}
	if pre := v.Prerelease(); pre != "" {
		for id := range strings.SplitSeq(pre, ".") {
			if isDigits(id) {
				if _, err := strconv.ParseUint(id, 10, 64); err != nil {
					return nil, vmerr.E(op, vmerr.Invalid, "version %q: numeric prerelease identifier %q exceeds 2^64-1", s, id)
				}
			}
		}
	}
	return v, nil
}

// SortKey returns the order-preserving byte encoding of v: for any two
// versions a and b accepted by ParseVersion,
// bytes.Compare(SortKey(a), SortKey(b)) == a.Compare(b).
//
// Layout: MAJOR, MINOR and PATCH as uints, then either tagRelease, or one
// (tagNum uint) or (tagAlnum bytes 0x00) per prerelease identifier. A uint is
// one length byte n (0..8) and n big-endian bytes without leading zeros, so a
// longer number is a larger one. Identifiers are [0-9A-Za-z-], all above
// 0x00, so the 0x00 terminator makes a prefix sort first ("a" < "ab"), and a
// shorter identifier list is a prefix of a longer one and sorts first.
//
// SortKey is total: build metadata is ignored, as Compare ignores it, and an
// all-digit identifier above 2^64-1 (which ParseVersion refuses) is encoded
// as alphanumeric, which is how the semver library compares it, so the order
// still equals Compare for every version the library parses.
func SortKey(v *semver.Version) []byte {
	return appendSortKey(make([]byte, 0, 16+len(v.Prerelease())+4), v)
}

// VersionFromSortKey is the inverse of SortKey. It accepts only keys that
// SortKey produces for a version ParseVersion accepts; anything else is an
// error of kind vmerr.Decode.
func VersionFromSortKey(k []byte) (*semver.Version, error) {
	const op = "contract.sortkey"
	bad := func(why string) error { return vmerr.E(op, vmerr.Decode, "bad version sort key %x: %s", k, why) }
	var nums [3]uint64
	rest := k
	for i := range nums {
		n, r, ok := readUint(rest)
		if !ok {
			return nil, bad("truncated or non-canonical number")
		}
		nums[i], rest = n, r
	}
	var b strings.Builder
	b.WriteString(strconv.FormatUint(nums[0], 10) + "." + strconv.FormatUint(nums[1], 10) + "." + strconv.FormatUint(nums[2], 10))
	switch {
	case len(rest) == 0:
		return nil, bad("missing release or prerelease tag")
	case rest[0] == tagRelease:
		if len(rest) != 1 {
			return nil, bad("bytes after the release tag")
		}
	default:
		for i := 0; len(rest) > 0; i++ {
			if b.Len() > MaxVersionLen {
				return nil, bad("version too long")
			}
			if i == 0 {
				b.WriteByte('-')
			} else {
				b.WriteByte('.')
			}
			switch rest[0] {
			case tagNum:
				n, r, ok := readUint(rest[1:])
				if !ok {
					return nil, bad("truncated or non-canonical prerelease number")
				}
				b.WriteString(strconv.FormatUint(n, 10))
				rest = r
			case tagAlnum:
				end := bytes.IndexByte(rest[1:], 0)
				if end < 0 {
					return nil, bad("unterminated prerelease identifier")
				}
				b.Write(rest[1 : 1+end])
				rest = rest[1+end+1:]
			default:
				return nil, bad("unknown tag")
			}
		}
	}
	// Re-parse and re-encode: ParseVersion checks identifier syntax and
	// length, and equality of the keys refuses every non-canonical encoding
	// (e.g. an all-digit identifier under tagAlnum).
	v, err := ParseVersion(b.String())
	if err != nil {
		return nil, bad(err.Error())
	}
	if !bytes.Equal(appendSortKey(nil, v), k) {
		return nil, bad("non-canonical encoding")
	}
	return v, nil
}

// appendKeyOf appends the SortKey of the version string s to b without
// parsing it into a semver.Version, so without allocating. It accepts
// exactly the strings ParseVersion accepts (a fuzz test holds it to that);
// ok is false for any other. pre reports a prerelease. Resolve uses it to
// order and filter a chain's entries before it parses the few candidates.
func appendKeyOf(b []byte, s string) (key []byte, pre, ok bool) {
	if len(s) > MaxVersionLen {
		return b, false, false
	}
	i := 0
	for part := range 3 {
		n, end, ok := scanNum(s, i)
		if !ok {
			return b, false, false
		}
		b = appendUint(b, n)
		i = end
		if part < 2 {
			if i == len(s) || s[i] != '.' {
				return b, false, false
			}
			i++
		}
	}
	if i == len(s) {
		return append(b, tagRelease), false, true
	}
	if s[i] != '-' {
		return b, false, false
	}
	// Prerelease identifiers, each ended by '.' or the end of s.
	for i++; ; i++ {
		start, digits := i, true
		for ; i < len(s) && s[i] != '.'; i++ {
			c := s[i]
			switch {
			case '0' <= c && c <= '9':
			case ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '-':
				digits = false
			default:
				return b, false, false
			}
		}
		switch {
		case i == start:
			return b, false, false // empty identifier
		case digits:
			n, end, ok := scanNum(s[:i], start)
			if !ok || end != i {
				return b, false, false
			}
			b = appendUint(append(b, tagNum), n)
		default:
			b = append(append(append(b, tagAlnum), s[start:i]...), 0)
		}
		if i == len(s) {
			return b, true, true
		}
	}
}

// scanNum reads a semver number at s[i:]: digits without a leading zero
// that fit in a uint64. end is the index after the last digit.
func scanNum(s string, i int) (n uint64, end int, ok bool) {
	start := i
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, 0, false
		}
		n = n*10 + d
	}
	if i == start || (i-start > 1 && s[start] == '0') {
		return 0, 0, false
	}
	return n, i, true
}

// appendSortKey appends the SortKey of v to b.
func appendSortKey(b []byte, v *semver.Version) []byte {
	b = appendTriple(b, v.Major(), v.Minor(), v.Patch())
	pre := v.Prerelease()
	if pre == "" {
		return append(b, tagRelease)
	}
	for id := range strings.SplitSeq(pre, ".") {
		// Numeric exactly when the library's comparePrePart parses it as
		// a uint64 (isDigits first: a failed ParseUint allocates an error).
		if isDigits(id) {
			if n, err := strconv.ParseUint(id, 10, 64); err == nil {
				b = appendUint(append(b, tagNum), n)
				continue
			}
		}
		b = append(append(append(b, tagAlnum), id...), 0)
	}
	return b
}

// appendTriple appends the encoding of MAJOR.MINOR.PATCH. Alone it is a
// proper prefix of the key of every version with that triple, so it sorts
// below all of them and above every version with a smaller triple.
func appendTriple(b []byte, major, minor, patch uint64) []byte {
	return appendUint(appendUint(appendUint(b, major), minor), patch)
}

func appendUint(b []byte, n uint64) []byte {
	size := (bits.Len64(n) + 7) / 8
	b = append(b, byte(size))
	for shift := 8 * (size - 1); shift >= 0; shift -= 8 {
		b = append(b, byte(n>>shift))
	}
	return b
}

// readUint decodes one appendUint number from b; ok is false when b is
// truncated, the length is over 8 or the number has a leading zero byte.
func readUint(b []byte) (n uint64, rest []byte, ok bool) {
	if len(b) == 0 || b[0] > 8 || len(b) < 1+int(b[0]) {
		return 0, nil, false
	}
	size := int(b[0])
	if size > 0 && b[1] == 0 {
		return 0, nil, false
	}
	for _, c := range b[1 : 1+size] {
		n = n<<8 | uint64(c)
	}
	return n, b[1+size:], true
}

// isDigits reports whether s is non-empty and all ASCII digits: a numeric
// prerelease identifier in semver's sense.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
