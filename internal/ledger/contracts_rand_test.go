package ledger_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/Masterminds/semver/v3"
	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// modelVersion is what the test believes the chain holds.
type modelVersion struct {
	v      *semver.Version
	yanked bool
}

var randRanges = []string{"*", "^0", "^0.1", "^1", "^1.2", "^2", "~1.2", "~1.2.3", "~0.1.0", "1.x", "1.2.x", "2.x",
	">=1.0.0 <1.5.0", "<2.0.0", "<=1.3.0", ">1.0.0", "^1 || ^3", "1.2.3", "=1.0.0", "1.0.0-rc.1", ">=1.0.0-0",
	"^1.0.0-beta", "1.2.3 - 2.3.4", "!=1.2.3"}

// randVersion draws from a small space so collisions and prereleases
// happen often.
func randVersion(r *rand.Rand) string {
	v := fmt.Sprintf("%d.%d.%d", r.IntN(4), r.IntN(4), r.IntN(5))
	switch r.IntN(6) {
	case 0:
		v += "-rc." + fmt.Sprint(r.IntN(3))
	case 1:
		v += []string{"-alpha", "-beta", "-0", "-alpha.1"}[r.IntN(4)]
	}
	return v
}

// TestRegistryRandomized applies the same random registry traffic (deploys
// with colliding versions, yanks, owner changes, publishes by strangers)
// to two independent ledgers. Every block must give both the same app hash
// and results; every range must resolve on both to the version a brute
// force over the model picks; supply is conserved throughout.
func TestRegistryRandomized(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { registryRun(t, seed) })
	}
}

func registryRun(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 99))
	g := contractGenesis(t)
	a, b := newNode(t, g), newNode(t, g)
	keys := []crypto.PrivKey{key(t, 0), key(t, 1), key(t, 2)}
	nonces := make([]uint64, len(keys))
	names := []string{"alpha", "beta"}
	model := map[string][]modelVersion{}
	owner := map[string]int{}
	for block := range 40 {
		var txs [][]byte
		var signers []int
		// One tx per signer per block: a failed tx leaves its nonce unused.
		for _, s := range r.Perm(len(keys))[:1+r.IntN(len(keys))] {
			name := names[r.IntN(len(names))]
			var msg *txpb.Msg
			switch op := r.IntN(10); {
			case op < 6:
				msg = deploy(name, randVersion(r), module(int32(r.IntN(5)), "f"))
			case op < 9:
				v := randVersion(r)
				if mv := model[name]; len(mv) > 0 && r.IntN(4) > 0 {
					v = mv[r.IntN(len(mv))].v.String()
				}
				msg = yank(name, v, r.IntN(3) == 0)
			default:
				other := keys[r.IntN(len(keys))].Address()
				msg = owners(name, []crypto.Address{other}, nil, nil)
			}
			txs = append(txs, sign(t, keys[s], nonces[s], fee(t, g, msg), msg))
			signers = append(signers, s)
		}
		ra, rb := a.block(txs...), b.block(txs...)
		if !bytes.Equal(ra.AppHash, rb.AppHash) {
			t.Fatalf("block %d: app hashes differ", block)
		}
		for i, res := range ra.TxResults {
			if res.Code != rb.TxResults[i].Code || res.Log != rb.TxResults[i].Log {
				t.Fatalf("block %d tx %d: results differ: %s / %s", block, i, res.Log, rb.TxResults[i].Log)
			}
			if res.Code != 0 {
				if vmerr.Kind(res.Code) == vmerr.Internal {
					t.Fatalf("internal error: %s", res.Log)
				}
				continue
			}
			nonces[signers[i]]++
			applyModel(t, model, owner, txs[i], signers[i])
		}
		a.mustInvariants()
		checkResolution(t, a, b, model)
	}
	total, yanked := 0, 0
	for _, vs := range model {
		for _, v := range vs {
			total++
			if v.yanked {
				yanked++
			}
		}
	}
	if total < 10 || yanked == 0 {
		t.Fatalf("the run exercised too little: %d versions, %d yanked", total, yanked)
	}
}

func decodeBody(t *testing.T, raw []byte) *txpb.TxBody {
	s, err := tx.Decode(raw, chainID)
	if err != nil {
		t.Fatal(err)
	}
	return s.Body
}

// applyModel mirrors a successful tx in the model.
func applyModel(t *testing.T, model map[string][]modelVersion, owner map[string]int, raw []byte, signer int) {
	body := decodeBody(t, raw)
	for _, m := range body.Msgs {
		switch s := m.GetSum().(type) {
		case *txpb.Msg_Deploy:
			v := semver.MustParse(s.Deploy.Version)
			if _, ok := owner[s.Deploy.Name]; !ok {
				owner[s.Deploy.Name] = signer
			}
			model[s.Deploy.Name] = append(model[s.Deploy.Name], modelVersion{v: v})
		case *txpb.Msg_Yank:
			v := semver.MustParse(s.Yank.Version)
			for i, mv := range model[s.Yank.Name] {
				if mv.v.Equal(v) {
					model[s.Yank.Name][i].yanked = !s.Yank.Undo
				}
			}
		}
	}
}

// checkResolution resolves every range on both nodes and compares with
// the brute force over the model.
func checkResolution(t *testing.T, a, b *node, model map[string][]modelVersion) {
	t.Helper()
	for name, versions := range model {
		for _, rs := range randRanges {
			rng, err := contract.ParseRange(rs)
			if err != nil {
				t.Fatalf("range %q: %v", rs, err)
			}
			var want *semver.Version
			for _, mv := range versions {
				if rng.Check(mv.v) && (!mv.yanked || rng.Exact()) && (want == nil || mv.v.GreaterThan(want)) {
					want = mv.v
				}
			}
			ref := name + "@" + rs
			ga, ka := a.resolve(ref)
			gb, kb := b.resolve(ref)
			if ga != gb || ka != kb {
				t.Fatalf("%s: nodes disagree: %q/%v vs %q/%v", ref, ga, ka, gb, kb)
			}
			switch {
			case want == nil && ka != vmerr.NotFound:
				t.Fatalf("%s = %q (%v), want not found", ref, ga, ka)
			case want != nil && ga != want.String():
				t.Fatalf("%s = %q (%v), want %s", ref, ga, ka, want)
			}
		}
	}
}

// FuzzRegistry applies arbitrary registry messages: no Go error, a failed
// tx changes nothing, supply is conserved and resolution never fails
// internally.
func FuzzRegistry(f *testing.F) {
	f.Add(uint8(0), "hello", "1.0.0", uint8(1), "^1")
	f.Add(uint8(1), "hello", "1.0.0", uint8(0), "1.0.0")
	f.Add(uint8(2), "hello", "2.0.0-rc.1", uint8(2), ">=1.0.0-0 <3")
	f.Add(uint8(0), "Bad Name", "x", uint8(0), "~1.2.3 || 4")
	g := contractGenesis(f)
	n := newNode(f, g)
	n.block()
	keys := []crypto.PrivKey{key(f, 0), key(f, 1)}
	nonces := make([]uint64, len(keys))
	f.Fuzz(func(t *testing.T, op uint8, name, version string, who uint8, rng string) {
		n.t = t
		s := int(who) % len(keys)
		var msg *txpb.Msg
		switch op % 3 {
		case 0:
			msg = deploy(name, version, module(int32(op), "f"))
		case 1:
			msg = yank(name, version, who%2 == 1)
		default:
			msg = owners(name, []crypto.Address{keys[1-s].Address()}, nil, nil)
		}
		feeAmt, err := g.Params.RequiredFee(&txpb.TxBody{Msgs: []*txpb.Msg{msg}})
		if err != nil {
			t.Skip()
		}
		before := n.app.AppHash()
		raw, err := tx.Sign(&txpb.TxBody{ChainId: chainID, Nonce: nonces[s], Fee: feeAmt, Msgs: []*txpb.Msg{msg}}, keys[s])
		if err != nil {
			t.Skip("not encodable (invalid UTF-8)")
		}
		resp, err := n.app.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: n.height + 1, Txs: [][]byte{raw}})
		if err != nil {
			t.Fatalf("Go error: %v", err)
		}
		n.commit(resp)
		res := resp.TxResults[0]
		switch {
		case res.Code == 0:
			nonces[s]++
		case vmerr.Kind(res.Code) == vmerr.Internal:
			t.Fatalf("internal error: %s", res.Log)
		case !bytes.Equal(resp.AppHash, before):
			t.Fatalf("failed tx changed the app hash: %s", res.Log)
		}
		n.mustInvariants()
		if _, kind := n.resolve(name + "@" + rng); kind == vmerr.Internal {
			t.Fatalf("resolve %s@%s failed internally", name, rng)
		}
	})
}
