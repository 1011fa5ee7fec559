package tx_test

import (
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func minerMsg(kind string, capacity uint32, endpoint string, minGas uint64, version string) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_MinerRegister{MinerRegister: &txpb.MinerRegister{Kind: kind, Capacity: capacity,
		Endpoint: endpoint, MinGas: minGas, SoftwareVersion: version, Active: true}}}
}

func TestValidateMinerRegister(t *testing.T) {
	long := "https://m.example/" + strings.Repeat("p", tx.MaxEndpoint-len("https://m.example/"))
	tests := []struct {
		name    string
		in      *txpb.Msg
		wantErr vmerr.Kind // OK for valid
	}{
		{"cpu minimal", minerMsg("cpu", 1, "", 0, ""), vmerr.OK},
		{"every kind", minerMsg("relay", 4, "", 50, ""), vmerr.OK},
		{"gpu full", minerMsg("gpu", tx.MaxMinerCapacity, "https://gpu.example:8443/jobs?x=1", 50, "vm-miner/1.2.3 (linux)"), vmerr.OK},
		{"ws endpoint", minerMsg("browser", 2, "ws://127.0.0.1:9000", 1, "v1"), vmerr.OK},
		{"wss endpoint", minerMsg("storage", 2, "wss://[::1]:9000/s", 1, "v1"), vmerr.OK},
		{"endpoint at the limit", minerMsg("cpu", 1, long, 0, ""), vmerr.OK},
		{"min gas at the maximum", minerMsg("cpu", 1, "", tx.MaxAmount, ""), vmerr.OK},
		{"version at the limit", minerMsg("cpu", 1, "", 0, strings.Repeat("v", tx.MaxSoftware)), vmerr.OK},
		{"empty kind", minerMsg("", 1, "", 0, ""), vmerr.Invalid},
		{"upper-case kind", minerMsg("CPU", 1, "", 0, ""), vmerr.Invalid},
		{"unknown kind", minerMsg("tpu", 1, "", 0, ""), vmerr.Invalid},
		{"zero capacity", minerMsg("cpu", 0, "", 0, ""), vmerr.Invalid},
		{"capacity over the cap", minerMsg("cpu", tx.MaxMinerCapacity+1, "", 0, ""), vmerr.Invalid},
		{"min gas overflow", minerMsg("cpu", 1, "", tx.MaxAmount+1, ""), vmerr.Overflow},
		{"endpoint too long", minerMsg("cpu", 1, long+"p", 0, ""), vmerr.TooLarge},
		{"ftp endpoint", minerMsg("cpu", 1, "ftp://m.example", 0, ""), vmerr.Invalid},
		{"relative endpoint", minerMsg("cpu", 1, "/jobs", 0, ""), vmerr.Invalid},
		{"no host", minerMsg("cpu", 1, "https:///jobs", 0, ""), vmerr.Invalid},
		{"port only", minerMsg("cpu", 1, "https://:80/", 0, ""), vmerr.Invalid},
		{"credentials", minerMsg("cpu", 1, "https://user:pw@m.example", 0, ""), vmerr.Invalid},
		{"fragment", minerMsg("cpu", 1, "https://m.example/#x", 0, ""), vmerr.Invalid},
		{"space in endpoint", minerMsg("cpu", 1, "https://m.example/a b", 0, ""), vmerr.Invalid},
		{"non-ASCII endpoint", minerMsg("cpu", 1, "https://mé.example", 0, ""), vmerr.Invalid},
		{"version too long", minerMsg("cpu", 1, "", 0, strings.Repeat("v", tx.MaxSoftware+1)), vmerr.TooLarge},
		{"control byte in version", minerMsg("cpu", 1, "", 0, "v1\x00"), vmerr.Invalid},
		{"nil body", &txpb.Msg{Sum: &txpb.Msg_MinerRegister{}}, vmerr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tx.ValidateMsg(tt.in)
			if got := vmerr.KindOf(err); got != tt.wantErr || (err == nil) != (tt.wantErr == vmerr.OK) {
				t.Errorf("ValidateMsg = %v (kind %v), want kind %v", err, got, tt.wantErr)
			}
		})
	}
}

// TestDecodeMinerRegister checks a signed registration survives Decode and
// a bad one is refused by it (CheckTx's stateless path).
func TestDecodeMinerRegister(t *testing.T) {
	k, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		msg     *txpb.Msg
		wantErr vmerr.Kind
	}{
		{"valid", minerMsg("cpu", 4, "https://m1.example", 50, "v0.1.0"), vmerr.OK},
		{"invalid", minerMsg("cpu", 0, "", 50, ""), vmerr.Invalid},
	} {
		raw, err := tx.Sign(&txpb.TxBody{ChainId: "c", Fee: 1, Msgs: []*txpb.Msg{tc.msg}}, k)
		if err != nil {
			t.Fatal(err)
		}
		s, err := tx.Decode(raw, "c")
		if vmerr.KindOf(err) != tc.wantErr {
			t.Errorf("%s: Decode = %v, want %v", tc.name, err, tc.wantErr)
		}
		if err == nil && s.Body.Msgs[0].GetMinerRegister().GetCapacity() != 4 {
			t.Errorf("%s: decoded %+v", tc.name, s.Body.Msgs[0])
		}
	}
}

// FuzzValidateMinerRegister: no panic, and whatever passes obeys the
// documented bounds.
func FuzzValidateMinerRegister(f *testing.F) {
	f.Add("cpu", uint32(4), "https://m.example:8443/ws", uint64(50), "v1")
	f.Add("gpu", uint32(0), "ftp://x", uint64(1<<63), "\x00")
	f.Add("relay", uint32(1024), "wss://[::1]/%zz", uint64(0), "")
	f.Fuzz(func(t *testing.T, kind string, capacity uint32, endpoint string, minGas uint64, version string) {
		m := &txpb.MinerRegister{Kind: kind, Capacity: capacity, Endpoint: endpoint, MinGas: minGas, SoftwareVersion: version}
		if tx.ValidateMinerRegister(m) != nil {
			return
		}
		if !tx.ValidMinerKind(kind) || capacity < 1 || capacity > tx.MaxMinerCapacity || minGas > tx.MaxAmount ||
			len(endpoint) > tx.MaxEndpoint || len(version) > tx.MaxSoftware {
			t.Fatalf("accepted out of bounds: %+v", m)
		}
		if endpoint != "" && !strings.Contains(endpoint, "://") {
			t.Fatalf("accepted endpoint %q", endpoint)
		}
	})
}
