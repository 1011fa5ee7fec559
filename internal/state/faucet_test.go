package state_test

import (
	"testing"

	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestFaucetUseCodec(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    state.FaucetUse
		wantErr vmerr.Kind
	}{
		{"empty is zero", nil, state.FaucetUse{}, vmerr.OK},
		{"round trip", state.FaucetUse{Window: 7, Used: 1 << 40}.Encode(), state.FaucetUse{Window: 7, Used: 1 << 40}, vmerr.OK},
		{"max", state.FaucetUse{Window: ^uint64(0), Used: ^uint64(0)}.Encode(), state.FaucetUse{Window: ^uint64(0), Used: ^uint64(0)}, vmerr.OK},
		{"short", []byte{1, 2, 3}, state.FaucetUse{}, vmerr.Decode},
		{"long", make([]byte, 17), state.FaucetUse{}, vmerr.Decode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := state.DecodeFaucetUse(tt.in)
			if vmerr.KindOf(err) != tt.wantErr {
				t.Fatalf("err = %v, want kind %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if k := state.ParamsKey(); len(k) != 1 || k[0] != state.PrefixParams {
		t.Errorf("ParamsKey = %X", k)
	}
	if k := state.SupplyKey(); len(k) != 1 || k[0] != state.PrefixSupply {
		t.Errorf("SupplyKey = %X", k)
	}
}

// FuzzDecodeFaucetUse: never panics; 16 bytes round-trip exactly, any
// other non-empty length is a Decode error.
func FuzzDecodeFaucetUse(f *testing.F) {
	f.Add([]byte{})
	f.Add(state.FaucetUse{Window: 1, Used: 2}.Encode())
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := state.DecodeFaucetUse(b)
		switch {
		case len(b) == 0:
			if err != nil || u != (state.FaucetUse{}) {
				t.Fatalf("empty: %+v %v", u, err)
			}
		case len(b) != state.FaucetUseSize:
			if vmerr.KindOf(err) != vmerr.Decode {
				t.Fatalf("%d bytes: err %v", len(b), err)
			}
		default:
			if err != nil || string(u.Encode()) != string(b) {
				t.Fatalf("round trip: %+v %v", u, err)
			}
		}
	})
}
