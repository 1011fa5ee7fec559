// Package system holds the built system contracts that genesis deploys:
// today the IDChain contract (source in contracts/idchain, rules in
// internal/idchain), embedded as the exact module bytes committed in this
// directory. The bytes are reproducible from source with
// contracts/build.sh; this package's test rebuilds them and fails if the
// committed file differs, so the CID genesis pins is the CID of the
// source. The metered form is embedded too (idchain.metered.wasm and its
// exports), so InitChain need not meter 3.6 MB on every node start; the
// test meters the module and fails when the committed form is stale
// (`go test ./contracts/system -run Metered -update` rewrites it).
package system

import (
	_ "embed"
	"slices"
	"strings"
)

// IDChainVersion is the version of the embedded IDChain contract, the
// first version of contract chain idchain.Contract ("idchain").
const IDChainVersion = "1.0.0"

var (
	//go:embed idchain.wasm
	idchainWasm []byte
	//go:embed idchain.metered.wasm
	idchainMetered []byte
	//go:embed idchain.exports
	idchainExports string
)

// IDChain returns the IDChain contract's module (unmetered WebAssembly,
// as built by contracts/build.sh). It returns a fresh copy on every call,
// so callers may keep or change it.
func IDChain() []byte { return slices.Clone(idchainWasm) }

// IDChainMetered returns what metering IDChain() with the network's
// meter configuration produces: the metered module and its exports, fresh
// copies.
func IDChainMetered() ([]byte, []string) {
	return slices.Clone(idchainMetered), strings.Fields(idchainExports)
}
