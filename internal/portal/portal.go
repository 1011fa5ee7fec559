// Package portal serves the web portal: a single-page app bundled from
// web/ into dist/ (go run ./internal/portal/bundle/portalbuild) and
// embedded, so a node serves it with no Node.js and no request leaving the
// page for another origin.
//
// The portal's mux is the browser side of the node's HTTP server: it
// answers only GET and HEAD, with a strict Content-Security-Policy, and
// never reads cookies, so there is nothing for a cross-site request to
// forge here. The API it calls lives on its own mux; the node guards that
// mux's unsafe methods with net/http's CrossOriginProtection.
package portal

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:generate go run ./bundle/portalbuild

//go:embed dist
var dist embed.FS

// CSP is the Content-Security-Policy of every portal answer. Scripts and
// styles come only from the node; the page talks only to its own origin
// (HTTP and WebSocket); Trusted Types forbid building DOM from strings, so
// data from the chain can never become markup.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// asset is one embedded file, ready to serve.
type asset struct {
	body, gz    []byte
	ctype, etag string
}

// Handler serves the portal. Paths naming a file in dist answer it;
// any other path answers index.html, so the app's own routes (/ids/ada)
// survive a reload.
type Handler struct {
	assets map[string]*asset
}

// New loads the embedded bundle. It fails only if the binary was built
// without one, which the package's tests rule out.
func New() (*Handler, error) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, err
	}
	return load(sub)
}

func load(fsys fs.FS) (*Handler, error) {
	h := &Handler{assets: map[string]*asset{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a := &asset{body: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`,
			ctype: mime.TypeByExtension(path.Ext(p))}
		if a.ctype == "" {
			a.ctype = "application/octet-stream"
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		if buf.Len() < len(b) {
			a.gz = buf.Bytes()
		}
		h.assets["/"+p] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	if h.assets["/index.html"] == nil {
		return nil, fs.ErrNotExist
	}
	return h, nil
}

// ServeHTTP answers GET and HEAD; other methods get 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "the portal only answers GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	a, ok := h.assets[r.URL.Path]
	if !ok || r.URL.Path == "/index.html" {
		a = h.assets["/index.html"]
	}
	// Names are not content-hashed, so every load revalidates: a 304 costs
	// one round trip on loopback, and a new node never serves a stale app.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	hd.Set("Content-Type", a.ctype)
	hd.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if enc == "gzip" {
			return true
		}
	}
	return false
}
