package market_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// addr returns a distinct test address for each i.
func addr(i int) crypto.Address {
	var a crypto.Address
	a[0], a[1], a[19] = byte(i>>8), byte(i), 0xA5
	return a
}

// hash returns a distinct test hash for each i.
func hash(i int) [32]byte {
	var h [32]byte
	h[0], h[1], h[31] = byte(i>>8), byte(i), 0x5A
	return h
}

// checkErr fails unless err matches: nil when wantErr is "", else an error
// of kind want whose message contains wantErr.
func checkErr(t *testing.T, err error, want vmerr.Kind, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %s %q", want, wantErr)
	}
	if got := vmerr.KindOf(err); got != want {
		t.Fatalf("kind %s, want %s (%v)", got, want, err)
	}
	if !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("error %q does not contain %q", err, wantErr)
	}
}

// checkIs fails unless err wraps target with kind want (target nil: err nil).
func checkIs(t *testing.T, err, target error, want vmerr.Kind) {
	t.Helper()
	if target == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, target) || vmerr.KindOf(err) != want {
		t.Fatalf("error %v (kind %s), want %v of kind %s", err, vmerr.KindOf(err), target, want)
	}
}

// goodRequest is a valid request under market.Default().
func goodRequest() market.Request {
	return market.Request{Contract: "hello@^1.2", Fn: "greet", Input: []byte(`{"name":"ada"}`),
		GasLimit: 1_000_000, Price: 1, Reward: 100, Replicas: 3, Quorum: 2, Deadline: 20}
}
