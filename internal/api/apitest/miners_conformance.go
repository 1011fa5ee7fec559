package apitest

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// MinerConformance checks that b serves the miner registry as the API,
// its client and the CLI expect: registration charged exactly MinFee,
// refusals of bad attributes with no state change, the record with zero
// counters and its heights, an update that keeps `registered`, listing by
// kind and in pages, and locations that verify against block headers.
// funded must hold at least 10^6 GAS. Run it against every Backend: this
// fake and the real node.
func MinerConformance(t *testing.T, b api.Backend, funded crypto.PrivKey) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := b.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	minFee, err := strconv.ParseUint(st.MinFee, 10, 64)
	if err != nil {
		t.Fatalf("Status min_fee %q", st.MinFee)
	}
	var m1, m2 crypto.PrivKey
	for _, k := range []*crypto.PrivKey{&m1, &m2} {
		if *k, err = crypto.GenerateKey(nil); err != nil {
			t.Fatal(err)
		}
	}
	balance := func(a crypto.Address) uint64 {
		t.Helper()
		acc, err := b.Account(ctx, a, 0, false)
		if err != nil {
			t.Fatalf("Account: %v", err)
		}
		n, _ := strconv.ParseUint(acc.Balance, 10, 64)
		return n
	}
	send := func(k crypto.PrivKey, msg *txpb.Msg) apitype.SubmitResult {
		t.Helper()
		acc, err := b.Account(ctx, k.Address(), 0, false)
		if err != nil {
			t.Fatalf("Account: %v", err)
		}
		raw, err := signBody(st.ChainID, k, acc.Nonce, minFee, msg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := b.SubmitTx(ctx, raw, true)
		if err != nil {
			t.Fatalf("SubmitTx: %v", err)
		}
		return res
	}
	mustCommit := func(what string, res apitype.SubmitResult) apitype.SubmitResult {
		t.Helper()
		if res.Code != 0 || res.Height == 0 {
			t.Fatalf("%s: %+v", what, res)
		}
		return res
	}

	t.Run("unknown", func(t *testing.T) {
		if _, err := b.Miner(ctx, m1.Address(), 0, false); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("Miner(unregistered): %v, want NotFound", err)
		}
		if _, err := b.Miner(ctx, m1.Address(), 0, true); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("Miner(unregistered, prove): %v, want NotFound", err)
		}
		for _, q := range []apitype.MinerQuery{{Kind: "tpu"}, {After: "not-an-address"}, {Limit: 101}, {Limit: -1}} {
			if _, err := b.Miners(ctx, q); vmerr.KindOf(err) != vmerr.Invalid {
				t.Errorf("Miners(%+v): %v, want Invalid", q, err)
			}
		}
	})

	var first apitype.SubmitResult
	t.Run("register", func(t *testing.T) {
		mustCommit("fund m1", send(funded, Transfer(m1.Address(), 100_000)))
		mustCommit("fund m2", send(funded, Transfer(m2.Address(), 100_000)))
		before := balance(m1.Address())
		for _, tc := range []struct {
			name string
			msg  *txpb.Msg
			want vmerr.Kind
		}{
			{"unknown kind", MinerRegister("tpu", 4, "", 50, "", true), vmerr.Invalid},
			{"zero capacity", MinerRegister("cpu", 0, "", 50, "", true), vmerr.Invalid},
			{"capacity over the cap", MinerRegister("cpu", tx.MaxMinerCapacity+1, "", 50, "", true), vmerr.Invalid},
			{"ftp endpoint", MinerRegister("cpu", 4, "ftp://m1.example", 50, "", true), vmerr.Invalid},
			{"endpoint with credentials", MinerRegister("cpu", 4, "https://u:p@m1.example", 50, "", true), vmerr.Invalid},
			{"endpoint too long", MinerRegister("cpu", 4, "https://m1.example/"+strings.Repeat("a", tx.MaxEndpoint), 50, "", true), vmerr.TooLarge},
			{"min gas overflow", MinerRegister("cpu", 4, "", tx.MaxAmount+1, "", true), vmerr.Overflow},
			{"version with a newline", MinerRegister("cpu", 4, "", 50, "v1\n", true), vmerr.Invalid},
		} {
			res := send(m1, tc.msg)
			if res.Code != uint32(tc.want) || res.Log == "" {
				t.Errorf("%s: %+v, want code %d (%v)", tc.name, res, tc.want, tc.want)
			}
		}
		if got := balance(m1.Address()); got != before {
			t.Errorf("refused registrations changed the balance: %d -> %d", before, got)
		}
		if _, err := b.Miner(ctx, m1.Address(), 0, false); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("a refused registration left a record: %v", err)
		}
		first = mustCommit("register m1", send(m1, MinerRegister("cpu", 4, "https://m1.example:8443/ws", 50, "vm/0.1.0", true)))
		if got := balance(m1.Address()); got != before-minFee {
			t.Errorf("registration cost %d GAS, want the min fee %d", before-got, minFee)
		}
		m, err := b.Miner(ctx, m1.Address(), 0, true)
		if err != nil {
			t.Fatalf("Miner: %v", err)
		}
		want := apitype.Miner{Address: m1.Address().String(), Kind: "cpu", Capacity: 4, Endpoint: "https://m1.example:8443/ws",
			MinGas: "50", SoftwareVersion: "vm/0.1.0", Active: true, Registered: first.Height, Updated: first.Height,
			Earned: "0", Height: m.Height}
		loc := m.Location
		m.Location = nil
		if m != want {
			t.Errorf("Miner:\n got %+v\nwant %+v", m, want)
		}
		checkLocation(t, b, loc, m.Height, state.MinerKey(m1.Address()), st.ChainID)
		if loc != nil && loc.Namespace != state.NamespaceMiners {
			t.Errorf("namespace %q", loc.Namespace)
		}
		if m0, err := b.Miner(ctx, m1.Address(), first.Height-1, false); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("Miner before its registration: %+v %v, want NotFound", m0, err)
		}
	})

	t.Run("update", func(t *testing.T) {
		up := mustCommit("update m1", send(m1, MinerRegister("gpu", 8, "", 70, "", false)))
		m, err := b.Miner(ctx, m1.Address(), 0, false)
		if err != nil {
			t.Fatalf("Miner: %v", err)
		}
		if m.Kind != "gpu" || m.Capacity != 8 || m.Endpoint != "" || m.MinGas != "70" || m.Active ||
			m.Registered != first.Height || m.Updated != up.Height || m.Earned != "0" || m.Location != nil {
			t.Errorf("after update: %+v (registered at %d, updated at %d)", m, first.Height, up.Height)
		}
		old, err := b.Miner(ctx, m1.Address(), first.Height, false)
		if err != nil || old.Kind != "cpu" || old.Height != first.Height {
			t.Errorf("Miner at height %d: %+v %v", first.Height, old, err)
		}
		mustCommit("register m2", send(m2, MinerRegister("storage", 1, "wss://m2.example/socket", 0, "", true)))
	})

	t.Run("list", func(t *testing.T) {
		ours := map[string]string{m1.Address().String(): "gpu", m2.Address().String(): "storage"}
		var seen []string
		q := apitype.MinerQuery{Limit: 1}
		for range 1000 {
			l, err := b.Miners(ctx, q)
			if err != nil {
				t.Fatalf("Miners(%+v): %v", q, err)
			}
			if len(l.Miners) > 1 {
				t.Fatalf("limit 1 gave %d", len(l.Miners))
			}
			for _, m := range l.Miners {
				seen = append(seen, m.Address)
				checkLocation(t, b, m.Location, l.Height, state.MinerKey(mustAddr(t, m.Address)), st.ChainID)
			}
			if l.Next == "" {
				break
			}
			if l.Next <= q.After {
				t.Fatalf("next %q does not advance past %q", l.Next, q.After)
			}
			q.After = l.Next
		}
		for i := 1; i < len(seen); i++ {
			if seen[i-1] >= seen[i] {
				t.Errorf("pages not in strictly increasing address order: %v", seen)
			}
		}
		for a := range ours {
			if !slices.Contains(seen, a) {
				t.Errorf("paging missed %s in %v", a, seen)
			}
		}
		for _, kind := range []string{"gpu", "storage", "relay"} {
			l, err := b.Miners(ctx, apitype.MinerQuery{Kind: kind})
			if err != nil {
				t.Fatalf("Miners(kind %s): %v", kind, err)
			}
			for _, m := range l.Miners {
				if m.Kind != kind {
					t.Errorf("kind %s listed a %s miner", kind, m.Kind)
				}
			}
			for a, k := range ours {
				listed := slices.ContainsFunc(l.Miners, func(m apitype.Miner) bool { return m.Address == a })
				if listed != (k == kind) {
					t.Errorf("kind %s: %s (a %s miner) listed = %v", kind, a, k, listed)
				}
			}
		}
	})
}

func mustAddr(t *testing.T, s string) crypto.Address {
	t.Helper()
	a, err := crypto.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
