package contract_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/virtual-machine/vm/internal/contract"
)

func mustVersion(t testing.TB, s string) *semver.Version {
	t.Helper()
	v, err := contract.ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustRange(t testing.TB, s string) *contract.Range {
	t.Helper()
	r, err := contract.ParseRange(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Small numbers so that random versions and ranges collide often, plus the
// byte-length edges of the SortKey number encoding.
var randNums = []uint64{0, 0, 1, 1, 2, 2, 3, 10, 255, 256, 65535, 65536, 1 << 56, 1<<64 - 1}

var randIdents = []string{"0", "1", "2", "10", "255", "256", "18446744073709551615",
	"a", "alpha", "beta", "rc", "A", "Z", "-", "--", "a-b", "1a", "0a", "x", "zz"}

func randNum(rng *rand.Rand) uint64 { return randNums[rng.IntN(len(randNums))] }

func randSmall(rng *rand.Rand) uint64 { return uint64(rng.IntN(4)) }

// randPre returns "" or a random prerelease of 1..3 identifiers.
func randPre(rng *rand.Rand) string {
	if rng.IntN(3) != 0 {
		return ""
	}
	ids := make([]string, 1+rng.IntN(3))
	for i := range ids {
		ids[i] = randIdents[rng.IntN(len(randIdents))]
	}
	return strings.Join(ids, ".")
}

// randVersion returns a random version that ParseVersion accepts.
func randVersion(rng *rand.Rand) *semver.Version {
	num := randSmall
	if rng.IntN(4) == 0 {
		num = randNum
	}
	s := fmt.Sprintf("%d.%d.%d", num(rng), num(rng), num(rng))
	if pre := randPre(rng); pre != "" {
		s += "-" + pre
	}
	v, err := contract.ParseVersion(s)
	if err != nil {
		return semver.New(0, 0, 0, "", "")
	}
	return v
}

// randPartial returns a version fragment as ranges write it: "1", "1.2",
// "1.x", "1.2.3-beta", "*", ...
func randPartial(rng *rand.Rand) string {
	part := func() string {
		switch rng.IntN(8) {
		case 0:
			return []string{"x", "X", "*"}[rng.IntN(3)]
		case 1:
			return fmt.Sprint(randNum(rng))
		}
		return fmt.Sprint(randSmall(rng))
	}
	s := part()
	for range rng.IntN(3) {
		s += "." + part()
	}
	if rng.IntN(4) == 0 {
		s += "-" + []string{"0", "alpha", "beta.2", "rc.1", "a"}[rng.IntN(5)]
	}
	if rng.IntN(10) == 0 {
		s = "v" + s
	}
	return s
}

var randOps = []string{"", "=", "!=", ">", "<", ">=", "=>", "<=", "=<", "~", "~>", "^"}

// randRange returns a random range string; some are not valid.
func randRange(rng *rand.Rand) string {
	term := func() string { return randOps[rng.IntN(len(randOps))] + randPartial(rng) }
	group := func() string {
		if rng.IntN(6) == 0 {
			return randPartial(rng) + " - " + randPartial(rng)
		}
		s := term()
		for range rng.IntN(3) {
			s += []string{" ", ", ", ","}[rng.IntN(3)] + term()
		}
		return s
	}
	s := group()
	for rng.IntN(5) == 0 {
		s += " || " + group()
	}
	return s
}
