package miner_test

import (
	"crypto/sha256"
	"strconv"
	"testing"

	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/wasm"
)

// deployComposite publishes manifest as name@1.0.0 from n.Key.
func (n *net) deployComposite(name, manifest string) {
	n.t.Helper()
	st, err := n.Client.Status(ctx(n.t))
	if err != nil {
		n.t.Fatal(err)
	}
	perKiB, _ := strconv.ParseUint(st.DeployFeePerKiB, 10, 64)
	d := &txpb.Deploy{Name: name, Version: "1.0.0", Manifest: []byte(manifest)}
	fee, err := contract.DeployFee(perKiB, d)
	if err != nil {
		n.t.Fatal(err)
	}
	n.send(n.Key, &txpb.Msg{Sum: &txpb.Msg_Deploy{Deploy: d}}, fee+1)
}

// call submits one quorum-1 request and returns its id.
func (n *net) call(ref, fn, input string) string {
	n.t.Helper()
	h := n.send(n.Key, &txpb.Msg{Sum: &txpb.Msg_Request{Request: &txpb.Request{Contract: ref, Fn: fn, Input: []byte(input),
		GasLimit: 5_000_000, Price: 1, Reward: 10, Replicas: 1, Quorum: 1, Deadline: 200}}}, 1)
	return hexID(market.RequestID(h, 0))
}

// TestCompositeStepMemos runs the whole path on a real node with a real
// agent: a plain call leaves a memo; a composite whose first step is that
// call is answered for that step from the memo (the step does not run, the
// composite uses less gas, the memo's miner is paid 1 GAS and the memo
// counts the hit) and leaves a memo of its second step; a plain call equal
// to that second step is then answered from it in its own block.
func TestCompositeStepMemos(t *testing.T) {
	n := startNet(t)
	a := n.agent(1, nil)
	n.deployComposite("pair", `{"steps":[
		{"id":"a","contract":"echo@^1","fn":"echo","input":{"pointer":"/input/x"}},
		{"id":"b","contract":"echo@^1","fn":"echo","input":{"pointer":"/input/y"}}],
		"output":{"object":{"a":{"pointer":"/steps/a"},"b":{"pointer":"/steps/b"}}}}`)

	first := n.result(n.call("echo@^1", "echo", `"hi"`))
	if first.Status != "settled" || string(first.Output) != `"hi"` {
		t.Fatalf("plain call: %+v", first)
	}
	var plain wasm.Result
	if err := plain.UnmarshalBinary(first.Raw); err != nil {
		t.Fatal(err)
	}
	before, err := n.Client.MinerNoProof(ctx(t), a.Address(), 0)
	if err != nil {
		t.Fatal(err)
	}

	comp := n.result(n.call("pair@^1", "run", `{"x":"hi","y":"yo"}`))
	var res wasm.Result
	if err := res.UnmarshalBinary(comp.Raw); err != nil {
		t.Fatal(err)
	}
	if comp.Status != "settled" || string(res.Output) != `{"a":"hi","b":"yo"}` || len(res.Steps) != 2 {
		t.Fatalf("composite: %+v (%s)", comp, res.Output)
	}
	if !res.Steps[0].Hit || res.Steps[1].Hit || len(res.Steps[1].Result) == 0 {
		t.Fatalf("steps: a hit %v; b hit %v with %d result bytes", res.Steps[0].Hit, res.Steps[1].Hit, len(res.Steps[1].Result))
	}
	if comp.MemoFees != "1" || res.GasUsed >= 2*plain.GasUsed {
		t.Fatalf("memo fees %q, gas %d (one echo uses %d)", comp.MemoFees, res.GasUsed, plain.GasUsed)
	}
	code := res.Steps[0].CodeHash
	memo, err := n.Client.Memo(ctx(t), code, "echo", sha256.Sum256([]byte(`"hi"`)), 0)
	if err != nil || memo.Hits != 1 || memo.RequestID != first.RequestID || memo.Beneficiary != a.Address().String() {
		t.Fatalf("memo of the first step: %+v %v", memo, err)
	}
	after, err := n.Client.MinerNoProof(ctx(t), a.Address(), 0)
	if err != nil {
		t.Fatal(err)
	}
	wantEarned := mustU64(t, before.Earned) + 1
	for _, p := range comp.Paid {
		wantEarned += mustU64(t, p.Reward) + mustU64(t, p.Gas)
	}
	if got := mustU64(t, after.Earned); got != wantEarned {
		t.Fatalf("miner earned %d, want %d (pay plus the step's memo fee)", got, wantEarned)
	}

	stepMemo, err := n.Client.Memo(ctx(t), code, "echo", sha256.Sum256([]byte(`"yo"`)), 0)
	if err != nil || stepMemo.Step != 2 || stepMemo.RequestID != comp.RequestID {
		t.Fatalf("memo of the second step: %+v %v", stepMemo, err)
	}
	again := n.result(n.call("echo@^1", "echo", `"yo"`))
	if again.Status != "memo" || string(again.Output) != `"yo"` || again.Cost != "1" {
		t.Fatalf("a call equal to the second step: %+v", again)
	}
}

func mustU64(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
