package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchTransfersEvents runs `vm bench transfers --events` (and
// --events-batch) against a running node: the report counts every
// committed transfer's tx event and says the stream was not dropped.
func TestBenchTransfersEvents(t *testing.T) {
	url := gtNode(t, gtBackend(t))
	for _, flag := range []string{"--events", "--events-batch"} {
		t.Run(flag, func(t *testing.T) {
			code, out, errs := btRun(t, "bench", "transfers", "--node", url, "--n", "30", "--accounts", "6", "--batch", "5",
				flag, "-o", "json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var r struct {
				Ledger struct {
					Committed int `json:"committed"`
					Events    *struct {
						Batch              bool
						Received, Expected int
						Dropped            bool
					} `json:"events"`
				} `json:"ledger"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			e := r.Ledger.Events
			if e == nil || e.Received != 30 || e.Expected != 30 || e.Dropped || e.Batch != (flag == "--events-batch") {
				t.Fatalf("events: %+v in %s", e, out)
			}
		})
	}
	code, out, _ := btRun(t, "bench", "transfers", "--node", url, "--n", "10", "--accounts", "2", "--batch", "5")
	if code != 0 || strings.Contains(out, "events (") {
		t.Errorf("without --events: exit %d, report mentions events:\n%s", code, out)
	}
}
