package ledger

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Genesis is the JSON in InitChain's AppStateBytes: the chain parameters,
// the opening balances and the system contracts. The sum of the balances
// is the total supply, fixed for the life of the chain.
type Genesis struct {
	Params    Params            `json:"params"`
	Accounts  []GenesisAccount  `json:"accounts"`
	Contracts []GenesisContract `json:"contracts,omitempty"`
}

// GenesisAccount is one opening balance.
type GenesisAccount struct {
	Address crypto.Address `json:"address"`        // 40 hex digits
	Balance uint64         `json:"balance,string"` // decimal GAS
}

// Params are the chain parameters, fixed at genesis and stored under
// state.ParamsKey() as this struct's JSON, so they are part of the app hash.
type Params struct {
	// MinFee is the least fee of a transaction. A transaction made only of
	// faucet messages may pay less (even 0) when FaucetEnabled.
	MinFee uint64 `json:"min_fee,string"`
	// FaucetEnabled turns on the faucet message (devnets only).
	FaucetEnabled bool `json:"faucet_enabled"`
	// FaucetPerWindow caps what one recipient may draw per window.
	FaucetPerWindow uint64 `json:"faucet_per_window,string"`
	// FaucetWindow is the window length in blocks; window i is heights
	// [i*FaucetWindow, (i+1)*FaucetWindow).
	FaucetWindow int64 `json:"faucet_window"`
	// DeployFeePerKiB is charged per started KiB of a Deploy's payload
	// (contract.DeployPayload), on top of MinFee: code stays on every
	// validator's disk for good, so its size is paid for.
	DeployFeePerKiB uint64 `json:"deploy_fee_per_kib,string"`
	// MaxCodeSize is the largest module a Deploy may carry, in bytes; 0
	// means tx.MaxCodeSize, and more than that is invalid.
	MaxCodeSize int `json:"max_code_size,omitempty"`
	// IDCreateFee is charged, on top of MinFee, for every Request to the
	// IDChain's create function (IDCreateFees).
	IDCreateFee uint64 `json:"id_create_fee,string,omitempty"`
	// Market are the execution market's parameters (market.Params); a
	// genesis without them gets market.Default().
	Market market.Params `json:"market"`
}

// CodeLimit is the effective MaxCodeSize.
func (p Params) CodeLimit() int {
	if p.MaxCodeSize <= 0 {
		return tx.MaxCodeSize
	}
	return p.MaxCodeSize
}

// Supply is the answer of the /supply query.
type Supply struct {
	Total uint64 `json:"total,string"` // decimal GAS
}

// DevnetDeployFeePerKiB is the devnet's deploy fee: a 5 KB contract pays
// 500 GAS, a 2.5 MB Go contract about 244,000 (a quarter of one faucet
// draw).
const DevnetDeployFeePerKiB = 100

// DevnetIDCreateFee is the devnet's price of creating an ID: 1,000 GAS, a
// hundred-thousandth of one faucet draw, so a million squatted names cost
// ten thousand draws.
const DevnetIDCreateFee = 1000

// DevnetFaucetPerWindow is what one recipient may draw from the devnet
// faucet per window: enough to deploy a Go contract (about 245,000 GAS)
// and escrow dozens of calls to one (about 2,000,000 gas each).
const DevnetFaucetPerWindow uint64 = 100_000_000

// DevnetFaucetSupply is what DevnetGenesis puts in the faucet pool: 10^15 GAS.
const DevnetFaucetSupply uint64 = 1_000_000_000_000_000

// DevnetGenesis is the genesis of a development network: the faucet on,
// DevnetFaucetPerWindow GAS per recipient per 100 blocks, a minimum fee of 1 and the
// faucet pool funded with DevnetFaucetSupply.
func DevnetGenesis() Genesis {
	return Genesis{
		Params: Params{MinFee: 1, FaucetEnabled: true, FaucetPerWindow: DevnetFaucetPerWindow, FaucetWindow: 100,
			DeployFeePerKiB: DevnetDeployFeePerKiB, IDCreateFee: DevnetIDCreateFee, Market: market.Default()},
		Accounts: []GenesisAccount{
			{Address: FaucetPool(), Balance: DevnetFaucetSupply},
		},
		Contracts: SystemContracts(),
	}
}

// FeeCollector is the module account that receives every fee.
func FeeCollector() crypto.Address { return state.ModuleAddress("fees") }

// EscrowAccount is the module account that holds every open request's
// escrow until it settles or expires.
func EscrowAccount() crypto.Address { return state.ModuleAddress("escrow") }

// FaucetPool is the module account the faucet pays from.
func FaucetPool() crypto.Address { return state.ModuleAddress("faucet") }

// Validate checks p: a faucet needs a positive window and cap. Errors are
// of kind Invalid.
func (p Params) Validate() error {
	if p.FaucetEnabled && (p.FaucetWindow <= 0 || p.FaucetPerWindow == 0) {
		return vmerr.E("ledger.params", vmerr.Invalid, "faucet enabled but window %d blocks, cap %d: both must be positive", p.FaucetWindow, p.FaucetPerWindow)
	}
	if p.MaxCodeSize < 0 || p.MaxCodeSize > tx.MaxCodeSize {
		return vmerr.E("ledger.params", vmerr.Invalid, "max code size %d not in [0, %d]", p.MaxCodeSize, tx.MaxCodeSize)
	}
	if p.FaucetWindow < 0 {
		return vmerr.E("ledger.params", vmerr.Invalid, "faucet window %d is negative", p.FaucetWindow)
	}
	return p.Market.Validate()
}

// ParseGenesis decodes and validates the JSON genesis. Unknown fields,
// duplicate addresses, invalid params and a supply that overflows uint64
// are errors (kinds Decode, Invalid, Exists, Overflow). The returned
// accounts are sorted by address; total is their sum.
func ParseGenesis(b []byte) (g Genesis, total uint64, err error) {
	const op = "ledger.genesis"
	if len(bytes.TrimSpace(b)) == 0 {
		return g, 0, vmerr.E(op, vmerr.Invalid, "app state is empty: the genesis must carry the ledger's params and accounts")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return g, 0, vmerr.E(op, vmerr.Decode, "app state: %w", err)
	}
	if len(g.Params.Market.Tiers) == 0 && g.Params.Market.CommitWindow == 0 {
		g.Params.Market = market.Default()
	}
	if err := g.Params.Validate(); err != nil {
		return g, 0, err
	}
	slices.SortFunc(g.Accounts, func(a, b GenesisAccount) int { return bytes.Compare(a.Address[:], b.Address[:]) })
	for i, acc := range g.Accounts {
		if i > 0 && acc.Address == g.Accounts[i-1].Address {
			return g, 0, vmerr.E(op, vmerr.Exists, "account %s appears twice", acc.Address)
		}
		if total+acc.Balance < total {
			return g, 0, vmerr.E(op, vmerr.Overflow, "total supply overflows uint64 at account %s", acc.Address)
		}
		total += acc.Balance
	}
	return g, total, nil
}

// JSON returns g as the JSON InitChain expects.
func (g Genesis) JSON() []byte {
	b, err := json.Marshal(g)
	if err != nil { // only plain fields: cannot fail
		panic(err)
	}
	return b
}
