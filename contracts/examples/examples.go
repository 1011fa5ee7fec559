// Package examples holds the example contracts (hello, counter, sha256,
// fib), each a GOOS=wasip1 main package in its own directory, and Build,
// which compiles them with the local Go toolchain for tests and tools.
package examples

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Names lists the example contracts.
var Names = []string{"hello", "counter", "sha256", "fib"}

// Dir returns the directory of the examples' sources (this package's).
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Build compiles the named example to outDir/<name>.wasm with
// GOOS=wasip1 GOARCH=wasm -buildmode=c-shared -trimpath -buildvcs=false
// -ldflags=-buildid= (the flags of contracts/build.sh) and returns the
// path. The flags make the bytes reproducible: no checkout path, no VCS
// revision or dirty flag, no build ID, so the same sources and toolchain
// give the same module (and CID) anywhere. The toolchain is the `go` on
// PATH (else /usr/local/go/bin/go); it fails with the compiler's output.
func Build(ctx context.Context, outDir, name string) (string, error) {
	out := filepath.Join(outDir, name+".wasm")
	return out, BuildPackage(ctx, filepath.Join(Dir(), name), out)
}

// BuildPackage compiles the wasip1 main package in srcDir (any contract
// inside this module) to the file out, like Build.
func BuildPackage(ctx context.Context, srcDir, out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-ldflags=-buildid=", "-o", out, ".")
	cmd.Dir = srcDir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w: %s", srcDir, err, strings.TrimSpace(string(b)))
	}
	return nil
}
