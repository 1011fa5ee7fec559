package miner_test

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/miner"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// net is a devnet node with the hello example deployed.
type net struct {
	*nodetest.Env
	t   testing.TB
	seq int // names in request inputs, so no two requests share a memo
}

func startNet(t testing.TB) *net {
	t.Helper()
	env := nodetest.Start(t)
	n := &net{Env: env, t: t}
	n.deploy("echo", echoModule())
	return n
}

// deploy publishes code as name@1.0.0 from n.Key.
func (n *net) deploy(name string, code []byte) {
	n.t.Helper()
	st, err := n.Client.Status(ctx(n.t))
	if err != nil {
		n.t.Fatal(err)
	}
	perKiB, _ := strconv.ParseUint(st.DeployFeePerKiB, 10, 64)
	d := &txpb.Deploy{Name: name, Version: "1.0.0", Code: code}
	fee, err := contract.DeployFee(perKiB, d)
	if err != nil {
		n.t.Fatal(err)
	}
	n.send(n.Key, &txpb.Msg{Sum: &txpb.Msg_Deploy{Deploy: d}}, fee+1)
}

// echoModule exports "echo", which writes its input: a contract small
// enough to run many times under -race, where the Go examples run in the
// interpreter.
func echoModule() []byte {
	i32 := wt.I32
	m := wt.New()
	inLen := m.Import("vm", "input_len", nil, []byte{i32})
	inRead := m.Import("vm", "input_read", []byte{i32}, nil)
	out := m.Import("vm", "output_write", []byte{i32, i32}, nil)
	m.Memory(1, 1)
	m.Export("echo", m.Func(nil, nil, nil, wt.Code{}.I32(0).Call(inRead).I32(0).Call(inLen).Call(out)))
	return m.Bytes()
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// send commits msgs signed by key and returns the tx hash.
func (n *net) send(key crypto.PrivKey, msg *txpb.Msg, fee uint64, more ...*txpb.Msg) [32]byte {
	n.t.Helper()
	r, err := n.Client.Send(ctx(n.t), key, append([]*txpb.Msg{msg}, more...), fee, true)
	if err != nil || r.Code != 0 {
		n.t.Fatalf("send: %+v %v", r, err)
	}
	h, err := tx.ParseHash(r.Hash)
	if err != nil {
		n.t.Fatal(err)
	}
	return h
}

// request submits count requests of contract (hello or echo) in one tx
// and returns their ids; the inputs are {"name":"ada<n.seq>"}, then
// n.seq+1, ...
func (n *net) request(contract string, count int, k, q uint32, reward uint64) []string {
	n.t.Helper()
	fn := map[string]string{"hello": "greet", "echo": "echo"}[contract]
	var msgs []*txpb.Msg
	for range count {
		msgs = append(msgs, &txpb.Msg{Sum: &txpb.Msg_Request{Request: &txpb.Request{Contract: contract + "@^1", Fn: fn,
			Input: []byte(`{"name":"ada` + strconv.Itoa(n.seq) + `"}`), GasLimit: 5_000_000, Price: 1, Reward: reward,
			Replicas: k, Quorum: q, Deadline: 200}}})
		n.seq++
	}
	h := n.send(n.Key, msgs[0], 1, msgs[1:]...)
	ids := make([]string, count)
	for i := range ids {
		id := market.RequestID(h, uint32(i))
		ids[i] = hexID(id)
	}
	return ids
}

func hexID(id [32]byte) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 64)
	for i, c := range id {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(b)
}

// result waits for request id's resultChain entry.
func (n *net) result(id string) apitype.Result {
	n.t.Helper()
	c := ctx(n.t)
	for {
		r, err := n.Client.Result(c, id, 0)
		if err == nil {
			return r
		}
		if vmerr.KindOf(err) != vmerr.NotFound {
			n.t.Fatalf("result %s: %v", id, err)
		}
		select {
		case <-c.Done():
			req, _ := n.Client.Request(context.Background(), id, 0)
			n.t.Fatalf("request %s did not settle: %+v", id, req)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// agent starts a funded miner agent with key number i.
func (n *net) agent(i byte, edit func(*miner.Config)) *miner.Agent {
	n.t.Helper()
	key := nodetest.Key(i)
	n.Fund(n.t, key.Address(), 1_000_000)
	rc := testConfig()
	cfg := miner.Config{Client: n.Client, Key: key, Capacity: 2, Runtime: &rc, PollInterval: 200 * time.Millisecond}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := miner.New(cfg)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := a.Start(ctx(n.t)); err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		defer func() { n.t.Logf("agent %d closed in %v", i, time.Since(start)) }()
		if err := a.Close(c); err != nil {
			n.t.Errorf("close: %v", err)
		}
	})
	return a
}

// eventually waits up to 20 s for cond: an agent records a message's
// outcome after reading its transaction back, a moment after the block.
func eventually(t testing.TB, cond func() bool) bool {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

func paid(r apitype.Result, addr crypto.Address) bool {
	for _, p := range r.Paid {
		if p.Miner == addr.String() {
			return true
		}
	}
	return false
}

func contains(list []string, addr crypto.Address) bool {
	for _, s := range list {
		if s == addr.String() {
			return true
		}
	}
	return false
}

// TestAgentQuorumOne: quorum-1 requests settle through one agent's Result
// messages, batched, with the right output, paid to the agent.
func TestAgentQuorumOne(t *testing.T) {
	n := startNet(t)
	a := n.agent(1, nil)
	count, contract, want := 30, "hello", func(i int) string { return `{"greeting":"Hello, ada` + strconv.Itoa(i) + `!"}` }
	if raceEnabled { // hello runs in the interpreter: slow under -race
		count, contract, want = 5, "echo", func(i int) string { return `{"name":"ada` + strconv.Itoa(i) + `"}` }
	} else {
		n.deploy("hello", example(t, "hello"))
	}
	ids := n.request(contract, count, 1, 1, 100)
	for i, id := range ids {
		r := n.result(id)
		if r.Status != "settled" || string(r.Output) != want(i) || len(r.Paid) != 1 || !paid(r, a.Address()) {
			t.Fatalf("result %d: status %s output %s paid %+v", i, r.Status, r.Output, r.Paid)
		}
		if sum := sha256.Sum256(r.Raw); hexID(sum) != r.ResultHash {
			t.Fatalf("result hash %s is not the hash of its bytes", r.ResultHash)
		}
	}
	// A request whose round lapsed before the agent sent its result is
	// re-offered and taken again, so Taken can exceed count.
	eventually(t, func() bool { return a.Stats().Results == uint64(count) })
	s := a.Stats()
	if s.Results != uint64(count) || s.Taken < uint64(count) || s.Seals != 0 {
		t.Fatalf("stats %+v: want %d results", s, count)
	}
	m, err := n.Client.MinerNoProof(ctx(t), a.Address(), 0)
	if err != nil || m.Agreed != uint64(count) || m.Kind != "cpu" || m.Capacity != 2 {
		t.Fatalf("miner record %+v %v", m, err)
	}
}

// TestAgentBatches: many quorum-1 results go out in few transactions.
func TestAgentBatches(t *testing.T) {
	n := startNet(t)
	a := n.agent(1, func(c *miner.Config) { c.Pipeline = 2 })
	ids := n.request("echo", 200, 1, 1, 10)
	for i, id := range ids {
		r := n.result(id)
		if want := `{"name":"ada` + strconv.Itoa(i) + `"}`; r.Status != "settled" || string(r.Output) != want || !paid(r, a.Address()) {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	eventually(t, func() bool { return a.Stats().Results == 200 })
	if s := a.Stats(); s.Results != 200 || s.Txs > 100 {
		t.Fatalf("stats %+v: want 200 results in at most 100 txs", s)
	}
}

// TestAgentBatchesWithFreeSlots: with the default pipeline (slots free),
// results executed within BatchLinger of each other still share a
// transaction instead of taking one each.
func TestAgentBatchesWithFreeSlots(t *testing.T) {
	if raceEnabled {
		t.Skip("hello runs in the interpreter under -race: too slow for the timing")
	}
	n := startNet(t)
	a := n.agent(1, func(c *miner.Config) { c.Capacity = 1 })
	n.deploy("hello", example(t, "hello"))
	const count = 40
	ids := n.request("hello", count, 1, 1, 100)
	for _, id := range ids {
		if r := n.result(id); r.Status != "settled" {
			t.Fatalf("result %+v", r)
		}
	}
	eventually(t, func() bool { return a.Stats().Results == count })
	s := a.Stats()
	t.Logf("%d results in %d transactions", count, s.Txs)
	if s.Results != count || s.Txs > count/4 {
		t.Fatalf("stats %+v: want %d results in at most %d txs", s, count, count/4)
	}
}

// TestAgentReplicas: three agents seal and reveal; with quorum 3 all three
// agree and are paid; with quorum 2 the request settles on two agreeing
// agents.
func TestAgentReplicas(t *testing.T) {
	n := startNet(t)
	agents := []*miner.Agent{n.agent(1, nil), n.agent(2, nil), n.agent(3, nil)}
	all := n.request("echo", 1, 3, 3, 300)[0]
	r := n.result(all)
	if r.Status != "settled" || len(r.Paid) != 3 || len(r.Disagreed) != 0 {
		t.Fatalf("quorum 3: %+v", r)
	}
	for _, a := range agents {
		if !paid(r, a.Address()) {
			t.Fatalf("agent %s not paid: %+v", a.Address(), r.Paid)
		}
	}
	two := n.request("echo", 1, 3, 2, 300)[0]
	r = n.result(two)
	if r.Status != "settled" || len(r.Paid) < 2 || string(r.Output) != `{"name":"ada1"}` {
		t.Fatalf("quorum 2: %+v", r)
	}
	var seals, reveals uint64
	count := func() bool {
		seals, reveals = 0, 0
		for _, a := range agents {
			s := a.Stats()
			seals, reveals = seals+s.Seals, reveals+s.Reveals
		}
		return seals == 6 && reveals >= 5
	}
	if !eventually(t, count) {
		t.Fatalf("%d seals, %d reveals accepted; want 6 and at least 5", seals, reveals)
	}
}

// TestAgentBelowMinGas: an agent never takes a request offering less than
// its minimum; another agent with a lower minimum settles it.
func TestAgentBelowMinGas(t *testing.T) {
	n := startNet(t)
	proud := n.agent(1, func(c *miner.Config) { c.MinGas = 1 << 40 })
	id := n.request("echo", 1, 1, 1, 100)[0]
	c := ctx(t)
	for proud.Stats().BelowMinGas == 0 {
		select {
		case <-c.Done():
			t.Fatal("the agent never saw the offer")
		case <-time.After(10 * time.Millisecond):
		}
	}
	req, err := n.Client.Request(c, id, 0)
	if err != nil || len(req.Seals) != 0 || req.Status != "open" {
		t.Fatalf("request %+v %v", req, err)
	}
	humble := n.agent(2, nil)
	r := n.result(id)
	if !paid(r, humble.Address()) || paid(r, proud.Address()) {
		t.Fatalf("paid %+v", r.Paid)
	}
	if s := proud.Stats(); s.Taken != 0 || s.Executed != 0 || s.Seals != 0 || s.Results != 0 {
		t.Fatalf("proud agent stats %+v", s)
	}
}

// TestAgentWrongResult: an agent returning wrong results is never paid and
// is marked disagreed whenever its reveal lands before the quorum does (at
// least once in a few requests: the reveal order is the mempool's); a
// copier that reveals another's result without a seal is refused and
// unpaid.
func TestAgentWrongResult(t *testing.T) {
	n := startNet(t)
	h1, h2 := n.agent(1, nil), n.agent(2, nil)
	bad := n.agent(3, func(c *miner.Config) { c.WrongResult = true })
	copier := n.agent(4, func(c *miner.Config) { c.Copy = true })
	marked := 0
	for i := 0; i < 8 && marked == 0; i++ {
		r := n.result(n.request("echo", 1, 3, 2, 300)[0])
		if r.Status != "settled" || paid(r, bad.Address()) || paid(r, copier.Address()) ||
			!paid(r, h1.Address()) || !paid(r, h2.Address()) {
			t.Fatalf("round %d: %+v", i, r)
		}
		if contains(r.Disagreed, bad.Address()) {
			marked++
		}
	}
	if marked == 0 {
		t.Fatal("the wrong agent was never marked disagreed")
	}
	m, err := n.Client.MinerNoProof(ctx(t), bad.Address(), 0)
	if err != nil || m.Disagreed == 0 || m.Earned != "0" || m.Agreed != 0 {
		t.Fatalf("wrong agent's record %+v %v", m, err)
	}
	eventually(t, func() bool { return copier.Stats().Refused > 0 })
	if s := copier.Stats(); s.Taken == 0 || s.Seals != 0 || s.Reveals != 0 || s.Refused == 0 {
		t.Fatalf("copier stats %+v", s)
	}
}

// TestAgentNonceResync: when the miner's key signs a transaction behind
// the agent's back, the agent's next work transaction has a stale nonce;
// it re-reads the nonce and sends the messages again, and the requests
// settle.
func TestAgentNonceResync(t *testing.T) {
	n := startNet(t)
	a := n.agent(1, nil)
	other := client.New(n.URL)
	to := nodetest.Key(8).Address()
	for range 2 { // two: the agent's nonce is now 2 behind
		r, err := other.Send(ctx(t), nodetest.Key(1), []*txpb.Msg{{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: to[:], Amount: 1}}}}, 1, true)
		if err != nil || r.Code != 0 {
			t.Fatalf("transfer: %+v %v", r, err)
		}
	}
	for i, id := range n.request("echo", 3, 1, 1, 10) {
		if r := n.result(id); r.Status != "settled" || !paid(r, a.Address()) {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if s := a.Stats(); s.TxRetries == 0 {
		t.Fatalf("stats %+v: want a retried transaction", s)
	}
}
