package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
)

// minerFixture registers three miners (cpu, gpu, storage) on e's fake and
// returns their addresses in address order with their kinds, and the
// height of the first registration.
func minerFixture(t *testing.T, e *env) (addrs []string, kinds map[string]string, first int64) {
	t.Helper()
	kinds = map[string]string{}
	for i, kind := range []string{"cpu", "gpu", "storage"} {
		k := mustKey(t)
		e.fund(t, k, 0, 1_000)
		raw, err := e.b.Sign(k, 1, 1, apitest.MinerRegister(kind, uint32(i+1), "https://m.example/"+kind, 50, "v1", true))
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.b.SubmitTx(context.Background(), raw, true)
		if err != nil || res.Code != 0 {
			t.Fatalf("register %s: %+v %v", kind, res, err)
		}
		if i == 0 {
			first = res.Height
		}
		addrs = append(addrs, k.Address().String())
		kinds[k.Address().String()] = kind
	}
	slices.Sort(addrs)
	return addrs, kinds, first
}

func TestMinerRoutes(t *testing.T) {
	e := newEnv(t, api.Options{})
	addrs, kinds, first := minerFixture(t, e)
	var gpu, cpu string
	for a, k := range kinds {
		switch k {
		case "gpu":
			gpu = a
		case "cpu":
			cpu = a
		}
	}
	unknown := mustKey(t).Address().String()
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantCode   string   // error code, or "" for a 2xx
		want       []string // substrings of the body
		notWant    string
	}{
		{"miner", "/v1/miners/" + cpu, 200, "", []string{`"kind":"cpu"`, `"min_gas":"50"`, `"earned":"0"`, `"jobs_taken":0`, `"location":{`}, ""},
		{"miner upper-case hex", "/v1/miners/" + strings.ToUpper(cpu), 200, "", []string{`"address":"` + cpu + `"`}, ""},
		{"miner without proof", "/v1/miners/" + cpu + "?prove=false", 200, "", []string{`"active":true`}, `"location"`},
		{"miner at its height", "/v1/miners/" + cpu + "?height=" + itoa(first), 200, "", []string{`"registered":` + itoa(first)}, ""},
		{"miner before it registered", "/v1/miners/" + cpu + "?height=" + itoa(first-1), 404, "not_found", nil, ""},
		{"unknown miner", "/v1/miners/" + unknown, 404, "not_found", []string{unknown}, ""},
		{"bad id", "/v1/miners/alice", 400, "invalid", []string{"hex"}, ""},
		{"bad height", "/v1/miners/" + cpu + "?height=-4", 400, "invalid", []string{"height"}, ""},
		{"future height", "/v1/miners/" + cpu + "?height=99999", 404, "not_found", nil, ""},
		{"bad prove", "/v1/miners/" + cpu + "?prove=perhaps", 400, "invalid", []string{"prove"}, ""},
		{"list", "/v1/miners", 200, "", []string{addrs[0], addrs[1], addrs[2], `"kind":"storage"`}, `"next"`},
		{"list by kind", "/v1/miners?kind=gpu", 200, "", []string{gpu}, `"kind":"cpu"`},
		{"list of an absent kind", "/v1/miners?kind=relay", 200, "", []string{`"miners":[]`}, ""},
		{"list page", "/v1/miners?limit=1", 200, "", []string{`"next":"` + addrs[0] + `"`}, addrs[1]},
		{"list after", "/v1/miners?after=" + addrs[0], 200, "", []string{addrs[1], addrs[2]}, addrs[0]},
		{"list after the last", "/v1/miners?after=" + addrs[2], 200, "", []string{`"miners":[]`}, ""},
		{"bad kind", "/v1/miners?kind=tpu", 400, "invalid", []string{"tpu"}, ""},
		{"long kind", "/v1/miners?kind=" + strings.Repeat("k", 100), 400, "invalid", []string{"kind"}, ""},
		{"bad after", "/v1/miners?after=zz", 400, "invalid", []string{"zz"}, ""},
		{"bad limit", "/v1/miners?limit=101", 400, "invalid", []string{"limit"}, ""},
		{"zero limit", "/v1/miners?limit=0", 400, "invalid", []string{"limit"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, request{method: "GET", path: tc.path})
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("GET %s: %d %s, want %d", tc.path, resp.StatusCode, body, tc.wantStatus)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("GET %s: %s lacks %q", tc.path, body, w)
				}
			}
			if tc.notWant != "" && strings.Contains(string(body), tc.notWant) {
				t.Errorf("GET %s: %s has %q", tc.path, body, tc.notWant)
			}
			if tc.wantCode != "" {
				var ae apitype.Error
				if json.Unmarshal(body, &ae) != nil || ae.Code != tc.wantCode || ae.Message == "" {
					t.Errorf("error body %s, want code %s", body, tc.wantCode)
				}
			}
		})
	}
	// POST is not a route: 405 with Allow.
	resp, _ := e.do(t, request{method: "POST", path: "/v1/miners"})
	if resp.StatusCode != 405 || !strings.Contains(resp.Header.Get("Allow"), "GET") {
		t.Errorf("POST /v1/miners: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// The proved record decodes to what the answer says and verifies.
	_, body := e.do(t, request{method: "GET", path: "/v1/miners/" + gpu})
	var m apitype.Miner
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	a, _ := crypto.ParseAddress(gpu)
	if m.Location == nil || !state.SameKey(m.Location, state.MinerKey(a)) || state.VerifyLocation(m.Location) != nil {
		t.Fatalf("location %+v", m.Location)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
