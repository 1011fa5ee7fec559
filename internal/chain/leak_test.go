package chain_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/chain"
)

// TestStopLeavesNoChainGoroutines starts, uses and stops a node and checks
// that no goroutine of this package survives Stop. CometBFT's own
// leftovers are logged, not failed on (see docs/RATIONALE.md (chain)).
func TestStopLeavesNoChainGoroutines(t *testing.T) {
	before := goroutines()
	home := t.TempDir()
	if err := chain.InitHome(home, testChain, nil, chain.InitOptions{P2PListen: "tcp://127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	n, err := chain.New(home, newKVApp(home), nil, chain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sub, err := n.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.SubmitTx(ctx, []byte("leak=check"), true); err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	for range sub { // Stop closes every stream
	}

	var left []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		left = left[:0]
		for id, stack := range goroutines() {
			if _, ok := before[id]; !ok {
				left = append(left, stack)
			}
		}
		mine := 0
		for _, s := range left {
			if strings.Contains(s, "vm/internal/chain.") {
				mine++
			}
		}
		if mine == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d chain goroutines survive Stop:\n%s", mine, strings.Join(left, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, s := range left {
		first := strings.SplitN(s, "\n", 5)
		if len(first) > 1 {
			t.Logf("CometBFT leftover: %s", strings.Join(first[1:], " "))
		}
	}
}

// goroutines maps goroutine id → stack of every live goroutine.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		id := strings.Fields(header)
		if len(id) > 1 {
			out[id[1]] = g
		}
	}
	return out
}
