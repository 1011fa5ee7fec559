package registry

import (
	"bytes"
	"strings"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits of List.
const (
	DefaultListLimit = 50
	MaxListLimit     = 100
	// listScanLimit bounds the registry entries one List examines, so a
	// filter that matches nothing cannot make one query walk the whole
	// registry; next then says where to resume.
	listScanLimit = 10_000
)

// Contract reads a registry entry; nil (and no error) when the name is
// free.
func Contract(r Reader, name string) (*statepb.Contract, error) {
	raw, err := r.Get(state.ContractKey(name))
	if err != nil || raw == nil {
		return nil, err
	}
	c, err := state.DecodeContract(raw)
	if err != nil {
		return nil, &CorruptError{err}
	}
	return c, nil
}

// MustContract is Contract with NotFound for a free name.
func MustContract(r Reader, name string) (*statepb.Contract, error) {
	c, err := Contract(r, name)
	if err == nil && c == nil {
		err = vmerr.E("registry.contract", vmerr.NotFound, "no contract named %q", name)
	}
	return c, err
}

// Resolve finds the version of name that rng selects (the highest
// non-yanked match, or an exact version yanked or not), scanning keys
// downwards between the range's bounds, so a chain of thousands of
// versions costs a few reads. It returns the record, its key and its
// stored bytes. Errors: NotFound, *CorruptError, and r's.
func Resolve(r Reader, name string, rng *contract.Range) (*statepb.Version, []byte, []byte, error) {
	if _, err := MustContract(r, name); err != nil {
		return nil, nil, nil, err
	}
	prefix := state.VersionPrefix(name)
	start, end := prefix, PrefixEnd(prefix)
	if lo := rng.Lower(); lo != nil {
		start = append(bytes.Clone(prefix), lo...)
	}
	if up := rng.Upper(); up != nil {
		end = append(bytes.Clone(prefix), up...)
	}
	var (
		foundKey, raw []byte
		foundVersion  string
		scanErr       error
	)
	seq := func(yield func(contract.Entry, error) bool) {
		scanErr = r.Scan(start, end, false, func(k, v []byte) bool {
			version, yanked, err := state.VersionHead(v)
			if err != nil {
				return yield(contract.Entry{}, &CorruptError{err})
			}
			foundKey, raw, foundVersion = k, v, version
			return yield(contract.Entry{Version: version, Yanked: yanked}, nil)
		})
	}
	e, err := contract.Resolve(name, rng, seq)
	if scanErr != nil {
		return nil, nil, nil, scanErr
	}
	if err != nil {
		return nil, nil, nil, err
	}
	// Resolve stops at the entry it picks, so it is the last one seen.
	if foundKey == nil || foundVersion != e.Version {
		return nil, nil, nil, vmerr.E("registry.resolve", vmerr.Internal, "resolution of %s@%s lost its record", name, rng)
	}
	found, err := state.DecodeVersion(raw)
	if err != nil {
		return nil, nil, nil, &CorruptError{err}
	}
	return found, bytes.Clone(foundKey), bytes.Clone(raw), nil
}

// Versions returns the stored records of every version of name, in
// ascending semver order, and their keys. Errors: NotFound and r's.
func Versions(r Reader, name string) (raws, keys [][]byte, err error) {
	if _, err := MustContract(r, name); err != nil {
		return nil, nil, err
	}
	prefix := state.VersionPrefix(name)
	err = r.Scan(prefix, PrefixEnd(prefix), true, func(k, v []byte) bool {
		raws, keys = append(raws, bytes.Clone(v)), append(keys, bytes.Clone(k))
		return true
	})
	return raws, keys, err
}

// List returns the registry entries (stored bytes and keys) q selects, in
// name order after q.After: the name or description contains q.Query
// (case-insensitive), the latest publish carries q.Tag, at most q.Limit
// (0 = DefaultListLimit). next is the After of the next page when the
// page is full or the scan stopped at its bound, else "". Errors: Invalid
// (limit, tag), *CorruptError, and r's.
func List(r Reader, q apitype.ContractQuery) (raws, keys [][]byte, next string, err error) {
	const op = "registry.list"
	switch {
	case q.Limit == 0:
		q.Limit = DefaultListLimit
	case q.Limit < 0 || q.Limit > MaxListLimit:
		return nil, nil, "", vmerr.E(op, vmerr.Invalid, "limit %d not in [1, %d]", q.Limit, MaxListLimit)
	}
	prefix := []byte{state.PrefixContract}
	if q.Tag != "" {
		if err := contract.ValidTags([]string{q.Tag}); err != nil {
			return nil, nil, "", err
		}
		prefix = state.TagPrefix(q.Tag)
	}
	start := append(bytes.Clone(prefix), q.After...)
	if q.After != "" {
		start = append(start, 0) // strictly after
	}
	needle := strings.ToLower(q.Query)
	var last string
	scanned := 0
	var inner error
	err = r.Scan(start, PrefixEnd(prefix), true, func(k, v []byte) bool {
		name := string(k[len(prefix):])
		last, scanned = name, scanned+1
		if q.Tag != "" {
			if v, inner = r.Get(state.ContractKey(name)); inner == nil && v == nil {
				inner = &CorruptError{vmerr.E(op, vmerr.Internal, "tag index names %q with no registry entry", name)}
			}
			if inner != nil {
				return false
			}
		}
		if needle != "" {
			c, err := state.DecodeContract(v)
			if err != nil {
				inner = &CorruptError{err}
				return false
			}
			if !strings.Contains(c.Name, needle) && !strings.Contains(strings.ToLower(c.Description), needle) {
				return scanned < listScanLimit
			}
		}
		raws, keys = append(raws, bytes.Clone(v)), append(keys, state.ContractKey(name))
		return len(raws) < q.Limit && scanned < listScanLimit
	})
	if err == nil {
		err = inner
	}
	if err != nil {
		return nil, nil, "", err
	}
	if len(raws) == q.Limit || scanned == listScanLimit {
		next = last
	}
	return raws, keys, next, nil
}
