package wasm

import (
	"slices"
	"strconv"
	"strings"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// exportedGlobals returns the names of the exported globals the meter
// created for snapshotting ("vm_g<index>"), in index order.
func exportedGlobals(bin []byte) ([]string, error) {
	names, err := exportedNames(bin, 3)
	if err != nil {
		return nil, err
	}
	type gname struct {
		idx  int
		name string
	}
	var gs []gname
	for _, n := range names {
		if !strings.HasPrefix(n, globalPrefix) {
			continue
		}
		idx, err := strconv.Atoi(n[len(globalPrefix):])
		if err != nil || idx < 0 {
			continue
		}
		gs = append(gs, gname{idx, n})
	}
	slices.SortFunc(gs, func(a, b gname) int { return a.idx - b.idx })
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.name
	}
	return out, nil
}

// exportedNames returns the names of bin's exports of the given kind
// (0 function, 1 table, 2 memory, 3 global) in section order. It reads only
// the section headers and the export section; wazero validates the rest.
func exportedNames(bin []byte, kind byte) ([]string, error) {
	bad := func(msg string) error { return vmerr.E("wasm.exports", vmerr.Decode, "%s", msg) }
	if len(bin) < 8 {
		return nil, bad("short module")
	}
	p := bin[8:]
	uleb := func() (uint32, bool) {
		var v uint64
		for shift := 0; shift < 35; shift += 7 {
			if len(p) == 0 {
				return 0, false
			}
			c := p[0]
			p = p[1:]
			v |= uint64(c&0x7f) << shift
			if c&0x80 == 0 {
				return uint32(v), v <= 0xffffffff
			}
		}
		return 0, false
	}
	var out []string
	for len(p) > 0 {
		id := p[0]
		p = p[1:]
		size, ok := uleb()
		if !ok || uint64(size) > uint64(len(p)) {
			return nil, bad("bad section size")
		}
		body, rest := p[:size], p[size:]
		if id != 7 {
			p = rest
			continue
		}
		p = body
		n, ok := uleb()
		if !ok {
			return nil, bad("bad export count")
		}
		for i := uint32(0); i < n; i++ {
			l, ok := uleb()
			if !ok || uint64(l) > uint64(len(p)) {
				return nil, bad("bad export name")
			}
			name := string(p[:l])
			p = p[l:]
			if len(p) < 1 {
				return nil, bad("bad export kind")
			}
			k := p[0]
			p = p[1:]
			if _, ok := uleb(); !ok {
				return nil, bad("bad export index")
			}
			if k == kind {
				out = append(out, name)
			}
		}
		p = rest
	}
	return out, nil
}
