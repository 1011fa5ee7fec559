package ledger_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// mqProved checks q answers key with a proof that verifies against the
// latest app hash (absence when the value is empty).
func (n *node) mqProved(q *abcitypes.QueryResponse, key []byte) {
	n.t.Helper()
	if q.Code != 0 {
		n.t.Fatalf("query: %d %s", q.Code, q.Log)
	}
	if !bytes.Equal(q.Key, key) {
		n.t.Fatalf("query key %x, want %x", q.Key, key)
	}
	if err := state.VerifyLocation(location(q, n.app.AppHash())); err != nil {
		n.t.Fatalf("proof of %x: %v", key, err)
	}
}

// mqList decodes a list answer and checks one verifying proof per item.
func (n *node) mqList(q *abcitypes.QueryResponse) ([][]byte, [][]byte) {
	n.t.Helper()
	if q.Code != 0 {
		n.t.Fatalf("list query: %d %s", q.Code, q.Log)
	}
	items, err := state.DecodeList(q.Value)
	if err != nil {
		n.t.Fatal(err)
	}
	if len(items) > 0 && (q.ProofOps == nil || len(q.ProofOps.Ops) != len(items)) {
		n.t.Fatalf("%d items, proof ops %v", len(items), q.ProofOps)
	}
	keys := make([][]byte, len(items))
	for i, raw := range items {
		op := q.ProofOps.Ops[i]
		loc := &apitype.Location{Key: hex.EncodeToString(op.Key), Value: hex.EncodeToString(raw),
			AppHash: hex.EncodeToString(n.app.AppHash()), Proof: hex.EncodeToString(op.Data)}
		if err := state.VerifyLocation(loc); err != nil {
			n.t.Fatalf("item %d (%x): %v", i, op.Key, err)
		}
		keys[i] = op.Key
	}
	return items, keys
}

func dataQuery(name string, key []byte) string { return name + "\x00" + string(key) }

// TestMarketQueryPaths follows one swap request through the query
// paths: open (/request, /requests, no /result), settled by a real
// execution (/result, gone from /requests), and its write (/data with a
// membership proof, /data/range), and an absent key read with an absence
// proof rather than an error.
func TestMarketQueryPaths(t *testing.T) {
	n := newMarketNet(t)
	rt := newRuntime(t)
	raw := n.ok(n.requester, requestMsg("swap@^1", "swap", "5", 1_000_000, 1, 100, 1, 1, 20))
	id := requestID(raw, 0)
	included := n.height

	q := n.queryProve(ledger.PathRequest, string(id[:]), true)
	n.mqProved(q, state.RequestKey(id))
	if m, err := state.DecodeRequest(q.Value); err != nil || !bytes.Equal(m.Id, id[:]) || m.Status != jobs.StatusOpen || q.Height != included {
		t.Fatalf("/request = %+v at %d, %v", m, q.Height, err)
	}
	if q := n.queryProve(ledger.PathRequest, string(id[:]), false); q.Code != 0 || q.ProofOps != nil {
		t.Errorf("/request without prove: code %d, ops %v", q.Code, q.ProofOps)
	}
	if q := n.queryProve(ledger.PathResult, string(id[:]), true); q.Code != uint32(vmerr.NotFound) {
		t.Errorf("/result of an open request: code %d, want NotFound", q.Code)
	}
	items, keys := n.mqList(n.queryProve(ledger.PathRequests, `{"open":true}`, true))
	if len(items) != 1 || !bytes.Equal(keys[0], state.RequestKey(id)) {
		t.Fatalf("/requests: %d items, keys %x", len(items), keys)
	}

	out, _, res := n.execute(rt, id)
	n.ok(n.miners[0], resultMsg(id, out, n.start(id)))
	q = n.queryProve(ledger.PathResult, string(id[:]), true)
	n.mqProved(q, state.ResultKey(id))
	if r, err := state.DecodeResult(q.Value); err != nil || r.Status != jobs.StatusSettled || !bytes.Equal(r.Result, out) {
		t.Fatalf("/result = %+v, %v", r, err)
	}
	if items, _ := n.mqList(n.queryProve(ledger.PathRequests, `{"open":true}`, true)); len(items) != 0 {
		t.Errorf("/requests lists %d after settlement", len(items))
	}

	w := res.WriteSet[0]
	q = n.queryProve(ledger.PathData, dataQuery("swap", w.Key), true)
	n.mqProved(q, state.DataKey("swap", w.Key))
	if v, val, err := state.DecodeData(q.Value); err != nil || v == 0 || !bytes.Equal(val, w.Value) {
		t.Fatalf("/data = %d %q %v, want %q", v, val, err, w.Value)
	}
	// The same key at the inclusion height was absent: an absence proof.
	q, err := n.app.Query(ctx, &abcitypes.QueryRequest{Path: ledger.PathData, Data: []byte(dataQuery("swap", w.Key)), Height: included, Prove: true})
	if err != nil || q.Code != 0 || len(q.Value) != 0 || q.ProofOps == nil {
		t.Fatalf("/data at %d: %+v %v", included, q, err)
	}
	q = n.queryProve(ledger.PathData, dataQuery("swap", []byte("no-such-key")), true)
	n.mqProved(q, state.DataKey("swap", []byte("no-such-key")))
	if len(q.Value) != 0 {
		t.Errorf("/data of an absent key: value %x", q.Value)
	}
	rq, _ := json.Marshal(ledger.DataRangeQuery{Contract: "swap"})
	items, keys = n.mqList(n.queryProve(ledger.PathDataRange, string(rq), false))
	if len(items) != 1 || !bytes.Equal(keys[0], state.DataKey("swap", w.Key)) {
		t.Fatalf("/data/range: %d items, keys %x", len(items), keys)
	}
	rq, _ = json.Marshal(ledger.DataRangeQuery{Contract: "hello"})
	if items, _ := n.mqList(n.queryProve(ledger.PathDataRange, string(rq), true)); len(items) != 0 {
		t.Errorf("/data/range of an empty namespace: %d items", len(items))
	}
}

// TestMarketQueryRefusals checks every malformed query is Invalid (or
// NotFound for an unknown id), never an answer.
func TestMarketQueryRefusals(t *testing.T) {
	n := newNode(t, testGenesis(t, 1, 1000))
	n.block()
	long := bytes.Repeat([]byte("k"), ledger.MaxDataKey+1)
	for _, tc := range []struct {
		name, path, data string
		want             vmerr.Kind
	}{
		{"request short id", ledger.PathRequest, "abc", vmerr.Invalid},
		{"request unknown", ledger.PathRequest, string(make([]byte, 32)), vmerr.NotFound},
		{"result long id", ledger.PathResult, string(make([]byte, 33)), vmerr.Invalid},
		{"result unknown", ledger.PathResult, string(make([]byte, 32)), vmerr.NotFound},
		{"requests not open", ledger.PathRequests, `{"open":false}`, vmerr.Invalid},
		{"requests empty", ledger.PathRequests, ``, vmerr.Invalid},
		{"requests bad json", ledger.PathRequests, `{`, vmerr.Invalid},
		{"requests limit", ledger.PathRequests, `{"open":true,"limit":1001}`, vmerr.Invalid},
		{"requests after", ledger.PathRequests, `{"open":true,"after":"xyz"}`, vmerr.Invalid},
		{"data no separator", ledger.PathData, "swap", vmerr.Invalid},
		{"data empty key", ledger.PathData, "counter\x00", vmerr.Invalid},
		{"data bad name", ledger.PathData, "Counter\x00k", vmerr.Invalid},
		{"data long key", ledger.PathData, dataQuery("swap", long), vmerr.Invalid},
		{"range bad json", ledger.PathDataRange, `[`, vmerr.Invalid},
		{"range bad name", ledger.PathDataRange, `{"contract":"-x"}`, vmerr.Invalid},
		{"range reversed", ledger.PathDataRange, `{"contract":"swap","start":"Yg==","end":"YQ=="}`, vmerr.Invalid},
		{"range limit", ledger.PathDataRange, `{"contract":"swap","limit":1001}`, vmerr.Invalid},
		{"range negative limit", ledger.PathDataRange, `{"contract":"swap","limit":-1}`, vmerr.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := n.queryProve(tc.path, tc.data, true)
			if q.Code != uint32(tc.want) || len(q.Value) != 0 {
				t.Errorf("code %d (%s), value %x; want %v", q.Code, q.Log, q.Value, tc.want)
			}
		})
	}
	q := n.queryProve(ledger.PathData, dataQuery("nothing-here", []byte("k")), true)
	if q.Code != 0 || len(q.Value) != 0 || q.ProofOps == nil {
		t.Errorf("/data in a namespace no contract owns: %+v", q)
	}
}

// FuzzParseDataQuery: a parse never panics, and an accepted query names a
// valid contract and a bounded key that re-encode to the input.
func FuzzParseDataQuery(f *testing.F) {
	for _, s := range []string{"counter\x00k", "\x00", "", "a\x00\x00", "counter\x00" + string(make([]byte, 5000))} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		name, key, err := ledger.ParseDataQuery(b)
		if err != nil {
			if vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("error kind %v", vmerr.KindOf(err))
			}
			return
		}
		if len(key) == 0 || len(key) > ledger.MaxDataKey || dataQuery(name, key) != string(b) {
			t.Fatalf("accepted %q -> %q %x", b, name, key)
		}
		if !bytes.HasPrefix(state.DataKey(name, key), state.DataPrefix(name)) {
			t.Fatal("data key outside its namespace")
		}
	})
}

// FuzzParseDataRangeQuery: a parse never panics, and an accepted query
// has a valid limit and ordered, bounded bounds.
func FuzzParseDataRangeQuery(f *testing.F) {
	for _, s := range []string{`{"contract":"swap"}`, `{"contract":"swap","start":"YQ==","end":"Yg==","limit":5}`, `{}`, `null`, `{"limit":1e9}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ledger.ParseDataRangeQuery(b)
		if err != nil {
			if vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("error kind %v", vmerr.KindOf(err))
			}
			return
		}
		if q.Limit < 1 || q.Limit > jobs.MaxDataRange || len(q.Start) > ledger.MaxDataKey || len(q.End) > ledger.MaxDataKey ||
			len(q.End) > 0 && bytes.Compare(q.Start, q.End) > 0 {
			t.Fatalf("accepted %+v", q)
		}
	})
}
