package jobs_test

import (
	"math"
	"testing"

	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func req(contract, fn string) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Request{Request: &txpb.Request{Contract: contract, Fn: fn}}}
}

func TestIDCreateFees(t *testing.T) {
	transfer := &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{Amount: 1}}}
	tests := []struct {
		name    string
		per     uint64
		msgs    []*txpb.Msg
		want    uint64
		wantErr vmerr.Kind
	}{
		{"none", 1000, nil, 0, vmerr.OK},
		{"create", 1000, []*txpb.Msg{req("idchain@^1", "create")}, 1000, vmerr.OK},
		{"exact version", 1000, []*txpb.Msg{req("idchain@1.0.0", "create")}, 1000, vmerr.OK},
		{"bare name", 1000, []*txpb.Msg{req("idchain", "create")}, 1000, vmerr.OK},
		{"two creates", 7, []*txpb.Msg{req("idchain@^1", "create"), transfer, req("idchain@*", "create")}, 14, vmerr.OK},
		{"set is free", 1000, []*txpb.Msg{req("idchain@^1", "set")}, 0, vmerr.OK},
		{"another contract's create", 1000, []*txpb.Msg{req("idchains@^1", "create"), req("my-idchain@^1", "create")}, 0, vmerr.OK},
		{"fee off", 0, []*txpb.Msg{req("idchain@^1", "create")}, 0, vmerr.OK},
		{"overflow", math.MaxUint64, []*txpb.Msg{req("idchain@^1", "create"), req("idchain@^1", "create")}, 0, vmerr.Overflow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := jobs.IDCreateFees(tc.per, &txpb.TxBody{Msgs: tc.msgs})
			if vmerr.KindOf(err) != tc.wantErr || got != tc.want {
				t.Fatalf("got %d, %v; want %d, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
