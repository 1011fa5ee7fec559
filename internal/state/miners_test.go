package state_test

import (
	"bytes"
	"testing"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestMinerKeyAndView(t *testing.T) {
	var a crypto.Address
	a[0], a[19] = 0xAB, 0x01
	if k := state.MinerKey(a); len(k) != 1+crypto.AddressSize || k[0] != state.PrefixMiner || !bytes.Equal(k[1:], a[:]) {
		t.Errorf("MinerKey = %x", k)
	}
	m := &statepb.Miner{Address: a[:], Kind: "gpu", Capacity: 8, Endpoint: "wss://m.example", MinGas: 1 << 62,
		SoftwareVersion: "v1", Active: true, Registered: 3, Updated: 9, JobsTaken: 5, Agreed: 4, Disagreed: 1,
		TimedOut: 2, Earned: 18446744073709551615}
	got, err := state.DecodeMiner(state.EncodeRecord(m))
	if err != nil {
		t.Fatal(err)
	}
	want := apitype.Miner{Address: a.String(), Kind: "gpu", Capacity: 8, Endpoint: "wss://m.example",
		MinGas: "4611686018427387904", SoftwareVersion: "v1", Active: true, Registered: 3, Updated: 9,
		JobsTaken: 5, Agreed: 4, Disagreed: 1, TimedOut: 2, Earned: "18446744073709551615", Height: 11}
	if v := state.MinerView(got, 11); v != want {
		t.Errorf("MinerView:\n got %+v\nwant %+v", v, want)
	}
	if _, err := state.DecodeMiner([]byte{0xFF}); vmerr.KindOf(err) != vmerr.Decode {
		t.Errorf("DecodeMiner(junk) = %v, want Decode", err)
	}
}

// FuzzDecodeMiner: any bytes decode or fail with Decode; a decoded record
// re-encodes to a record that decodes to the same view.
func FuzzDecodeMiner(f *testing.F) {
	f.Add(state.EncodeRecord(&statepb.Miner{Address: make([]byte, 20), Kind: "cpu", Capacity: 1, Earned: 7}))
	f.Add([]byte{0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := state.DecodeMiner(b)
		if err != nil {
			if vmerr.KindOf(err) != vmerr.Decode {
				t.Fatalf("kind %v", vmerr.KindOf(err))
			}
			return
		}
		again, err := state.DecodeMiner(state.EncodeRecord(m))
		if err != nil || state.MinerView(again, 1) != state.MinerView(m, 1) {
			t.Fatalf("re-encoding changed the record: %v", err)
		}
	})
}
