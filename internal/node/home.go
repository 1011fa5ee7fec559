package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/virtual-machine/vm/internal/chain"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// InitDevnet makes home a one-validator devnet (chain id vm-devnet, the
// ledger's devnet genesis with the faucet on, P2P on 127.0.0.1:p2pPort)
// unless it is one already; it reports whether it created the genesis.
// Errors as chain.InitHome.
func InitDevnet(home string, p2pPort int) (created bool, err error) {
	return InitHome(home, DevnetChainID, ledger.DevnetGenesis(), p2pPort)
}

// Balance is one extra opening balance for InitDevnetFunded.
type Balance struct {
	Address crypto.Address
	Amount  uint64
}

// InitDevnetFunded is InitDevnet with extra opening balances added to the
// devnet genesis (load generators fund their senders this way, so funding
// is not part of what they measure). Errors as InitDevnet, plus Exists for
// an address given twice.
func InitDevnetFunded(home string, p2pPort int, extra []Balance) (created bool, err error) {
	gen := ledger.DevnetGenesis()
	for _, b := range extra {
		gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Address: b.Address, Balance: b.Amount})
	}
	if _, _, err := ledger.ParseGenesis(gen.JSON()); err != nil {
		return false, err
	}
	return InitHome(home, DevnetChainID, gen, p2pPort)
}

// InitHome makes home a one-validator chain chainID with genesis gen
// unless it has a genesis already; it reports whether it created one.
// p2pPort 0 lets the OS pick (a node that never has peers).
func InitHome(home, chainID string, gen ledger.Genesis, p2pPort int) (created bool, err error) {
	_, statErr := os.Stat(filepath.Join(home, "config", "genesis.json"))
	created = os.IsNotExist(statErr)
	err = chain.InitHome(home, chainID, gen.JSON(), chain.InitOptions{
		P2PListen: fmt.Sprintf("tcp://127.0.0.1:%d", p2pPort), Profile: chain.ProfileDevnet})
	return created, err
}

// DefaultP2PPort is the devnet's P2P port and a testnet's first.
const DefaultP2PPort = chain.DefaultP2PPort

// InitTestnet writes n validator homes out/node0… for chainID with the
// devnet genesis (faucet on): node i has P2P on 127.0.0.1:basePort+i and
// its API on 127.0.0.1:httpBasePort+i (in its vm.toml). It returns the
// homes. Errors as chain.WriteTestnet, plus Invalid for a bad HTTP port
// range.
func InitTestnet(out string, n int, chainID string, basePort, httpBasePort int) ([]string, error) {
	return InitTestnetGenesis(out, n, chainID, ledger.DevnetGenesis(), basePort, httpBasePort)
}

// InitTestnetGenesis is InitTestnet with the ledger genesis gen.
func InitTestnetGenesis(out string, n int, chainID string, gen ledger.Genesis, basePort, httpBasePort int) ([]string, error) {
	if httpBasePort < 1 || httpBasePort+n > 65535 {
		return nil, vmerr.E("node.init_testnet", vmerr.Invalid, "http base port %d out of range", httpBasePort)
	}
	homes, err := chain.WriteTestnet(out, n, chainID, gen.JSON(), basePort)
	if err != nil {
		return nil, err
	}
	for i, h := range homes {
		if err := writeFile(h, fileConfig{HTTPAddr: fmt.Sprintf("127.0.0.1:%d", httpBasePort+i)}); err != nil {
			return nil, vmerr.Wrap("node.init_testnet", vmerr.Internal, err)
		}
	}
	return homes, nil
}

// chainIDOf reads the chain id from home's genesis.
func chainIDOf(home string) (string, error) {
	b, err := os.ReadFile(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		return "", vmerr.E("node.chain_id", vmerr.Invalid, "%s is not a node home: %w", home, err)
	}
	var g struct {
		ChainID string `json:"chain_id"`
	}
	if err := json.Unmarshal(b, &g); err != nil || g.ChainID == "" {
		return "", vmerr.E("node.chain_id", vmerr.Invalid, "%s/config/genesis.json has no chain id", home)
	}
	return g.ChainID, nil
}
