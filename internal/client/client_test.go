package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func start(t *testing.T, cfg apitest.Config) (*apitest.Backend, *client.Client) {
	t.Helper()
	b, err := apitest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(b, api.Options{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
		b.Close()
	})
	return b, client.New(ts.URL + "/")
}

func key(t *testing.T) crypto.PrivKey {
	t.Helper()
	k, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func wantKind(t *testing.T, err error, k vmerr.Kind) {
	t.Helper()
	var ve *vmerr.Error
	if !errors.As(err, &ve) || ve.Kind != k {
		t.Fatalf("error %v (%T), want kind %v", err, err, k)
	}
}

func TestRoundTrip(t *testing.T) {
	b, c := start(t, apitest.Config{Faucet: true, MinFee: 2})
	ctx := context.Background()
	alice, bob := key(t), key(t)

	st, err := c.Status(ctx)
	if err != nil || st.ChainID != b.ChainID() || st.MinFee != "2" {
		t.Fatalf("status %+v %v", st, err)
	}
	res, err := c.Send(ctx, alice, []*txpb.Msg{apitest.Faucet(alice.Address(), 500)}, 0, true)
	if err != nil || res.Code != 0 || res.Height == 0 {
		t.Fatalf("faucet: %+v %v", res, err)
	}
	res, err = c.Send(ctx, alice, []*txpb.Msg{apitest.Transfer(bob.Address(), 40)}, 2, true)
	if err != nil || res.Code != 0 {
		t.Fatalf("transfer: %+v %v", res, err)
	}
	acc, err := c.Account(ctx, bob.Address(), 0)
	if err != nil || acc.Balance != "40" || acc.Location == nil {
		t.Fatalf("bob: %+v %v", acc, err)
	}
	if err := state.VerifyLocation(acc.Location); err != nil {
		t.Errorf("location: %v", err)
	}
	next, err := c.Block(ctx, acc.Height+1)
	if err != nil || next.AppHash != acc.Location.AppHash {
		t.Errorf("block %d: %+v %v, want app hash %s", acc.Height+1, next, err, acc.Location.AppHash)
	}
	acc, err = c.AccountNoProof(ctx, alice.Address(), 0)
	if err != nil || acc.Balance != "458" || acc.Nonce != 2 || acc.Location != nil {
		t.Errorf("alice: %+v %v", acc, err)
	}
	old, err := c.AccountNoProof(ctx, alice.Address(), 1)
	if err != nil || old.Balance != "0" || old.Height != 1 {
		t.Errorf("alice at 1: %+v %v", old, err)
	}
	h, _ := tx.ParseHash(res.Hash)
	got, err := c.Tx(ctx, h)
	if err != nil || got.Height != res.Height || got.Hash != res.Hash {
		t.Errorf("tx: %+v %v", got, err)
	}
	latest, err := c.Block(ctx, 0)
	if err != nil || latest.Height < res.Height {
		t.Errorf("latest: %+v %v", latest, err)
	}
}

func TestRejectedTx(t *testing.T) {
	b, c := start(t, apitest.Config{Faucet: true})
	ctx := context.Background()
	alice := key(t)
	tests := []struct {
		name string
		raw  func() []byte
		want vmerr.Kind
	}{
		{"garbage", func() []byte { return []byte("garbage") }, vmerr.Decode},
		{"oversized", func() []byte { return make([]byte, tx.MaxDeployTxSize+1) }, vmerr.TooLarge},
		{"wrong chain", func() []byte {
			raw, _ := tx.Sign(&txpb.TxBody{ChainId: "elsewhere", Msgs: []*txpb.Msg{apitest.Faucet(alice.Address(), 1)}}, alice)
			return raw
		}, vmerr.WrongChain},
		{"future nonce", func() []byte {
			raw, _ := b.Sign(alice, 7, 0, apitest.Faucet(alice.Address(), 1))
			return raw
		}, vmerr.BadNonce},
		{"over the faucet cap", func() []byte {
			raw, _ := b.Sign(alice, 0, 0, apitest.Faucet(alice.Address(), 2e9))
			return raw
		}, vmerr.Limit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.SubmitTx(ctx, tc.raw(), true)
			wantKind(t, err, tc.want)
			if tc.want != vmerr.TooLarge && (res.Code != uint32(tc.want) || res.Hash == "") {
				t.Errorf("result %+v", res)
			}
		})
	}
}

func TestErrorKindsSurvive(t *testing.T) {
	b, c := start(t, apitest.Config{})
	ctx := context.Background()
	for k := vmerr.Internal; k <= vmerr.Timeout; k++ {
		t.Run(k.String(), func(t *testing.T) {
			b.SetFault(vmerr.E("node", k, "injected"))
			defer b.SetFault(nil)
			_, err := c.Status(ctx)
			wantKind(t, err, k)
			if k != vmerr.Internal && !strings.Contains(err.Error(), "node: injected") {
				t.Errorf("message lost: %v", err)
			}
			_, err = c.Events(ctx)
			wantKind(t, err, k)
		})
	}
	_, err := c.Block(ctx, 1<<40)
	wantKind(t, err, vmerr.NotFound)
	_, err = c.Tx(ctx, tx.Hash{1})
	wantKind(t, err, vmerr.NotFound)
}

func TestTransportErrors(t *testing.T) {
	ctx := context.Background()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	defer proxy.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		in   *client.Client
		want vmerr.Kind
	}{
		{"timeout", client.New(slow.URL, client.WithTimeout(50*time.Millisecond)), vmerr.Timeout},
		{"non-JSON 502", client.New(proxy.URL), vmerr.Unavailable},
		{"connection refused", client.New(closedURL), vmerr.Unavailable},
		{"bad URL", client.New("127.0.0.1:8080"), vmerr.Invalid},
		{"bad scheme", client.New("ftp://127.0.0.1"), vmerr.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.in.Status(ctx)
			wantKind(t, err, tc.want)
		})
	}
}

func TestSendNonces(t *testing.T) {
	b, c := start(t, apitest.Config{Faucet: true})
	ctx := context.Background()
	alice, bob := key(t), key(t)
	if _, err := c.Send(ctx, alice, []*txpb.Msg{apitest.Faucet(alice.Address(), 100)}, 0, true); err != nil {
		t.Fatal(err)
	}
	// Without waiting, consecutive sends take consecutive nonces.
	for range 3 {
		if res, err := c.Send(ctx, alice, []*txpb.Msg{apitest.Transfer(bob.Address(), 1)}, 0, false); err != nil || res.Code != 0 {
			t.Fatalf("send: %+v %v", res, err)
		}
	}
	acc, err := c.AccountNoProof(ctx, alice.Address(), 0)
	if err != nil || acc.Nonce != 4 || acc.Balance != "97" {
		t.Fatalf("alice: %+v %v", acc, err)
	}
	// A tx that fails in its block leaves the nonce where it was, so the
	// client's next guess is wrong once: Send refetches and retries.
	if _, err := c.Send(ctx, alice, []*txpb.Msg{apitest.Transfer(bob.Address(), 1000)}, 0, false); err != nil {
		t.Fatalf("accepted by check: %v", err)
	}
	res, err := c.Send(ctx, alice, []*txpb.Msg{apitest.Transfer(bob.Address(), 5)}, 0, true)
	if err != nil || res.Code != 0 {
		t.Fatalf("after retry: %+v %v", res, err)
	}
	if bobAcc, _ := c.AccountNoProof(ctx, bob.Address(), 0); bobAcc.Balance != "8" {
		t.Errorf("bob = %+v", bobAcc)
	}
	// Another client's tx moves the nonce under us: still fine.
	raw, _ := b.Sign(alice, 5, 0, apitest.Transfer(bob.Address(), 1))
	if _, err := b.SubmitTx(ctx, raw, true); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Send(ctx, alice, []*txpb.Msg{apitest.Transfer(bob.Address(), 1)}, 0, true); err != nil || res.Code != 0 {
		t.Fatalf("after foreign tx: %+v %v", res, err)
	}
	// A rejection other than the nonce is not retried and keeps its kind.
	_, err = c.Send(ctx, alice, []*txpb.Msg{apitest.Transfer(bob.Address(), 10_000)}, 0, true)
	wantKind(t, err, vmerr.InsufficientFunds)
}

func TestEvents(t *testing.T) {
	b, c := start(t, apitest.Config{Faucet: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	alice, bob := key(t), key(t)
	sctx, stop := context.WithCancel(ctx)
	all, err := c.Events(sctx)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := c.Events(ctx, client.OnlyTypes("tx"), client.ForAddress(bob.Address()))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); b.Subscribers() != 2; {
		if time.Now().After(deadline) {
			t.Fatal("no subscription")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := c.Send(ctx, alice, []*txpb.Msg{apitest.Faucet(alice.Address(), 10)}, 0, true); err != nil {
		t.Fatal(err)
	}
	res, err := c.Send(ctx, alice, []*txpb.Msg{apitest.Transfer(bob.Address(), 3)}, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for range 4 {
		ev := <-all
		types = append(types, ev.Type)
	}
	if strings.Join(types, ",") != "block,tx,block,tx" {
		t.Errorf("events %v", types)
	}
	ev := <-mine
	if ev.Tx == nil || ev.Tx.Hash != res.Hash {
		t.Errorf("filtered: %+v, want %s", ev, res.Hash)
	}
	stop()
	for range all { // drains, then closes
	}
}

// TestRetryUnavailableGET checks a GET answered 503 is retried and then
// succeeds, while a POST answered 503 is not retried.
func TestRetryUnavailableGET(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := api.New(b, api.Options{})
	defer srv.Close()
	var mu sync.Mutex
	calls, failFirst := 0, 2
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		fail := calls <= failFirst
		mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"code":"unavailable","message":"committing"}`))
			return
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	defer ts.Close()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return calls
	}
	c := client.New(ts.URL)
	ctx := context.Background()
	if st, err := c.Status(ctx); err != nil || st.ChainID != b.ChainID() || count() != 3 {
		t.Fatalf("status after two 503s: %+v %v, %d calls", st, err, count())
	}
	mu.Lock()
	calls, failFirst = 0, 1
	mu.Unlock()
	k := key(t)
	raw, _ := b.Sign(k, 0, 0, apitest.Faucet(k.Address(), 1))
	_, err = c.SubmitTx(ctx, raw, false)
	wantKind(t, err, vmerr.Unavailable)
	if n := count(); n != 1 {
		t.Errorf("POST retried: %d calls", n)
	}
}
