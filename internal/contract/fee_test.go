package contract_test

import (
	"math"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestDeployFee(t *testing.T) {
	// code makes the payload exactly n bytes together with name "ab" and version "1.0.0" (7 bytes).
	code := func(n int) *txpb.Deploy {
		return &txpb.Deploy{Name: "ab", Version: "1.0.0", Code: make([]byte, n-7)}
	}
	full := &txpb.Deploy{
		Name: "hello", Version: "1.2.3", Code: make([]byte, 1000), Manifest: []byte("{}"),
		Interface: []byte("[1]"), Description: "hi there", Tags: []string{"a", "bc"},
	}
	tests := []struct {
		name        string
		perKiB      uint64
		in          *txpb.Deploy
		wantPayload int
		want        uint64
		wantErr     string
	}{
		{"nil", 10, nil, 0, 0, ""},
		{"empty", 10, &txpb.Deploy{}, 0, 0, ""},
		{"one byte is a started KiB", 10, &txpb.Deploy{Name: "a"}, 1, 10, ""},
		{"exactly 1 KiB", 10, code(1024), 1024, 10, ""},
		{"1 KiB + 1", 10, code(1025), 1025, 20, ""},
		{"2.5 MB", 3, code(2_500_000), 2_500_000, 3 * 2442, ""},
		{"every field counts", 7, full, 5 + 5 + 1000 + 2 + 3 + 8 + 3, 14, ""}, // 1026 bytes: 2 KiB
		{"free", 0, code(1 << 20), 1 << 20, 0, ""},
		{"max without overflow", math.MaxUint64, &txpb.Deploy{Name: "a"}, 1, math.MaxUint64, ""},
		{"overflow", math.MaxUint64, code(1025), 1025, 0, "overflows"},
		{"overflow large", 1 << 60, &txpb.Deploy{Code: []byte(strings.Repeat("x", 16*1024+1))}, 16*1024 + 1, 0, "overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := contract.DeployPayload(tt.in); got != tt.wantPayload {
				t.Fatalf("DeployPayload = %d, want %d", got, tt.wantPayload)
			}
			got, err := contract.DeployFee(tt.perKiB, tt.in)
			checkErr(t, err, vmerr.Overflow, tt.wantErr)
			if got != tt.want {
				t.Fatalf("DeployFee = %d, want %d", got, tt.want)
			}
		})
	}
}
