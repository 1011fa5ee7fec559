package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/nodetest"
	reg "github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// submitFunc commits msg signed by k with the given fee and returns its result.
type submitFunc func(k crypto.PrivKey, fee uint64, msg *txpb.Msg) apitype.SubmitResult

// fakeSubmit commits through the fake, tracking nonces.
func fakeSubmit(t testing.TB, b *apitest.Backend) submitFunc {
	nonces := map[crypto.Address]uint64{}
	return func(k crypto.PrivKey, fee uint64, msg *txpb.Msg) apitype.SubmitResult {
		t.Helper()
		raw, err := b.Sign(k, nonces[k.Address()], fee, msg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := b.SubmitTx(context.Background(), raw, true)
		if err != nil || res.Code != 0 {
			t.Fatalf("submit: %+v %v", res, err)
		}
		nonces[k.Address()]++
		return res
	}
}

// marketSetup deploys echo (paying deployFee), includes one request
// (open) and settles another (settled) whose result writes echo's key
// "k", with alice (funded) as requester. It returns the two request ids.
func marketSetup(t testing.TB, send submitFunc, alice crypto.PrivKey, fee, deployFee uint64) (open, settled string) {
	t.Helper()
	miner, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	id := func(res apitype.SubmitResult) [32]byte {
		h, _ := tx.ParseHash(res.Hash)
		return market.RequestID(h, 0)
	}
	send(alice, fee, apitest.Transfer(miner.Address(), 1_000))
	send(alice, deployFee, apitest.Deploy("echo", "1.0.0", apitest.EchoModule("x"), nil))
	send(miner, fee, apitest.MinerRegister("cpu", 1, "", 0, "v1", true))
	a := id(send(alice, fee, apitest.Request("echo@^1", "echo", []byte("hi"), 1000, 1, 10, 1, 1, 50)))
	sres := send(alice, fee, apitest.Request("echo@^1", "echo", []byte("hi"), 1000, 1, 10, 1, 1, 50))
	s := id(sres)
	r := wasm.Result{Output: []byte("hi"), GasUsed: 10, WriteSet: []wasm.Write{{Contract: "echo", Key: []byte("k"), Value: []byte("1")}}}
	raw, _ := r.MarshalBinary()
	send(miner, fee, &txpb.Msg{Sum: &txpb.Msg_Result{Result: &txpb.Result{RequestId: s[:], Result: raw, Start: sres.Height}}})
	// A write-free result: it leaves the memo of echo("memo").
	mres := send(alice, fee, apitest.Request("echo@^1", "echo", []byte("memo"), 1000, 1, 10, 1, 1, 50))
	mid := id(mres)
	raw, _ = (&wasm.Result{Output: []byte("memo"), GasUsed: 10}).MarshalBinary()
	send(miner, fee, &txpb.Msg{Sum: &txpb.Msg_Result{Result: &txpb.Result{RequestId: mid[:], Result: raw, Start: mres.Height}}})
	return hex.EncodeToString(a[:]), hex.EncodeToString(s[:])
}

// fakeMarket funds alice on the fake and runs marketSetup there.
func fakeMarket(t testing.TB, b *apitest.Backend) (open, settled string) {
	t.Helper()
	alice, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	send := fakeSubmit(t, b)
	send(alice, 0, apitest.Faucet(alice.Address(), 1_000_000))
	return marketSetup(t, send, alice, 0, 0)
}

// TestMarketReadsVerify: honest answers pass the client's checks; answers
// altered after their proof was made (a field, the proved value, the
// location key, the raw result, a found flag) are refused Unauthorized.
func TestMarketReadsVerify(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := api.New(b, api.Options{})
	defer srv.Close()
	var mode atomic.Value
	mode.Store("")
	// tamper rewrites the JSON answer of a GET according to mode.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := mode.Load().(string)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if m != "" && rec.Code == 200 {
			var v map[string]any
			if json.Unmarshal(body, &v) == nil {
				tamper(m, v)
				body, _ = json.Marshal(v)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	defer ts.Close()
	c := client.New(ts.URL)
	open, settled := fakeMarket(t, b)
	ctx := context.Background()
	req, err := c.Request(ctx, open, 0)
	if err != nil {
		t.Fatal(err)
	}
	code, err := hex.DecodeString(req.CodeHash)
	if err != nil || len(code) != 32 {
		t.Fatalf("code hash %q", req.CodeHash)
	}

	calls := map[string]func() error{
		"memo": func() error {
			m, err := c.Memo(ctx, [32]byte(code), "echo", sha256.Sum256([]byte("memo")), 0)
			if err == nil && string(m.Raw) == "" {
				t.Error("memo without its result")
			}
			return err
		},
		"request": func() error { _, err := c.Request(ctx, open, 0); return err },
		"requests": func() error {
			_, err := c.Requests(ctx, apitype.RequestQuery{Open: true})
			return err
		},
		"result": func() error { _, err := c.Result(ctx, settled, 0); return err },
		"data":   func() error { _, err := c.Data(ctx, "echo", []byte("k"), 0); return err },
		"absent": func() error { _, err := c.Data(ctx, "echo", []byte("z"), 0); return err },
		"range":  func() error { _, err := c.DataRange(ctx, "echo", nil, nil, 0, 0); return err },
	}
	for name, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("honest %s: %v", name, err)
		}
	}
	for _, tc := range []struct{ call, mode string }{
		{"request", "input"},
		{"request", "reward"},
		{"request", "value"},
		{"request", "key"},
		{"request", "noloc"},
		{"requests", "list_input"},
		{"result", "raw"},
		{"result", "hash"},
		{"result", "status"},
		{"result", "value"},
		{"data", "data_value"},
		{"data", "data_version"},
		{"data", "found_false"},
		{"absent", "found_true"},
		{"range", "range_value"},
		{"memo", "raw"},
		{"memo", "hits"},
		{"memo", "value"},
		{"memo", "noloc"},
	} {
		mode.Store(tc.mode)
		err := calls[tc.call]()
		if k := vmerr.KindOf(err); k != vmerr.Unauthorized && !(tc.mode == "noloc" && k == vmerr.Invalid) {
			t.Errorf("%s with %s tampered: %v, want Unauthorized", tc.call, tc.mode, err)
		}
	}
	mode.Store("")
	if _, err := c.Request(ctx, "nothex", 0); vmerr.KindOf(err) != vmerr.Invalid {
		t.Errorf("Request(bad id): %v", err)
	}
	if _, err := c.Data(ctx, "echo", nil, 0); vmerr.KindOf(err) != vmerr.Invalid {
		t.Errorf("Data(empty key): %v", err)
	}
	// Without proofs: the same entry, no location; an answer about
	// another key is refused.
	proved, err := c.Data(ctx, "echo", []byte("k"), 0)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := c.DataNoProof(ctx, "echo", []byte("k"), 0)
	if err != nil || bare.Location != nil || !bytes.Equal(bare.Value, proved.Value) || bare.Version != proved.Version || !bare.Found {
		t.Fatalf("DataNoProof: %+v, %v; with proof %+v", bare, err, proved)
	}
	if absent, err := c.DataNoProof(ctx, "echo", []byte("z"), 0); err != nil || absent.Found || absent.Version != 0 {
		t.Fatalf("DataNoProof(absent): %+v, %v", absent, err)
	}
	if _, err := c.DataNoProof(ctx, "echo", nil, 0); vmerr.KindOf(err) != vmerr.Invalid {
		t.Errorf("DataNoProof(empty key): %v", err)
	}
	if _, err := c.Requests(ctx, apitype.RequestQuery{}); vmerr.KindOf(err) != vmerr.Invalid {
		t.Errorf("Requests(not open): %v", err)
	}
	if _, err := c.Result(ctx, open, 0); vmerr.KindOf(err) != vmerr.NotFound {
		t.Errorf("Result(open): %v", err)
	}
	if _, err := c.Memo(ctx, [32]byte(code), "echo", sha256.Sum256([]byte("never")), 0); vmerr.KindOf(err) != vmerr.NotFound {
		t.Errorf("Memo(no such memo): %v", err)
	}
}

// tamper alters one JSON answer in place.
func tamper(mode string, v map[string]any) {
	loc, _ := v["location"].(map[string]any)
	switch mode {
	case "input":
		v["input"] = "aGo=" // "hj"
	case "reward":
		v["reward"] = "11"
	case "value":
		if loc != nil {
			loc["value"] = strings.Repeat("00", 40)
		}
	case "key":
		if loc != nil {
			loc["key"] = hex.EncodeToString(state.DataKey("echo", []byte("k")))
		}
	case "noloc":
		delete(v, "location")
	case "list_input":
		if l, _ := v["requests"].([]any); len(l) > 0 {
			l[0].(map[string]any)["input"] = "aGo="
		}
	case "raw":
		v["raw"] = "AAAA"
	case "hash":
		v["result_hash"] = strings.Repeat("00", 32)
	case "status":
		v["status"] = "expired"
	case "hits":
		v["hits"] = 7
	case "data_value":
		v["value"] = "Mg==" // "2"
	case "data_version":
		v["version"] = 99
	case "found_false":
		v["found"], v["value"], v["version"] = false, nil, 0
	case "found_true":
		v["found"], v["value"], v["version"] = true, "MQ==", 1
	case "range_value":
		if l, _ := v["entries"].([]any); len(l) > 0 {
			l[0].(map[string]any)["value"] = "Mg=="
		}
	}
}

// BenchmarkMarketReads measures the client's verified market reads
// (Request, Result, Data present and absent, a one-item Requests page)
// against Account with its proof, the baseline, in the same run, over
// loopback HTTP to the fake and to a real devnet node.
func BenchmarkMarketReads(b *testing.B) {
	fb, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		b.Fatal(err)
	}
	srv := api.New(fb, api.Options{})
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(func() {
		srv.Close()
		ts.Close()
		fb.Close()
	})
	open, settled := fakeMarket(b, fb)
	benchReads(b, "fake", client.New(ts.URL), open, settled)

	env := nodetest.Start(b)
	ctx := context.Background()
	send := func(k crypto.PrivKey, fee uint64, msg *txpb.Msg) apitype.SubmitResult {
		b.Helper()
		res, err := env.Client.Send(ctx, k, []*txpb.Msg{msg}, fee, true)
		if err != nil || res.Code != 0 {
			b.Fatalf("send: %+v %v", res, err)
		}
		return res
	}
	deployFee, err := reg.DeployFees(ledger.DevnetDeployFeePerKiB,
		&txpb.TxBody{Msgs: []*txpb.Msg{apitest.Deploy("echo", "1.0.0", apitest.EchoModule("x"), nil)}})
	if err != nil {
		b.Fatal(err)
	}
	open, settled = marketSetup(b, send, env.Key, 1, 1+deployFee)
	benchReads(b, "node", env.Client, open, settled)
}

func benchReads(b *testing.B, backend string, c *client.Client, open, settled string) {
	ctx := context.Background()
	acct := nodetest.Key(0).Address()
	reads := []struct {
		name string
		call func() error
	}{
		{"baseline_account", func() error { _, err := c.Account(ctx, acct, 0); return err }},
		{"request", func() error { _, err := c.Request(ctx, open, 0); return err }},
		{"requests_page", func() error { _, err := c.Requests(ctx, apitype.RequestQuery{Open: true, Limit: 1}); return err }},
		{"result", func() error { _, err := c.Result(ctx, settled, 0); return err }},
		{"data", func() error { _, err := c.Data(ctx, "echo", []byte("k"), 0); return err }},
		{"data_absent", func() error { _, err := c.Data(ctx, "echo", []byte("z"), 0); return err }},
	}
	for _, r := range reads {
		b.Run(backend+"/"+r.name, func(b *testing.B) {
			for b.Loop() {
				if err := r.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
