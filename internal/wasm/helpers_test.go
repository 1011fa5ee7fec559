package wasm_test

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/internal/wasm"
)

// buildDir holds the example contracts built once per test binary.
var (
	buildDir  string
	buildMu   sync.Mutex
	buildDone = map[string][]byte{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wasm-test-")
	if err != nil {
		panic(err)
	}
	buildDir = dir
	code := m.Run()
	sharedMu.Lock()
	for _, r := range sharedRTs {
		r.Close(context.Background())
	}
	sharedMu.Unlock()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Shared runtimes: compiling a multi-MB Go contract takes seconds (far
// more under -race), so tests share one runtime per configuration and its
// module cache, and the compiler runtimes share wazero's on-disk cache.
var (
	sharedMu      sync.Mutex
	sharedRTs     = map[string]*wasm.Runtime{}
	meteredMu     sync.Mutex
	meteredByHash = map[[32]byte][]byte{}
)

// shared returns the test binary's runtime of the given kind:
// "compiler", "interpreter" or "nosnapshot" (compiler, NoSnapshot).
func shared(t testing.TB, kind string) *wasm.Runtime {
	t.Helper()
	if raceEnabled && kind == "compiler" {
		kind = "interpreter" // the same configuration under -race: share it
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if r, ok := sharedRTs[kind]; ok {
		return r
	}
	cfg := wasm.TestConfig()
	cfg.CacheDir = filepath.Join(buildDir, "cache")
	switch kind {
	case "compiler":
	case "interpreter":
		cfg.Engine = wasm.EngineInterpreter
		cfg.CacheDir = ""
	case "nosnapshot":
		cfg.NoSnapshot = true
	default:
		t.Fatalf("unknown runtime kind %q", kind)
	}
	if raceEnabled {
		cfg.Engine, cfg.CacheDir = wasm.EngineInterpreter, ""
	}
	r, err := wasm.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sharedRTs[kind] = r
	return r
}

// example returns the original (unmetered) bytes of an example contract.
func example(t testing.TB, name string) []byte {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if b, ok := buildDone[name]; ok {
		return b
	}
	path, err := examples.Build(context.Background(), buildDir, name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		t.Fatal(err)
	}
	buildDone[name] = b
	return b
}

// newRuntime builds a Runtime with cfg (TestConfig when zero) and closes
// it with the test.
func newRuntime(t testing.TB, engine wasm.Engine) *wasm.Runtime {
	t.Helper()
	cfg := wasm.TestConfig()
	cfg.Engine = engine
	return newRuntimeCfg(t, cfg)
}

func newRuntimeCfg(t testing.TB, cfg wasm.Config) *wasm.Runtime {
	t.Helper()
	r, err := wasm.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

// compileMetered meters and compiles orig.
func compileMetered(t testing.TB, r *wasm.Runtime, orig []byte) *wasm.Module {
	t.Helper()
	h := sha256.Sum256(orig)
	meteredMu.Lock()
	metered, ok := meteredByHash[h]
	meteredMu.Unlock()
	if !ok {
		var err error
		if metered, err = r.Meter(orig); err != nil {
			t.Fatal(err)
		}
		meteredMu.Lock()
		meteredByHash[h] = metered
		meteredMu.Unlock()
	}
	m, err := r.Compile(context.Background(), metered)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func call(t testing.TB, r *wasm.Runtime, m *wasm.Module, req wasm.Request) *wasm.Result {
	t.Helper()
	res, err := r.Call(context.Background(), m, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
