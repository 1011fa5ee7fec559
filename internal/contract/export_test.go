package contract

import "github.com/Masterminds/semver/v3"

// MayMatch exposes the pre-filter of Resolve to the black-box tests, which
// check that it never rejects a version Check accepts.
func MayMatch(r *Range, v *semver.Version) bool {
	return r.mayMatch(appendSortKey(nil, v), v.Prerelease() != "")
}

// KeyOf exposes the allocation-free version-string encoder of Resolve, which
// must agree with ParseVersion and SortKey on every string.
func KeyOf(s string) ([]byte, bool, bool) { return appendKeyOf(nil, s) }
