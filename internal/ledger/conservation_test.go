package ledger_test

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestConservationAndDeterminism drives thousands of random transfers and
// faucet calls, many of them failing (stale and future nonces, amounts
// above balances, over-cap faucet draws, low fees, bad signatures), through
// two independent Apps, one of which has seen the txs in CheckTx (its
// signature cache warm), the other not. After every block it checks that the total supply
// equals the sum of all balances in both, and that both produced the same
// app hash and the same per-tx results. The seed makes it reproducible.
func TestConservationAndDeterminism(t *testing.T) {
	const (
		seed     = 20261125
		accounts = 40
		blocks   = 60
		perBlock = 50
	)
	rng := rand.New(rand.NewPCG(seed, seed))
	g := testGenesis(t, accounts, 5_000)
	g.Params.FaucetPerWindow = 3_000
	a, b := newNode(t, g), newNode(t, g)
	keys := make([]crypto.PrivKey, accounts+10) // the last 10 start empty
	for i := range keys {
		keys[i] = key(t, i)
	}
	nonces := make([]uint64, len(keys)) // the generator's guess, right only when txs succeed
	codes := map[vmerr.Kind]int{}
	for h := 1; h <= blocks; h++ {
		txs := make([][]byte, 0, perBlock)
		for range perBlock {
			i := rng.IntN(len(keys))
			k := keys[i]
			nonce := nonces[i]
			switch r := rng.IntN(20); {
			case r == 0:
				nonce += 1 + uint64(rng.IntN(3)) // future
			case r == 1 && nonce > 0:
				nonce-- // replay
			}
			fee := uint64(2 + rng.IntN(3))
			if rng.IntN(25) == 0 {
				fee = 1 // below the minimum
			}
			var msgs []*txpb.Msg
			for range 1 + rng.IntN(3) {
				to := keys[rng.IntN(len(keys))].Address()
				if rng.IntN(4) == 0 {
					msgs = append(msgs, faucet(to, 1+uint64(rng.IntN(1500))))
					continue
				}
				msgs = append(msgs, transfer(to, 1+uint64(rng.ExpFloat64()*800)))
			}
			if rng.IntN(10) == 0 {
				msgs = msgs[:1]
				msgs[0] = faucet(k.Address(), 1+uint64(rng.IntN(1000)))
				fee = 0
			}
			raw := sign(t, k, nonce, fee, msgs...)
			if rng.IntN(40) == 0 {
				raw[len(raw)-3] ^= 0x10 // bad signature
			}
			txs = append(txs, raw)
			nonces[i] = nonce + 1
		}
		// Only a sees the txs in CheckTx first, so a skips the signatures
		// it cached there; b verifies all of them. Both must agree.
		for _, raw := range txs {
			if _, err := a.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: raw}); err != nil {
				t.Fatal(err)
			}
		}
		ra, rb := a.block(txs...), b.block(txs...)
		if !bytes.Equal(ra.AppHash, rb.AppHash) {
			t.Fatalf("height %d: app hashes differ: %X vs %X", h, ra.AppHash, rb.AppHash)
		}
		for i := range txs {
			x, y := ra.TxResults[i], rb.TxResults[i]
			if x.Code != y.Code || x.Log != y.Log || len(x.Events) != len(y.Events) {
				t.Fatalf("height %d tx %d: results differ: %v vs %v", h, i, x, y)
			}
			codes[vmerr.Kind(x.Code)]++
		}
		a.mustInvariants()
		b.mustInvariants()
		// Resynchronise the generator's nonces with the chain.
		for i, k := range keys {
			nonces[i] = a.account(k.Address()).Nonce
		}
	}
	t.Logf("result codes over %d txs: %v", blocks*perBlock, codes)
	for _, k := range []vmerr.Kind{vmerr.OK, vmerr.BadNonce, vmerr.InsufficientFunds, vmerr.Limit, vmerr.Invalid, vmerr.Unauthorized} {
		if codes[k] == 0 {
			t.Errorf("no tx ended with %v: the generator does not cover it", k)
		}
	}
	if codes[vmerr.OK] < blocks*perBlock/3 {
		t.Errorf("only %d successful txs", codes[vmerr.OK])
	}
	fees := a.account(ledger.FeeCollector()).Balance
	if fees == 0 {
		t.Error("no fees collected")
	}
}

// FuzzFinalizeBlock feeds arbitrary bytes as transactions (alone and
// beside a valid one) into FinalizeBlock: it must never panic or return a
// Go error, and GAS must stay conserved.
func FuzzFinalizeBlock(f *testing.F) {
	k := key(f, 0)
	valid := sign(f, k, 0, 2, transfer(key(f, 1).Address(), 3))
	f.Add([]byte{})
	f.Add([]byte("junk"))
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(sign(f, k, 0, 0, faucet(k.Address(), 5)))
	f.Add(sign(f, k, 0, 2, &txpb.Msg{}))
	n := newNode(f, testGenesis(f, 2, 1000))
	n.block()
	f.Fuzz(func(t *testing.T, raw []byte) {
		n.t = t
		before := n.app.AppHash()
		resp, err := n.app.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: n.height + 1, Txs: [][]byte{raw, raw}})
		if err != nil {
			t.Fatalf("Go error: %v", err)
		}
		n.commit(resp)
		for _, r := range resp.TxResults {
			if r.Code != 0 && r.Log == "" {
				t.Fatalf("failure without a log: %+v", r)
			}
		}
		if resp.TxResults[0].Code != 0 && !bytes.Equal(resp.AppHash, before) {
			t.Fatal("failed txs changed the app hash")
		}
		n.mustInvariants()
	})
}

// FuzzFinalizeBlockSigned builds validly signed transactions from fuzzed
// fields (signer, nonce, fee, message kinds, recipients, amounts), so the
// state paths — not only the decoder — see arbitrary values. Invariants
// must hold after every block and a failed tx must change nothing.
func FuzzFinalizeBlockSigned(f *testing.F) {
	f.Add(uint8(0), uint64(0), uint64(2), uint8(0), uint8(1), uint64(10), uint8(1), uint64(5))
	f.Add(uint8(1), uint64(0), uint64(0), uint8(1), uint8(1), uint64(999), uint8(2), uint64(1))
	f.Add(uint8(2), uint64(0), uint64(1<<62), uint8(0), uint8(0), uint64(1<<62), uint8(3), uint64(1<<62))
	keys := []crypto.PrivKey{key(f, 0), key(f, 1), key(f, 2), key(f, 3)}
	n := newNode(f, testGenesis(f, 3, 1000))
	n.block()
	f.Fuzz(func(t *testing.T, signer uint8, nonce, fee uint64, kind1, to1 uint8, amt1 uint64, kind2 uint8, amt2 uint64) {
		n.t = t
		k := keys[int(signer)%len(keys)]
		msg := func(kind, to uint8, amt uint64) *txpb.Msg {
			addr := keys[int(to)%len(keys)].Address()
			switch kind % 3 {
			case 0:
				return transfer(addr, amt)
			case 1:
				return faucet(addr, amt)
			}
			return &txpb.Msg{}
		}
		msgs := []*txpb.Msg{msg(kind1, to1, amt1)}
		if kind2%4 != 3 {
			msgs = append(msgs, msg(kind2, to1+1, amt2))
		}
		// Near the signer's real nonce, so many succeed: exact, future or
		// a replay.
		cur := n.account(k.Address()).Nonce
		switch nonce % 4 {
		case 0, 1:
			nonce = cur
		case 2:
			nonce = cur + 1 + nonce%7
		default:
			nonce = cur - min(cur, 1+nonce%3)
		}
		raw := sign(t, k, nonce, fee%8, msgs...)
		before := n.app.AppHash()
		resp := n.block(raw)
		if r := resp.TxResults[0]; r.Code != 0 {
			if r.Log == "" || !bytes.Equal(resp.AppHash, before) {
				t.Fatalf("failed tx (%s) changed state or has no log", r.Log)
			}
		}
		n.mustInvariants()
	})
}

// TestParallelVerify sends a block big enough for several verification
// workers, with some bad signatures and some txs pre-verified by CheckTx,
// to two Apps — one with GOMAXPROCS 1 — and checks that exactly the bad
// signatures fail and that both give the same results and app hash.
func TestParallelVerify(t *testing.T) {
	const signers, perSigner = 24, 6 // 144 txs: two workers of 72 (minBatch 64)
	a, b := newNode(t, testGenesis(t, signers, 1000)), newNode(t, testGenesis(t, signers, 1000))
	var txs [][]byte
	bad := map[int]bool{}
	for i := range signers {
		k := key(t, i)
		for n := range uint64(perSigner) {
			raw := sign(t, k, n, 2, transfer(key(t, (i+1)%signers).Address(), 1))
			if n == perSigner-1 && i%5 == 0 { // last tx of the signer: no nonce gap after it
				raw[len(raw)-1] ^= 0x80
				bad[len(txs)] = true
			}
			if len(txs)%3 == 0 {
				if _, err := a.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: raw}); err != nil {
					t.Fatal(err)
				}
			}
			txs = append(txs, raw)
		}
	}
	ra := a.block(txs...)
	prev := runtime.GOMAXPROCS(1)
	rb := b.block(txs...)
	runtime.GOMAXPROCS(prev)
	if !bytes.Equal(ra.AppHash, rb.AppHash) {
		t.Fatalf("app hashes differ: %X vs %X", ra.AppHash, rb.AppHash)
	}
	for i := range txs {
		x, y := ra.TxResults[i], rb.TxResults[i]
		if x.Code != y.Code || x.Log != y.Log {
			t.Fatalf("tx %d: %d %q vs %d %q", i, x.Code, x.Log, y.Code, y.Log)
		}
		want := vmerr.OK
		if bad[i] {
			want = vmerr.Unauthorized
		}
		if vmerr.Kind(x.Code) != want {
			t.Fatalf("tx %d: code %v (%s), want %v", i, vmerr.Kind(x.Code), x.Log, want)
		}
	}
	a.mustInvariants()
}
