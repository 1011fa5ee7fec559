package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/cli"
)

// btReport is the part of `vm bench transfers -o json` the tests read.
type btReport struct {
	Mode   string `json:"mode"`
	Ledger struct {
		N, Committed, Failed int
		TxPerSec             float64 `json:"tx_per_sec"`
		P50MS                float64 `json:"p50_ms"`
		PeakRSSBytes         int64   `json:"peak_rss_bytes"`
		Checked              bool    `json:"checked"`
	} `json:"ledger"`
	Baseline *struct {
		N, Committed, Failed int
	} `json:"baseline"`
	Ratio float64 `json:"ratio"`
}

func btRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestBenchTransfersInProcess runs a small load with the baseline against
// in-process devnet nodes: every transfer commits in both runs, the
// accounts are checked, and the ratio is reported.
func TestBenchTransfersInProcess(t *testing.T) {
	code, out, errs := btRun(t, "bench", "transfers", "--in-process", "--baseline", "--n", "300", "--accounts", "30",
		"--concurrency", "4", "--batch", "25", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r btReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Mode != "in-process" || r.Ledger.Committed != 300 || r.Ledger.Failed != 0 || !r.Ledger.Checked {
		t.Fatalf("ledger: %+v", r)
	}
	if r.Baseline == nil || r.Baseline.Committed != 300 || r.Baseline.Failed != 0 || r.Ratio <= 0 {
		t.Fatalf("baseline: %+v ratio %v", r.Baseline, r.Ratio)
	}
	if r.Ledger.TxPerSec <= 0 || r.Ledger.P50MS <= 0 || r.Ledger.PeakRSSBytes <= 0 {
		t.Fatalf("figures: %+v", r.Ledger)
	}
}

// TestBenchTransfersRemote measures a running node (here the API over the
// hand-written backend, which has no batch call, so the API's per-tx
// fallback is used) after funding the accounts from its faucet.
func TestBenchTransfersRemote(t *testing.T) {
	url := gtNode(t, gtBackend(t))
	code, out, errs := btRun(t, "bench", "transfers", "--node", url, "--n", "40", "--accounts", "8", "--batch", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"ledger: 40/40 committed, 0 failed", "balance and nonce checked: ok", "tx/s overall"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "peak RSS") {
		t.Errorf("a remote node's RSS is unknown, yet reported:\n%s", out)
	}
}

func TestBenchTransfersBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "node and in-process", args: []string{"--node", "http://127.0.0.1:1", "--in-process"}, want: "exclude"},
		{name: "baseline on a remote node", args: []string{"--node", "http://127.0.0.1:1", "--baseline"}, want: "--baseline"},
		{name: "no transfers", args: []string{"--in-process", "--n", "0"}, want: "n must be"},
		{name: "one account", args: []string{"--in-process", "--accounts", "1"}, want: "accounts must be"},
		{name: "huge batch", args: []string{"--in-process", "--batch", "20000"}, want: "batch"},
		{name: "unreachable node", args: []string{"--node", "http://127.0.0.1:1", "--n", "2", "--accounts", "2"}, want: "client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := btRun(t, append([]string{"bench", "transfers"}, tt.args...)...)
			if code == 0 || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d, stderr %q; want failure mentioning %q", code, errs, tt.want)
			}
		})
	}
}
