package ledger_test

import (
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/contracts/system"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestGenesisPublishesIDChain: the devnet genesis publishes the IDChain
// contract this node carries, owned by the keyless system account, so
// nobody can publish over it.
func TestGenesisPublishesIDChain(t *testing.T) {
	g := testGenesis(t, 1, 10_000_000)
	n := newNode(t, g)
	n.block()
	r := n.readerAt(1)
	c, err := registry.MustContract(r, idchain.Contract)
	if err != nil {
		t.Fatal(err)
	}
	if crypto.Address(c.Owner) != ledger.SystemAccount() || c.Latest != system.IDChainVersion {
		t.Fatalf("idchain owned by %x at %s", c.Owner, c.Latest)
	}
	rng, err := contract.ParseRange("^1")
	if err != nil {
		t.Fatal(err)
	}
	v, _, _, err := registry.Resolve(r, idchain.Contract, rng)
	if err != nil {
		t.Fatal(err)
	}
	if got := state.CIDText(v.CodeCid); got != contract.CID(system.IDChain()).String() || got != g.Contracts[0].CID {
		t.Fatalf("published code %s, genesis names %s", got, g.Contracts[0].CID)
	}
	d := &txpb.Deploy{Name: idchain.Contract, Version: "1.0.1", Code: system.IDChain()}
	fee, _ := contract.DeployFee(g.Params.DeployFeePerKiB, d)
	res := n.block(sign(t, key(t, 0), 0, g.Params.MinFee+fee, &txpb.Msg{Sum: &txpb.Msg_Deploy{Deploy: d}}))
	if vmerr.Kind(res.TxResults[0].Code) != vmerr.Unauthorized {
		t.Fatalf("deploy over idchain: %v %s", vmerr.Kind(res.TxResults[0].Code), res.TxResults[0].Log)
	}
	n.mustInvariants()
}

// TestGenesisRefusesForeignSystemContract: a genesis naming a module this
// node does not carry is refused at InitChain, whatever the mismatch.
func TestGenesisRefusesForeignSystemContract(t *testing.T) {
	for name, f := range map[string]func(c *ledger.GenesisContract){
		"cid":     func(c *ledger.GenesisContract) { c.CID = contract.CID([]byte("other")).String() },
		"version": func(c *ledger.GenesisContract) { c.Version = "9.9.9" },
		"name":    func(c *ledger.GenesisContract) { c.Name = "idchain2" },
	} {
		t.Run(name, func(t *testing.T) {
			g := testGenesis(t, 1, 1000)
			f(&g.Contracts[0])
			app := openApp(t, t.TempDir())
			defer app.Close()
			_, err := app.InitChain(ctx, &abcitypes.InitChainRequest{ChainId: chainID, AppStateBytes: g.JSON(), InitialHeight: 1})
			if vmerr.KindOf(err) != vmerr.NotFound {
				t.Fatalf("InitChain: %v, want not found", err)
			}
		})
	}
}

// TestIDCreateFee: a Request to create an ID pays min_fee plus
// id_create_fee; less is refused before anything changes.
func TestIDCreateFee(t *testing.T) {
	g := testGenesis(t, 1, 100_000_000)
	n := newNode(t, g)
	n.block()
	k := key(t, 0)
	create := requestMsg("idchain@^1", idchain.FnCreate, `{"name":"ada"}`, 5_000_000, 1, 10, 1, 1, 20)
	before := n.account(k.Address())
	res := n.block(sign(t, k, 0, g.Params.MinFee, create))
	if vmerr.Kind(res.TxResults[0].Code) != vmerr.Invalid {
		t.Fatalf("create at min_fee: %v %s", vmerr.Kind(res.TxResults[0].Code), res.TxResults[0].Log)
	}
	if n.account(k.Address()) != before {
		t.Fatal("a refused create changed the account")
	}
	fee := g.Params.MinFee + g.Params.IDCreateFee
	res = n.block(sign(t, k, 0, fee, create))
	if res.TxResults[0].Code != 0 {
		t.Fatalf("create with the fee: %s", res.TxResults[0].Log)
	}
	if got := n.account(k.Address()); got.Nonce != 1 || before.Balance-got.Balance != fee+5_000_000+10 {
		t.Fatalf("paid %d, want fee %d plus escrow", before.Balance-got.Balance, fee)
	}
	set := requestMsg("idchain@^1", idchain.FnSet, `{}`, 5_000_000, 1, 10, 1, 1, 20)
	if res = n.block(sign(t, k, 1, g.Params.MinFee, set)); res.TxResults[0].Code != 0 {
		t.Fatalf("set at min_fee: %s", res.TxResults[0].Log)
	}
	n.mustInvariants()
}
