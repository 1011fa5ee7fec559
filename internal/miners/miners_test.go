package miners_test

import (
	"bytes"
	"errors"
	"slices"
	"sort"
	"testing"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/miners"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// memStore is a registry.Store over a map, scanned in key order.
type memStore map[string][]byte

func (m memStore) Get(k []byte) ([]byte, error) { return m[string(k)], nil }

func (m memStore) Set(k, v []byte) error {
	if v == nil {
		delete(m, string(k))
	} else {
		m[string(k)] = bytes.Clone(v)
	}
	return nil
}

func (m memStore) Scan(start, end []byte, asc bool, f func(k, v []byte) bool) error {
	var keys []string
	for k := range m {
		if k >= string(start) && (end == nil || k < string(end)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if !asc {
		slices.Reverse(keys)
	}
	for _, k := range keys {
		if !f([]byte(k), m[k]) {
			break
		}
	}
	return nil
}

func addr(i byte) crypto.Address {
	var a crypto.Address
	a[0], a[19] = i, i
	return a
}

func reg(kind string, capacity uint32, minGas uint64, active bool) *txpb.MinerRegister {
	return &txpb.MinerRegister{Kind: kind, Capacity: capacity, MinGas: minGas, Active: active, Endpoint: "https://m.example"}
}

func TestRegister(t *testing.T) {
	s := memStore{}
	a := addr(7)
	ev, err := miners.Register(s, 5, a, reg("cpu", 4, 50, true))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"address", a.String(), "kind", "cpu", "capacity", "4", "min_gas", "50", "active", "true", "new", "true"}
	if ev.Type != miners.EventRegister || !slices.Equal(ev.Attrs, want) {
		t.Errorf("event %+v", ev)
	}
	m, raw, err := miners.Get(s, a)
	if err != nil || !bytes.Equal(raw, s[string(state.MinerKey(a))]) {
		t.Fatalf("Get: %v", err)
	}
	if !bytes.Equal(m.Address, a[:]) || m.Kind != "cpu" || m.Capacity != 4 || m.MinGas != 50 || !m.Active ||
		m.Registered != 5 || m.Updated != 5 || m.JobsTaken+m.Agreed+m.Disagreed+m.TimedOut+m.Earned != 0 {
		t.Errorf("record %+v", m)
	}
	// Settlement (a later slice) updates counters; a registration keeps them.
	m.JobsTaken, m.Agreed, m.Disagreed, m.TimedOut, m.Earned = 9, 7, 1, 1, 12345
	s.Set(state.MinerKey(a), state.EncodeRecord(m))
	ev, err = miners.Register(s, 9, a, &txpb.MinerRegister{Kind: "gpu", Capacity: 2, MinGas: 70, SoftwareVersion: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Attrs[len(ev.Attrs)-1] != "false" || ev.Attrs[9] != "false" {
		t.Errorf("update event %+v", ev)
	}
	m, _, _ = miners.Get(s, a)
	if m.Kind != "gpu" || m.Capacity != 2 || m.Endpoint != "" || m.MinGas != 70 || m.SoftwareVersion != "v2" || m.Active ||
		m.Registered != 5 || m.Updated != 9 || m.JobsTaken != 9 || m.Agreed != 7 || m.Disagreed != 1 || m.TimedOut != 1 || m.Earned != 12345 {
		t.Errorf("after update %+v", m)
	}
}

func TestRegisterRefusals(t *testing.T) {
	s := memStore{}
	tests := []struct {
		name    string
		in      *txpb.MinerRegister
		wantErr vmerr.Kind
	}{
		{"kind", reg("tpu", 1, 0, true), vmerr.Invalid},
		{"capacity", reg("cpu", 0, 0, true), vmerr.Invalid},
		{"min gas", reg("cpu", 1, 1<<63, true), vmerr.Overflow},
		{"endpoint", &txpb.MinerRegister{Kind: "cpu", Capacity: 1, Endpoint: "gopher://x"}, vmerr.Invalid},
		{"nil", nil, vmerr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := miners.Register(s, 1, addr(1), tt.in); vmerr.KindOf(err) != tt.wantErr {
				t.Errorf("Register = %v, want %v", err, tt.wantErr)
			}
			if len(s) != 0 {
				t.Errorf("a refused registration wrote %d keys", len(s))
			}
		})
	}
}

func TestGetMissingAndCorrupt(t *testing.T) {
	s := memStore{}
	if _, _, err := miners.Get(s, addr(1)); vmerr.KindOf(err) != vmerr.NotFound {
		t.Errorf("Get(missing) = %v, want NotFound", err)
	}
	s.Set(state.MinerKey(addr(2)), []byte{0xFF, 0xFF})
	var ce *registry.CorruptError
	if _, _, err := miners.Get(s, addr(2)); !errors.As(err, &ce) {
		t.Errorf("Get(corrupt) = %v, want a CorruptError", err)
	}
	if _, err := miners.Register(s, 3, addr(2), reg("cpu", 1, 0, true)); !errors.As(err, &ce) {
		t.Errorf("Register over a corrupt record = %v, want a CorruptError", err)
	}
	if _, _, _, err := miners.List(s, apitype.MinerQuery{Kind: "cpu"}); !errors.As(err, &ce) {
		t.Errorf("List(kind) over a corrupt record = %v, want a CorruptError", err)
	}
}

func TestList(t *testing.T) {
	s := memStore{}
	kinds := []string{"cpu", "gpu", "cpu", "storage", "cpu"}
	for i, k := range kinds {
		if _, err := miners.Register(s, int64(i+1), addr(byte(10+i)), reg(k, 1, 0, i%2 == 0)); err != nil {
			t.Fatal(err)
		}
	}
	// A key just outside the prefix must never be listed.
	s.Set([]byte{state.PrefixMiner + 1, 0}, []byte("other namespace"))
	a := func(i int) string { return addr(byte(10 + i)).String() }
	tests := []struct {
		name     string
		in       apitype.MinerQuery
		want     []string
		wantNext string
		wantErr  vmerr.Kind
	}{
		{"all", apitype.MinerQuery{}, []string{a(0), a(1), a(2), a(3), a(4)}, "", vmerr.OK},
		{"cpu", apitype.MinerQuery{Kind: "cpu"}, []string{a(0), a(2), a(4)}, "", vmerr.OK},
		{"relay", apitype.MinerQuery{Kind: "relay"}, nil, "", vmerr.OK},
		{"page", apitype.MinerQuery{Limit: 2}, []string{a(0), a(1)}, a(1), vmerr.OK},
		{"next page", apitype.MinerQuery{Limit: 2, After: a(1)}, []string{a(2), a(3)}, a(3), vmerr.OK},
		{"cpu page", apitype.MinerQuery{Kind: "cpu", Limit: 2, After: a(0)}, []string{a(2), a(4)}, a(4), vmerr.OK},
		{"after the last", apitype.MinerQuery{After: a(4)}, nil, "", vmerr.OK},
		{"after an unregistered address", apitype.MinerQuery{After: addr(11).String()[:38] + "00"}, []string{a(1), a(2), a(3), a(4)}, "", vmerr.OK},
		{"bad kind", apitype.MinerQuery{Kind: "CPU"}, nil, "", vmerr.Invalid},
		{"bad after", apitype.MinerQuery{After: "0x12"}, nil, "", vmerr.Invalid},
		{"limit too big", apitype.MinerQuery{Limit: miners.MaxListLimit + 1}, nil, "", vmerr.Invalid},
		{"negative limit", apitype.MinerQuery{Limit: -1}, nil, "", vmerr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raws, keys, next, err := miners.List(s, tt.in)
			if vmerr.KindOf(err) != tt.wantErr {
				t.Fatalf("List = %v, want %v", err, tt.wantErr)
			}
			var got []string
			for i, raw := range raws {
				m, err := state.DecodeMiner(raw)
				if err != nil {
					t.Fatal(err)
				}
				ad, _ := crypto.AddressFromBytes(m.Address)
				if !bytes.Equal(keys[i], state.MinerKey(ad)) {
					t.Errorf("key %x for miner %s", keys[i], ad)
				}
				got = append(got, ad.String())
			}
			if !slices.Equal(got, tt.want) || next != tt.wantNext {
				t.Errorf("List = %v next %q, want %v next %q", got, next, tt.want, tt.wantNext)
			}
		})
	}
}

// TestListScanBound: a kind nobody has stops after the scan bound with a
// next to resume from, instead of walking the whole registry.
func TestListScanBound(t *testing.T) {
	s := memStore{}
	const n = 10_050
	for i := range n {
		var a crypto.Address
		a[0], a[1] = byte(i>>8), byte(i)
		s.Set(state.MinerKey(a), state.EncodeRecord(&statepb.Miner{Address: a[:], Kind: "cpu", Capacity: 1}))
	}
	raws, _, next, err := miners.List(s, apitype.MinerQuery{Kind: "gpu"})
	if err != nil || len(raws) != 0 || next == "" {
		t.Fatalf("List(gpu) = %d items, next %q, %v; want none and a next", len(raws), next, err)
	}
	raws, _, next, err = miners.List(s, apitype.MinerQuery{Kind: "gpu", After: next})
	if err != nil || len(raws) != 0 || next != "" {
		t.Fatalf("second page: %d items, next %q, %v; want none and no next", len(raws), next, err)
	}
}
