package system_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/virtual-machine/vm/contracts/examples"
	"github.com/virtual-machine/vm/contracts/system"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/wasm"
)

// env is the test binary's runtimes and the embedded IDChain module
// compiled for each: metering and compiling a multi-MB Go contract takes
// seconds, so every test shares them. TestMain builds and closes it.
type env struct {
	engines []engineMod // the first is the reference engine
}

type engineMod struct {
	rt  *wasm.Runtime
	mod *wasm.Module
}

var shared *env

func TestMain(m *testing.M) {
	e, err := newEnv(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = e
	code := m.Run()
	e.close()
	os.Exit(code)
}

// newEnv meters the embedded module and compiles it on the interpreter
// and, without -race, on the compiler too (tests check they agree).
func newEnv(ctx context.Context) (*env, error) {
	kinds := []wasm.Engine{wasm.EngineInterpreter}
	if !raceEnabled {
		kinds = append([]wasm.Engine{wasm.EngineCompiler}, kinds...)
	}
	e := &env{}
	for _, k := range kinds {
		cfg := wasm.DefaultConfig()
		cfg.Engine = k
		rt, err := wasm.New(ctx, cfg)
		if err != nil {
			e.close()
			return nil, err
		}
		metered, err := rt.Meter(system.IDChain())
		if err != nil {
			rt.Close(ctx)
			e.close()
			return nil, fmt.Errorf("meter idchain: %w", err)
		}
		mod, err := rt.Compile(ctx, metered)
		if err != nil {
			rt.Close(ctx)
			e.close()
			return nil, fmt.Errorf("compile idchain: %w", err)
		}
		e.engines = append(e.engines, engineMod{rt, mod})
	}
	return e, nil
}

func (e *env) close() {
	for _, em := range e.engines {
		em.rt.Close(context.Background())
	}
}

// gasLimit is generous: a create uses well under a million.
const gasLimit = 50_000_000

// call runs fn of the IDChain contract on every engine against st and
// fails the test unless all engines return the same result.
func (e *env) call(t testing.TB, st wasm.State, fn, caller string, height int64, input []byte) *wasm.Result {
	t.Helper()
	var first *wasm.Result
	for _, em := range e.engines {
		res, err := em.rt.Call(context.Background(), em.mod, wasm.Request{
			Fn: fn, Input: input, GasLimit: gasLimit, Caller: caller,
			Contract: idchain.Contract, Height: height, State: st,
		})
		if err != nil {
			t.Fatalf("%s: host error: %v", fn, err)
		}
		if first != nil && !first.Equal(res) {
			t.Fatalf("%s: engines disagree:\n%s\n%s", fn, first, res)
		}
		first = res
	}
	return first
}

// account is a test key pair's public key (hex) and address.
type account struct {
	pub  string
	addr string
}

func newAccount(t testing.TB, seedByte byte) account {
	t.Helper()
	k, err := crypto.KeyFromSeed(bytes.Repeat([]byte{seedByte}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a := account{pub: hex.EncodeToString(k.PubKey()), addr: k.Address().String()}
	pub, _ := hex.DecodeString(a.pub)
	if got := idchain.Address(pub); got != a.addr {
		t.Fatalf("idchain.Address = %s, crypto address = %s", got, a.addr)
	}
	return a
}

// mustJSON encodes v or fails.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// TestEmbeddedIsReproducible rebuilds contracts/idchain like
// contracts/build.sh and checks the embedded module is byte for byte the
// fresh build: genesis pins the module's CID, so it must be the CID of
// the source.
func TestEmbeddedIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go contract")
	}
	out := filepath.Join(t.TempDir(), "idchain.wasm")
	src := filepath.Join(examples.Dir(), "..", "idchain")
	if err := examples.BuildPackage(context.Background(), src, out); err != nil {
		t.Fatal(err)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := system.IDChain(); !bytes.Equal(got, fresh) {
		t.Fatalf("contracts/system/idchain.wasm (%d bytes) is not the build of contracts/idchain (%d bytes): run contracts/build.sh and commit the result",
			len(got), len(fresh))
	}
}

// TestIDChainCopies checks IDChain hands out copies, so no caller can
// change what others (or genesis) see.
func TestIDChainCopies(t *testing.T) {
	a := system.IDChain()
	if len(a) < 8 || !bytes.Equal(a[:4], []byte("\x00asm")) {
		t.Fatalf("IDChain() is not a WebAssembly module: % x", a[:min(8, len(a))])
	}
	a[0] = 0xff
	if b := system.IDChain(); b[0] != 0 {
		t.Fatal("changing the returned bytes changed the embedded module")
	}
	if system.IDChainVersion != "1.0.0" {
		t.Fatalf("IDChainVersion = %q", system.IDChainVersion)
	}
}
