package api_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.yaml.in/yaml/v3"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

type env struct {
	b   *apitest.Backend
	srv *api.Server
	ts  *httptest.Server
	reg *prometheus.Registry
}

func newEnv(t *testing.T, opts api.Options) *env {
	t.Helper()
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 1})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	opts.Registry = reg
	srv := api.New(b, opts)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
		b.Close()
	})
	return &env{b: b, srv: srv, ts: ts, reg: reg}
}

func mustKey(t *testing.T) crypto.PrivKey {
	t.Helper()
	k, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fund gives k's account GAS through a committed faucet tx and returns its hash.
func (e *env) fund(t *testing.T, k crypto.PrivKey, nonce, amount uint64) string {
	t.Helper()
	raw, err := e.b.Sign(k, nonce, 0, apitest.Faucet(k.Address(), amount))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.b.SubmitTx(context.Background(), raw, true)
	if err != nil || res.Code != 0 {
		t.Fatalf("fund: %+v %v", res, err)
	}
	return res.Hash
}

type request struct {
	method, path, ctype string
	body                []byte
	header              map[string]string
}

func (e *env) do(t *testing.T, r request) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(r.method, e.ts.URL+r.path, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func jsonTx(raw []byte) []byte {
	b, _ := json.Marshal(map[string]string{"tx": hex.EncodeToString(raw)})
	return b
}

func TestRoutes(t *testing.T) {
	e := newEnv(t, api.Options{})
	alice, bob := mustKey(t), mustKey(t)
	fundHash := e.fund(t, alice, 0, 1000)
	sign := func(k crypto.PrivKey, nonce, fee uint64, amount uint64) []byte {
		raw, err := e.b.Sign(k, nonce, fee, apitest.Transfer(bob.Address(), amount))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	wrongChain, err := tx.Sign(mustBody("other-chain", bob.Address()), alice)
	if err != nil {
		t.Fatal(err)
	}
	badSig := sign(alice, 1, 1, 5)
	badSig[len(badSig)-1] ^= 1
	var sr apitype.SubmitResult
	var acc apitype.Account
	var blk apitype.Block
	var st apitype.Status
	var txr apitype.Tx

	tests := []struct {
		name       string
		in         request
		wantStatus int
		wantCode   string // apitype.Error code for error answers
		out        any    // decode the body into this when set
		check      func(t *testing.T)
	}{
		{name: "status", in: request{method: "GET", path: "/v1/status"}, wantStatus: 200, out: &st, check: func(t *testing.T) {
			if st.ChainID != e.b.ChainID() || st.LatestHeight < 2 || !st.FaucetEnabled || st.MinFee != "1" {
				t.Errorf("status = %+v", st)
			}
		}},
		{name: "status HEAD", in: request{method: "HEAD", path: "/v1/status"}, wantStatus: 200},
		{name: "status wrong method", in: request{method: "DELETE", path: "/v1/status"}, wantStatus: 405, wantCode: "invalid"},
		{name: "account", in: request{method: "GET", path: "/v1/accounts/" + alice.Address().String()}, wantStatus: 200, out: &acc, check: func(t *testing.T) {
			if acc.Balance != "1000" || acc.Nonce != 1 || acc.Location == nil {
				t.Fatalf("account = %+v", acc)
			}
			if err := state.VerifyLocation(acc.Location); err != nil {
				t.Errorf("location does not verify: %v", err)
			}
			_, body := e.do(t, request{method: "GET", path: "/v1/blocks/" + strconv.FormatInt(acc.Height+1, 10)})
			var next apitype.Block
			if err := json.Unmarshal(body, &next); err != nil || !strings.EqualFold(next.AppHash, acc.Location.AppHash) {
				t.Errorf("block %d app hash %q, location app hash %q (%v)", acc.Height+1, next.AppHash, acc.Location.AppHash, err)
			}
		}},
		{name: "account upper-case hex, no proof", in: request{method: "GET", path: "/v1/accounts/" + strings.ToUpper(alice.Address().String()) + "?prove=false&height=latest"}, wantStatus: 200, out: &acc, check: func(t *testing.T) {
			if acc.Balance != "1000" || acc.Location != nil {
				t.Errorf("account = %+v", acc)
			}
		}},
		{name: "account absent, proof of absence", in: request{method: "GET", path: "/v1/accounts/" + bob.Address().String()}, wantStatus: 200, out: &acc, check: func(t *testing.T) {
			if acc.Balance != "0" || acc.Location == nil || acc.Location.Value != "" {
				t.Fatalf("account = %+v", acc)
			}
			if err := state.VerifyLocation(acc.Location); err != nil {
				t.Errorf("absence proof does not verify: %v", err)
			}
		}},
		{name: "account at height 1 (before funding)", in: request{method: "GET", path: "/v1/accounts/" + alice.Address().String() + "?height=1"}, wantStatus: 200, out: &acc, check: func(t *testing.T) {
			if acc.Balance != "0" || acc.Height != 1 {
				t.Errorf("account = %+v", acc)
			}
		}},
		{name: "account height 0 is latest", in: request{method: "GET", path: "/v1/accounts/" + alice.Address().String() + "?height=0&prove=false"}, wantStatus: 200, out: &acc, check: func(t *testing.T) {
			if acc.Balance != "1000" || acc.Height < 2 {
				t.Errorf("account = %+v", acc)
			}
		}},
		{name: "events without upgrade", in: request{method: "GET", path: "/v1/events"}, wantStatus: 426, wantCode: "invalid"},
		{name: "account bad address", in: request{method: "GET", path: "/v1/accounts/xyz"}, wantStatus: 400, wantCode: "invalid"},
		{name: "account short address", in: request{method: "GET", path: "/v1/accounts/" + alice.Address().String()[:38]}, wantStatus: 400, wantCode: "invalid"},
		{name: "account bad height", in: request{method: "GET", path: "/v1/accounts/" + alice.Address().String() + "?height=abc"}, wantStatus: 400, wantCode: "invalid"},
		{name: "account negative height", in: request{method: "GET", path: "/v1/accounts/" + alice.Address().String() + "?height=-3"}, wantStatus: 400, wantCode: "invalid"},
		{name: "account future height", in: request{method: "GET", path: "/v1/accounts/" + alice.Address().String() + "?height=9999"}, wantStatus: 404, wantCode: "not_found"},
		{name: "account bad prove", in: request{method: "GET", path: "/v1/accounts/" + alice.Address().String() + "?prove=maybe"}, wantStatus: 400, wantCode: "invalid"},
		{name: "account POST", in: request{method: "POST", path: "/v1/accounts/" + alice.Address().String()}, wantStatus: 405, wantCode: "invalid"},
		{name: "block latest", in: request{method: "GET", path: "/v1/blocks/latest"}, wantStatus: 200, out: &blk, check: func(t *testing.T) {
			if blk.Height < 2 || blk.Hash == "" || blk.AppHash == "" {
				t.Errorf("block = %+v", blk)
			}
		}},
		{name: "block 2 holds the funding tx", in: request{method: "GET", path: "/v1/blocks/2"}, wantStatus: 200, out: &blk, check: func(t *testing.T) {
			if blk.Height != 2 || blk.NumTxs != 1 || blk.TxHashes[0] != fundHash {
				t.Errorf("block = %+v, want tx %s", blk, fundHash)
			}
		}},
		{name: "block 0", in: request{method: "GET", path: "/v1/blocks/0"}, wantStatus: 400, wantCode: "invalid"},
		{name: "block garbage", in: request{method: "GET", path: "/v1/blocks/1e3"}, wantStatus: 400, wantCode: "invalid"},
		{name: "block overflow", in: request{method: "GET", path: "/v1/blocks/99999999999999999999"}, wantStatus: 400, wantCode: "invalid"},
		{name: "block future", in: request{method: "GET", path: "/v1/blocks/99999"}, wantStatus: 404, wantCode: "not_found"},
		{name: "tx", in: request{method: "GET", path: "/v1/txs/" + fundHash}, wantStatus: 200, out: &txr, check: func(t *testing.T) {
			if txr.Hash != fundHash || txr.Height != 2 || txr.Code != 0 || len(txr.Events) == 0 || len(txr.Body) == 0 {
				t.Errorf("tx = %+v", txr)
			}
		}},
		{name: "tx lower-case hash", in: request{method: "GET", path: "/v1/txs/" + strings.ToLower(fundHash)}, wantStatus: 200},
		{name: "tx bad hash", in: request{method: "GET", path: "/v1/txs/nothex"}, wantStatus: 400, wantCode: "invalid"},
		{name: "tx unknown hash", in: request{method: "GET", path: "/v1/txs/" + strings.Repeat("ab", 32)}, wantStatus: 404, wantCode: "not_found"},
		{name: "txs GET without hash", in: request{method: "GET", path: "/v1/txs"}, wantStatus: 405, wantCode: "invalid"},
		{name: "submit raw", in: request{method: "POST", path: "/v1/txs", ctype: "application/octet-stream", body: sign(alice, 1, 1, 10)}, wantStatus: 200, out: &sr, check: func(t *testing.T) {
			if sr.Code != 0 || len(sr.Hash) != 64 {
				t.Errorf("result = %+v", sr)
			}
		}},
		{name: "submit JSON, wait for commit", in: request{method: "POST", path: "/v1/txs?wait=commit", ctype: "application/json; charset=utf-8", body: jsonTx(sign(alice, 2, 1, 10))}, wantStatus: 200, out: &sr, check: func(t *testing.T) {
			if sr.Code != 0 || sr.Height == 0 {
				t.Errorf("result = %+v", sr)
			}
		}},
		{name: "submit no content type is raw", in: request{method: "POST", path: "/v1/txs?wait=commit", body: sign(alice, 3, 1, 10)}, wantStatus: 200},
		{name: "replayed nonce", in: request{method: "POST", path: "/v1/txs?wait=commit", body: sign(alice, 1, 1, 11)}, wantStatus: 409, out: &sr, check: func(t *testing.T) {
			if sr.Code != uint32(vmerr.BadNonce) || sr.Log == "" || sr.Height == 0 {
				t.Errorf("result = %+v", sr)
			}
		}},
		{name: "insufficient funds", in: request{method: "POST", path: "/v1/txs?wait=commit", body: sign(alice, 4, 1, 1_000_000)}, wantStatus: 422, out: &sr, check: func(t *testing.T) {
			if sr.Code != uint32(vmerr.InsufficientFunds) {
				t.Errorf("result = %+v", sr)
			}
		}},
		{name: "garbage tx", in: request{method: "POST", path: "/v1/txs", body: []byte("not a transaction")}, wantStatus: 400, out: &sr, check: func(t *testing.T) {
			if sr.Code != uint32(vmerr.Decode) || sr.Log == "" {
				t.Errorf("result = %+v", sr)
			}
		}},
		{name: "bad signature", in: request{method: "POST", path: "/v1/txs", body: badSig}, wantStatus: 403, out: &sr, check: func(t *testing.T) {
			if sr.Code != uint32(vmerr.Unauthorized) {
				t.Errorf("result = %+v", sr)
			}
		}},
		{name: "wrong chain", in: request{method: "POST", path: "/v1/txs", body: wrongChain}, wantStatus: 400, out: &sr, check: func(t *testing.T) {
			if sr.Code != uint32(vmerr.WrongChain) {
				t.Errorf("result = %+v", sr)
			}
		}},
		{name: "empty body", in: request{method: "POST", path: "/v1/txs", ctype: "application/octet-stream"}, wantStatus: 400, wantCode: "decode"},
		{name: "oversized raw body", in: request{method: "POST", path: "/v1/txs", body: make([]byte, tx.MaxDeployTxSize+1)}, wantStatus: 413, wantCode: "too_large"},
		{name: "oversized JSON body", in: request{method: "POST", path: "/v1/txs", ctype: "application/json", body: jsonTx(make([]byte, tx.MaxDeployTxSize+600))}, wantStatus: 413, wantCode: "too_large"},
		{name: "JSON tx over the tx limit", in: request{method: "POST", path: "/v1/txs", ctype: "application/json", body: jsonTx(make([]byte, tx.MaxDeployTxSize+1))}, wantStatus: 413, wantCode: "too_large"},
		{name: "JSON not hex", in: request{method: "POST", path: "/v1/txs", ctype: "application/json", body: []byte(`{"tx":"zz"}`)}, wantStatus: 400, wantCode: "decode"},
		{name: "JSON unknown field", in: request{method: "POST", path: "/v1/txs", ctype: "application/json", body: []byte(`{"tx":"00","fee":1}`)}, wantStatus: 400, wantCode: "decode"},
		{name: "JSON missing tx", in: request{method: "POST", path: "/v1/txs", ctype: "application/json", body: []byte(`{}`)}, wantStatus: 400, wantCode: "decode"},
		{name: "JSON malformed", in: request{method: "POST", path: "/v1/txs", ctype: "application/json", body: []byte(`{"tx":`)}, wantStatus: 400, wantCode: "decode"},
		{name: "wrong content type", in: request{method: "POST", path: "/v1/txs", ctype: "text/plain", body: []byte("x")}, wantStatus: 415, wantCode: "invalid"},
		{name: "bad wait", in: request{method: "POST", path: "/v1/txs?wait=forever", body: sign(alice, 4, 1, 1)}, wantStatus: 400, wantCode: "invalid"},
		{name: "PUT txs", in: request{method: "PUT", path: "/v1/txs", body: []byte("x")}, wantStatus: 405, wantCode: "invalid"},
		{name: "unknown route", in: request{method: "GET", path: "/v1/nope"}, wantStatus: 404, wantCode: "not_found"},
		{name: "root", in: request{method: "GET", path: "/"}, wantStatus: 404, wantCode: "not_found"},
		{name: "openapi", in: request{method: "GET", path: "/v1/openapi.yaml"}, wantStatus: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, tc.in)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.in.method == "HEAD" {
				return
			}
			if tc.wantCode != "" {
				var ae apitype.Error
				if err := json.Unmarshal(body, &ae); err != nil {
					t.Fatalf("error body %q: %v", body, err)
				}
				if ae.Code != tc.wantCode || ae.Message == "" {
					t.Errorf("error = %+v, want code %q", ae, tc.wantCode)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
			}
			if resp.StatusCode == 405 && resp.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			if tc.out != nil {
				reflect.ValueOf(tc.out).Elem().SetZero()
				if err := json.Unmarshal(body, tc.out); err != nil {
					t.Fatalf("body %q: %v", body, err)
				}
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}
}

func TestBackendFaults(t *testing.T) {
	e := newEnv(t, api.Options{})
	tests := []struct {
		name       string
		fault      error
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"unavailable", vmerr.E("chain", vmerr.Unavailable, "catching up"), 503, "unavailable", "chain: catching up"},
		{"timeout", vmerr.E("chain", vmerr.Timeout, "slow"), 504, "timeout", "chain: slow"},
		{"plain error is internal and hidden", errors.New("disk on fire"), 500, "internal", "internal error"},
		{"limit", vmerr.E("chain", vmerr.Limit, "mempool full"), 429, "limit", "chain: mempool full"},
	}
	paths := []request{
		{method: "GET", path: "/v1/status"},
		{method: "GET", path: "/v1/blocks/latest"},
		{method: "GET", path: "/v1/accounts/" + strings.Repeat("0", 40)},
		{method: "GET", path: "/v1/txs/" + strings.Repeat("0", 64)},
		{method: "POST", path: "/v1/txs", body: []byte{1}},
		{method: "GET", path: "/v1/events", header: map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.b.SetFault(tc.fault)
			defer e.b.SetFault(nil)
			for _, p := range paths {
				resp, body := e.do(t, p)
				var ae apitype.Error
				if err := json.Unmarshal(body, &ae); err != nil {
					t.Fatalf("%s %s: body %q: %v", p.method, p.path, body, err)
				}
				if resp.StatusCode != tc.wantStatus || ae.Code != tc.wantCode || ae.Message != tc.wantMsg {
					t.Errorf("%s %s: %d %+v, want %d %s %q", p.method, p.path, resp.StatusCode, ae, tc.wantStatus, tc.wantCode, tc.wantMsg)
				}
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		in   vmerr.Kind
		want int
	}{
		{vmerr.OK, 200}, {vmerr.Internal, 500}, {vmerr.Invalid, 400}, {vmerr.Decode, 400},
		{vmerr.Unauthorized, 403}, {vmerr.WrongChain, 400}, {vmerr.BadNonce, 409},
		{vmerr.InsufficientFunds, 422}, {vmerr.TooLarge, 413}, {vmerr.NotFound, 404},
		{vmerr.Exists, 409}, {vmerr.Disabled, 403}, {vmerr.Limit, 429}, {vmerr.Overflow, 400},
		{vmerr.Unavailable, 503}, {vmerr.Timeout, 504}, {vmerr.Kind(999), 500},
	}
	for _, tc := range tests {
		t.Run(tc.in.String(), func(t *testing.T) {
			if got := api.StatusOf(tc.in); got != tc.want {
				t.Errorf("StatusOf(%v) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, api.Options{})
	for range 3 {
		e.do(t, request{method: "GET", path: "/v1/status"})
	}
	e.do(t, request{method: "GET", path: "/v1/blocks/0"})
	e.do(t, request{method: "GET", path: "/v1/nope"})
	e.do(t, request{method: "DELETE", path: "/v1/status"})
	const want = `
# HELP vm_api_requests_total HTTP API requests by route pattern and status code.
# TYPE vm_api_requests_total counter
vm_api_requests_total{code="200",route="GET /v1/status"} 3
vm_api_requests_total{code="400",route="GET /v1/blocks/{height}"} 1
vm_api_requests_total{code="404",route="unmatched"} 1
vm_api_requests_total{code="405",route="other /v1/status"} 1
`
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want), "vm_api_requests_total"); err != nil {
		t.Error(err)
	}
}

// TestOpenAPI checks the served document is docs/openapi.yaml and that
// every registered route, and nothing else, is documented.
func TestOpenAPI(t *testing.T) {
	docs, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs, api.OpenAPI()) {
		t.Fatal("docs/openapi.yaml differs from internal/api/openapi.yaml: cp internal/api/openapi.yaml docs/openapi.yaml")
	}
	var doc struct {
		OpenAPI    string                               `yaml:"openapi"`
		Paths      map[string]map[string]map[string]any `yaml:"paths"`
		Components struct {
			Schemas   map[string]any `yaml:"schemas"`
			Responses map[string]any `yaml:"responses"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi: %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
			if op["responses"] == nil || op["operationId"] == nil {
				t.Errorf("%s %s: no responses or operationId", method, path)
			}
		}
	}
	// Every $ref points at a component that exists.
	for _, m := range regexp.MustCompile(`\$ref: "#/components/(schemas|responses)/(\w+)"`).FindAllStringSubmatch(string(api.OpenAPI()), -1) {
		defs := doc.Components.Schemas
		if m[1] == "responses" {
			defs = doc.Components.Responses
		}
		if _, ok := defs[m[2]]; !ok {
			t.Errorf("dangling $ref %s", m[0])
		}
	}
	// The schemas name the fields of the apitype they describe.
	for name, v := range map[string]any{"Error": apitype.Error{}, "Account": apitype.Account{}, "Location": apitype.Location{},
		"SubmitResult": apitype.SubmitResult{}, "Tx": apitype.Tx{}, "Event": apitype.Event{}, "Block": apitype.Block{},
		"Status": apitype.Status{}, "StreamEvent": apitype.StreamEvent{}, "TxResult": apitype.TxResult{},
		"BatchResult": apitype.BatchResult{}, "ID": apitype.ID{}, "IDRecord": apitype.IDRecord{},
		"IDRecordList": apitype.IDRecordList{}} {
		schema, _ := doc.Components.Schemas[name].(map[string]any)
		props, _ := schema["properties"].(map[string]any)
		typ := reflect.TypeOf(v)
		var fields []string
		for i := range typ.NumField() {
			fields = append(fields, strings.Split(typ.Field(i).Tag.Get("json"), ",")[0])
		}
		for _, f := range fields {
			if _, ok := props[f]; !ok {
				t.Errorf("schema %s lacks field %q", name, f)
			}
		}
		if len(props) != len(fields) {
			t.Errorf("schema %s has %d properties, apitype.%s has %d fields", name, len(props), name, len(fields))
		}
	}
	b, err := apitest.New(apitest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	routes := api.New(b, api.Options{}).Routes()
	for _, r := range routes {
		r = strings.ReplaceAll(r, "...}", "}") // a wildcard is one parameter in OpenAPI
		if !documented[r] {
			t.Errorf("route %q is not in openapi.yaml", r)
		}
		delete(documented, r)
	}
	for d := range documented {
		t.Errorf("openapi.yaml documents %q, which is not a route", d)
	}
	if len(routes) < 7 {
		t.Errorf("only %d routes", len(routes))
	}
	resp, body := newEnv(t, api.Options{}).do(t, request{method: "GET", path: "/v1/openapi.yaml"})
	if resp.StatusCode != 200 || !bytes.Equal(body, api.OpenAPI()) || resp.Header.Get("Content-Type") != "application/yaml" {
		t.Errorf("GET /v1/openapi.yaml: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
}

func dial(t *testing.T, ctx context.Context, e *env, query string, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.ts.URL, "http")+"/v1/events"+query, &websocket.DialOptions{HTTPHeader: header})
	if err == nil {
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

func readEvent(t *testing.T, ctx context.Context, c *websocket.Conn) apitype.StreamEvent {
	t.Helper()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read event: %v", err)
	}
	var ev apitype.StreamEvent
	if typ != websocket.MessageText || json.Unmarshal(b, &ev) != nil {
		t.Fatalf("bad message %v %q", typ, b)
	}
	return ev
}

func waitSubscribers(t *testing.T, b *apitest.Backend, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); b.Subscribers() != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers, want %d", b.Subscribers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEvents(t *testing.T) {
	e := newEnv(t, api.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	alice, bob := mustKey(t), mustKey(t)

	all, _, err := dial(t, ctx, e, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	txOnly, _, err := dial(t, ctx, e, "?types=tx", nil)
	if err != nil {
		t.Fatal(err)
	}
	forBob, _, err := dial(t, ctx, e, "?address="+bob.Address().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitSubscribers(t, e.b, 3)
	e.fund(t, alice, 0, 100)
	raw, err := e.b.Sign(alice, 1, 1, apitest.Transfer(bob.Address(), 7))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.SubmitTx(ctx, raw, true); err != nil {
		t.Fatal(err)
	}

	got := []string{}
	for range 4 {
		ev := readEvent(t, ctx, all)
		got = append(got, ev.Type)
	}
	if strings.Join(got, ",") != "block,tx,block,tx" {
		t.Errorf("all: events %v", got)
	}
	for _, want := range []uint64{0, 1} {
		ev := readEvent(t, ctx, txOnly)
		if ev.Type != "tx" || ev.Tx == nil || ev.Tx.Events[0].Attributes["nonce"] != strconv.FormatUint(want, 10) {
			t.Errorf("tx only: %+v", ev)
		}
	}
	ev := readEvent(t, ctx, forBob)
	if ev.Type != "tx" || ev.Tx.Hash != tx.HashOf(raw).String() {
		t.Errorf("for bob: %+v, want the transfer", ev)
	}

	// A client that leaves frees its subscription.
	txOnly.Close(websocket.StatusNormalClosure, "")
	waitSubscribers(t, e.b, 2)

	// Close ends the remaining streams with 1001 and frees them; it waits
	// for the close handshake, so the clients read meanwhile.
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		e.srv.Close()
	}()
	defer func() { <-closed }()
	for _, c := range []*websocket.Conn{all, forBob} {
		_, _, err := c.Read(ctx)
		if websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Errorf("after Close: %v, want status 1001", err)
		}
	}
	<-closed
	waitSubscribers(t, e.b, 0)
	_, resp, err := dial(t, ctx, e, "", nil)
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Errorf("dial after Close: %v %v, want 503", resp, err)
	}
}

func TestEventsRefused(t *testing.T) {
	e := newEnv(t, api.Options{MaxStreams: 1, AllowedOrigins: []string{"portal.example"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name       string
		query      string
		origin     string
		wantStatus int
	}{
		{"bad type", "?types=block,mempool", "", 400},
		{"bad address", "?address=12", "", 400},
		{"cross-origin browser", "", "https://evil.example", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			_, resp, err := dial(t, ctx, e, tc.query, h)
			if err == nil || resp == nil || resp.StatusCode != tc.wantStatus {
				t.Fatalf("%v %v, want %d", resp, err, tc.wantStatus)
			}
		})
	}
	// An allowed origin takes the one slot; the next stream is refused.
	if _, _, err := dial(t, ctx, e, "", http.Header{"Origin": {"https://portal.example"}}); err != nil {
		t.Fatalf("allowed origin: %v", err)
	}
	waitSubscribers(t, e.b, 1)
	_, resp, err := dial(t, ctx, e, "", nil)
	if err == nil || resp == nil || resp.StatusCode != 429 {
		t.Errorf("over MaxStreams: %v %v, want 429", resp, err)
	}
}

// TestEventsDroppedSubscriber checks that a subscription the backend ends
// (a dropped slow consumer, a stopping node) closes the stream with 1013.
func TestEventsDroppedSubscriber(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true, SubBuffer: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(b, api.Options{WriteTimeout: time.Second})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for deadline := time.Now().Add(5 * time.Second); b.Subscribers() != 1 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	b.Close() // the backend ends every subscription
	for {
		_, _, err := c.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusTryAgainLater {
				t.Errorf("read: %v, want close 1013", err)
			}
			return
		}
	}
}

func mustBody(chainID string, to crypto.Address) *txpb.TxBody {
	return &txpb.TxBody{ChainId: chainID, Nonce: 0, Fee: 1, Msgs: []*txpb.Msg{apitest.Transfer(to, 1)}}
}

// TestEventsOutliveServerTimeouts checks a stream survives the
// http.Server's read and write timeouts, which are meant for requests.
func TestEventsOutliveServerTimeouts(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := api.New(b, api.Options{})
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config.ReadTimeout = 100 * time.Millisecond
	ts.Config.WriteTimeout = 100 * time.Millisecond
	ts.Start()
	defer ts.Close()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/v1/events?types=tx", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	waitSubscribers(t, b, 1)
	time.Sleep(300 * time.Millisecond)
	k := mustKey(t)
	raw, err := b.Sign(k, 0, 0, apitest.Faucet(k.Address(), 5))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.SubmitTx(ctx, raw, true); err != nil {
		t.Fatal(err)
	}
	if ev := readEvent(t, ctx, c); ev.Tx == nil || ev.Tx.Code != 0 {
		t.Errorf("event %+v", ev)
	}
}
