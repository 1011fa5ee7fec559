package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/lightproof"
	"github.com/virtual-machine/vm/internal/nodetest"
)

// TestCommitRouteFake checks GET /v1/commits/{height}'s parsing and
// error mapping on the fake, which signs no headers (503).
func TestCommitRouteFake(t *testing.T) {
	e := newEnv(t, api.Options{})
	tests := []struct {
		name     string
		in       string
		wantCode int
		wantKind string
	}{
		{name: "latest", in: "latest", wantCode: http.StatusServiceUnavailable, wantKind: "unavailable"},
		{name: "block 1", in: "1", wantCode: http.StatusServiceUnavailable, wantKind: "unavailable"},
		{name: "zero", in: "0", wantCode: http.StatusBadRequest, wantKind: "invalid"},
		{name: "negative", in: "-4", wantCode: http.StatusBadRequest, wantKind: "invalid"},
		{name: "not a number", in: "abc", wantCode: http.StatusBadRequest, wantKind: "invalid"},
		{name: "overflow", in: "99999999999999999999", wantCode: http.StatusBadRequest, wantKind: "invalid"},
		{name: "above the latest", in: "1000", wantCode: http.StatusNotFound, wantKind: "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, request{method: "GET", path: "/v1/commits/" + tc.in})
			var ae apitype.Error
			if resp.StatusCode != tc.wantCode || json.Unmarshal(body, &ae) != nil || ae.Code != tc.wantKind {
				t.Errorf("GET /v1/commits/%s: %d %s, want %d %s", tc.in, resp.StatusCode, body, tc.wantCode, tc.wantKind)
			}
		})
	}
	resp, _ := e.do(t, request{method: "POST", path: "/v1/commits/1"})
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}

// TestCommitRouteNode reads commits of a real node over HTTP: each
// verifies against the node's genesis, block h's app hash is the one GET
// /v1/blocks/h reports, and heights above the chain are 404.
func TestCommitRouteNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	env := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	trust, err := lightproof.LoadHome(env.Home)
	if err != nil {
		t.Fatal(err)
	}
	env.Fund(t, nodetest.Key(3).Address(), 5)
	st, err := env.Client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"1", strconv.FormatInt(st.LatestHeight, 10), "latest"} {
		resp, err := http.Get(env.URL + "/v1/commits/" + h)
		if err != nil {
			t.Fatal(err)
		}
		var c apitype.Commit
		err = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil {
			t.Fatalf("GET /v1/commits/%s: %d %v", h, resp.StatusCode, err)
		}
		if _, err := lightproof.VerifyCommit(&c, trust); err != nil {
			t.Errorf("commit %s: %v", h, err)
		}
		blk, err := env.Client.Block(ctx, c.Height)
		if err != nil || blk.AppHash != c.AppHash || blk.Hash != c.Hash {
			t.Errorf("block %d %+v vs commit %+v: %v", c.Height, blk, c, err)
		}
	}
	resp, err := http.Get(env.URL + "/v1/commits/" + strconv.FormatInt(st.LatestHeight+1000, 10))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("far future: %d, want 404", resp.StatusCode)
	}
}

// TestCommitSchema checks the Commit schema of openapi.yaml names every
// field of apitype.Commit.
func TestCommitSchema(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `yaml:"properties"`
				Required   []string       `yaml:"required"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	s, ok := doc.Components.Schemas["Commit"]
	if !ok {
		t.Fatal("no Commit schema")
	}
	typ := reflect.TypeOf(apitype.Commit{})
	for i := range typ.NumField() {
		f := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
		if _, ok := s.Properties[f]; !ok {
			t.Errorf("schema Commit lacks field %q", f)
		}
	}
	if len(s.Properties) != typ.NumField() || len(s.Required) != typ.NumField() {
		t.Errorf("schema Commit has %d properties (%d required), apitype.Commit %d fields", len(s.Properties), len(s.Required), typ.NumField())
	}
}
