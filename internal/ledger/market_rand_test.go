package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// TestMarketRandomized drives two independent ledgers with the same random
// market traffic — requests of both contracts with 1..3 replicas, honest,
// wrong and silent miners, conflicting writes, lapsed rounds and expiries —
// and checks after every block that both agree on the app hash and that
// GAS is conserved with the escrow exactly backing the open requests.
func TestMarketRandomized(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { marketRun(t, seed, 80) })
	}
}

// minerPlan is what one miner does with one round of one request.
type minerPlan struct {
	raw    []byte // what it will reveal
	sealed bool
	silent bool // seals, never reveals
}

func marketRun(t *testing.T, seed uint64, blocks int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	a := newMarketNet(t)
	b := newMarketNet(t) // the same deterministic setup
	if !bytes.Equal(a.hashes[a.height], b.hashes[b.height]) {
		t.Fatal("setups differ")
	}
	rt := newRuntime(t)
	plans := map[string]map[int]*minerPlan{} // request id + round -> miner -> plan
	stats := map[string]int{}
	for range blocks {
		var txs [][]byte
		// New requests.
		for range rng.IntN(3) {
			txs = append(txs, a.requester.tx(t, randomRequest(rng)))
			a.requester.nonce++
		}
		// Work on open requests, one tx per miner.
		work := make([][]*txpb.Msg, len(a.miners))
		r, err := a.app.ReaderAt(0)
		if err != nil {
			t.Fatal(err)
		}
		raws, _, _, err := jobs.ListOpen(r, apitype.RequestQuery{Open: true, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range raws {
			m, err := state.DecodeRequest(raw)
			if err != nil {
				t.Fatal(err)
			}
			id := [32]byte(m.Id)
			view := jobs.RequestView(m, a.g.Params.Market, a.height)
			key := fmt.Sprintf("%x/%d", id, m.Round)
			if plans[key] == nil {
				plans[key] = map[int]*minerPlan{}
			}
			good, _, _ := a.execute(rt, id)
			for i := range 4 { // miner 4's minimum is never met
				p := plans[key][i]
				if p == nil {
					p = &minerPlan{raw: good}
					switch x := rng.IntN(10); {
					case x < 2:
						p.raw = wrongResult(t, good)
					case x < 3:
						p.silent = true
					}
					plans[key][i] = p
				}
				addr := a.addr(i)
				switch {
				case view.Phase == "commit" && !p.sealed && rng.IntN(3) > 0:
					p.sealed = true
					if m.Quorum == 1 {
						work[i] = append(work[i], resultMsg(id, p.raw, m.Start))
					} else {
						work[i] = append(work[i], sealMsg(id, market.Seal(addr, id, sha256.Sum256(p.raw)), m.Start))
					}
				case view.Phase == "reveal" && p.sealed && !p.silent && m.Quorum > 1:
					work[i] = append(work[i], revealMsg(id, addr, p.raw))
					p.silent = true // reveal once
				}
			}
		}
		for i, msgs := range work {
			if len(msgs) > 0 {
				txs = append(txs, a.miners[i].tx(t, msgs...))
			}
		}
		ra := a.block(txs...)
		rb := b.block(txs...)
		if !bytes.Equal(ra.AppHash, rb.AppHash) {
			t.Fatalf("height %d: app hashes differ", a.height)
		}
		for i, res := range ra.TxResults {
			if res.Code != rb.TxResults[i].Code || res.Log != rb.TxResults[i].Log {
				t.Fatalf("height %d tx %d: results differ", a.height, i)
			}
		}
		a.syncNonces()
		a.mustInvariants()
		b.mustInvariants()
		for _, res := range ra.TxResults {
			for _, e := range res.Events {
				stats[e.Type]++
			}
		}
		for _, e := range ra.Events {
			stats[e.Type]++
		}
	}
	t.Logf("seed %d: events %v", seed, stats)
	if stats["result_committed"] == 0 || stats["request_reopened"] == 0 || stats["miner_penalised"] == 0 {
		t.Errorf("the run did not exercise settlement, re-offers and penalties: %v", stats)
	}
}

// randomRequest asks for a pure echo (memoizable) or a swap (reads and
// writes one key, so concurrent ones conflict).
func randomRequest(rng *rand.Rand) *txpb.Msg {
	k := uint32(1 + rng.IntN(3))
	q := uint32(1)
	if k > 1 {
		q = 2
	}
	deadline := int64(10 + rng.IntN(15))
	if rng.IntN(2) == 0 {
		return requestMsg("echo@^1", "echo", fmt.Sprintf(`{"name":"n%d"}`, rng.IntN(4)), 300_000, uint64(1+rng.IntN(3)), uint64(rng.IntN(5000)), k, q, deadline)
	}
	return requestMsg("swap@^1", "swap", fmt.Sprint(rng.IntN(9)), 300_000, 1, uint64(rng.IntN(5000)), k, q, deadline)
}

// syncNonces reads every signer's nonce back from the ledger.
func (n *marketNet) syncNonces() {
	n.t.Helper()
	for _, s := range append([]*signer{n.requester}, n.miners...) {
		s.nonce = n.account(s.k.Address()).Nonce
	}
}

// FuzzMarketResult sends arbitrary result bytes for an open quorum-1
// request: either the message is refused and the block changes nothing,
// or it settles and GAS stays conserved with the escrow paid out.
func FuzzMarketResult(f *testing.F) {
	n := newMarketNet(f)
	rt := newRuntime(f)
	raw := n.ok(n.requester, requestMsg("echo@^1", "echo", `{"name":"fuzz"}`, 1_000_000, 1, 10, 1, 1, 50))
	good, _, _ := n.execute(rt, requestID(raw, 0))
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(wrongGas(f, good, 1))
	f.Add([]byte("VMR1"))
	i := 0
	f.Fuzz(func(t *testing.T, result []byte) {
		n.t = t
		i++
		raw := n.ok(n.requester, requestMsg("echo@^1", "echo", fmt.Sprintf(`{"name":"f%d"}`, i), 1_000_000, 1, 10, 1, 1, 50))
		id := requestID(raw, 0)
		before := n.hashes[n.height]
		resp := n.block(n.miners[0].tx(t, resultMsg(id, result, n.start(id))))
		r := resp.TxResults[0]
		if r.Code == 0 {
			n.miners[0].nonce++
		}
		n.mustInvariants()
		switch {
		case r.Code != 0 && len(resp.Events) == 0 && !bytes.Equal(n.hashes[n.height], before):
			t.Fatalf("refused result (%s) changed the state", r.Log)
		case r.Code == 0 && n.result(id) == nil:
			t.Fatal("accepted result did not settle")
		}
	})
}
