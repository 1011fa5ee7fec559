package system_test

import (
	"bytes"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/contracts/system"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/wasm"
	"github.com/virtual-machine/vm/internal/wasm/meter"
)

var update = flag.Bool("update", false, "rewrite idchain.metered.wasm and idchain.exports")

// TestMeteredIsCurrent meters the embedded module as the ledger does
// (wasm.DefaultConfig's meter configuration, the chain's code limit) and
// checks the embedded metered form is exactly the result, so genesis
// stores what metering at InitChain would have.
func TestMeteredIsCurrent(t *testing.T) {
	cfg := wasm.DefaultConfig().MeterConfig()
	cfg.MaxCodeSize = tx.MaxCodeSize
	bin, info, err := meter.Instrument(system.IDChain(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	exports := strings.Join(info.Exports, "\n") + "\n"
	if *update {
		if err := os.WriteFile("idchain.metered.wasm", bin, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("idchain.exports", []byte(exports), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, gotExports := system.IDChainMetered()
	if !bytes.Equal(got, bin) || !slices.Equal(gotExports, info.Exports) {
		t.Fatal("idchain.metered.wasm or idchain.exports is stale: run go test ./contracts/system -run Metered -update")
	}
}
