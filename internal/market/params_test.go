package market_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestParamsValidate(t *testing.T) {
	with := func(f func(*market.Params)) market.Params {
		p := market.Default()
		f(&p)
		return p
	}
	tests := []struct {
		name    string
		in      market.Params
		wantErr string
	}{
		{"default", market.Default(), ""},
		{"one tier", with(func(p *market.Params) { p.Tiers, p.MaxReplicas = []uint32{10000}, 1 }), ""},
		{"sum below 10000", with(func(p *market.Params) { p.Tiers, p.MaxReplicas = []uint32{3000, 3000}, 2 }), ""},
		{"no tiers", with(func(p *market.Params) { p.Tiers = nil }), "0 tiers"},
		{"17 tiers", with(func(p *market.Params) { p.Tiers = make([]uint32, 17) }), "17 tiers"},
		{"zero tier", with(func(p *market.Params) { p.Tiers = []uint32{5000, 0}; p.MaxReplicas = 2 }), "tier 1 is 0"},
		{"increasing", with(func(p *market.Params) { p.Tiers = []uint32{2500, 5000}; p.MaxReplicas = 2 }), "must not increase"},
		{"sum over", with(func(p *market.Params) { p.Tiers = []uint32{5001, 5000}; p.MaxReplicas = 2 }), "sum 10001"},
		{"commit window", with(func(p *market.Params) { p.CommitWindow = 0 }), "commit_window"},
		{"reveal window", with(func(p *market.Params) { p.RevealWindow = -1 }), "reveal_window"},
		{"replicas 0", with(func(p *market.Params) { p.MaxReplicas = 0 }), "max_replicas 0"},
		{"replicas over tiers", with(func(p *market.Params) { p.Tiers, p.MaxReplicas = []uint32{6000, 4000}, 3 }), "max_replicas 3"},
		{"deadline short", with(func(p *market.Params) { p.MaxDeadline = 9 }), "max_deadline 9"},
		{"deadline huge windows", with(func(p *market.Params) { p.CommitWindow, p.RevealWindow = 1<<62, 1<<62; p.MaxDeadline = 1 << 62 }), "max_deadline"},
		{"gas limit 0", with(func(p *market.Params) { p.MaxGasLimit = 0 }), "max_gas_limit"},
		{"gas limit huge", with(func(p *market.Params) { p.MaxGasLimit = 1<<62 + 1 }), "max_gas_limit"},
		{"input 0", with(func(p *market.Params) { p.MaxInputSize = 0 }), "max_input_size"},
		{"penalty huge", with(func(p *market.Params) { p.UnrevealedPenalty = 1 << 63 }), "unrevealed_penalty"},
		{"memo fee 0", with(func(p *market.Params) { p.MemoFee = 0 }), "memo_fee 0"},
		{"memo fee 2", with(func(p *market.Params) { p.MemoFee = 2 }), "memo_fee 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.in.Validate(), vmerr.Invalid, tt.wantErr)
		})
	}
}

func TestDefaultTiersSumToWhole(t *testing.T) {
	var sum uint32
	for _, v := range market.Default().Tiers {
		sum += v
	}
	if sum != market.BasisPoints || len(market.Default().Tiers) != market.MaxTiers {
		t.Fatalf("default tiers: %d tiers summing to %d", len(market.Default().Tiers), sum)
	}
}

func TestParamsJSON(t *testing.T) {
	p := market.Default()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"max_gas_limit":"10000000000"`, `"unrevealed_penalty":"100"`, `"memo_fee":"1"`, `"tiers":[5000,2500,`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	var q market.Params
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("round trip: %+v, want %+v", q, p)
	}
}
