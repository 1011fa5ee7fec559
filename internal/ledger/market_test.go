package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strconv"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/bench"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// marketNet is a ledger with small contracts deployed — echo (pure) and
// swap (read-modify-write) — a requester and five registered cpu miners
// (the last with a minimum no test request meets). withGo also deploys
// the Go examples hello and counter (slow to meter and compile under
// -race, so only where a real SDK contract matters).
type marketNet struct {
	*node
	g         ledger.Genesis
	requester *signer
	miners    []*signer
}

func newMarketNet(t testing.TB) *marketNet { return newMarketNetCache(t, 10_000, false) }

// newMarketNetCache is newMarketNet with an iavl node cache of cacheSize.
func newMarketNetCache(t testing.TB, cacheSize int, withGo bool) *marketNet {
	t.Helper()
	g := testGenesis(t, 8, 1<<45)
	n := &marketNet{node: newNodeCache(t, g, cacheSize), g: g}
	dep := &signer{k: key(t, 7), g: g}
	n.mustOK(dep, deploy("echo", "1.0.0", bench.EchoContract()), deploy("swap", "1.0.0", swapContract()))
	if withGo {
		n.mustOK(dep, deploy("hello", "1.0.0", example(t, "hello")))
		n.mustOK(dep, deploy("counter", "1.0.0", example(t, "counter")))
	}
	n.requester = &signer{k: key(t, 0), g: g}
	for i := 1; i <= 5; i++ {
		s := &signer{k: key(t, i), g: g}
		minGas := uint64(0)
		if i == 5 {
			minGas = 1 << 40
		}
		n.mustOK(s, minerReg("cpu", 4, "", minGas, "test", true))
		n.miners = append(n.miners, s)
	}
	return n
}

// submit runs msgs from s in the next block and returns the tx bytes and
// its result.
func (n *marketNet) submit(s *signer, msgs ...*txpb.Msg) ([]byte, *abcitypes.ExecTxResult) {
	n.t.Helper()
	raw := s.tx(n.t, msgs...)
	r := n.block(raw).TxResults[0]
	if r.Code == 0 {
		s.nonce++
	}
	return raw, r
}

func (n *marketNet) ok(s *signer, msgs ...*txpb.Msg) []byte {
	n.t.Helper()
	raw, r := n.submit(s, msgs...)
	if r.Code != 0 {
		n.t.Fatalf("tx failed: %s", r.Log)
	}
	n.mustInvariants()
	return raw
}

func (n *marketNet) addr(i int) crypto.Address { return n.miners[i].k.Address() }

func hasEvent(r *abcitypes.ExecTxResult, typ string) bool {
	for _, e := range r.Events {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// TestMarketQuorumOne: a quorum-1 request escrows at inclusion, settles on
// the one Result, writes the counter, pays the miner its reward and gas,
// refunds the rest and conserves GAS.
func TestMarketQuorumOne(t *testing.T) {
	n := newMarketNetCache(t, 10_000, true)
	rt := newRuntime(t)
	before := n.account(n.requester.k.Address()).Balance
	msg := requestMsg("counter@^1", "increment", "5", 5_000_000, 2, 1000, 1, 1, 20)
	raw := n.ok(n.requester, msg)
	id := requestID(raw, 0)
	escrow := uint64(1000 + 5_000_000*2)
	if got := n.account(n.requester.k.Address()).Balance; got != before-escrow-n.g.Params.MinFee {
		t.Fatalf("requester %d after inclusion, want %d", got, before-escrow-n.g.Params.MinFee)
	}
	if e := n.account(ledger.EscrowAccount()).Balance; e != escrow {
		t.Fatalf("escrow holds %d, want %d", e, escrow)
	}
	out, _, res := n.execute(rt, id)
	if string(res.Output) != "5" || len(res.WriteSet) != 1 {
		t.Fatalf("execution %+v", res)
	}
	m0 := n.account(n.addr(0)).Balance
	n.ok(n.miners[0], resultMsg(id, out, n.start(id)))
	rec := n.result(id)
	if rec == nil || rec.Status != "settled" || !rec.Applied || len(rec.Paid) != 1 {
		t.Fatalf("result %+v", rec)
	}
	gas := res.GasUsed * 2
	if got := n.account(n.addr(0)).Balance; got != m0+1000+gas-n.g.Params.MinFee {
		t.Fatalf("miner %d, want %d", got, m0+1000+gas-n.g.Params.MinFee)
	}
	if got := n.account(n.requester.k.Address()).Balance; got != before-n.g.Params.MinFee-1000-gas {
		t.Fatalf("requester %d, want %d", got, before-n.g.Params.MinFee-1000-gas)
	}
	if e := n.account(ledger.EscrowAccount()).Balance; e != 0 {
		t.Fatalf("escrow holds %d after settlement", e)
	}
	if mr := n.miner(n.addr(0)); mr.JobsTaken != 1 || mr.Agreed != 1 || mr.Earned != 1000+gas {
		t.Fatalf("miner record %+v", mr)
	}
	// The next increment reads the stored value (version >= 1).
	raw = n.ok(n.requester, requestMsg("counter@^1", "increment", "", 5_000_000, 1, 0, 1, 1, 20))
	id2 := requestID(raw, 0)
	out, _, res = n.execute(rt, id2)
	if string(res.Output) != "6" || len(res.ReadSet) != 1 || res.ReadSet[0].Version < 1 {
		t.Fatalf("second execution %+v", res)
	}
	n.ok(n.miners[1], resultMsg(id2, out, n.start(id2)))
	if rec := n.result(id2); rec == nil || rec.Seq != 2 || len(rec.Prev) != 32 {
		t.Fatalf("second result %+v", rec)
	}
}

// TestMarketQuorumTwo: round 1 has an honest miner, a wrong one and a
// copier whose sealed guess cannot be opened by the honest result; it has
// no quorum, lapses, penalises the copier and is re-offered. Round 2 has
// two honest miners and the wrong one: the honest pair settles it in seal
// order, paid by tier; the wrong miner is marked and unpaid. The same
// request again is answered from the memo for exactly 1 GAS in total.
func TestMarketQuorumTwo(t *testing.T) {
	n := newMarketNet(t)
	rt := newRuntime(t)
	req := requestMsg("echo@^1", "echo", `{"name":"ada"}`, 5_000_000, 1, 10_000, 3, 2, 40)
	raw := n.ok(n.requester, req)
	id := requestID(raw, 0)
	good, h, res := n.execute(rt, id)
	wrong := wrongResult(t, good)
	a := []crypto.Address{n.addr(0), n.addr(1), n.addr(2), n.addr(3)}
	n.ok(n.miners[0], sealMsg(id, market.Seal(a[0], id, h), n.start(id)))
	n.ok(n.miners[1], sealMsg(id, market.Seal(a[1], id, sha256.Sum256(wrong)), n.start(id)))
	n.raced(id, []refusal{{"reveal in the commit phase", n.miners[0], revealMsg(id, a[0], good), vmerr.Invalid}})
	n.ok(n.miners[2], sealMsg(id, market.Seal(a[2], id, sha256.Sum256([]byte("guess"))), n.start(id)))
	n.raced(id, []refusal{{"seal after the commit phase", n.miners[3], sealMsg(id, market.Seal(a[3], id, h), n.start(id)), vmerr.Timeout}})
	n.ok(n.miners[0], revealMsg(id, a[0], good))
	n.refused([]refusal{
		{"copied reveal", n.miners[2], revealMsg(id, a[2], good), vmerr.Unauthorized},
		{"reveal for another miner", n.miners[3], revealMsg(id, a[0], good), vmerr.Unauthorized},
		{"reveal without a seal", n.miners[4], revealMsg(id, n.addr(4), good), vmerr.Unauthorized},
	})
	n.raced(id, []refusal{{"double reveal", n.miners[0], revealMsg(id, a[0], good), vmerr.Exists}})
	n.ok(n.miners[1], revealMsg(id, a[1], wrong))
	if n.result(id) != nil {
		t.Fatal("settled without a quorum")
	}
	bal2 := n.account(a[2]).Balance
	for n.request(id).Round == 1 {
		n.block()
		n.mustInvariants()
	}
	if got := n.account(a[2]).Balance; got != bal2-n.g.Params.Market.UnrevealedPenalty {
		t.Fatalf("copier balance %d, want %d", got, bal2-n.g.Params.Market.UnrevealedPenalty)
	}
	if mr := n.miner(a[2]); mr.TimedOut != 1 {
		t.Fatalf("copier record %+v", mr)
	}

	// Round 2.
	good2, h2, res2 := n.execute(rt, id)
	if h2 != h || res2.GasUsed != res.GasUsed {
		t.Fatal("a pure function gave another result in round 2")
	}
	_ = good2
	bals := []uint64{n.account(a[0]).Balance, n.account(a[1]).Balance, n.account(a[3]).Balance}
	reqBal := n.account(n.requester.k.Address()).Balance
	n.ok(n.miners[0], sealMsg(id, market.Seal(a[0], id, h), n.start(id)))
	n.ok(n.miners[1], sealMsg(id, market.Seal(a[1], id, sha256.Sum256(wrong)), n.start(id)))
	n.ok(n.miners[3], sealMsg(id, market.Seal(a[3], id, h), n.start(id)))
	n.ok(n.miners[0], revealMsg(id, a[0], good))
	n.ok(n.miners[1], revealMsg(id, a[1], wrong))
	n.ok(n.miners[3], revealMsg(id, a[3], good))
	rec := n.result(id)
	if rec == nil || rec.Status != "settled" || rec.Rounds != 2 || len(rec.Paid) != 2 || len(rec.Disagreed) != 1 {
		t.Fatalf("result %+v", rec)
	}
	fee := n.g.Params.MinFee
	gas := res.GasUsed
	want := []uint64{bals[0] + 6250 + gas - 2*fee, bals[1] - 2*fee, bals[2] + 2500 + gas - 2*fee}
	for i, ai := range []crypto.Address{a[0], a[1], a[3]} {
		if got := n.account(ai).Balance; got != want[i] {
			t.Errorf("miner %s balance %d, want %d", ai, got, want[i])
		}
	}
	escrow := uint64(10_000 + 3*5_000_000)
	if got := n.account(n.requester.k.Address()).Balance; got != reqBal+escrow-6250-2500-2*gas {
		t.Fatalf("requester %d, want %d", got, reqBal+escrow-6250-2500-2*gas)
	}
	if mr := n.miner(a[1]); mr.Disagreed != 1 || mr.Earned != 0 {
		t.Fatalf("wrong miner record %+v", mr)
	}

	// The memo: the same call costs exactly 1 GAS in total.
	reqBal = n.account(n.requester.k.Address()).Balance
	ben := n.account(a[0]).Balance
	raw = n.ok(n.requester, req)
	memo := n.result(requestID(raw, 0))
	if memo == nil || memo.Status != "memo" || !bytes.Equal(memo.ResultHash, h[:]) {
		t.Fatalf("memo result %+v", memo)
	}
	if got := n.account(n.requester.k.Address()).Balance; got != reqBal-1 {
		t.Fatalf("memo hit cost %d, want 1", reqBal-got)
	}
	if got := n.account(a[0]).Balance; got != ben+1 {
		t.Fatalf("beneficiary got %d, want 1", got-ben)
	}
}

// wrongResult is good with its output changed, canonically encoded.
func wrongResult(t *testing.T, good []byte) []byte {
	t.Helper()
	var r wasm.Result
	if err := r.UnmarshalBinary(good); err != nil {
		t.Fatal(err)
	}
	r.Output = append([]byte("wrong "), r.Output...)
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refusal is a message that must be refused with code.
type refusal struct {
	name string
	s    *signer
	msg  *txpb.Msg
	code vmerr.Kind
}

// refused runs every refusal as its own tx in one block and checks each
// fails with its code and the block changes nothing.
func (n *marketNet) refused(rs []refusal) {
	n.t.Helper()
	txs := make([][]byte, len(rs))
	for i, r := range rs {
		txs[i] = r.s.tx(n.t, r.msg)
	}
	before := n.hashes[n.height]
	resp := n.block(txs...)
	for i, r := range rs {
		if got := resp.TxResults[i]; got.Code != uint32(r.code) {
			n.t.Errorf("%s: code %d (%s), want %d", r.name, got.Code, got.Log, r.code)
		}
	}
	if !bytes.Equal(resp.AppHash, before) {
		n.t.Errorf("refused messages changed the app hash")
	}
}

// raced runs each lost race (a work message refused with kind Timeout or
// Exists) as its own tx in its own block and checks that the tx commits
// with a work_refused event of that code, and that it cost its signer the
// fee and the nonce and changed nothing else: the request record and the
// escrow stay as they were.
func (n *marketNet) raced(id [32]byte, rs []refusal) {
	n.t.Helper()
	for _, r := range rs {
		before, req := n.account(r.s.k.Address()), state.EncodeRecord(n.request(id))
		raw, res := n.submit(r.s, r.msg)
		s, err := tx.Decode(raw, chainID)
		if err != nil {
			n.t.Fatal(err)
		}
		after := n.account(r.s.k.Address())
		switch {
		case res.Code != 0:
			n.t.Errorf("%s: code %d (%s), want a committed tx", r.name, res.Code, res.Log)
		case eventAttr(res, "work_refused", "code") != strconv.Itoa(int(r.code)):
			n.t.Errorf("%s: work_refused code %q, want %d", r.name, eventAttr(res, "work_refused", "code"), r.code)
		case res.Log != jobs.WorkLog([]int{0}):
			n.t.Errorf("%s: log %q, want %q", r.name, res.Log, jobs.WorkLog([]int{0}))
		case after.Nonce != before.Nonce+1 || before.Balance-after.Balance != s.Body.Fee:
			n.t.Errorf("%s: nonce %d→%d balance %d→%d, want the nonce and the fee %d consumed", r.name,
				before.Nonce, after.Nonce, before.Balance, after.Balance, s.Body.Fee)
		case !bytes.Equal(state.EncodeRecord(n.request(id)), req):
			n.t.Errorf("%s: the request changed", r.name)
		}
		n.mustInvariants()
	}
}

func eventAttr(r *abcitypes.ExecTxResult, typ, key string) string {
	for _, e := range r.Events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == key {
				return a.Value
			}
		}
	}
	return ""
}

// TestMarketStaleReads: two swaps included in one block both run on the
// same state; the first settles, the second's read is stale, so its write
// is not applied and it is re-offered; run again on the new state it reads
// the first one's value. Never both on stale reads.
func TestMarketStaleReads(t *testing.T) {
	n := newMarketNet(t)
	rt := newRuntime(t)
	r1 := n.requester.tx(t, requestMsg("swap@^1", "swap", "one", 1_000_000, 1, 100, 1, 1, 30))
	n.requester.nonce++
	r2 := n.requester.tx(t, requestMsg("swap@^1", "swap", "two", 1_000_000, 1, 100, 1, 1, 30))
	n.requester.nonce++
	for _, r := range n.block(r1, r2).TxResults {
		if r.Code != 0 {
			t.Fatal(r.Log)
		}
	}
	id1, id2 := requestID(r1, 0), requestID(r2, 0)
	out1, _, res := n.execute(rt, id1)
	out2, _, _ := n.execute(rt, id2)
	if len(res.Output) != 0 || len(res.ReadSet) != 1 || res.ReadSet[0].Found {
		t.Fatalf("first swap %+v", res)
	}
	n.ok(n.miners[0], resultMsg(id1, out1, n.start(id1)))
	_, r := n.submit(n.miners[1], resultMsg(id2, out2, n.start(id2)))
	if r.Code != 0 || !hasEvent(r, "request_reopened") || r.Log != jobs.WorkLog(nil) {
		t.Fatalf("stale result: code %d %s %v", r.Code, r.Log, r.Events)
	}
	if n.result(id2) != nil || n.request(id2).Round != 2 {
		t.Fatal("a stale result settled")
	}
	out2, _, res = n.execute(rt, id2)
	if string(res.Output) != "one" || res.ReadSet[0].Version < 1 {
		t.Fatalf("re-run %+v, want it to read %q", res, "one")
	}
	n.ok(n.miners[1], resultMsg(id2, out2, n.start(id2)))
	if rec := n.result(id2); rec == nil || !rec.Applied || rec.Rounds != 2 {
		t.Fatalf("result %+v", rec)
	}
	// A third swap reads "two" at a newer version than "one" had.
	raw := n.ok(n.requester, requestMsg("swap@^1", "swap", "three", 1_000_000, 1, 100, 1, 1, 30))
	_, _, res3 := n.execute(rt, requestID(raw, 0))
	if string(res3.Output) != "two" || res3.ReadSet[0].Version <= res.ReadSet[0].Version {
		t.Fatalf("third swap %+v", res3)
	}
}

// TestMarketDeadline: a request nobody answers is refunded in full (only
// the fee is spent) when its deadline passes; a result after that is
// refused.
func TestMarketDeadline(t *testing.T) {
	n := newMarketNet(t)
	rt := newRuntime(t)
	before := n.account(n.requester.k.Address()).Balance
	raw := n.ok(n.requester, requestMsg("echo@^1", "echo", `{"name":"bo"}`, 1_000_000, 3, 500, 1, 1, 10))
	id := requestID(raw, 0)
	out, _, _ := n.execute(rt, id)
	for n.request(id).Status == "open" {
		n.block()
		n.mustInvariants()
	}
	rec := n.result(id)
	if rec == nil || rec.Status != "expired" || rec.Height != n.request(id).Deadline+1 {
		t.Fatalf("result %+v", rec)
	}
	if got := n.account(n.requester.k.Address()).Balance; got != before-n.g.Params.MinFee {
		t.Fatalf("requester lost %d, want only the fee", before-got)
	}
	n.raced(id, []refusal{{"result after the deadline", n.miners[0], resultMsg(id, out, n.start(id)), vmerr.Timeout}})
}

// TestMarketBadInput: every malformed or unauthorised market message is
// refused and changes nothing; a lost race costs its fee and nonce only.
func TestMarketBadInput(t *testing.T) {
	n := newMarketNet(t)
	rt := newRuntime(t)
	raw := n.ok(n.requester, requestMsg("echo@^1", "echo", `{}`, 1_000_000, 1, 0, 1, 1, 20))
	id := requestID(raw, 0)
	out, _, _ := n.execute(rt, id)
	q2 := n.ok(n.requester, requestMsg("echo@^1", "echo", `{"x":1}`, 1_000_000, 1, 0, 2, 2, 20))
	id2 := requestID(q2, 0)
	huge := uint64(1) << 62
	var unknown [32]byte
	outsider := &signer{k: key(t, 6), g: n.g}
	r := n.requester
	n.refused([]refusal{
		{"unknown contract", r, requestMsg("nosuch@^1", "echo", "", 1000, 1, 0, 1, 1, 20), vmerr.NotFound},
		{"unresolvable range", r, requestMsg("echo@^2", "echo", "", 1000, 1, 0, 1, 1, 20), vmerr.NotFound},
		{"unknown function", r, requestMsg("echo@^1", "nosuch", "", 1000, 1, 0, 1, 1, 20), vmerr.NotFound},
		{"bad range", r, requestMsg("echo@^^1", "echo", "", 1000, 1, 0, 1, 1, 20), vmerr.Invalid},
		{"gas overflow", r, requestMsg("echo@^1", "echo", "", huge, huge, 0, 1, 1, 20), vmerr.Limit},
		{"escrow overflow", r, requestMsg("echo@^1", "echo", "", 1<<33, 1<<31, 0, 1, 1, 20), vmerr.Overflow},
		{"reward beyond balance", r, requestMsg("echo@^1", "echo", "", 1000, 1, 1<<50, 1, 1, 20), vmerr.InsufficientFunds},
		{"quorum above replicas", r, requestMsg("echo@^1", "echo", "", 1000, 1, 0, 1, 2, 20), vmerr.Invalid},
		{"deadline too short", r, requestMsg("echo@^1", "echo", "", 1000, 1, 0, 1, 1, 2), vmerr.Invalid},
		{"result for an unknown request", n.miners[0], resultMsg(unknown, out, n.start(unknown)), vmerr.NotFound},
		{"result from a non-miner", outsider, resultMsg(id, out, n.start(id)), vmerr.NotFound},
		{"seal below the miner's minimum", n.miners[4], sealMsg(id2, [32]byte{1}, n.start(id2)), vmerr.Limit},
		{"result for a quorum-2 request", n.miners[0], resultMsg(id2, out, n.start(id2)), vmerr.Invalid},
		{"result not canonical", n.miners[0], resultMsg(id, append(bytes.Clone(out), 0), n.start(id)), vmerr.Decode},
	})
	// Lost races are not bad input: the tx commits (nonce and fee
	// consumed) so a miner's pipelined transactions stay valid.
	n.raced(id2, []refusal{{"seal for another round", n.miners[0], sealMsg(id2, [32]byte{1}, n.start(id2)-1), vmerr.Timeout}})
	n.raced(id, []refusal{{"result for another round", n.miners[0], resultMsg(id, out, n.start(id)+1), vmerr.Timeout}})
	n.raced(id2, []refusal{{"reveal during the commit phase", n.miners[0], revealMsg(id2, n.addr(0), out), vmerr.Invalid}})
	overGas := wrongGas(t, out, 1_000_001)
	n.refused([]refusal{{"gas above the limit", n.miners[0], resultMsg(id, overGas, n.start(id)), vmerr.Invalid}})
	// A batch of work messages applies the good ones and reports the rest.
	_, res := n.submit(n.miners[0], resultMsg(unknown, out, n.start(unknown)), resultMsg(id, out, n.start(id)))
	if res.Code != 0 || !hasEvent(res, "work_refused") || n.result(id) == nil || res.Log != jobs.WorkLog([]int{0}) {
		t.Fatalf("work batch: code %d %s", res.Code, res.Log)
	}
}

func wrongGas(t testing.TB, good []byte, gas uint64) []byte {
	t.Helper()
	var r wasm.Result
	if err := r.UnmarshalBinary(good); err != nil {
		t.Fatal(err)
	}
	r.GasUsed = gas
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMarketPaysUpToK: with replicas 3 and quorum 2 the request waits for
// every sealed miner's reveal, so all three agreeing miners are paid by
// tier; when one never reveals, the other two settle it at the end of the
// reveal window and the silent one is penalised.
func TestMarketPaysUpToK(t *testing.T) {
	n := newMarketNet(t)
	rt := newRuntime(t)
	for _, silent := range []bool{false, true} {
		raw := n.ok(n.requester, requestMsg("echo@^1", "echo", fmt.Sprintf(`{"silent":%t}`, silent), 100_000, 1, 10_000, 3, 2, 40))
		id := requestID(raw, 0)
		out, h, _ := n.execute(rt, id)
		for i := range 3 {
			n.ok(n.miners[i], sealMsg(id, market.Seal(n.addr(i), id, h), n.start(id)))
		}
		n.ok(n.miners[0], revealMsg(id, n.addr(0), out))
		n.ok(n.miners[1], revealMsg(id, n.addr(1), out))
		if !silent {
			if n.result(id) != nil {
				t.Fatal("settled before every sealed miner revealed")
			}
			n.ok(n.miners[2], revealMsg(id, n.addr(2), out))
			rec := n.result(id)
			if rec == nil || len(rec.Paid) != 3 || rec.Paid[0].Reward != 6250 || rec.Paid[1].Reward != 2500 || rec.Paid[2].Reward != 1250 {
				t.Fatalf("all revealed: %+v", rec)
			}
			continue
		}
		before := n.miner(n.addr(2)).TimedOut
		for n.result(id) == nil {
			n.block()
			n.mustInvariants()
		}
		rec := n.result(id)
		if rec.Status != "settled" || len(rec.Paid) != 2 || n.miner(n.addr(2)).TimedOut != before+1 ||
			len(rec.Unrevealed) != 1 || !bytes.Equal(rec.Unrevealed[0], func() []byte { a := n.addr(2); return a[:] }()) {
			t.Fatalf("one silent: %+v", rec)
		}
	}
}

// TestMarketCheckTx: admission refuses requests that cannot resolve on
// committed state (they would ride in blocks for free) and admits them
// once the version they name is committed.
func TestMarketCheckTx(t *testing.T) {
	n := newMarketNet(t)
	check := func(msg *txpb.Msg) uint32 {
		r, err := n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: n.requester.tx(t, msg)})
		if err != nil {
			t.Fatal(err)
		}
		return r.Code
	}
	for _, tt := range []struct {
		name string
		msg  *txpb.Msg
		want vmerr.Kind
	}{
		{"good", requestMsg("echo@^1", "echo", "", 1000, 1, 0, 1, 1, 20), vmerr.OK},
		{"unknown contract", requestMsg("nosuch@^1", "echo", "", 1000, 1, 0, 1, 1, 20), vmerr.NotFound},
		{"unknown function", requestMsg("echo@^1", "nosuch", "", 1000, 1, 0, 1, 1, 20), vmerr.NotFound},
		{"no version in range", requestMsg("echo@^2", "echo", "", 1000, 1, 0, 1, 1, 20), vmerr.NotFound},
	} {
		for range 2 { // the second answer comes from the cache
			if got := check(tt.msg); got != uint32(tt.want) {
				t.Errorf("%s: code %d, want %d", tt.name, got, tt.want)
			}
		}
	}
	dep := &signer{k: key(t, 7), g: n.g, nonce: n.account(key(t, 7).Address()).Nonce}
	n.mustOK(dep, deploy("echo", "2.0.0", bench.EchoContract()))
	if got := check(requestMsg("echo@^2", "echo", "", 1000, 1, 0, 1, 1, 20)); got != 0 {
		t.Fatalf("a request for a committed new version: code %d", got)
	}
}
