package bundle_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/virtual-machine/vm/internal/portal/bundle"
)

// TestDistReproducible rebuilds the portal from web/ and compares it with
// the committed dist/: the embedded bundle is what the sources say.
func TestDistReproducible(t *testing.T) {
	got, err := bundle.Build("../web")
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("../dist")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		want, err := os.ReadFile(filepath.Join("../dist", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[e.Name()], want) {
			t.Errorf("dist/%s differs from a rebuild of web/ (%d vs %d bytes): run `go generate ./internal/portal`", e.Name(), len(want), len(got[e.Name()]))
		}
	}
	for name := range got {
		if !slices.Contains(names, name) {
			t.Errorf("a rebuild makes %s, which dist/ lacks: run `go generate ./internal/portal`", name)
		}
	}
}

func TestBuildReportsSourceErrors(t *testing.T) {
	web := t.TempDir()
	if err := os.Symlink(must(filepath.Abs("../web/node_modules")), filepath.Join(web, "node_modules")); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"src/main.ts":   "const x: number = ;\n",
		"src/app.css":   "body{}\n",
		"index.html":    "<!doctype html>\n",
		"tsconfig.json": "{}\n",
	} {
		p := filepath.Join(web, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := bundle.Build(web)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("src/main.ts:1:")) {
		t.Fatalf("want an error naming src/main.ts:1, got %v", err)
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

// TestBuildEntry bundles the verifier's test entry as a classic script
// and checks the portal's own bundle has no such test hook.
func TestBuildEntry(t *testing.T) {
	js, err := bundle.BuildEntry("../web", "src/verify/testentry.ts")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte("vmVerifyTest")) || bytes.Contains(js, []byte("\nexport ")) {
		t.Errorf("the test entry is not a script setting vmVerifyTest (%d bytes)", len(js))
	}
	app, err := bundle.Build("../web")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(app["app.js"], []byte("vmVerifyTest")) {
		t.Error("the portal's app.js carries the verifier's test hook")
	}
	if _, err := bundle.BuildEntry("../web", "src/verify/nonexistent.ts"); err == nil {
		t.Error("a missing entry built")
	}
}
