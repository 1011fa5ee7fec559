package registry_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// mapStore is the simplest registry.Store: a sorted view over a map.
type mapStore map[string][]byte

func (m mapStore) Get(k []byte) ([]byte, error) { return m[string(k)], nil }

func (m mapStore) Set(k, v []byte) error {
	if v == nil {
		delete(m, string(k))
	} else {
		m[string(k)] = v
	}
	return nil
}

func (m mapStore) Scan(start, end []byte, asc bool, f func(k, v []byte) bool) error {
	var keys []string
	for k := range m {
		if k >= string(start) && (end == nil || k < string(end)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
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

// env meters by prefixing: enough to check where the registry stores what.
var env = registry.Env{Height: 7, CodeLimit: 64, Meter: func(code []byte) ([]byte, []string, error) {
	if bytes.HasPrefix(code, []byte("bad")) {
		return nil, nil, vmerr.E("test.meter", vmerr.Invalid, "code refused")
	}
	return append([]byte("metered:"), code...), []string{"run"}, nil
}}

func addr(b byte) crypto.Address { return crypto.Address{b} }

func dep(name, version, code string, tags ...string) *txpb.Deploy {
	return &txpb.Deploy{Name: name, Version: version, Code: []byte(code), Tags: tags}
}

func resolve(t *testing.T, s registry.Reader, ref string) (string, vmerr.Kind) {
	t.Helper()
	r, err := contract.ParseRef(ref)
	if err != nil {
		t.Fatal(err)
	}
	v, _, _, err := registry.Resolve(s, r.Name, r.Range)
	if err != nil {
		return "", vmerr.KindOf(err)
	}
	return v.Version, vmerr.OK
}

func TestTransitions(t *testing.T) {
	s := mapStore{}
	alice, bob := addr(1), addr(2)
	steps := []struct {
		name    string
		do      func() (registry.Event, error)
		wantErr vmerr.Kind
	}{
		{"first deploy owns the name", func() (registry.Event, error) { return registry.Deploy(s, env, alice, dep("hello", "1.0.0", "a", "x")) }, vmerr.OK},
		{"same version again", func() (registry.Event, error) { return registry.Deploy(s, env, alice, dep("hello", "1.0.0", "b")) }, vmerr.Exists},
		{"stranger publishes", func() (registry.Event, error) { return registry.Deploy(s, env, bob, dep("hello", "1.1.0", "b")) }, vmerr.Unauthorized},
		{"code too large", func() (registry.Event, error) {
			return registry.Deploy(s, env, alice, dep("hello", "1.1.0", strings.Repeat("x", 65)))
		}, vmerr.TooLarge},
		{"code refused", func() (registry.Event, error) { return registry.Deploy(s, env, alice, dep("hello", "1.1.0", "bad")) }, vmerr.Invalid},
		{"code and manifest", func() (registry.Event, error) {
			d := dep("hello", "1.1.0", "b")
			d.Manifest = []byte("{}")
			return registry.Deploy(s, env, alice, d)
		}, vmerr.Invalid},
		{"add bob", func() (registry.Event, error) {
			return registry.SetOwners(s, env, alice, &txpb.ContractOwners{Name: "hello", Add: [][]byte{bob[:]}})
		}, vmerr.OK},
		{"maintainer publishes", func() (registry.Event, error) { return registry.Deploy(s, env, bob, dep("hello", "1.1.0", "b", "y")) }, vmerr.OK},
		{"maintainer changes owners", func() (registry.Event, error) {
			return registry.SetOwners(s, env, bob, &txpb.ContractOwners{Name: "hello", Remove: [][]byte{bob[:]}})
		}, vmerr.Unauthorized},
		{"yank", func() (registry.Event, error) {
			return registry.Yank(s, env, bob, &txpb.Yank{Name: "hello", Version: "1.1.0"})
		}, vmerr.OK},
		{"yank twice", func() (registry.Event, error) {
			return registry.Yank(s, env, bob, &txpb.Yank{Name: "hello", Version: "1.1.0"})
		}, vmerr.Invalid},
		{"yank unknown", func() (registry.Event, error) {
			return registry.Yank(s, env, bob, &txpb.Yank{Name: "nope", Version: "1.1.0"})
		}, vmerr.NotFound},
	}
	for _, st := range steps {
		ev, err := st.do()
		if got := vmerr.KindOf(err); got != st.wantErr {
			t.Fatalf("%s: kind %v (%v), want %v", st.name, got, err, st.wantErr)
		}
		if err == nil && ev.Type == "" {
			t.Fatalf("%s: no event", st.name)
		}
	}
	for ref, want := range map[string]string{"hello@^1": "1.0.0", "hello@1.1.0": "1.1.0", "hello@~1.1": ""} {
		if got, _ := resolve(t, s, ref); got != want {
			t.Errorf("%s = %q, want %q", ref, got, want)
		}
	}
	// Code is stored under both CIDs; the tag index follows the latest publish.
	for _, code := range []string{"a", "metered:a", "b", "metered:b"} {
		if got := s[string(state.CodeKey(contract.CID([]byte(code))))]; string(got) != code {
			t.Errorf("code %q stored as %q", code, got)
		}
	}
	for tag, want := range map[string]int{"x": 0, "y": 1} {
		raws, _, _, err := registry.List(s, apitype.ContractQuery{Tag: tag})
		if err != nil || len(raws) != want {
			t.Errorf("tag %s: %d entries (%v), want %d", tag, len(raws), err, want)
		}
	}
}

// TestCorrupt: a record that does not decode is a CorruptError, never a
// transaction's fault.
func TestCorrupt(t *testing.T) {
	s := mapStore{}
	if _, err := registry.Deploy(s, env, addr(1), dep("hello", "1.0.0", "a")); err != nil {
		t.Fatal(err)
	}
	ver, _ := contract.ParseVersion("1.0.0")
	s[string(state.VersionKey("hello", contract.SortKey(ver)))] = []byte{0xff, 0xff}
	var ce *registry.CorruptError
	if _, err := registry.Yank(s, env, addr(1), &txpb.Yank{Name: "hello", Version: "1.0.0"}); !errors.As(err, &ce) {
		t.Errorf("yank over a corrupt record: %v", err)
	}
	r, _ := contract.ParseRef("hello@^1")
	if _, _, _, err := registry.Resolve(s, r.Name, r.Range); !errors.As(err, &ce) {
		t.Errorf("resolve over a corrupt record: %v", err)
	}
	s[string(state.ContractKey("hello"))] = []byte{0xff}
	if _, err := registry.Contract(s, "hello"); !errors.As(err, &ce) {
		t.Errorf("corrupt registry entry: %v", err)
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tt := range []struct{ in, want []byte }{
		{[]byte{1, 2}, []byte{1, 3}}, {[]byte{1, 0xff}, []byte{2}}, {[]byte{0xff}, nil}, {nil, nil},
	} {
		if got := registry.PrefixEnd(tt.in); !bytes.Equal(got, tt.want) {
			t.Errorf("PrefixEnd(%x) = %x, want %x", tt.in, got, tt.want)
		}
	}
}
