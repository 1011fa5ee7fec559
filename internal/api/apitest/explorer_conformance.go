package apitest

import (
	"context"
	"encoding/hex"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/explorer"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// ExplorerConformance checks that b serves account history and contract
// metrics as the portal expects: a transfer shows in both parties'
// histories, a faucet payment in its recipient's, and a failed tx (a
// faucet ask over the cap) in its signer's, newest first, with exact
// paging (no duplicates, no gaps); a contract's results — one ok, one
// out_of_gas, one answered from a memo, one expired at its deadline — show in its results (newest
// first, paged) and stats (calls, ok/failed, by status, gas sum, latency
// percentiles as the histogram estimates them, buckets summing to the
// totals); bad limits, cursors, names and windows are Invalid. funded
// must hold at least 10^6 GAS. Run it against every Backend.
func ExplorerConformance(t *testing.T, b api.Backend, funded crypto.PrivKey) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st, err := b.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	minFee, _ := strconv.ParseUint(st.MinFee, 10, 64)
	perKiB, _ := strconv.ParseUint(st.DeployFeePerKiB, 10, 64)
	send := func(k crypto.PrivKey, wantOK bool, msg *txpb.Msg) apitype.SubmitResult {
		t.Helper()
		acc, err := b.Account(ctx, k.Address(), 0, false)
		if err != nil {
			t.Fatalf("Account: %v", err)
		}
		extra, err := registry.DeployFees(perKiB, &txpb.TxBody{Msgs: []*txpb.Msg{msg}})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := signBody(st.ChainID, k, acc.Nonce, minFee+extra, msg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := b.SubmitTx(ctx, raw, true)
		if err != nil || res.Height == 0 || (res.Code == 0) != wantOK {
			t.Fatalf("SubmitTx (want ok %v): %+v %v", wantOK, res, err)
		}
		return res
	}
	alice, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	fund := send(funded, true, Transfer(alice.Address(), 10_000))
	pay := send(alice, true, Transfer(bob.Address(), 100))
	fail := send(alice, false, Faucet(alice.Address(), 1<<62)) // over the faucet cap: fails in the block
	pay2 := send(alice, true, Transfer(bob.Address(), 7))
	drip := send(alice, true, Faucet(alice.Address(), 50))

	t.Run("history", func(t *testing.T) {
		want := []apitype.SubmitResult{drip, pay2, fail, pay, fund}
		got := allTxs(t, ctx, b, alice.Address(), 0)
		if len(got) != len(want) {
			t.Fatalf("alice's history has %d txs, want %d: %+v", len(got), len(want), got)
		}
		for i, w := range want {
			g := got[i]
			if !equalFoldHex(g.Hash, w.Hash) || g.Height != w.Height || g.Code != w.Code || g.Time == "" || len(g.Body) == 0 {
				t.Errorf("history[%d] = %+v, want tx %s at %d code %d", i, g, w.Hash, w.Height, w.Code)
			}
		}
		if got[2].Code == 0 || len(got[2].Events) != 0 || got[2].Log == "" {
			t.Errorf("failed tx in history: %+v", got[2])
		}
		if !hasEvent(got[1].Events, "transfer", "to", bob.Address().String()) || !hasEvent(got[0].Events, "faucet", "to", alice.Address().String()) {
			t.Errorf("transfer and faucet txs lack their events: %+v, %+v", got[1].Events, got[0].Events)
		}
		// Paging by one, then by three: the same sequence, no duplicates, no gaps.
		for _, limit := range []int{1, 3} {
			paged := allTxs(t, ctx, b, alice.Address(), limit)
			if len(paged) != len(got) {
				t.Fatalf("paged by %d: %d txs, want %d", limit, len(paged), len(got))
			}
			for i := range got {
				if paged[i].Hash != got[i].Hash || paged[i].Index != got[i].Index {
					t.Errorf("paged by %d: [%d] = %s, want %s", limit, i, paged[i].Hash, got[i].Hash)
				}
			}
		}
		bobs := allTxs(t, ctx, b, bob.Address(), 0)
		if len(bobs) != 2 || !equalFoldHex(bobs[0].Hash, pay2.Hash) || !equalFoldHex(bobs[1].Hash, pay.Hash) {
			t.Errorf("bob's history = %+v, want the two transfers he received", bobs)
		}
		// The cursor of the newest entry lists all the others.
		l, err := b.AccountTxs(ctx, alice.Address(), apitype.TxQuery{BeforeHeight: got[0].Height, BeforeIndex: got[0].Index})
		if err != nil || len(l.Txs) != len(got)-1 || l.Txs[0].Hash != got[1].Hash || l.Next != "" {
			t.Errorf("AccountTxs(before newest) = %+v, %v", l, err)
		}
		nobody, err := crypto.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		if l, err := b.AccountTxs(ctx, nobody.Address(), apitype.TxQuery{}); err != nil || len(l.Txs) != 0 || l.Next != "" {
			t.Errorf("AccountTxs(unknown) = %+v, %v", l, err)
		}
	})

	t.Run("bad queries", func(t *testing.T) {
		for _, q := range []apitype.TxQuery{{Limit: -1}, {Limit: 101}, {BeforeHeight: -1}} {
			if _, err := b.AccountTxs(ctx, alice.Address(), q); vmerr.KindOf(err) != vmerr.Invalid {
				t.Errorf("AccountTxs(%+v): %v, want Invalid", q, err)
			}
		}
		for _, q := range []apitype.ResultQuery{{Limit: -1}, {Limit: 101}} {
			if _, err := b.ContractResults(ctx, "echo", q); vmerr.KindOf(err) != vmerr.Invalid {
				t.Errorf("ContractResults(%+v): %v, want Invalid", q, err)
			}
		}
		if _, err := b.ContractResults(ctx, "Bad Name", apitype.ResultQuery{}); vmerr.KindOf(err) != vmerr.Invalid {
			t.Errorf("ContractResults(bad name): %v, want Invalid", err)
		}
		for _, q := range []apitype.StatsQuery{{From: 600, To: 300}, {Step: 90}, {From: 60, To: 60 * (explorer.MaxBuckets + 2)}} {
			if _, err := b.ContractStats(ctx, "echo", q); vmerr.KindOf(err) != vmerr.Invalid {
				t.Errorf("ContractStats(%+v): %v, want Invalid", q, err)
			}
		}
		if _, err := b.ContractStats(ctx, "Bad Name", apitype.StatsQuery{}); vmerr.KindOf(err) != vmerr.Invalid {
			t.Errorf("ContractStats(bad name): %v, want Invalid", err)
		}
	})

	miner, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	aa := alice.Address()
	name := "ex" + hex.EncodeToString(aa[:4])
	send(funded, true, Transfer(miner.Address(), 10_000))
	send(funded, true, Deploy(name, "1.0.0", EchoModule("x"), nil))
	send(miner, true, MinerRegister("cpu", 1, "", 0, "conformance", true))
	if l, err := b.ContractResults(ctx, name, apitype.ResultQuery{}); err != nil || len(l.Results) != 0 {
		t.Fatalf("ContractResults(no calls yet) = %+v, %v", l, err)
	}
	const gasLimit = 1000
	result := func(req apitype.SubmitResult, out wasm.Result) (id [32]byte, settled apitype.SubmitResult) {
		t.Helper()
		h, err := tx.ParseHash(req.Hash)
		if err != nil {
			t.Fatal(err)
		}
		id = market.RequestID(h, 0)
		raw, err := out.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return id, send(miner, true, &txpb.Msg{Sum: &txpb.Msg_Result{Result: &txpb.Result{RequestId: id[:], Result: raw, Start: req.Height}}})
	}
	req1 := send(funded, true, Request(name+"@^1", "echo", []byte("a"), gasLimit, 2, 100, 1, 1, 20))
	id1, set1 := result(req1, wasm.Result{Status: wasm.StatusOK, Output: []byte("a"), GasUsed: 700})
	req2 := send(funded, true, Request(name+"@^1", "echo", []byte("b"), gasLimit, 2, 100, 1, 1, 20))
	id2, set2 := result(req2, wasm.Result{Status: wasm.StatusOutOfGas, GasUsed: gasLimit})
	// The same call as the first: answered from its memo in the including block.
	req4 := send(funded, true, Request(name+"@^1", "echo", []byte("a"), gasLimit, 2, 100, 1, 1, 20))
	h4, _ := tx.ParseHash(req4.Hash)
	id4 := market.RequestID(h4, 0)
	req3 := send(funded, true, Request(name+"@^1", "echo", []byte("c"), gasLimit, 2, 100, 1, 1, 10))
	h3, _ := tx.ParseHash(req3.Hash)
	id3 := market.RequestID(h3, 0)
	// Wait (making blocks) until the third request expires at its deadline.
	var list apitype.ContractResultList
	for i := 0; ; i++ {
		if list, err = b.ContractResults(ctx, name, apitype.ResultQuery{}); err != nil {
			t.Fatalf("ContractResults: %v", err)
		}
		if len(list.Results) == 4 {
			break
		}
		if i == 50 {
			t.Fatalf("request 3 never expired: results %+v", list.Results)
		}
		send(funded, true, Transfer(bob.Address(), 1))
	}
	blockMS := func(h int64) int64 {
		blk, err := b.Block(ctx, h)
		if err != nil {
			t.Fatalf("Block(%d): %v", h, err)
		}
		tm, err := time.Parse(time.RFC3339Nano, blk.Time)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}

	t.Run("results", func(t *testing.T) {
		r3, r4, r2, r1 := list.Results[0], list.Results[1], list.Results[2], list.Results[3]
		for _, c := range []struct {
			got              apitype.ContractResult
			id               [32]byte
			status, exec     string
			gas              uint64
			included, height int64
		}{
			{r1, id1, "settled", "ok", 700, req1.Height, set1.Height},
			{r2, id2, "settled", "out_of_gas", gasLimit, req2.Height, set2.Height},
			{r4, id4, "memo", "ok", 700, req4.Height, req4.Height},
			{r3, id3, "expired", "", 0, req3.Height, r3.Height},
		} {
			g := c.got
			if g.RequestID != hex.EncodeToString(c.id[:]) || g.Status != c.status || g.ExecStatus != c.exec || g.GasUsed != c.gas ||
				g.Included != c.included || g.Height != c.height || g.Contract != name+"@1.0.0" || g.Fn != "echo" ||
				g.LatencyMS != blockMS(c.height)-blockMS(c.included) || g.Time == "" {
				t.Errorf("result = %+v, want request %x %s/%s gas %d included %d settled %d", g, c.id, c.status, c.exec, c.gas, c.included, c.height)
			}
		}
		if r3.Height <= req3.Height || !(r1.Seq < r2.Seq && r2.Seq < r4.Seq && r4.Seq < r3.Seq) || r4.LatencyMS != 0 {
			t.Errorf("results out of order: %+v", list.Results)
		}
		var paged []apitype.ContractResult
		q := apitype.ResultQuery{Limit: 1}
		for range 10 {
			l, err := b.ContractResults(ctx, name, q)
			if err != nil {
				t.Fatalf("ContractResults(%+v): %v", q, err)
			}
			paged = append(paged, l.Results...)
			if l.Next == "" {
				break
			}
			h, s, err := explorer.ParseCursor("test", l.Next)
			if err != nil {
				t.Fatal(err)
			}
			q.BeforeHeight, q.BeforeSeq = h, s
		}
		if len(paged) != 4 || paged[0] != r3 || paged[1] != r4 || paged[2] != r2 || paged[3] != r1 {
			t.Errorf("paged results = %+v, want %+v", paged, list.Results)
		}
		// The requester's history holds the miner's Result tx that settled
		// (and refunded) its request.
		hist := allTxs(t, ctx, b, funded.Address(), 0)
		found := false
		for _, h := range hist {
			found = found || equalFoldHex(h.Hash, set1.Hash)
		}
		if !found {
			t.Errorf("requester's history lacks the result tx %s", set1.Hash)
		}
	})

	t.Run("stats", func(t *testing.T) {
		s, err := b.ContractStats(ctx, name, apitype.StatsQuery{})
		if err != nil {
			t.Fatalf("ContractStats: %v", err)
		}
		tot := s.Totals
		wantStatus := map[string]uint64{"ok": 2, "out_of_gas": 1, "expired": 1}
		if s.Name != name || s.Step != 60 || len(s.Buckets) != int((s.To-s.From)/60) || tot.Calls != 4 || tot.OK != 2 ||
			tot.Failed != 2 || tot.GasUsed != 700+gasLimit+700 || len(tot.ByStatus) != 3 {
			t.Fatalf("ContractStats = %+v", s)
		}
		for k, v := range wantStatus {
			if tot.ByStatus[k] != v {
				t.Errorf("by_status[%s] = %d, want %d", k, tot.ByStatus[k], v)
			}
		}
		// Expired requests are not sampled; the memo's 0 ms is.
		lat := []int64{list.Results[1].LatencyMS, list.Results[2].LatencyMS, list.Results[3].LatencyMS}
		slices.Sort(lat)
		at := func(p int) int64 { return explorer.Estimate(explorer.LatencyBucket(lat[(p*len(lat)+99)/100-1])) }
		want := apitype.Latency{P50: at(50), P90: at(90), P99: at(99), Samples: 3}
		if tot.LatencyMS != want {
			t.Errorf("latency = %+v, want %+v (latencies %v ms)", tot.LatencyMS, want, lat)
		}
		var sum uint64
		for i, bk := range s.Buckets {
			sum += bk.Calls
			if bk.Start != s.From+int64(i)*s.Step || bk.OK+bk.Failed != bk.Calls {
				t.Errorf("bucket %d = %+v", i, bk)
			}
		}
		if sum != tot.Calls {
			t.Errorf("buckets hold %d calls, totals %d", sum, tot.Calls)
		}
		// Hour steps say the same.
		one, err := b.ContractStats(ctx, name, apitype.StatsQuery{From: s.From, To: s.To, Step: 3600})
		if err != nil || len(one.Buckets) > 2 || one.Totals.Calls != 4 || one.Totals.GasUsed != tot.GasUsed || one.Totals.LatencyMS != tot.LatencyMS {
			t.Errorf("ContractStats(one bucket) = %+v, %v", one, err)
		}
		// Long before: nothing.
		old, err := b.ContractStats(ctx, name, apitype.StatsQuery{From: 60, To: 3600})
		if err != nil || old.Totals.Calls != 0 || len(old.Buckets) != 59 {
			t.Errorf("ContractStats(1970) = %+v, %v", old, err)
		}
	})

	t.Run("miner stats", func(t *testing.T) {
		// The miner's jobs are the results that paid it, as the results
		// themselves say.
		var want apitype.StatsBucket
		for _, id := range [][32]byte{id1, id2, id3, id4} {
			r, err := b.Result(ctx, id, 0, false)
			if err != nil {
				t.Fatalf("Result: %v", err)
			}
			for _, p := range r.Paid {
				if p.Miner == miner.Address().String() {
					want.Calls++
					want.GasUsed += r.GasUsed
					if r.ExecStatus == "ok" {
						want.OK++
					}
				}
			}
		}
		s, err := b.MinerStats(ctx, miner.Address(), apitype.StatsQuery{})
		if err != nil {
			t.Fatalf("MinerStats: %v", err)
		}
		got := s.Totals
		if want.Calls == 0 || s.Name != miner.Address().String() || got.Calls != want.Calls || got.OK != want.OK || got.GasUsed != want.GasUsed {
			t.Fatalf("MinerStats totals %+v (name %s), want calls %d ok %d gas %d", got, s.Name, want.Calls, want.OK, want.GasUsed)
		}
		idle, err := b.MinerStats(ctx, bob.Address(), apitype.StatsQuery{})
		if err != nil || idle.Totals.Calls != 0 {
			t.Errorf("MinerStats(not a miner) = %+v, %v", idle.Totals, err)
		}
		if _, err := b.MinerStats(ctx, miner.Address(), apitype.StatsQuery{Step: 90}); vmerr.KindOf(err) != vmerr.Invalid {
			t.Errorf("MinerStats(step 90): %v, want Invalid", err)
		}
	})
}

// allTxs pages through addr's whole history, limit per page (0 = default).
func allTxs(t *testing.T, ctx context.Context, b api.Backend, addr crypto.Address, limit int) []apitype.AccountTx {
	t.Helper()
	var out []apitype.AccountTx
	q := apitype.TxQuery{Limit: limit}
	seen := map[string]bool{}
	for range 1000 {
		l, err := b.AccountTxs(ctx, addr, q)
		if err != nil {
			t.Fatalf("AccountTxs(%+v): %v", q, err)
		}
		for _, tx := range l.Txs {
			k := strconv.FormatInt(tx.Height, 10) + ":" + strconv.FormatUint(uint64(tx.Index), 10)
			if seen[k] {
				t.Fatalf("AccountTxs: %s listed twice", k)
			}
			seen[k] = true
		}
		out = append(out, l.Txs...)
		if l.Next == "" {
			return out
		}
		if limit > 0 && len(l.Txs) != limit {
			t.Fatalf("AccountTxs: a page of %d with a next cursor, limit %d", len(l.Txs), limit)
		}
		h, i, err := explorer.ParseCursor("test", l.Next)
		if err != nil {
			t.Fatal(err)
		}
		q.BeforeHeight, q.BeforeIndex = h, uint32(i)
	}
	t.Fatal("AccountTxs: more than 1000 pages")
	return nil
}

func hasEvent(evs []apitype.Event, typ, key, value string) bool {
	for _, e := range evs {
		if e.Type == typ && e.Attributes[key] == value {
			return true
		}
	}
	return false
}
