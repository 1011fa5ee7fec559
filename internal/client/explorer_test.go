package client_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestExplorer pages a history through the client against the fake and
// checks the explorer calls' error kinds.
func TestExplorer(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := api.New(b, api.Options{})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()
	c := client.New(ts.URL)
	ctx := context.Background()
	k, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for i := range uint64(5) {
		raw, err := b.Sign(k, i, 0, apitest.Faucet(k.Address(), 10))
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.SubmitTx(ctx, raw, true)
		if err != nil || r.Code != 0 {
			t.Fatalf("faucet: %+v %v", r, err)
		}
		hashes = append(hashes, r.Hash)
	}
	var got []string
	q := apitype.TxQuery{Limit: 2}
	for pages := 0; ; pages++ {
		l, err := c.AccountTxs(ctx, k.Address(), q)
		if err != nil || pages > 5 {
			t.Fatalf("AccountTxs(%+v): %+v %v", q, l, err)
		}
		for _, tx := range l.Txs {
			got = append(got, tx.Hash)
		}
		var ok bool
		if q, ok = client.NextTxQuery(q, l); !ok {
			break
		}
		if q.Limit != 2 || q.BeforeHeight == 0 {
			t.Fatalf("NextTxQuery = %+v", q)
		}
	}
	if len(got) != 5 {
		t.Fatalf("paged history has %d txs, want 5", len(got))
	}
	for i, h := range got {
		if h != hashes[4-i] {
			t.Errorf("history[%d] = %s, want %s", i, h, hashes[4-i])
		}
	}
	if _, ok := client.NextTxQuery(q, apitype.TxList{Next: "garbage"}); ok {
		t.Error("NextTxQuery accepted a bad cursor")
	}
	if q, ok := client.NextResultQuery(apitype.ResultQuery{Limit: 3}, apitype.ContractResultList{Next: "9:4"}); !ok || q.BeforeHeight != 9 || q.BeforeSeq != 4 || q.Limit != 3 {
		t.Errorf("NextResultQuery = %+v, %v", q, ok)
	}
	for name, err := range map[string]error{
		"history limit 101": func() error { _, err := c.AccountTxs(ctx, k.Address(), apitype.TxQuery{Limit: 101}); return err }(),
		"stats step 30":     func() error { _, err := c.ContractStats(ctx, "echo", apitype.StatsQuery{Step: 30}); return err }(),
		"results bad name":  func() error { _, err := c.ContractResults(ctx, "Echo", apitype.ResultQuery{}); return err }(),
	} {
		if vmerr.KindOf(err) != vmerr.Invalid {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
	st, err := c.ContractStats(ctx, "echo", apitype.StatsQuery{})
	if err != nil || st.Totals.Calls != 0 || len(st.Buckets) != 60 || st.Step != 60 {
		t.Errorf("ContractStats(no calls) = %+v, %v", st, err)
	}
}
