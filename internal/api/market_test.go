package api_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
	"go.yaml.in/yaml/v3"
)

// marketFixture deploys the echo module as "echo" on e's fake, registers
// a cpu miner, includes one request and settles a second one whose result
// writes keys "k" and "m" of echo's namespace. It returns the ids of the
// open and the settled request.
func marketFixture(t *testing.T, e *env) (open, settled string) {
	t.Helper()
	ctx := context.Background()
	alice, miner := mustKey(t), mustKey(t)
	e.fund(t, alice, 0, 1_000_000)
	e.fund(t, miner, 0, 1_000)
	send := func(k crypto.PrivKey, nonce uint64, msg *txpb.Msg) apitype.SubmitResult {
		t.Helper()
		raw, err := e.b.Sign(k, nonce, 1, msg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.b.SubmitTx(ctx, raw, true)
		if err != nil || res.Code != 0 {
			t.Fatalf("submit: %+v %v", res, err)
		}
		return res
	}
	idOf := func(res apitype.SubmitResult) [32]byte {
		h, err := tx.ParseHash(res.Hash)
		if err != nil {
			t.Fatal(err)
		}
		return market.RequestID(h, 0)
	}
	send(alice, 1, apitest.Deploy("echo", "1.0.0", apitest.EchoModule("x"), nil))
	send(miner, 1, apitest.MinerRegister("cpu", 1, "", 0, "v1", true))
	a := idOf(send(alice, 2, apitest.Request("echo@^1", "echo", []byte("hi"), 1000, 1, 10, 1, 1, 50)))
	bres := send(alice, 3, apitest.Request("echo@^1", "echo", []byte("hi"), 1000, 1, 10, 1, 1, 50))
	b := idOf(bres)
	r := wasm.Result{Output: []byte("hi"), GasUsed: 10, WriteSet: []wasm.Write{
		{Contract: "echo", Key: []byte("k"), Value: []byte("1")}, {Contract: "echo", Key: []byte("m"), Value: []byte("2")}}}
	raw, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	send(miner, 2, &txpb.Msg{Sum: &txpb.Msg_Result{Result: &txpb.Result{RequestId: b[:], Result: raw, Start: bres.Height}}})
	return hex.EncodeToString(a[:]), hex.EncodeToString(b[:])
}

func TestMarketRoutes(t *testing.T) {
	e := newEnv(t, api.Options{})
	open, settled := marketFixture(t, e)
	unknown := strings.Repeat("ab", 32)
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantCode   string
		check      func(t *testing.T, body []byte)
	}{
		{name: "list open", path: "/v1/requests?open=true", wantStatus: 200, check: func(t *testing.T, b []byte) {
			var l apitype.RequestList
			if json.Unmarshal(b, &l) != nil || len(l.Requests) != 1 || l.Requests[0].ID != open || l.Requests[0].Location == nil || l.Next != "" {
				t.Errorf("list %s", b)
			}
		}},
		{name: "list page", path: "/v1/requests?open=true&limit=1", wantStatus: 200, check: func(t *testing.T, b []byte) {
			var l apitype.RequestList
			if json.Unmarshal(b, &l) != nil || len(l.Requests) != 1 || len(l.Next) != 80 || !strings.HasSuffix(l.Next, open) {
				t.Errorf("page %s", b)
			}
		}},
		{name: "list after", path: "/v1/requests?open=true&after=ffffffffffffffff" + open, wantStatus: 200, check: func(t *testing.T, b []byte) {
			if !strings.Contains(string(b), `"requests":[]`) {
				t.Errorf("after last: %s", b)
			}
		}},
		{name: "list open missing", path: "/v1/requests", wantStatus: 400, wantCode: "invalid"},
		{name: "list open false", path: "/v1/requests?open=false", wantStatus: 400, wantCode: "invalid"},
		{name: "list limit 0", path: "/v1/requests?open=true&limit=0", wantStatus: 400, wantCode: "invalid"},
		{name: "list limit big", path: "/v1/requests?open=true&limit=1001", wantStatus: 400, wantCode: "invalid"},
		{name: "list after bad", path: "/v1/requests?open=true&after=zz", wantStatus: 400, wantCode: "invalid"},
		{name: "list after an id", path: "/v1/requests?open=true&after=" + open, wantStatus: 400, wantCode: "invalid"},
		{name: "request", path: "/v1/requests/" + open, wantStatus: 200, check: func(t *testing.T, b []byte) {
			var r apitype.Request
			if json.Unmarshal(b, &r) != nil || r.ID != open || r.Status != "open" || r.Location == nil || r.Name != "echo" {
				t.Errorf("request %s", b)
			}
		}},
		{name: "request upper hex", path: "/v1/requests/" + strings.ToUpper(open) + "?prove=false", wantStatus: 200, check: func(t *testing.T, b []byte) {
			var r apitype.Request
			if json.Unmarshal(b, &r) != nil || r.ID != open || r.Location != nil {
				t.Errorf("request %s", b)
			}
		}},
		{name: "request settled", path: "/v1/requests/" + settled, wantStatus: 200, check: func(t *testing.T, b []byte) {
			if !strings.Contains(string(b), `"status":"settled"`) {
				t.Errorf("request %s", b)
			}
		}},
		{name: "request unknown", path: "/v1/requests/" + unknown, wantStatus: 404, wantCode: "not_found"},
		{name: "request short id", path: "/v1/requests/abcd", wantStatus: 400, wantCode: "invalid"},
		{name: "request bad hex", path: "/v1/requests/" + strings.Repeat("zz", 32), wantStatus: 400, wantCode: "invalid"},
		{name: "request bad height", path: "/v1/requests/" + open + "?height=-1", wantStatus: 400, wantCode: "invalid"},
		{name: "request bad prove", path: "/v1/requests/" + open + "?prove=maybe", wantStatus: 400, wantCode: "invalid"},
		{name: "request future height", path: "/v1/requests/" + open + "?height=100000", wantStatus: 404, wantCode: "not_found"},
		{name: "stream without upgrade", path: "/v1/requests/stream", wantStatus: 426, wantCode: "invalid"},
		{name: "result", path: "/v1/results/" + settled, wantStatus: 200, check: func(t *testing.T, b []byte) {
			var r apitype.Result
			if json.Unmarshal(b, &r) != nil || r.RequestID != settled || r.Status != "settled" || string(r.Output) != "hi" || r.Location == nil {
				t.Errorf("result %s", b)
			}
		}},
		{name: "result open", path: "/v1/results/" + open, wantStatus: 404, wantCode: "not_found"},
		{name: "result unknown", path: "/v1/results/" + unknown, wantStatus: 404, wantCode: "not_found"},
		{name: "result bad id", path: "/v1/results/xyz", wantStatus: 400, wantCode: "invalid"},
		{name: "memo unknown", path: "/v1/memos/" + unknown + "/echo/" + unknown, wantStatus: 404, wantCode: "not_found"},
		{name: "memo bad code", path: "/v1/memos/xyz/echo/" + unknown, wantStatus: 400, wantCode: "invalid"},
		{name: "memo bad input", path: "/v1/memos/" + unknown + "/echo/" + strings.Repeat("zz", 32), wantStatus: 400, wantCode: "invalid"},
		{name: "memo long fn", path: "/v1/memos/" + unknown + "/" + strings.Repeat("f", 65) + "/" + unknown, wantStatus: 400, wantCode: "invalid"},
		{name: "memo bad height", path: "/v1/memos/" + unknown + "/echo/" + unknown + "?height=-1", wantStatus: 400, wantCode: "invalid"},
		{name: "data", path: "/v1/state/echo/6b", wantStatus: 200, check: func(t *testing.T, b []byte) {
			var d apitype.DataEntry
			if json.Unmarshal(b, &d) != nil || !d.Found || string(d.Value) != "1" || d.Version == 0 || d.Location == nil {
				t.Errorf("data %s", b)
			}
		}},
		{name: "data absent", path: "/v1/state/echo/7a", wantStatus: 200, check: func(t *testing.T, b []byte) {
			var d apitype.DataEntry
			if json.Unmarshal(b, &d) != nil || d.Found || d.Location == nil || d.Location.Value != "" {
				t.Errorf("absent %s", b)
			}
		}},
		{name: "data bad hex", path: "/v1/state/echo/zz", wantStatus: 400, wantCode: "invalid"},
		{name: "data odd hex", path: "/v1/state/echo/abc", wantStatus: 400, wantCode: "invalid"},
		{name: "data long key", path: "/v1/state/echo/" + strings.Repeat("ab", api.MaxDataKey+1), wantStatus: 400, wantCode: "invalid"},
		{name: "data bad name", path: "/v1/state/Echo/6b", wantStatus: 400, wantCode: "invalid"},
		{name: "data long name", path: "/v1/state/" + strings.Repeat("a", 65) + "/6b", wantStatus: 400, wantCode: "invalid"},
		{name: "range", path: "/v1/state/echo", wantStatus: 200, check: func(t *testing.T, b []byte) {
			var r apitype.DataRange
			if json.Unmarshal(b, &r) != nil || len(r.Entries) != 2 || string(r.Entries[1].Key) != "m" || r.Entries[0].Location == nil {
				t.Errorf("range %s", b)
			}
		}},
		{name: "range bounds", path: "/v1/state/echo?start=6c&end=7a&limit=5", wantStatus: 200, check: func(t *testing.T, b []byte) {
			var r apitype.DataRange
			if json.Unmarshal(b, &r) != nil || len(r.Entries) != 1 || string(r.Entries[0].Key) != "m" {
				t.Errorf("range %s", b)
			}
		}},
		{name: "range empty namespace", path: "/v1/state/nothing", wantStatus: 200, check: func(t *testing.T, b []byte) {
			if !strings.Contains(string(b), `"entries":[]`) {
				t.Errorf("range %s", b)
			}
		}},
		{name: "range reversed", path: "/v1/state/echo?start=7a&end=6b", wantStatus: 400, wantCode: "invalid"},
		{name: "range bad start", path: "/v1/state/echo?start=q", wantStatus: 400, wantCode: "invalid"},
		{name: "range limit", path: "/v1/state/echo?limit=1001", wantStatus: 400, wantCode: "invalid"},
		{name: "range bad height", path: "/v1/state/echo?height=x", wantStatus: 400, wantCode: "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, request{method: "GET", path: tc.path})
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantCode != "" {
				var er apitype.Error
				if json.Unmarshal(body, &er) != nil || er.Code != tc.wantCode || er.Message == "" {
					t.Errorf("error body %s, want code %s", body, tc.wantCode)
				}
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
	resp, _ := e.do(t, request{method: "POST", path: "/v1/requests/" + open})
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /v1/requests/{id}: %d", resp.StatusCode)
	}
}

// TestOffersFake follows the offer stream on the fake: the open request
// first, then a request included while streaming; a memo-free settled
// request is never offered.
func TestOffersFake(t *testing.T) {
	e := newEnv(t, api.Options{})
	open, _ := marketFixture(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := client.New(e.ts.URL)
	offers, err := c.Offers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if o := <-offers; o.ID != open || o.Status != "open" {
		t.Fatalf("first offer %+v, want %s", o, open)
	}
	k := mustKey(t)
	e.fund(t, k, 0, 100_000)
	raw, err := e.b.Sign(k, 1, 1, apitest.Request("echo@^1", "echo", []byte("x"), 100, 1, 1, 1, 1, 20))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.b.SubmitTx(ctx, raw, true)
	if err != nil || res.Code != 0 {
		t.Fatalf("request: %+v %v", res, err)
	}
	h, _ := tx.ParseHash(res.Hash)
	id := market.RequestID(h, 0)
	select {
	case o := <-offers:
		if o.ID != hex.EncodeToString(id[:]) || o.Round != 1 || o.Height != res.Height || string(o.Input) != "x" {
			t.Fatalf("offer %+v, want request %x included at %d", o, id, res.Height)
		}
	case <-ctx.Done():
		t.Fatal("no offer of the new request")
	}
	// A refused request (unknown contract) is no offer: the next offer is
	// the following good one.
	raw, _ = e.b.Sign(k, 2, 1, apitest.Request("nope@^1", "echo", nil, 100, 1, 1, 1, 1, 20))
	if res, err := e.b.SubmitTx(ctx, raw, true); err != nil || res.Code == 0 {
		t.Fatalf("bad request accepted: %+v %v", res, err)
	}
	raw, _ = e.b.Sign(k, 2, 1, apitest.Request("echo@^1", "echo", []byte("y"), 100, 1, 1, 1, 1, 20))
	if res, err := e.b.SubmitTx(ctx, raw, true); err != nil || res.Code != 0 {
		t.Fatalf("request: %+v %v", res, err)
	}
	// Meanwhile the fixture's request has lapsed (a 5-block commit window
	// with no seal): it may come again, as round 2, but only so.
	for {
		o := <-offers
		if string(o.Input) == "y" && o.Round == 1 {
			break
		}
		if o.Round < 2 || o.ID != open && string(o.Input) != "x" {
			t.Fatalf("offer %+v, want the input y request or a re-offer", o)
		}
	}
}

// TestOpenedIDs checks which events open a round.
func TestOpenedIDs(t *testing.T) {
	id := func(b byte) string { return strings.Repeat(hex.EncodeToString([]byte{b}), 32) }
	ev := func(typ, i, memo string) apitype.Event {
		a := map[string]string{"id": i}
		if memo != "" {
			a["memo"] = memo
		}
		return apitype.Event{Type: typ, Attributes: a}
	}
	blk := apitype.BlockEvents{
		Events: []apitype.Event{ev("request_reopened", id(1), ""), ev("request_expired", id(2), ""), ev("request_reopened", "bad", "")},
		Txs: []apitype.TxResult{
			{Events: []apitype.Event{ev("request", id(3), "false"), ev("request", id(4), "true")}},
			{Code: 5, Events: []apitype.Event{ev("request", id(5), "false")}},
			{Events: []apitype.Event{ev("transfer", id(6), "false"), ev("request", id(7), "false")}},
			{Events: []apitype.Event{ev("result_committed", id(8), ""), ev("request_reopened", id(9), "")}},
		},
	}
	var got []string
	for _, i := range api.OpenedIDs(blk) {
		got = append(got, hex.EncodeToString(i[:]))
	}
	want := []string{id(1), id(3), id(7), id(9)}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("OpenedIDs = %v, want %v", got, want)
	}
}

// FuzzParseRequestID: never panics; accepts exactly 64 hex digits, and
// the id re-encodes to them.
func FuzzParseRequestID(f *testing.F) {
	for _, s := range []string{strings.Repeat("ab", 32), strings.Repeat("AB", 32), "", "zz", strings.Repeat("a", 63)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := api.ParseRequestID(s)
		if err != nil {
			if vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("kind %v", vmerr.KindOf(err))
			}
			return
		}
		if !strings.EqualFold(hex.EncodeToString(id[:]), s) {
			t.Fatalf("%q -> %x", s, id)
		}
	})
}

// FuzzParseDataKey: never panics; accepts hex of at most MaxDataKey bytes.
func FuzzParseDataKey(f *testing.F) {
	for _, s := range []string{"", "6b", "zz", "abc", strings.Repeat("00", api.MaxDataKey+1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := api.ParseDataKey(s)
		if err != nil {
			if vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("kind %v", vmerr.KindOf(err))
			}
			return
		}
		if len(k) > api.MaxDataKey || !strings.EqualFold(hex.EncodeToString(k), s) {
			t.Fatalf("%q -> %x", s, k)
		}
	})
}

// TestMarketOpenAPISchemas checks the market schemas of openapi.yaml name
// exactly the fields of the apitype they describe.
func TestMarketOpenAPISchemas(t *testing.T) {
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
	for name, v := range map[string]any{"Request": apitype.Request{}, "RequestList": apitype.RequestList{},
		"Seal": apitype.Seal{}, "Result": apitype.Result{}, "Payment": apitype.Payment{}, "DataRead": apitype.DataRead{},
		"DataWrite": apitype.DataWrite{}, "DataEntry": apitype.DataEntry{}, "DataRange": apitype.DataRange{}} {
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
}

// TestOffersShareStreamLimit: offer streams count against MaxStreams with
// event streams, and end with the server (the channel closes).
func TestOffersShareStreamLimit(t *testing.T) {
	e := newEnv(t, api.Options{MaxStreams: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := client.New(e.ts.URL)
	offers, err := c.Offers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Offers(ctx); vmerr.KindOf(err) != vmerr.Limit {
		t.Errorf("second offer stream: %v, want Limit", err)
	}
	if _, err := c.Events(ctx); vmerr.KindOf(err) != vmerr.Limit {
		t.Errorf("event stream beside an offer stream: %v, want Limit", err)
	}
	e.srv.Close()
	select {
	case _, ok := <-offers:
		if ok {
			t.Error("an offer from an empty market")
		}
	case <-ctx.Done():
		t.Fatal("offer stream outlived the server")
	}
}
