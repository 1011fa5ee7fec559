package nodetest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/nodetest"
)

func TestStartAndFund(t *testing.T) {
	env := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acc, err := env.Client.Account(ctx, env.Key.Address(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Balance != fmt.Sprint(nodetest.FundedBalance) {
		t.Fatalf("funded key has %s", acc.Balance)
	}
	bob := nodetest.Key(1).Address()
	env.Fund(t, bob, 42)
	got, err := env.Client.Account(ctx, bob, 0)
	if err != nil || got.Balance != "42" {
		t.Fatalf("bob = %+v, %v", got, err)
	}
	if nodetest.Key(1).Address() != bob || nodetest.Key(2).Address() == bob {
		t.Fatal("Key is not deterministic per index")
	}
	// Two nodes in one process run side by side.
	other := nodetest.Start(t)
	if other.URL == env.URL {
		t.Fatal("two nodes share a URL")
	}
	if _, err := other.Client.Status(ctx); err != nil {
		t.Fatal(err)
	}
}
