package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/lightproof"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestCommitFake checks Client.Commit and VerifyLocation against the
// fake, which signs no headers: local argument checks, the node's errors
// passed on with their kinds, and the wait for a block that never comes.
// The real path (a node's commits verifying, every tampering refused) is
// tested in internal/lightproof.
func TestCommitFake(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		t.Fatal(err)
	}
	k := key(t)
	raw, err := b.Sign(k, 0, 0, apitest.Faucet(k.Address(), 5))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := b.SubmitTx(context.Background(), raw, true); err != nil || res.Code != 0 {
		t.Fatalf("faucet: %+v %v", res, err) // a second block, so block 2 exists
	}
	srv := api.New(b, api.Options{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
		b.Close()
	})
	c := client.New(ts.URL, client.WithWaitTimeout(300*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name     string
		in       func() error
		wantKind vmerr.Kind
	}{
		{name: "negative height", in: func() error { _, err := c.Commit(ctx, -1); return err }, wantKind: vmerr.Invalid},
		{name: "fake has no consensus", in: func() error { _, err := c.Commit(ctx, 0); return err }, wantKind: vmerr.Unavailable},
		{name: "above the latest", in: func() error { _, err := c.Commit(ctx, 1000); return err }, wantKind: vmerr.NotFound},
		{name: "verify nil", in: func() error { return c.VerifyLocation(ctx, nil, lightproof.Trust{}) }, wantKind: vmerr.Invalid},
		{name: "verify height 0", in: func() error {
			return c.VerifyLocation(ctx, &apitype.Location{}, lightproof.Trust{})
		}, wantKind: vmerr.Invalid},
		{name: "verify on the fake", in: func() error {
			// The default wait outlasts the client's retries of a 503.
			return client.New(ts.URL).VerifyLocation(ctx, &apitype.Location{Height: 1}, lightproof.Trust{})
		}, wantKind: vmerr.Unavailable},
		{name: "verify waits, then times out", in: func() error {
			return c.VerifyLocation(ctx, &apitype.Location{Height: 999}, lightproof.Trust{})
		}, wantKind: vmerr.Timeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantKind(t, tc.in(), tc.wantKind) })
	}
}

// TestCommitMalformedAnswer serves broken GET /v1/commits answers:
// malformed JSON is a Decode error of Commit and of VerifyLocation (which
// fails at the fetch); well-formed JSON whose light block is broken
// reaches the client and is refused by lightproof.Decode.
func TestCommitMalformedAnswer(t *testing.T) {
	tests := []struct {
		name     string
		in       string // the answer's body
		json     bool   // the body decodes as a Commit
		wantKind vmerr.Kind
	}{
		{name: "not JSON", in: `{"chain_id":`, wantKind: vmerr.Decode},
		{name: "wrong types", in: `{"height":"two"}`, wantKind: vmerr.Decode},
		{name: "light block not hex", in: `{"chain_id":"c","height":2,"light_block":"zz"}`, json: true, wantKind: vmerr.Decode},
		{name: "light block not protobuf", in: `{"chain_id":"c","height":2,"light_block":"ffff"}`, json: true, wantKind: vmerr.Decode},
		{name: "empty light block", in: `{"chain_id":"c","height":2}`, json: true, wantKind: vmerr.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tc.in))
			}))
			defer ts.Close()
			c := client.New(ts.URL)
			ctx := context.Background()
			cm, err := c.Commit(ctx, 2)
			if !tc.json {
				wantKind(t, err, tc.wantKind)
				wantKind(t, c.VerifyLocation(ctx, &apitype.Location{Height: 1}, lightproof.Trust{}), tc.wantKind)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = lightproof.Decode(&cm)
			wantKind(t, err, tc.wantKind)
		})
	}
}
