package api_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
)

// TestExplorerRoutesBadInput checks every malformed explorer request is a
// 400 whose message names what is wrong, and that good ones answer 200.
func TestExplorerRoutesBadInput(t *testing.T) {
	e := newEnv(t, api.Options{})
	k := mustKey(t)
	e.fund(t, k, 0, 1000)
	addr := k.Address().String()
	for _, tc := range []struct {
		name, path string
		wantStatus int
		wantMsg    string // substring of the error message
	}{
		{"history", "/v1/accounts/" + addr + "/txs", 200, ""},
		{"history paged", "/v1/accounts/" + addr + "/txs?before=5:0&limit=100", 200, ""},
		{"bad addr", "/v1/accounts/xyz/txs", 400, "address"},
		{"bad cursor", "/v1/accounts/" + addr + "/txs?before=abc", 400, "before="},
		{"cursor without index", "/v1/accounts/" + addr + "/txs?before=12", 400, "height:n"},
		{"cursor height 0", "/v1/accounts/" + addr + "/txs?before=0:1", 400, "before="},
		{"cursor index too big", "/v1/accounts/" + addr + "/txs?before=3:4294967296", 400, "index out of range"},
		{"limit 0", "/v1/accounts/" + addr + "/txs?limit=0", 400, "limit="},
		{"limit 101", "/v1/accounts/" + addr + "/txs?limit=101", 400, "limit="},
		{"stats", "/v1/contracts/echo/stats", 200, ""},
		{"stats window", "/v1/contracts/echo/stats?from=60&to=7200&step=120", 200, ""},
		{"stats bad name", "/v1/contracts/Bad_Name/stats", 400, "name"},
		{"stats with range", "/v1/contracts/echo@%5E1/stats", 400, "not name@range"},
		{"from after to", "/v1/contracts/echo/stats?from=7200&to=60", 400, "not before"},
		{"from equals to", "/v1/contracts/echo/stats?from=600&to=600", 400, "not before"},
		{"step not minutes", "/v1/contracts/echo/stats?step=90", 400, "multiple of 60"},
		{"step zero", "/v1/contracts/echo/stats?step=0", 400, "positive integer"},
		{"from not a number", "/v1/contracts/echo/stats?from=yesterday", 400, "from="},
		{"too many buckets", "/v1/contracts/echo/stats?from=60&to=8640060", 400, "buckets"},
		{"results", "/v1/contracts/echo/results?limit=5", 200, ""},
		{"results bad cursor", "/v1/contracts/echo/results?before=1:-2", 400, "before="},
		{"results limit 0", "/v1/contracts/echo/results?limit=0", 400, "limit="},
		{"results limit 101", "/v1/contracts/echo/results?limit=101", 400, "limit="},
		{"results bad name", "/v1/contracts/-x/results", 400, "name"},
		{"post not allowed", "/v1/accounts/" + addr + "/txs", 405, "not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := "GET"
			if tc.wantStatus == 405 {
				method = "POST"
			}
			resp, body := e.do(t, request{method: method, path: tc.path})
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("%s: %d %s, want %d", tc.path, resp.StatusCode, body, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusOK {
				return
			}
			var ae apitype.Error
			if err := json.Unmarshal(body, &ae); err != nil || ae.Message == "" || !strings.Contains(ae.Message, tc.wantMsg) {
				t.Errorf("%s: error %s, want a message containing %q", tc.path, body, tc.wantMsg)
			}
		})
	}
	// The funded account's history over HTTP: the faucet tx.
	resp, body := e.do(t, request{method: "GET", path: "/v1/accounts/" + addr + "/txs"})
	var l apitype.TxList
	if resp.StatusCode != 200 || json.Unmarshal(body, &l) != nil || len(l.Txs) != 1 || l.Txs[0].Code != 0 || l.Address != addr {
		t.Errorf("history: %d %s", resp.StatusCode, body)
	}
}

// TestExplorerSchemas checks the OpenAPI schemas of the explorer's
// answers name exactly the fields of their apitype.
func TestExplorerSchemas(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]any `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"AccountTx": apitype.AccountTx{}, "TxList": apitype.TxList{},
		"Latency": apitype.Latency{}, "StatsBucket": apitype.StatsBucket{}, "ContractStats": apitype.ContractStats{},
		"ContractResult": apitype.ContractResult{}, "ContractResultList": apitype.ContractResultList{}} {
		schema, _ := doc.Components.Schemas[name].(map[string]any)
		props, _ := schema["properties"].(map[string]any)
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
}
