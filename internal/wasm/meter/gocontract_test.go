package meter_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/virtual-machine/vm/internal/wasm/meter"
)

var update = flag.Bool("update", false, "rebuild testdata/gocontract.wasm with the go toolchain")

const goContract = "testdata/gocontract.wasm"

// TestGenerateGoContract rebuilds the committed fixture when run with
// -update: GOOS=wasip1 GOARCH=wasm go build ./testdata/gocontract.
func TestGenerateGoContract(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rebuild " + goContract)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s", "-o", goContract, "./testdata/gocontract")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

func allowWASI(module, _ string, _, _ []meter.ValType) error {
	if module != wasi_snapshot_preview1.ModuleName {
		return errors.New("only WASI")
	}
	return nil
}

// runGo runs _start of a (metered or not) wasip1 module with WASI in e and
// returns stdout and, when metered, gas left and status.
func runGo(t *testing.T, e engine, bin []byte, gas int64) (stdout string, gasLeft int64, status uint64) {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, e.cfg().WithCoreFeatures(meter.Features))
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	var out bytes.Buffer
	mod, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithStdout(&out).WithStartFunctions())
	if err != nil {
		t.Fatalf("%s: instantiate: %v", e.name, err)
	}
	g := mod.ExportedGlobal(meter.ExportGas)
	if g != nil {
		g.(api.MutableGlobal).Set(uint64(gas))
	}
	_, err = mod.ExportedFunction("_start").Call(ctx)
	var exit *sys.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
		t.Fatalf("%s: _start: %v", e.name, err)
	}
	if g != nil {
		gasLeft = int64(g.Get())
		status = mod.ExportedGlobal(meter.ExportStatus).Get()
	}
	return out.String(), gasLeft, status
}

// TestGoContract meters a real Go (wasip1) program: same output as the
// original except NaN bits, which are canonical; equal gas in both engines.
func TestGoContract(t *testing.T) {
	if raceEnabled {
		t.Skip("over a minute under -race (Go runtime in wazero's interpreter); single goroutine, nothing to race")
	}
	orig, err := os.ReadFile(goContract)
	if err != nil {
		t.Fatal(err)
	}
	cfg := meter.DefaultConfig()
	cfg.AllowImport = allowWASI
	metered, info, err := meter.Instrument(orig, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Imports) == 0 || !contains(info.Exports, "_start") {
		t.Fatalf("info = %+v", info)
	}
	want, _, _ := runGo(t, engines[0], orig, 0)
	if !strings.Contains(want, "sha256 ") || !strings.Contains(want, "squares 140") {
		t.Fatalf("original output unexpected:\n%s", want)
	}
	const gas = 1 << 40
	var gasLeft []int64
	for _, e := range engines {
		got, left, status := runGo(t, e, metered, gas)
		if status != meter.StatusOK {
			t.Fatalf("%s: status %d", e.name, status)
		}
		if !strings.Contains(got, "NaN 7ff8000000000000\n") {
			t.Errorf("%s: NaN not canonical:\n%s", e.name, got)
		}
		if normaliseNaN(got) != normaliseNaN(want) {
			t.Errorf("%s: output differs:\n%s\nwant:\n%s", e.name, got, want)
		}
		gasLeft = append(gasLeft, left)
	}
	if gasLeft[0] != gasLeft[1] || gasLeft[0] >= gas {
		t.Fatalf("gas left compiler %d interpreter %d", gasLeft[0], gasLeft[1])
	}
	t.Logf("original %d bytes, metered %d bytes (%.2fx), gas used %d",
		len(orig), len(metered), float64(len(metered))/float64(len(orig)), gas-gasLeft[0])

	// Too little gas: out of gas, identically.
	var left []int64
	for _, e := range engines {
		ctx := context.Background()
		rt := wazero.NewRuntimeWithConfig(ctx, e.cfg().WithCoreFeatures(meter.Features))
		wasi_snapshot_preview1.MustInstantiate(ctx, rt)
		mod, err := rt.InstantiateWithConfig(ctx, metered, wazero.NewModuleConfig().WithStartFunctions())
		if err != nil {
			t.Fatal(err)
		}
		mod.ExportedGlobal(meter.ExportGas).(api.MutableGlobal).Set(100_000)
		if _, err := mod.ExportedFunction("_start").Call(ctx); err == nil {
			t.Fatalf("%s: ran with 100000 gas", e.name)
		}
		if s := mod.ExportedGlobal(meter.ExportStatus).Get(); s != meter.StatusOutOfGas {
			t.Fatalf("%s: status %d, want out of gas", e.name, s)
		}
		left = append(left, int64(mod.ExportedGlobal(meter.ExportGas).Get()))
		rt.Close(ctx)
	}
	if left[0] != left[1] {
		t.Fatalf("out-of-gas remainder differs: %v", left)
	}
}

func normaliseNaN(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "NaN ") {
			l = "NaN"
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// BenchmarkGoContract runs the Go fixture hashing 1 MiB (fresh instance per
// call: compile once, instantiate and run _start), unmetered and metered
// interleaved in the wazero compiler, and reports the ratio of the fastest
// runs.
func BenchmarkGoContract(b *testing.B) {
	orig, err := os.ReadFile(goContract)
	if err != nil {
		b.Fatal(err)
	}
	cfg := meter.DefaultConfig()
	cfg.AllowImport = allowWASI
	metered, _, err := meter.Instrument(orig, cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCoreFeatures(meter.Features))
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	var cms [2]wazero.CompiledModule
	for i, bin := range [][]byte{orig, metered} {
		if cms[i], err = rt.CompileModule(ctx, bin); err != nil {
			b.Fatal(err)
		}
	}
	best := [2]time.Duration{time.Hour, time.Hour}
	for b.Loop() {
		for i, cm := range cms {
			start := time.Now()
			mod, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithArgs("gocontract", "1048576").WithStartFunctions())
			if err != nil {
				b.Fatal(err)
			}
			if g := mod.ExportedGlobal(meter.ExportGas); g != nil {
				g.(api.MutableGlobal).Set(uint64(meter.MaxGas))
			}
			_, err = mod.ExportedFunction("_start").Call(ctx)
			var exit *sys.ExitError
			if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
				b.Fatal(err)
			}
			best[i] = min(best[i], time.Since(start))
			mod.Close(ctx)
		}
	}
	b.ReportMetric(float64(best[0].Nanoseconds()), "min-unmetered-ns")
	b.ReportMetric(float64(best[1].Nanoseconds()), "min-metered-ns")
	b.ReportMetric(float64(best[1])/float64(best[0]), "ratio")
}

// TestGolden pins the metered bytes of the fixtures: the chain records the
// metered code hash, so any change to the scheme or the cost table must be
// deliberate (regenerate with go test -update and say why in the commit).
func TestGolden(t *testing.T) {
	goMod, err := os.ReadFile(goContract)
	if err != nil {
		t.Fatal(err)
	}
	cfg := meter.DefaultConfig()
	cfg.AllowImport = allowWASI
	inputs := []struct {
		name string
		in   []byte
	}{
		{"gocontract", goMod},
		{"fib", fibModule()},
		{"sha256", sha256Module()},
		{"saxpy", floatModule()},
		{"differential-seed-0", diffModule(seedPrograms[0])},
	}
	var lines []string
	for _, in := range inputs {
		out, _, err := meter.Instrument(in.in, cfg)
		if err != nil {
			t.Fatalf("%s: %v", in.name, err)
		}
		sum := sha256.Sum256(out)
		lines = append(lines, in.name+" "+hex.EncodeToString(sum[:]))
	}
	got := strings.Join(lines, "\n") + "\n"
	const golden = "testdata/metered.sha256"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("metered output changed:\n%s\nwant:\n%s", got, want)
	}
}
