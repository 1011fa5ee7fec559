package apitest

import (
	"bytes"
	"context"
	"encoding/hex"
	"slices"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Conformance checks that b behaves as the API and its clients expect of
// any Backend: result codes for rejected txs, NotFound for what does not
// exist, committed txs findable by hash and in their block, accounts whose
// locations verify against a block header, and event streams that deliver
// and close. funded must hold at least 1000 GAS plus fees at the chain's
// minimum fee. Run it against every Backend: this fake and the real node.
func Conformance(t *testing.T, b api.Backend, funded crypto.PrivKey) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := b.Status(ctx)
	if err != nil || st.ChainID == "" || st.LatestHeight < 1 {
		t.Fatalf("Status: %+v %v", st, err)
	}
	var fee uint64
	for _, c := range st.MinFee {
		fee = fee*10 + uint64(c-'0')
	}
	acc, err := b.Account(ctx, funded.Address(), 0, false)
	if err != nil {
		t.Fatalf("Account: %v", err)
	}
	nonce := acc.Nonce
	to, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(chainID string, nonce, amount uint64) []byte {
		raw, err := signBody(chainID, funded, nonce, fee, Transfer(to.Address(), amount))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}

	t.Run("not found", func(t *testing.T) {
		if _, err := b.Block(ctx, st.LatestHeight+1000); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("Block(far future): %v, want NotFound", err)
		}
		if _, err := b.Tx(ctx, tx.Hash{1, 2, 3}); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("Tx(unknown): %v, want NotFound", err)
		}
		latest, err := b.Block(ctx, 0)
		if err != nil || latest.Height < st.LatestHeight {
			t.Errorf("Block(0): %+v %v", latest, err)
		}
	})

	t.Run("rejected txs are results", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			raw  []byte
			want vmerr.Kind
		}{
			{"garbage", []byte("garbage"), vmerr.Decode},
			{"wrong chain", sign(st.ChainID+"-other", nonce, 1), vmerr.WrongChain},
		} {
			res, err := b.SubmitTx(ctx, tc.raw, true)
			if err != nil || res.Code != uint32(tc.want) || res.Log == "" {
				t.Errorf("%s: %+v %v, want code %d (%v)", tc.name, res, err, tc.want, tc.want)
			}
		}
	})

	var committed apitype.SubmitResult
	t.Run("commit", func(t *testing.T) {
		sctx, stop := context.WithCancel(ctx)
		events, err := b.Subscribe(sctx)
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		raw := sign(st.ChainID, nonce, 1000)
		committed, err = b.SubmitTx(ctx, raw, true)
		if err != nil || committed.Code != 0 || committed.Height == 0 || committed.Hash != tx.HashOf(raw).String() {
			t.Fatalf("SubmitTx: %+v %v", committed, err)
		}
		got, err := b.Tx(ctx, tx.HashOf(raw))
		if err != nil || got.Height != committed.Height || got.Code != 0 || got.Tx != hex.EncodeToString(raw) {
			t.Errorf("Tx: %+v %v", got, err)
		}
		blk, err := b.Block(ctx, committed.Height)
		if err != nil || !slices.Contains(blk.TxHashes, committed.Hash) || blk.NumTxs != len(blk.TxHashes) {
			t.Errorf("Block(%d): %+v %v", committed.Height, blk, err)
		}
		var sawBlock, sawTx bool
		for !sawBlock || !sawTx {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatal("stream closed early")
				}
				if ev.Block.Height != committed.Height {
					continue
				}
				sawBlock = ev.Block.NumTxs == len(ev.Txs) && len(ev.Block.TxHashes) == len(ev.Txs)
				for i, r := range ev.Txs {
					sawTx = sawTx || r.Hash == committed.Hash && r.Height == committed.Height && int(r.Index) == i &&
						ev.Block.TxHashes[i] == r.Hash
				}
			case <-ctx.Done():
				t.Fatalf("events: block %v, tx %v seen before the deadline", sawBlock, sawTx)
			}
		}
		stop()
		for deadline := time.After(5 * time.Second); ; {
			select {
			case _, ok := <-events:
				if !ok {
					return
				}
			case <-deadline:
				t.Fatal("stream not closed after its context ended")
			}
		}
	})

	t.Run("replay", func(t *testing.T) {
		// The same bytes again: the recorded result, nothing new.
		res, err := b.SubmitTx(ctx, sign(st.ChainID, nonce, 1000), true)
		if err != nil || res != committed {
			t.Errorf("resubmitted tx: %+v %v, want the recorded %+v", res, err, committed)
		}
		// Another tx with the spent nonce is refused.
		res, err = b.SubmitTx(ctx, sign(st.ChainID, nonce, 999), true)
		if err != nil || res.Code != uint32(vmerr.BadNonce) {
			t.Errorf("replayed nonce: %+v %v, want code %d (bad_nonce)", res, err, vmerr.BadNonce)
		}
	})

	t.Run("account location", func(t *testing.T) {
		a, err := b.Account(ctx, to.Address(), 0, true)
		if err != nil || a.Balance != "1000" || a.Location == nil {
			t.Fatalf("Account: %+v %v", a, err)
		}
		loc := a.Location
		if !state.SameKey(loc, state.AccountKey(to.Address())) || loc.Height != a.Height || loc.ChainID != st.ChainID {
			t.Errorf("location %+v for account at %d", loc, a.Height)
		}
		if err := state.VerifyLocation(loc); err != nil {
			t.Fatalf("VerifyLocation: %v", err)
		}
		root, _ := hex.DecodeString(loc.AppHash)
		same := func(blk apitype.Block) bool {
			h, _ := hex.DecodeString(blk.AppHash)
			return bytes.Equal(h, root)
		}
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if next, err := b.Block(ctx, a.Height+1); err == nil {
				if !same(next) {
					t.Errorf("block %d app hash %s, location %s", next.Height, next.AppHash, loc.AppHash)
				}
				break
			}
			if cur, err := b.Block(ctx, a.Height); err == nil && cur.NumTxs == 0 && same(cur) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no header commits app hash %s of height %d", loc.AppHash, a.Height)
			}
		}
		absent, err := crypto.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		a, err = b.Account(ctx, absent.Address(), 0, true)
		if err != nil || a.Balance != "0" || a.Nonce != 0 || a.Location == nil || a.Location.Value != "" {
			t.Fatalf("absent account: %+v %v", a, err)
		}
		if err := state.VerifyLocation(a.Location); err != nil {
			t.Errorf("absence proof: %v", err)
		}
		if _, err := b.Account(ctx, to.Address(), a.Height+1000, false); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("Account(far future): %v, want NotFound", err)
		}
	})
}
