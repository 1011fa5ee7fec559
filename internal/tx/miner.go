package tx

import (
	"net/url"
	"strings"

	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits of a MinerRegister message.
const (
	MaxMinerCapacity = 1024 // concurrent jobs one miner may announce
	MaxEndpoint      = 256  // bytes of a miner's endpoint URL
	MaxSoftware      = 64   // bytes of a miner's software version
)

// minerKinds are the kinds of miner, in the order the API documents them.
var minerKinds = [...]string{"cpu", "gpu", "storage", "browser", "relay"}

// MinerKinds returns the valid miner kinds: cpu, gpu, storage, browser,
// relay.
func MinerKinds() []string { return append([]string(nil), minerKinds[:]...) }

// ValidMinerKind reports whether k is one of MinerKinds.
func ValidMinerKind(k string) bool {
	for _, v := range minerKinds {
		if k == v {
			return true
		}
	}
	return false
}

// ValidateMinerRegister checks a MinerRegister's own fields: the kind is
// one of MinerKinds, capacity is 1..MaxMinerCapacity, min_gas is at most
// MaxAmount, the endpoint is empty or an absolute http, https, ws or wss
// URL with a host and no credentials or fragment of at most MaxEndpoint
// printable ASCII bytes, and the software version is at most MaxSoftware
// printable ASCII bytes. Errors: Invalid, TooLarge (endpoint, version),
// Overflow (min_gas).
func ValidateMinerRegister(m *txpb.MinerRegister) error {
	const op = "tx.miner_register"
	if !ValidMinerKind(m.GetKind()) {
		return vmerr.E(op, vmerr.Invalid, "miner kind %q: want one of %s", m.GetKind(), strings.Join(minerKinds[:], ", "))
	}
	if c := m.GetCapacity(); c < 1 || c > MaxMinerCapacity {
		return vmerr.E(op, vmerr.Invalid, "capacity %d not in [1, %d]", c, MaxMinerCapacity)
	}
	if g := m.GetMinGas(); g > MaxAmount {
		return vmerr.E(op, vmerr.Overflow, "min_gas %d exceeds the maximum %d", g, uint64(MaxAmount))
	}
	if err := validEndpoint(m.GetEndpoint()); err != nil {
		return err
	}
	v := m.GetSoftwareVersion()
	if len(v) > MaxSoftware {
		return vmerr.E(op, vmerr.TooLarge, "software version is %d bytes, limit %d", len(v), MaxSoftware)
	}
	if !printable(v, true) {
		return vmerr.E(op, vmerr.Invalid, "software version %q: printable ASCII only", v)
	}
	return nil
}

// validEndpoint checks a miner's reachability URL ("" = none). The
// byte-level rules come first, so what url.Parse sees is plain ASCII with
// no spaces.
func validEndpoint(e string) error {
	const op = "tx.miner_register"
	if e == "" {
		return nil
	}
	if len(e) > MaxEndpoint {
		return vmerr.E(op, vmerr.TooLarge, "endpoint is %d bytes, limit %d", len(e), MaxEndpoint)
	}
	if !printable(e, false) {
		return vmerr.E(op, vmerr.Invalid, "endpoint %q: printable ASCII without spaces only", e)
	}
	u, err := url.Parse(e)
	if err != nil {
		return vmerr.E(op, vmerr.Invalid, "endpoint %q: %v", e, err)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return vmerr.E(op, vmerr.Invalid, "endpoint %q: scheme must be http, https, ws or wss", e)
	}
	switch {
	case u.Host == "" || u.Hostname() == "":
		return vmerr.E(op, vmerr.Invalid, "endpoint %q has no host", e)
	case u.User != nil:
		return vmerr.E(op, vmerr.Invalid, "endpoint %q carries credentials; it is public", e)
	case u.Fragment != "" || strings.Contains(e, "#"):
		return vmerr.E(op, vmerr.Invalid, "endpoint %q has a fragment", e)
	}
	return nil
}

// printable reports whether s is ASCII 0x21..0x7E (and 0x20 with space).
func printable(s string, space bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > 0x7E || c < 0x20 || (c == 0x20 && !space) {
			return false
		}
	}
	return true
}
