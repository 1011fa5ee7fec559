package portal_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/portal"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestHandler(t *testing.T) {
	h, err := portal.New()
	if err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile("dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	app, err := os.ReadFile("dist/app.js")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, gzip string
		status                   int
		body                     []byte
		ctype                    string
	}{
		{name: "index", method: "GET", path: "/", status: 200, body: index, ctype: "text/html; charset=utf-8"},
		{name: "app route falls back to index", method: "GET", path: "/ids/ada", status: 200, body: index, ctype: "text/html; charset=utf-8"},
		{name: "index.html itself", method: "GET", path: "/index.html", status: 200, body: index, ctype: "text/html; charset=utf-8"},
		{name: "script", method: "GET", path: "/app.js", status: 200, body: app, ctype: "text/javascript; charset=utf-8"},
		{name: "script gzipped", method: "GET", path: "/app.js", gzip: "br, gzip;q=0.9", status: 200, body: app, ctype: "text/javascript; charset=utf-8"},
		{name: "head", method: "HEAD", path: "/app.js", status: 200, ctype: "text/javascript; charset=utf-8"},
		{name: "post refused", method: "POST", path: "/", status: 405},
		{name: "put refused", method: "PUT", path: "/app.js", status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.gzip != "" {
				req.Header.Set("Accept-Encoding", tt.gzip)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if res.Header.Get("Content-Security-Policy") != portal.CSP {
				t.Errorf("CSP %q", res.Header.Get("Content-Security-Policy"))
			}
			if tt.status != 200 {
				return
			}
			if got := res.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			var r io.Reader = res.Body
			if tt.gzip != "" {
				if res.Header.Get("Content-Encoding") != "gzip" {
					t.Fatalf("Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
				}
				if r, err = gzip.NewReader(res.Body); err != nil {
					t.Fatal(err)
				}
			}
			b, _ := io.ReadAll(r)
			if tt.method == "GET" && string(b) != string(tt.body) {
				t.Errorf("body: %d bytes, want %d", len(b), len(tt.body))
			}
		})
	}
}

func TestHandlerRevalidates(t *testing.T) {
	h, err := portal.New()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/app.css", nil))
	etag := rec.Result().Header.Get("ETag")
	if etag == "" || rec.Result().Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, rec.Result().Header.Get("Cache-Control"))
	}
	req := httptest.NewRequest("GET", "/app.css", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("revalidation: %d with %d bytes, want 304 and none", rec.Code, rec.Body.Len())
	}
	req.Header.Set("If-None-Match", `"stale"`)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("stale ETag: %d, want 200", rec.Code)
	}
}

// TestErrorKindsMatch checks the portal's list of the ledger's kinds
// (web/src/api.ts), which names a refused transaction's code, against
// internal/vmerr.
func TestErrorKindsMatch(t *testing.T) {
	src, err := os.ReadFile("web/src/api.ts")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)const kinds = \[(.*?)\];`).FindSubmatch(src)
	if m == nil {
		t.Fatal("web/src/api.ts has no `const kinds = [...]`")
	}
	var got []string
	for _, s := range regexp.MustCompile(`"([a-z_]+)"`).FindAllSubmatch(m[1], -1) {
		got = append(got, string(s[1]))
	}
	for i := 0; ; i++ {
		want := vmerr.Kind(i).String()
		if strings.HasPrefix(want, "kind(") && i == len(got) {
			return
		}
		if i >= len(got) || got[i] != want {
			t.Fatalf("web/src/api.ts kinds: %s; internal/vmerr says kind %d is %q", strings.Join(got, ","), i, want)
		}
	}
}
