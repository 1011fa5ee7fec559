package archtest_test

import (
	"bufio"
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/virtual-machine/vm"

// rule says which packages may import a prefix. A package matches an
// allowed entry when it equals it or lies below it.
type rule struct {
	prefix  string
	allowed []string
}

var rules = []rule{
	{"github.com/tetratelabs/wazero", []string{module + "/internal/wasm"}},
	{"github.com/cometbft/cometbft", []string{module + "/internal/chain", module + "/internal/ledger", module + "/internal/lightproof"}},
	{module + "/internal/node", []string{module + "/cmd", module + "/internal/cli", module + "/internal/nodetest"}},
	{module + "/internal/chain", []string{module + "/internal/node", module + "/internal/nodetest"}},
	{module + "/internal/ledger", []string{module + "/internal/node", module + "/internal/chain", module + "/internal/nodetest"}},
	{module + "/internal/api", []string{module + "/internal/node", module + "/internal/nodetest"}},
}

// leaves import nothing of this module.
var leaves = []string{"/internal/crypto", "/internal/vmerr", "/internal/apitype"}

func TestImportRules(t *testing.T) {
	imports := listImports(t)
	for pkg, deps := range imports {
		for _, dep := range deps {
			for _, r := range rules {
				if !under(dep, r.prefix) || under(pkg, r.prefix) {
					continue
				}
				ok := false
				for _, a := range r.allowed {
					ok = ok || under(pkg, a)
				}
				if !ok {
					t.Errorf("%s imports %s; only %v may", pkg, dep, r.allowed)
				}
			}
		}
	}
	for _, l := range leaves {
		for _, dep := range imports[module+l] {
			if under(dep, module) {
				t.Errorf("leaf package %s imports %s", l, dep)
			}
		}
	}
}

func TestOnePackageComment(t *testing.T) {
	root := repoRoot(t)
	for pkg := range listImports(t) {
		dir := filepath.Join(root, strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/"))
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.PackageClauseOnly)
			if err != nil {
				t.Fatal(err)
			}
			if f.Doc != nil && !generated(f.Doc.Text()) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("package %s has %d package comments, want 1", pkg, n)
		}
	}
}

func generated(doc string) bool { return strings.Contains(doc, "Code generated") }

func under(pkg, prefix string) bool { return pkg == prefix || strings.HasPrefix(pkg, prefix+"/") }

// listImports maps each package of the module (non-test files) to its imports.
func listImports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...")
	cmd.Dir = repoRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	return m
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}
