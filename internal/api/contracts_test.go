package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	pathpkg "path"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// registry deploys hello@1.0.0, hello@1.1.0 (then yanks it), hello@2.0.0
// and the composite pipe@1.0.0 on e's fake, and returns the modules.
func registry(t *testing.T, e *env) map[string][]byte {
	t.Helper()
	k := mustKey(t)
	e.fund(t, k, 0, 1_000_000)
	codes := map[string][]byte{"1.0.0": apitest.EchoModule("a"), "1.1.0": apitest.EchoModule("b"), "2.0.0": apitest.EchoModule("c")}
	nonce := uint64(1)
	send := func(m *txpb.Msg) {
		t.Helper()
		raw, err := e.b.Sign(k, nonce, 1, m)
		if err != nil {
			t.Fatal(err)
		}
		nonce++
		if res, err := e.b.SubmitTx(context.Background(), raw, true); err != nil || res.Code != 0 {
			t.Fatalf("%v: %+v %v", m, res, err)
		}
	}
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		send(apitest.Deploy("hello", v, codes[v], nil))
	}
	send(apitest.Yank("hello", "1.1.0", false))
	send(apitest.Deploy("pipe", "1.0.0", nil, []byte(`{"steps":[{"id":"a","contract":"hello@^1","fn":"echo","input":{"pointer":"/input"}}]}`)))
	return codes
}

func TestContractRoutes(t *testing.T) {
	e := newEnv(t, api.Options{})
	codes := registry(t, e)
	esc := url.PathEscape
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantCode   string // error code, or "" for a 2xx
		want       string // a substring of the body
	}{
		{"entry", "/v1/contracts/hello", 200, "", `"latest":"2.0.0"`},
		{"entry without proof", "/v1/contracts/hello?prove=false", 200, "", `"versions":3`},
		{"caret range", "/v1/contracts/" + esc("hello@^1"), 200, "", `"version":"1.0.0"`},
		{"raw caret", "/v1/contracts/hello@^2", 200, "", `"version":"2.0.0"`},
		{"spaces and ||", "/v1/contracts/" + esc("hello@>=1.0.0 <2.0.0 || 2.0.0"), 200, "", `"version":"2.0.0"`},
		{"yanked exact", "/v1/contracts/" + esc("hello@1.1.0"), 200, "", `"yanked":true`},
		{"tilde skips yanked", "/v1/contracts/" + esc("hello@~1.1"), 404, "not_found", "1.1"},
		{"star", "/v1/contracts/hello@*", 200, "", `"version":"2.0.0"`},
		{"old height", "/v1/contracts/hello@*?height=3", 200, "", `"version":"1.0.0"`},
		{"composite", "/v1/contracts/pipe@1.0.0", 200, "", `"manifest":{"steps"`},
		{"versions", "/v1/contracts/hello/versions", 200, "", `"version":"1.1.0"`},
		{"list", "/v1/contracts?query=HEL", 200, "", `"name":"hello"`},
		{"list by tag", "/v1/contracts?tag=none", 200, "", `"contracts":[]`},
		{"list page", "/v1/contracts?limit=1", 200, "", `"next":"hello"`},
		{"list after", "/v1/contracts?after=hello", 200, "", `"name":"pipe"`},
		{"bad name", "/v1/contracts/Hello", 400, "invalid", "lowercase"},
		{"bad name with range", "/v1/contracts/" + esc("x@^1"), 400, "invalid", "name"},
		{"bad range", "/v1/contracts/" + esc("hello@^^1"), 400, "invalid", ""},
		{"empty range", "/v1/contracts/hello@", 400, "invalid", "empty range"},
		{"empty name", "/v1/contracts/" + esc("@^1"), 400, "invalid", "want name"},
		{"unknown", "/v1/contracts/nobody", 404, "not_found", "nobody"},
		{"unknown with range", "/v1/contracts/nobody@^1", 404, "not_found", "nobody"},
		{"no match", "/v1/contracts/" + esc("hello@^9"), 404, "not_found", "^9"},
		{"future height", "/v1/contracts/hello?height=9999", 404, "not_found", ""},
		{"bad height", "/v1/contracts/hello?height=-1", 400, "invalid", "height"},
		{"bad prove", "/v1/contracts/hello?prove=maybe", 400, "invalid", "prove"},
		{"versions of a range", "/v1/contracts/hello@^1/versions", 400, "invalid", "name@range"},
		{"versions unknown", "/v1/contracts/nobody/versions", 404, "not_found", ""},
		{"bad limit", "/v1/contracts?limit=101", 400, "invalid", "limit"},
		{"zero limit", "/v1/contracts?limit=0", 400, "invalid", "limit"},
		{"long query", "/v1/contracts?query=" + strings.Repeat("q", 600), 400, "invalid", "query"},
		{"long ref", "/v1/contracts/" + strings.Repeat("a", 600), 400, "invalid", "limit"},
		{"composite code", "/v1/contracts/pipe/code", 404, "not_found", "composite"},
		{"code of unknown", "/v1/contracts/nobody/code", 404, "not_found", ""},
		{"code bad metered", "/v1/contracts/hello/code?metered=yes", 400, "invalid", "metered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, request{method: "GET", path: tc.path})
			if resp.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.want) {
				t.Fatalf("GET %s: %d %s, want %d with %q", tc.path, resp.StatusCode, body, tc.wantStatus, tc.want)
			}
			if tc.wantCode != "" {
				var ae apitype.Error
				if json.Unmarshal(body, &ae) != nil || ae.Code != tc.wantCode || ae.Message == "" {
					t.Errorf("error body %s, want code %s", body, tc.wantCode)
				}
			}
		})
	}

	// Code: original and metered bytes with their CIDs and the version.
	for _, tc := range []struct {
		path, version string
		metered       bool
	}{
		{"/v1/contracts/hello/code", "2.0.0", false},
		{"/v1/contracts/" + esc("hello@^1") + "/code", "1.0.0", false},
		{"/v1/contracts/" + esc("hello@1.1.0") + "/code?metered=false", "1.1.0", false},
		{"/v1/contracts/" + esc("hello@~1.0") + "/code?metered=true", "1.0.0", true},
	} {
		resp, body := e.do(t, request{method: "GET", path: tc.path})
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/wasm" || resp.Header.Get(api.HeaderVersion) != tc.version {
			t.Fatalf("GET %s: %d %v %s", tc.path, resp.StatusCode, resp.Header, body)
		}
		id := resp.Header.Get(api.HeaderCID)
		if id != contract.CID(body).String() {
			t.Errorf("%s: X-Vm-Cid %s, body CID %s", tc.path, id, contract.CID(body))
		}
		if !tc.metered && !bytes.Equal(body, codes[tc.version]) {
			t.Errorf("%s: not the deployed module", tc.path)
		}
		if tc.metered && (bytes.Equal(body, codes[tc.version]) || !bytes.Contains(body, []byte("vm_gas"))) {
			t.Errorf("%s: not a metered module", tc.path)
		}
		if resp.Header.Get(api.HeaderHeight) == "" {
			t.Errorf("%s: no %s", tc.path, api.HeaderHeight)
		}
	}
	// HEAD answers the headers without the body.
	resp, body := e.do(t, request{method: "HEAD", path: "/v1/contracts/hello/code"})
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get(api.HeaderCID) == "" {
		t.Errorf("HEAD code: %d %d bytes %v", resp.StatusCode, len(body), resp.Header)
	}
	// Writes are not routes.
	if resp, _ := e.do(t, request{method: "POST", path: "/v1/contracts/hello"}); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST a contract: %d, want 405", resp.StatusCode)
	}
}

func TestContractBackendFaults(t *testing.T) {
	e := newEnv(t, api.Options{})
	registry(t, e)
	e.b.SetFault(vmerr.E("chain", vmerr.Unavailable, "catching up"))
	defer e.b.SetFault(nil)
	for _, p := range []string{"/v1/contracts", "/v1/contracts/hello", "/v1/contracts/hello@^1", "/v1/contracts/hello/versions", "/v1/contracts/hello/code"} {
		resp, body := e.do(t, request{method: "GET", path: p})
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"unavailable"`) {
			t.Errorf("GET %s with the node down: %d %s", p, resp.StatusCode, body)
		}
	}
}

// TestContractSchemas checks the registry schemas of openapi.yaml name
// exactly the fields of their apitype.
func TestContractSchemas(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"Contract": apitype.Contract{}, "ContractVersion": apitype.ContractVersion{},
		"ContractList": apitype.ContractList{}, "VersionList": apitype.VersionList{}, "Status": apitype.Status{}} {
		props := doc.Components.Schemas[name].Properties
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			f := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
			if _, ok := props[f]; !ok {
				t.Errorf("schema %s lacks field %q", name, f)
			}
		}
		if len(props) != typ.NumField() {
			t.Errorf("schema %s has %d properties, apitype.%s has %d fields", name, len(props), name, typ.NumField())
		}
	}
	docs, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil || !bytes.Equal(docs, api.OpenAPI()) {
		t.Errorf("docs/openapi.yaml differs from internal/api/openapi.yaml: %v", err)
	}
}

// FuzzContractRef checks the registry routes decode any reference and
// query without panicking or failing internally: every answer is a 200
// with JSON or wasm, or a 4xx with a JSON error body whose code matches
// the status.
func FuzzContractRef(f *testing.F) {
	b, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		f.Fatal(err)
	}
	defer b.Close()
	k, _ := crypto.GenerateKey(nil)
	for i, m := range []*txpb.Msg{apitest.Faucet(k.Address(), 1000), apitest.Deploy("hello", "1.0.0", apitest.EchoModule("a"), nil),
		apitest.Deploy("hello", "1.1.0-rc.1", apitest.EchoModule("b"), nil)} {
		raw, _ := b.Sign(k, uint64(i), 0, m)
		if res, err := b.SubmitTx(context.Background(), raw, true); err != nil || res.Code != 0 {
			f.Fatalf("setup %d: %+v %v", i, res, err)
		}
	}
	srv := api.New(b, api.Options{})
	defer srv.Close()
	for _, s := range []string{"hello", "hello@^1", "hello@", "@", "hello@1.1.0-rc.1", "hello@>=1 <2 || 3", "Hello@x", "a@b@c",
		"hello@\x00", "hello@~1.0.0", "hello@1.x", "hello@ ", strings.Repeat("z", 70)} {
		f.Add(s, "", false)
		f.Add(s, "height=2&prove=false", true)
	}
	f.Fuzz(func(t *testing.T, ref, query string, code bool) {
		path := "/v1/contracts/" + url.PathEscape(ref)
		if code {
			path += "/code"
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.URL = &url.URL{Path: path, RawPath: path, RawQuery: query}
		req.URL.Path, _ = url.PathUnescape(path)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if pathpkg.Clean(req.URL.Path) != req.URL.Path && rec.Code/100 == 3 {
			return // the mux redirects an unclean path ("//", "/./") to its clean form
		}
		if rec.Code == 200 {
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" && ct != "application/wasm" {
				t.Fatalf("%s?%s: 200 with %q", path, query, ct)
			}
			return
		}
		var ae apitype.Error
		if rec.Code >= 500 || json.Unmarshal(rec.Body.Bytes(), &ae) != nil || ae.Code == "" ||
			(rec.Code != http.StatusMethodNotAllowed && api.StatusOf(kindByName(ae.Code)) != rec.Code) {
			t.Fatalf("%s?%s: %d %s", path, query, rec.Code, rec.Body)
		}
	})
}

func kindByName(name string) vmerr.Kind {
	for k := vmerr.Kind(0); k < 64; k++ {
		if k.String() == name {
			return k
		}
	}
	return vmerr.Internal
}

// BenchmarkContractRoutes measures the registry routes over the fake
// against GET /v1/accounts/{addr}?prove=false, the baseline: a state read
// answered in JSON by the same server in the same run.
func BenchmarkContractRoutes(b *testing.B) {
	e := newEnvB(b)
	registryB(b, e)
	k, _ := crypto.GenerateKey(nil)
	for _, bc := range []struct{ name, path string }{
		{"baseline_account", "/v1/accounts/" + k.Address().String() + "?prove=false"},
		{"entry", "/v1/contracts/hello?prove=false"},
		{"resolve_caret", "/v1/contracts/" + url.PathEscape("hello@^1") + "?prove=false"},
		{"versions", "/v1/contracts/hello/versions"},
		{"code", "/v1/contracts/hello/code"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				e.srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", bc.path, nil))
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", bc.path, rec.Code, rec.Body)
				}
			}
		})
	}
}

// newEnvB is newEnv for benchmarks: the fake behind a Server, no listener.
func newEnvB(b *testing.B) *env {
	fb, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		b.Fatal(err)
	}
	srv := api.New(fb, api.Options{})
	b.Cleanup(func() {
		srv.Close()
		fb.Close()
	})
	return &env{b: fb, srv: srv}
}

// registryB publishes 50 versions of hello on e's fake.
func registryB(b *testing.B, e *env) {
	k, _ := crypto.GenerateKey(nil)
	msgs := []*txpb.Msg{apitest.Faucet(k.Address(), 1_000_000)}
	for i := range 50 {
		msgs = append(msgs, apitest.Deploy("hello", "1."+strconv.Itoa(i)+".0", apitest.EchoModule("v"+strconv.Itoa(i)), nil))
	}
	for i, m := range msgs {
		raw, _ := e.b.Sign(k, uint64(i), 0, m)
		if res, err := e.b.SubmitTx(context.Background(), raw, true); err != nil || res.Code != 0 {
			b.Fatalf("setup %d: %+v %v", i, res, err)
		}
	}
}
