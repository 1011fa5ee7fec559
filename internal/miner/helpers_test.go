package miner_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// The example contracts are built once per test binary.
var (
	buildDir string
	buildMu  sync.Mutex
	origs    = map[string][]byte{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "miner-test-")
	if err != nil {
		panic(err)
	}
	buildDir = dir
	code := m.Run()
	closeWorld()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testConfig is the runtime config of the tests: the network's, with the
// interpreter under -race and a shared compilation cache otherwise.
func testConfig() wasm.Config {
	cfg := wasm.DefaultConfig()
	if raceEnabled {
		cfg.Engine = wasm.EngineInterpreter
	} else {
		cfg.CacheDir = filepath.Join(buildDir, "cache")
	}
	return cfg
}

// example returns the original module of example contract name.
func example(tb testing.TB, name string) []byte {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if b, ok := origs[name]; ok {
		return b
	}
	path, err := examples.Build(context.Background(), buildDir, name)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		tb.Fatal(err)
	}
	origs[name] = b
	return b
}

// newRuntime is a runtime with testConfig, closed with the test.
func newRuntime(tb testing.TB) *wasm.Runtime {
	tb.Helper()
	rt, err := wasm.New(context.Background(), testConfig())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

// memVersion is one published version in memCode.
type memVersion struct {
	v       apitype.ContractVersion
	metered []byte
}

// memCode is an in-memory contract registry: a Code for the Executor.
type memCode struct {
	mu       sync.Mutex
	versions map[string][]memVersion
	tamper   bool // serve modified bytes
	fetches  int
}

func newMemCode() *memCode { return &memCode{versions: map[string][]memVersion{}} }

// publish adds name@version with metered code (nil for a composite with
// manifest) at height.
func (c *memCode) publish(name, version string, metered, manifest []byte, height int64) apitype.ContractVersion {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := apitype.ContractVersion{Name: name, Version: version, Published: height, Manifest: manifest}
	if metered != nil {
		v.MeteredHash = contract.CID(metered).String()
	}
	c.versions[name] = append(c.versions[name], memVersion{v: v, metered: metered})
	return v
}

func (c *memCode) yank(name, version string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.versions[name] {
		if c.versions[name][i].v.Version == version {
			c.versions[name][i].v.Yanked = true
		}
	}
}

func (c *memCode) find(name, rng string, height int64) (memVersion, error) {
	vs := append([]memVersion(nil), c.versions[name]...)
	sort.Slice(vs, func(i, j int) bool {
		return semver.MustParse(vs[i].v.Version).GreaterThan(semver.MustParse(vs[j].v.Version))
	})
	for _, v := range vs {
		if height != 0 && v.v.Published > height {
			continue
		}
		if rng == v.v.Version {
			return v, nil
		}
		if rng == "" && !v.v.Yanked {
			return v, nil
		}
	}
	return memVersion{}, vmerr.E("test.code", vmerr.NotFound, "no %s@%s at %d", name, rng, height)
}

func (c *memCode) ContractVersion(_ context.Context, name, rng string, height int64) (apitype.ContractVersion, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := c.find(name, rng, height)
	return v.v, err
}

func (c *memCode) ContractCode(_ context.Context, name, rng string, metered bool) ([]byte, apitype.ContractVersion, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fetches++
	v, err := c.find(name, rng, 0)
	if err != nil {
		return nil, v.v, err
	}
	if !metered || v.metered == nil {
		return nil, v.v, vmerr.E("test.code", vmerr.NotFound, "no metered code for %s@%s", name, rng)
	}
	b := append([]byte(nil), v.metered...)
	if c.tamper {
		b = append(b, 0)
	}
	return b, v.v, nil
}

// memData is an in-memory namespace store: a Data for the Executor. Every
// height sees the same namespaces; reads record the heights asked for.
type memData struct {
	mu      sync.Mutex
	states  map[string]*wasm.MemState
	heights map[int64]int
	memos   map[memoKey][]byte // (code, fn, input) → the memo's result encoding
}

type memoKey struct {
	code  [32]byte
	fn    string
	input [32]byte
}

// setMemo makes res the memo of (code, fn, input) at every height.
func (d *memData) setMemo(code [32]byte, fn string, input [32]byte, res *wasm.Result) {
	raw, err := res.MarshalBinary()
	if err != nil {
		panic(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.memos == nil {
		d.memos = map[memoKey][]byte{}
	}
	d.memos[memoKey{code, fn, input}] = raw
}

func (d *memData) Memo(_ context.Context, code [32]byte, fn string, input [32]byte, height int64) (apitype.Memo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	raw, ok := d.memos[memoKey{code, fn, input}]
	if !ok {
		return apitype.Memo{}, vmerr.E("memdata.memo", vmerr.NotFound, "no memo")
	}
	return apitype.Memo{Fn: fn, Raw: raw, Height: height}, nil
}

func newMemData() *memData {
	return &memData{states: map[string]*wasm.MemState{}, heights: map[int64]int{}}
}

func (d *memData) ns(name string) *wasm.MemState {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.states[name] == nil {
		d.states[name] = &wasm.MemState{}
	}
	return d.states[name]
}

func (d *memData) Data(_ context.Context, name string, key []byte, height int64) (apitype.DataEntry, error) {
	d.mu.Lock()
	d.heights[height]++
	d.mu.Unlock()
	v, ver, found, err := d.ns(name).Get(key)
	return apitype.DataEntry{Contract: name, Key: key, Value: v, Version: ver, Found: found, Height: height}, err
}

func (d *memData) DataRange(_ context.Context, name string, start, end []byte, limit int, height int64) (apitype.DataRange, error) {
	d.mu.Lock()
	d.heights[height]++
	d.mu.Unlock()
	es, err := d.ns(name).Range(start, end, limit)
	out := apitype.DataRange{Contract: name, Height: height}
	for _, e := range es {
		out.Entries = append(out.Entries, apitype.DataEntry{Contract: name, Key: e.Key, Value: e.Value, Version: e.Version, Found: true, Height: height})
	}
	return out, err
}
