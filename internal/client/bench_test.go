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
	"github.com/virtual-machine/vm/internal/tx"
)

// BenchmarkAPI measures what the HTTP API and the client add to a backend
// call: "direct" calls the in-memory backend, "client" makes the same call
// through client → loopback HTTP → api.Server → backend. Report the ratio.
func BenchmarkAPI(b *testing.B) {
	be, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	srv := api.New(be, api.Options{})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()
	c := client.New(ts.URL)
	ctx := context.Background()
	k, err := crypto.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := be.Sign(k, 0, 0, apitest.Faucet(k.Address(), 10))
	if _, err := be.SubmitTx(ctx, raw, true); err != nil {
		b.Fatal(err)
	}
	addr := k.Address()
	cases := []struct {
		name string
		fn   func() error
	}{
		{"status/direct", func() error { _, err := be.Status(ctx); return err }},
		{"status/client", func() error { _, err := c.Status(ctx); return err }},
		{"account_noproof/direct", func() error { _, err := be.Account(ctx, addr, 2, false); return err }},
		{"account_noproof/client", func() error { _, err := c.AccountNoProof(ctx, addr, 2); return err }},
		{"account_proof/direct", func() error { _, err := be.Account(ctx, addr, 2, true); return err }},
		{"account_proof/client", func() error { _, err := c.Account(ctx, addr, 2); return err }},
	}
	// submit: the API's cost per tx, over a backend that only hashes it.
	sink := hashOnly{be}
	ssrv := api.New(sink, api.Options{})
	sts := httptest.NewServer(ssrv.Handler())
	defer sts.Close()
	defer ssrv.Close()
	sc := client.New(sts.URL)
	cases = append(cases,
		struct {
			name string
			fn   func() error
		}{"submit/direct", func() error { _, err := sink.SubmitTx(ctx, raw, false); return err }},
		struct {
			name string
			fn   func() error
		}{"submit/client", func() error { _, err := sc.SubmitTx(ctx, raw, false); return err }},
	)
	b.Run("submit/client-parallel", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := sc.SubmitTx(ctx, raw, false); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// hashOnly accepts every tx without executing it.
type hashOnly struct{ *apitest.Backend }

func (hashOnly) SubmitTx(_ context.Context, raw []byte, _ bool) (apitype.SubmitResult, error) {
	return apitype.SubmitResult{Hash: tx.HashOf(raw).String()}, nil
}
