package apitest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// MarketConformance checks that b serves the execution market's reads as
// the API, its client and miners expect: unknown ids are NotFound; a
// Request tx against a deployed contract is readable at once as an open
// request (fields as asked, escrow, round 1, phase commit) with a
// Location that verifies, is listed by Requests (paged) and has no result
// yet; a quorum-1 Result from a registered miner settles it: the result
// (status, raw bytes hashing to result_hash, payment, location) is
// readable, it leaves the open list, and its write is readable as a
// namespace key (with version and location) and in a range, while an
// absent key reads as found=false with an absence proof. Bad queries are
// Invalid. funded must hold at least 10^6 GAS. Run it against every
// Backend: this fake and the real node.
func MarketConformance(t *testing.T, b api.Backend, funded crypto.PrivKey) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := b.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	minFee, _ := strconv.ParseUint(st.MinFee, 10, 64)
	perKiB, _ := strconv.ParseUint(st.DeployFeePerKiB, 10, 64)
	send := func(k crypto.PrivKey, msg *txpb.Msg) apitype.SubmitResult {
		t.Helper()
		acc, err := b.Account(ctx, k.Address(), 0, false)
		if err != nil {
			t.Fatalf("Account: %v", err)
		}
		extra, err := registry.DeployFees(perKiB, &txpb.TxBody{Msgs: []*txpb.Msg{msg}})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := signBody(st.ChainID, k, acc.Nonce, minFee+extra, msg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := b.SubmitTx(ctx, raw, true)
		if err != nil || res.Code != 0 || res.Height == 0 {
			t.Fatalf("SubmitTx: %+v %v", res, err)
		}
		return res
	}
	miner, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := miner.Address()
	name := "mk" + hex.EncodeToString(addr[:4])
	send(funded, Transfer(miner.Address(), 10_000))
	send(funded, Deploy(name, "1.0.0", EchoModule("x"), nil))
	send(miner, MinerRegister("cpu", 1, "", 0, "conformance", true))

	t.Run("unknown", func(t *testing.T) {
		var id [32]byte
		id[0] = 0xEE
		if _, err := b.Request(ctx, id, 0, true); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("Request(unknown): %v, want NotFound", err)
		}
		if _, err := b.Result(ctx, id, 0, true); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("Result(unknown): %v, want NotFound", err)
		}
	})
	t.Run("bad queries", func(t *testing.T) {
		for _, q := range []apitype.RequestQuery{{}, {Open: true, Limit: -1}, {Open: true, Limit: 1001}, {Open: true, After: "zz"}} {
			if _, err := b.Requests(ctx, q); vmerr.KindOf(err) != vmerr.Invalid {
				t.Errorf("Requests(%+v): %v, want Invalid", q, err)
			}
		}
		if _, err := b.Data(ctx, "Bad Name", []byte("k"), 0, false); vmerr.KindOf(err) != vmerr.Invalid {
			t.Errorf("Data(bad name): %v, want Invalid", err)
		}
		if _, err := b.Data(ctx, name, nil, 0, false); vmerr.KindOf(err) != vmerr.Invalid {
			t.Errorf("Data(empty key): %v, want Invalid", err)
		}
		if _, err := b.DataRange(ctx, name, []byte("b"), []byte("a"), 0, 0); vmerr.KindOf(err) != vmerr.Invalid {
			t.Errorf("DataRange(start after end): %v, want Invalid", err)
		}
		if _, err := b.DataRange(ctx, name, nil, nil, 1001, 0); vmerr.KindOf(err) != vmerr.Invalid {
			t.Errorf("DataRange(limit 1001): %v, want Invalid", err)
		}
	})

	input := []byte(`{"name":"ada"}`)
	res := send(funded, Request(name+"@^1", "echo", input, 1000, 2, 100, 1, 1, 20))
	hash, err := tx.ParseHash(res.Hash)
	if err != nil {
		t.Fatal(err)
	}
	id := market.RequestID(hash, 0)
	idHex := hex.EncodeToString(id[:])

	t.Run("open request", func(t *testing.T) {
		r, err := b.Request(ctx, id, 0, true)
		if err != nil {
			t.Fatalf("Request: %v", err)
		}
		want := apitype.Request{ID: idHex, Requester: funded.Address().String(), Contract: name + "@^1", Name: name,
			Version: "1.0.0", Fn: "echo", GasLimit: "1000", Price: "2", Reward: "100", Replicas: 1, Quorum: 1,
			Included: res.Height, Deadline: res.Height + 20, Escrow: "2100", Start: res.Height, Round: 1, Status: "open", TxHash: res.Hash}
		if !bytes.Equal(r.Input, input) || !sameRequest(r, want) {
			t.Errorf("Request = %+v\nwant %+v", r, want)
		}
		if !equalFoldHex(r.TxHash, res.Hash) || r.Offer == "" || r.Offer == "0" || r.Phase != "commit" || r.MeteredCID == "" {
			t.Errorf("Request tx hash %s (want %s), offer %q, phase %q, metered cid %q", r.TxHash, res.Hash, r.Offer, r.Phase, r.MeteredCID)
		}
		checkLocation(t, b, r.Location, r.Height, state.RequestKey(id), st.ChainID)
		if _, err := b.Result(ctx, id, 0, false); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("Result(open): %v, want NotFound", err)
		}
		if found := listed(t, ctx, b, idHex); !found {
			t.Errorf("Requests does not list open request %s", idHex)
		}
	})

	t.Run("absent data", func(t *testing.T) {
		e, err := b.Data(ctx, name, []byte("k"), 0, true)
		if err != nil || e.Found || e.Version != 0 || e.Value != nil || e.Location == nil || e.Location.Value != "" {
			t.Fatalf("Data(absent) = %+v, %v", e, err)
		}
		if !state.SameKey(e.Location, state.DataKey(name, []byte("k"))) || state.VerifyLocation(e.Location) != nil {
			t.Errorf("absence location %+v does not verify", e.Location)
		}
		r, err := b.DataRange(ctx, name, nil, nil, 0, 0)
		if err != nil || len(r.Entries) != 0 || r.Contract != name {
			t.Errorf("DataRange(empty namespace) = %+v, %v", r, err)
		}
	})

	out := wasm.Result{Status: wasm.StatusOK, Output: input, GasUsed: 700,
		WriteSet: []wasm.Write{{Contract: name, Key: []byte("k"), Value: []byte("v1")}, {Contract: name, Key: []byte("m"), Value: []byte("v2")}}}
	raw, err := out.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	settled := send(miner, &txpb.Msg{Sum: &txpb.Msg_Result{Result: &txpb.Result{RequestId: id[:], Result: raw, Start: res.Height}}})

	t.Run("settled", func(t *testing.T) {
		r, err := b.Result(ctx, id, 0, true)
		if err != nil {
			t.Fatalf("Result: %v", err)
		}
		sum := sha256.Sum256(raw)
		if r.RequestID != idHex || r.Status != "settled" || !r.Applied || r.Memo || !bytes.Equal(r.Raw, raw) ||
			r.ResultHash != hex.EncodeToString(sum[:]) || r.ExecStatus != "ok" || !bytes.Equal(r.Output, input) ||
			r.GasUsed != 700 || r.Settled != settled.Height || len(r.Paid) != 1 || r.Paid[0].Miner != miner.Address().String() ||
			r.Contract != name+"@1.0.0" || r.Fn != "echo" || r.Requester != funded.Address().String() || len(r.Writes) != 2 {
			t.Errorf("Result = %+v", r)
		}
		checkLocation(t, b, r.Location, r.Height, state.ResultKey(id), st.ChainID)
		rq, err := b.Request(ctx, id, 0, false)
		if err != nil || rq.Status != "settled" || rq.Phase != "settled" {
			t.Errorf("Request(settled) = %+v, %v", rq, err)
		}
		if listed(t, ctx, b, idHex) {
			t.Errorf("Requests still lists settled request %s", idHex)
		}
		// At the height it was included, it was open.
		if old, err := b.Request(ctx, id, res.Height, false); err != nil || old.Status != "open" || old.Height != res.Height {
			t.Errorf("Request(at inclusion) = %+v, %v", old, err)
		}
	})

	t.Run("data", func(t *testing.T) {
		e, err := b.Data(ctx, name, []byte("k"), 0, true)
		if err != nil || !e.Found || string(e.Value) != "v1" || e.Version == 0 || e.Contract != name {
			t.Fatalf("Data = %+v, %v", e, err)
		}
		checkLocation(t, b, e.Location, e.Height, state.DataKey(name, []byte("k")), st.ChainID)
		if e.Location.Value != hex.EncodeToString(state.EncodeData(e.Version, e.Value)) {
			t.Errorf("location value %s is not version||value", e.Location.Value)
		}
		before, err := b.Data(ctx, name, []byte("k"), res.Height, false)
		if err != nil || before.Found {
			t.Errorf("Data(before settlement) = %+v, %v", before, err)
		}
		r, err := b.DataRange(ctx, name, nil, nil, 0, 0)
		if err != nil || len(r.Entries) != 2 || string(r.Entries[0].Key) != "k" || string(r.Entries[1].Key) != "m" ||
			string(r.Entries[1].Value) != "v2" {
			t.Fatalf("DataRange = %+v, %v", r, err)
		}
		for _, en := range r.Entries {
			checkLocation(t, b, en.Location, r.Height, state.DataKey(name, en.Key), st.ChainID)
		}
		for _, tc := range []struct {
			start, end string
			limit      int
			want       []string
		}{
			{"k", "m", 0, []string{"k"}},
			{"l", "", 0, []string{"m"}},
			{"", "", 1, []string{"k"}},
			{"n", "", 0, nil},
		} {
			r, err := b.DataRange(ctx, name, []byte(tc.start), []byte(tc.end), tc.limit, 0)
			var got []string
			for _, en := range r.Entries {
				got = append(got, string(en.Key))
			}
			if err != nil || len(got) != len(tc.want) || len(got) > 0 && got[0] != tc.want[0] {
				t.Errorf("DataRange(%q, %q, %d) = %v, %v; want %v", tc.start, tc.end, tc.limit, got, err, tc.want)
			}
		}
	})
}

// listed pages through the open requests looking for id.
func listed(t *testing.T, ctx context.Context, b api.Backend, id string) bool {
	t.Helper()
	q := apitype.RequestQuery{Open: true, Limit: 1}
	for range 1000 {
		l, err := b.Requests(ctx, q)
		if err != nil {
			t.Fatalf("Requests: %v", err)
		}
		for _, r := range l.Requests {
			if r.ID == id {
				if r.Location == nil || state.VerifyLocation(r.Location) != nil {
					t.Errorf("listed request %s has no verifying location", id)
				}
				return true
			}
		}
		if l.Next == "" {
			return false
		}
		q.After = l.Next
	}
	return false
}

// sameRequest compares the fields of a request a caller asked for or
// can predict.
func sameRequest(a, b apitype.Request) bool {
	return a.ID == b.ID && a.Requester == b.Requester && a.Contract == b.Contract && a.Name == b.Name &&
		a.Version == b.Version && a.Fn == b.Fn && a.GasLimit == b.GasLimit && a.Price == b.Price && a.Reward == b.Reward &&
		a.Replicas == b.Replicas && a.Quorum == b.Quorum && a.Included == b.Included && a.Deadline == b.Deadline &&
		a.Escrow == b.Escrow && a.Start == b.Start && a.Round == b.Round && a.Status == b.Status
}

func equalFoldHex(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }
