package bench_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/bench"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestConfigValidate(t *testing.T) {
	ok := bench.Config{N: 10, Accounts: 4, ChainID: "c"}
	tests := []struct {
		name    string
		in      bench.Config
		want    bench.Config
		wantErr bool
	}{
		{name: "defaults", in: ok, want: bench.Config{N: 10, Accounts: 4, ChainID: "c", Concurrency: 4, Batch: bench.DefaultBatch,
			Amount: bench.DefaultAmount, Fee: bench.DefaultFee}},
		{name: "no txs", in: bench.Config{Accounts: 4, ChainID: "c"}, wantErr: true},
		{name: "one account", in: bench.Config{N: 1, Accounts: 1, ChainID: "c"}, wantErr: true},
		{name: "no chain", in: bench.Config{N: 1, Accounts: 2}, wantErr: true},
		{name: "batch too big", in: bench.Config{N: 1, Accounts: 2, ChainID: "c", Batch: 10_001}, wantErr: true},
		{name: "negative concurrency", in: bench.Config{N: 1, Accounts: 2, ChainID: "c", Concurrency: -1}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.Validate()
			if tt.wantErr {
				if vmerr.KindOf(err) != vmerr.Invalid {
					t.Fatalf("err %v, want Invalid", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v %v, want %+v", got, err, tt.want)
			}
		})
	}
}

func TestCountAndKeys(t *testing.T) {
	cfg := bench.Config{N: 1003, Accounts: 10}
	total := 0
	for i := range cfg.Accounts {
		total += cfg.Count(i)
	}
	if total != cfg.N || cfg.Count(0) != 101 || cfg.Count(9) != 100 {
		t.Fatalf("counts sum to %d (first %d, last %d)", total, cfg.Count(0), cfg.Count(9))
	}
	a, b := bench.Keys(3), bench.Keys(3)
	if a[0].Address() != b[0].Address() || a[0].Address() == a[1].Address() {
		t.Fatal("keys are not deterministic and distinct")
	}
}

func TestSignOrder(t *testing.T) {
	keys := bench.Keys(5)
	p, err := bench.Sign(bench.Config{N: 23, Accounts: 5, Concurrency: 2, ChainID: "c"}, keys, []uint64{0, 1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, w := range p.Work {
		n += len(w)
	}
	if n != 23 || len(p.Work) != 2 {
		t.Fatalf("%d txs over %d submitters", n, len(p.Work))
	}
	if _, err := bench.Sign(p.Config, keys[:4], nil); vmerr.KindOf(err) != vmerr.Invalid {
		t.Fatalf("wrong key count: %v", err)
	}
}

func TestCheck(t *testing.T) {
	p, err := bench.Sign(bench.Config{N: 4, Accounts: 2, ChainID: "c"}, bench.Keys(2), nil)
	if err != nil {
		t.Fatal(err)
	}
	before := []bench.Balance{{Balance: 100}, {Balance: 100, Nonce: 3}}
	good := []bench.Balance{{Balance: 98, Nonce: 2}, {Balance: 98, Nonce: 5}} // each sends 2×(1+1), receives 2×1
	if err := p.Check(before, good); err != nil {
		t.Fatal(err)
	}
	bad := []bench.Balance{{Balance: 98, Nonce: 1}, {Balance: 98, Nonce: 5}}
	if err := p.Check(before, bad); vmerr.KindOf(err) != vmerr.Invalid {
		t.Fatalf("a missing tx passed: %v", err)
	}
}

func TestPeakRSS(t *testing.T) {
	rss, err := bench.PeakRSS(os.Getpid())
	if err != nil {
		t.Skip("no /proc:", err)
	}
	if rss < 1<<20 {
		t.Fatalf("peak RSS %d bytes", rss)
	}
	if _, err := bench.PeakRSS(-1); vmerr.KindOf(err) != vmerr.Unavailable {
		t.Fatalf("no such process: %v", err)
	}
}

// TestRunDevnet runs 300 transfers from 30 genesis-funded accounts
// against a real devnet node and checks that every one committed, the
// counts add up and every balance and nonce moved exactly as planned; a
// plan for another chain must fail whole and move nothing.
func TestRunDevnet(t *testing.T) {
	const accounts = 30
	env, keys := startFunded(t, accounts)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	before, err := bench.Snapshot(ctx, env.Client, keys, 8)
	if err != nil {
		t.Fatal(err)
	}
	p, err := bench.Sign(bench.Config{N: 300, Accounts: accounts, Concurrency: 4, Batch: 25, ChainID: env.Node.ChainID()}, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := bench.Run(ctx, env.Client, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed != 300 || res.Failed != 0 || res.FirstFailure != "" || res.Failures != nil {
		t.Fatalf("result: %+v", res)
	}
	if res.TxPerSec <= 0 || res.SustainedTxPerSec <= 0 || res.P50MS <= 0 || res.P99MS < res.P50MS {
		t.Fatalf("figures: %+v", res)
	}
	after, err := bench.Snapshot(ctx, env.Client, keys, 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(before, after); err != nil {
		t.Fatal(err)
	}

	wrong, err := bench.Sign(bench.Config{N: 60, Accounts: accounts, Batch: 7, ChainID: "other-chain"}, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err = bench.Run(ctx, env.Client, wrong)
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed != 0 || res.Failed != 60 || res.FirstFailure == "" || len(res.Failures) != 1 || res.Failures[vmerr.WrongChain.String()] != 60 {
		t.Fatalf("wrong chain: %+v", res)
	}
	again, err := bench.Snapshot(ctx, env.Client, keys, 8)
	if err != nil {
		t.Fatal(err)
	}
	for i := range again {
		if again[i] != after[i] {
			t.Fatalf("account %d moved on rejected txs: %+v → %+v", i, after[i], again[i])
		}
	}
}

func TestFailureSummary(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]int
		want string
	}{
		{"none", nil, ""},
		{"one", map[string]int{"bad_nonce": 120}, "bad_nonce 120"},
		{"by count then name", map[string]int{"timeout": 3, "bad_nonce": 120, bench.NotCommitted: 3}, "bad_nonce 120, not_committed 3, timeout 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bench.Result{Failures: tt.in}
			if got := r.FailureSummary(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if s := r.String(); (tt.want != "") != strings.Contains(s, "failures by code: "+tt.want) {
				t.Fatalf("report %q and summary %q disagree", s, tt.want)
			}
		})
	}
}

// startFunded starts a real devnet node whose genesis gives each of the
// first n bench.Keys 1,000,000 GAS, and returns it with those keys.
func startFunded(t *testing.T, n int) (*nodetest.Env, []crypto.PrivKey) {
	t.Helper()
	keys := bench.Keys(n)
	gen := ledger.DevnetGenesis()
	for _, k := range keys {
		gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Address: k.Address(), Balance: 1_000_000})
	}
	return nodetest.StartWith(t, nodetest.Options{Genesis: &gen}), keys
}
