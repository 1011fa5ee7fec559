// Package bundle builds the portal's browser code (internal/portal/web)
// into the files internal/portal embeds, with esbuild's Go API: the build
// needs Go and the web folder's node_modules (npm ci), never Node.js
// itself. The output is a pure function of the sources and the pinned
// esbuild and npm versions; a test rebuilds it and compares it with the
// committed dist/.
package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Files is the built portal: file name in dist/ → content.
type Files map[string][]byte

// Build bundles web (the internal/portal/web folder): src/main.ts and
// everything it imports into app.js (what it imports with import() into
// chunk-<hash>.js files), src/app.css into app.css, and index.html
// copied as is. A source error names file, line and message.
func Build(web string) (Files, error) {
	web, err := webDir(web)
	if err != nil {
		return nil, err
	}
	res := api.Build(api.BuildOptions{
		AbsWorkingDir: web,
		EntryPoints:   []string{"src/main.ts", "src/app.css"},
		Bundle:        true,
		// Code only some pages need (private records' crypto) loads on
		// demand, keeping the first load small.
		Splitting:         true,
		ChunkNames:        "chunk-[hash]",
		Outdir:            filepath.Join(web, "out"), // not written: Write is false
		Format:            api.FormatESModule,
		Platform:          api.PlatformBrowser,
		Target:            api.ES2022,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsEndOfFile,
		Charset:           api.CharsetUTF8,
		Tsconfig:          filepath.Join(web, "tsconfig.json"),
		LogLevel:          api.LogLevelSilent,
		Write:             false,
	})
	if err := buildErr(res.Errors); err != nil {
		return nil, err
	}
	out := Files{}
	for _, f := range res.OutputFiles {
		name := filepath.Base(f.Path)
		switch name {
		case "main.js":
			name = "app.js"
		case "main.css": // CSS imported from TypeScript, if any
			name = "imported.css"
		}
		out[name] = f.Contents
	}
	html, err := os.ReadFile(filepath.Join(web, "index.html"))
	if err != nil {
		return nil, err
	}
	out["index.html"] = html
	return out, nil
}

// webDir is web as an absolute path, once its npm packages are there.
func webDir(web string) (string, error) {
	web, err := filepath.Abs(web)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(web, "node_modules")); err != nil {
		return "", fmt.Errorf("portal bundle: %s/node_modules is missing: run `npm ci --prefix %s` first", web, web)
	}
	return web, nil
}

// Write replaces dir's contents with f.
func Write(dir string, f Files) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range f {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// buildErr names each of esbuild's errors by file, line and column.
func buildErr(errs []api.Message) error {
	if len(errs) == 0 {
		return nil
	}
	var b strings.Builder
	for _, m := range errs {
		if m.Location != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", m.Location.File, m.Location.Line, m.Location.Column)
		}
		fmt.Fprintf(&b, "%s\n", m.Text)
	}
	return fmt.Errorf("portal bundle:\n%s", b.String())
}

// BuildEntry bundles one other entry point of web (a path relative to
// it, e.g. "src/verify/testentry.ts") and everything it imports into a
// single classic script (an IIFE, not minified), for tests that load
// browser code into a page without it being part of the portal: nothing
// here reaches dist/, and Build's output does not depend on it. Errors as
// Build's.
func BuildEntry(web, entry string) ([]byte, error) {
	web, err := webDir(web)
	if err != nil {
		return nil, err
	}
	res := api.Build(api.BuildOptions{
		AbsWorkingDir: web,
		EntryPoints:   []string{entry},
		Bundle:        true,
		Outfile:       filepath.Join(web, "out", "entry.js"), // not written: Write is false
		Format:        api.FormatIIFE,
		Platform:      api.PlatformBrowser,
		Target:        api.ES2022,
		Charset:       api.CharsetUTF8,
		Tsconfig:      filepath.Join(web, "tsconfig.json"),
		LogLevel:      api.LogLevelSilent,
		Write:         false,
	})
	if err := buildErr(res.Errors); err != nil {
		return nil, err
	}
	for _, f := range res.OutputFiles {
		if strings.HasSuffix(f.Path, ".js") {
			return f.Contents, nil
		}
	}
	return nil, fmt.Errorf("portal bundle: %s built no script", entry)
}
