package market_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestRequestValidate(t *testing.T) {
	with := func(f func(*market.Request)) market.Request {
		r := goodRequest()
		f(&r)
		return r
	}
	tests := []struct {
		name     string
		in       market.Request
		wantRef  string
		wantKind vmerr.Kind
		wantErr  string
	}{
		{"good", goodRequest(), "hello@^1.2", 0, ""},
		{"bare name", with(func(r *market.Request) { r.Contract = "hello" }), "hello@*", 0, ""},
		{"quorum 1", with(func(r *market.Request) { r.Replicas, r.Quorum = 1, 1 }), "hello@^1.2", 0, ""},
		{"k = q = max", with(func(r *market.Request) { r.Replicas, r.Quorum = 16, 16 }), "hello@^1.2", 0, ""},
		{"free", with(func(r *market.Request) { r.Price, r.Reward = 0, 0 }), "hello@^1.2", 0, ""},
		{"fn 64 bytes", with(func(r *market.Request) { r.Fn = strings.Repeat("f", 64) }), "hello@^1.2", 0, ""},
		{"input at max", with(func(r *market.Request) { r.Input = make([]byte, 1<<20) }), "hello@^1.2", 0, ""},
		{"deadline one round", with(func(r *market.Request) { r.Deadline = 10 }), "hello@^1.2", 0, ""},
		{"deadline max", with(func(r *market.Request) { r.Deadline = 1000 }), "hello@^1.2", 0, ""},
		{"bad name", with(func(r *market.Request) { r.Contract = "Hello@1" }), "", vmerr.Invalid, "market.request"},
		{"bad range", with(func(r *market.Request) { r.Contract = "hello@^1.2.3.4" }), "", vmerr.Invalid, "market.request"},
		{"empty contract", with(func(r *market.Request) { r.Contract = "" }), "", vmerr.Invalid, "market.request"},
		{"empty fn", with(func(r *market.Request) { r.Fn = "" }), "", vmerr.Invalid, "fn is 0 bytes"},
		{"long fn", with(func(r *market.Request) { r.Fn = strings.Repeat("f", 65) }), "", vmerr.Invalid, "fn is 65 bytes"},
		{"fn not utf8", with(func(r *market.Request) { r.Fn = "\xff" }), "", vmerr.Invalid, "UTF-8"},
		{"input too large", with(func(r *market.Request) { r.Input = make([]byte, 1<<20+1) }), "", vmerr.TooLarge, "input is 1048577 bytes"},
		{"gas 0", with(func(r *market.Request) { r.GasLimit = 0 }), "", vmerr.Invalid, "gas limit is 0"},
		{"gas over", with(func(r *market.Request) { r.GasLimit = 10_000_000_001 }), "", vmerr.Limit, "gas limit 10000000001"},
		{"replicas 0", with(func(r *market.Request) { r.Replicas, r.Quorum = 0, 0 }), "", vmerr.Invalid, "quorum 0 with 0 replicas"},
		{"replicas over", with(func(r *market.Request) { r.Replicas = 17 }), "", vmerr.Limit, "replicas 17"},
		{"quorum 0", with(func(r *market.Request) { r.Quorum = 0 }), "", vmerr.Invalid, "quorum 0"},
		{"quorum over replicas", with(func(r *market.Request) { r.Quorum = 4 }), "", vmerr.Invalid, "quorum 4 with 3"},
		{"quorum 1 with replicas", with(func(r *market.Request) { r.Quorum = 1 }), "", vmerr.Invalid, "replicas must be 1"},
		{"deadline short", with(func(r *market.Request) { r.Deadline = 9 }), "", vmerr.Invalid, "shorter than one commit and reveal round"},
		{"deadline negative", with(func(r *market.Request) { r.Deadline = -1 }), "", vmerr.Invalid, "deadline -1"},
		{"deadline over", with(func(r *market.Request) { r.Deadline = 1001 }), "", vmerr.Limit, "deadline 1001"},
		{"escrow overflow", with(func(r *market.Request) { r.Price = math.MaxUint64 }), "", vmerr.Overflow, "overflows"},
		{"escrow over MaxAmount", with(func(r *market.Request) { r.Reward = tx.MaxAmount }), "", vmerr.Overflow, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := tt.in.Validate(market.Default())
			checkErr(t, err, tt.wantKind, tt.wantErr)
			if err == nil && ref.String() != tt.wantRef {
				t.Fatalf("ref %s, want %s", ref, tt.wantRef)
			}
		})
	}
}

func TestEscrow(t *testing.T) {
	tests := []struct {
		name    string
		in      market.Request
		want    uint64
		wantErr string
	}{
		{"reward only", market.Request{Reward: 7, GasLimit: 0, Price: 5, Replicas: 3}, 7, ""},
		{"per replica", market.Request{Reward: 100, GasLimit: 1000, Price: 2, Replicas: 3}, 100 + 3*1000*2, ""},
		{"one replica", market.Request{Reward: 1, GasLimit: 10, Price: 1, Replicas: 1}, 11, ""},
		{"exactly MaxAmount", market.Request{Reward: tx.MaxAmount - 4, GasLimit: 2, Price: 2, Replicas: 1}, tx.MaxAmount, ""},
		{"over MaxAmount", market.Request{Reward: tx.MaxAmount - 3, GasLimit: 2, Price: 2, Replicas: 1}, 0, "exceeds"},
		{"gas × price overflows", market.Request{GasLimit: 1 << 32, Price: 1 << 32, Replicas: 1}, 0, "gas limit 4294967296 × price 4294967296 overflows"},
		{"× replicas overflows", market.Request{GasLimit: 1 << 31, Price: 1 << 31, Replicas: 16}, 0, "× 16 replicas overflows"},
		{"+ reward overflows", market.Request{Reward: math.MaxUint64, GasLimit: 1, Price: 1, Replicas: 1}, 0, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := market.Escrow(tt.in)
			checkErr(t, err, vmerr.Overflow, tt.wantErr)
			if got != tt.want {
				t.Fatalf("Escrow = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRequestJSON(t *testing.T) {
	r := goodRequest()
	r.Reward = 1 << 60
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"reward":"1152921504606846976"`) || !strings.Contains(string(b), `"gas_limit":"1000000"`) {
		t.Fatalf("amounts are not decimal strings: %s", b)
	}
	var got market.Request
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Reward != r.Reward || string(got.Input) != string(r.Input) || got.Deadline != r.Deadline {
		t.Fatalf("round trip %+v, want %+v", got, r)
	}
}
