package ledger_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestBadInput sends each bad transaction in a block of its own and checks
// its result code, that CheckTx agrees where it can tell, and that state
// (app hash and the balances involved) did not change at all.
func TestBadInput(t *testing.T) {
	dev := newNode(t, testGenesis(t, 3, 1000))
	prodGenesis := testGenesis(t, 3, 1000)
	prodGenesis.Params.FaucetEnabled = false
	prod := newNode(t, prodGenesis)

	k0, k1 := key(t, 0), key(t, 1)
	poor := key(t, 99) // no account
	to := k1.Address()
	// Use nonce 0 so that nonce 0 is a replay afterwards.
	for _, n := range []*node{dev, prod} {
		if r := n.block(sign(t, k0, 0, 2, transfer(to, 1))); r.TxResults[0].Code != 0 {
			t.Fatalf("setup tx failed: %s", r.TxResults[0].Log)
		}
	}
	good := sign(t, k0, 1, 2, transfer(to, 1))
	badSig := bytes.Clone(good)
	badSig[len(badSig)-1] ^= 1
	oversized := protowire.AppendBytes(protowire.AppendTag(bytes.Clone(good), 15, protowire.BytesType), make([]byte, tx.MaxDeployTxSize))

	tests := []struct {
		name      string
		prod      bool
		in        []byte
		want      vmerr.Kind
		wantCheck vmerr.Kind // CheckTx's answer
		wantLog   string
	}{
		{name: "garbage bytes", in: []byte("not a transaction"), want: vmerr.Decode, wantCheck: vmerr.Decode, wantLog: "tx.decode"},
		{name: "empty", in: nil, want: vmerr.Decode, wantCheck: vmerr.Decode, wantLog: "empty"},
		{name: "truncated protobuf", in: good[:len(good)-10], want: vmerr.Decode, wantCheck: vmerr.Decode, wantLog: "tx.decode"},
		{name: "bad signature", in: badSig, want: vmerr.Unauthorized, wantCheck: vmerr.Unauthorized, wantLog: "bad signature"},
		{name: "wrong chain id", in: signFor(t, "other-chain", k0, 1, 2, transfer(to, 1)), want: vmerr.WrongChain, wantCheck: vmerr.WrongChain, wantLog: "other-chain"},
		{name: "replayed nonce", in: sign(t, k0, 0, 2, transfer(to, 1)), want: vmerr.BadNonce, wantCheck: vmerr.BadNonce, wantLog: "expected 1"},
		{name: "future nonce", in: sign(t, k0, 5, 2, transfer(to, 1)), want: vmerr.BadNonce, wantLog: "expected 1"},
		{name: "insufficient balance", in: sign(t, k0, 1, 2, transfer(to, 5000)), want: vmerr.InsufficientFunds, wantCheck: vmerr.InsufficientFunds, wantLog: "needs 5000"},
		{name: "fee unaffordable", in: sign(t, poor, 0, 2, transfer(to, 1)), want: vmerr.InsufficientFunds, wantCheck: vmerr.InsufficientFunds, wantLog: "needs 2"},
		{name: "second message fails, first undone", in: sign(t, k0, 1, 2, transfer(to, 10), transfer(to, 5000)), want: vmerr.InsufficientFunds, wantCheck: vmerr.InsufficientFunds, wantLog: "message 1"},
		{name: "zero amount", in: sign(t, k0, 1, 2, transfer(to, 0)), want: vmerr.Invalid, wantCheck: vmerr.Invalid, wantLog: "positive"},
		{name: "overflowing amount", in: sign(t, k0, 1, 2, transfer(to, 1<<63)), want: vmerr.Overflow, wantCheck: vmerr.Overflow, wantLog: "exceeds"},
		{name: "unknown message type", in: sign(t, k0, 1, 2, &txpb.Msg{}), want: vmerr.Invalid, wantCheck: vmerr.Invalid, wantLog: "unknown"},
		{name: "no messages", in: sign(t, k0, 1, 2), want: vmerr.Invalid, wantCheck: vmerr.Invalid, wantLog: "no messages"},
		{name: "short recipient", in: sign(t, k0, 1, 2, &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: []byte{1, 2}, Amount: 1}}}), want: vmerr.Invalid, wantCheck: vmerr.Invalid, wantLog: "recipient"},
		{name: "oversized tx", in: oversized, want: vmerr.TooLarge, wantCheck: vmerr.TooLarge, wantLog: "limit"},
		{name: "faucet on a non-devnet chain", prod: true, in: sign(t, k0, 1, 2, faucet(to, 10)), want: vmerr.Disabled, wantLog: "disabled"},
		{name: "faucet over its cap", in: sign(t, k0, 1, 0, faucet(to, 1001)), want: vmerr.Limit, wantLog: "cap"},
		{name: "fee below minimum", in: sign(t, k0, 1, 1, transfer(to, 1)), want: vmerr.Invalid, wantCheck: vmerr.Invalid, wantLog: "below the minimum"},
		{name: "zero fee on a transfer beside a faucet", in: sign(t, k0, 1, 0, faucet(to, 1), transfer(to, 1)), want: vmerr.Invalid, wantCheck: vmerr.Invalid, wantLog: "below the minimum"},
	}
	watch := []crypto.Address{k0.Address(), to, poor.Address(), ledger.FeeCollector(), ledger.FaucetPool()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := dev
			if tt.prod {
				n = prod
			}
			n.t = t
			chk, err := n.app.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: tt.in, Type: abcitypes.CHECK_TX_TYPE_CHECK})
			if err != nil {
				t.Fatalf("CheckTx returned a Go error: %v", err)
			}
			if vmerr.Kind(chk.Code) != tt.wantCheck {
				t.Errorf("CheckTx code = %v (%s), want %v", vmerr.Kind(chk.Code), chk.Log, tt.wantCheck)
			}
			before := n.app.AppHash()
			var balances []state.Account
			for _, a := range watch {
				balances = append(balances, n.account(a))
			}
			r := n.block(tt.in).TxResults[0]
			if vmerr.Kind(r.Code) != tt.want || r.Codespace != ledger.Codespace {
				t.Errorf("code = %v/%q (%s), want %v/vm", vmerr.Kind(r.Code), r.Codespace, r.Log, tt.want)
			}
			if !strings.Contains(r.Log, tt.wantLog) {
				t.Errorf("log %q does not mention %q", r.Log, tt.wantLog)
			}
			if len(r.Events) != 0 {
				t.Errorf("failed tx has events %v", r.Events)
			}
			if got := n.app.AppHash(); !bytes.Equal(got, before) {
				t.Errorf("app hash changed: %X -> %X", before, got)
			}
			for i, a := range watch {
				if got := n.account(a); got != balances[i] {
					t.Errorf("account %s changed: %+v -> %+v", a, balances[i], got)
				}
			}
			n.mustInvariants()
		})
	}
	// The same signer still works afterwards: nothing consumed its nonce.
	dev.t = t
	if r := dev.block(good); r.TxResults[0].Code != 0 {
		t.Fatalf("good tx after bad ones: %s", r.TxResults[0].Log)
	}
}

// TestTransfers checks sequential nonces in one block, fees, events and
// the faucet window.
func TestTransfers(t *testing.T) {
	n := newNode(t, testGenesis(t, 2, 1000))
	k0, k1 := key(t, 0), key(t, 1)
	fresh := key(t, 50)
	var txs [][]byte
	for i := range uint64(5) {
		txs = append(txs, sign(t, k0, i, 2, transfer(k1.Address(), 10)))
	}
	// A fresh account bootstraps itself through the faucet with fee 0,
	// then pays a fee from what it drew, in the same block.
	txs = append(txs,
		sign(t, fresh, 0, 0, faucet(fresh.Address(), 600)),
		sign(t, fresh, 1, 2, transfer(k0.Address(), 100), faucet(k1.Address(), 50)),
		sign(t, fresh, 2, 0, faucet(fresh.Address(), 401)), // 601+... over the 1000 cap
	)
	resp := n.block(txs...)
	for i, r := range resp.TxResults[:7] {
		if r.Code != 0 {
			t.Fatalf("tx %d: code %d %s", i, r.Code, r.Log)
		}
	}
	if r := resp.TxResults[7]; vmerr.Kind(r.Code) != vmerr.Limit {
		t.Fatalf("over-cap faucet: code %v %s", vmerr.Kind(r.Code), r.Log)
	}
	n.mustInvariants()
	tests := []struct {
		name string
		addr crypto.Address
		want state.Account
	}{
		{"sender", k0.Address(), state.Account{Balance: 1000 - 5*12 + 100, Nonce: 5}},
		{"recipient", k1.Address(), state.Account{Balance: 1000 + 50 + 50}},
		{"fresh", fresh.Address(), state.Account{Balance: 600 - 2 - 100, Nonce: 2}},
		{"fee collector", ledger.FeeCollector(), state.Account{Balance: 6 * 2}},
		{"faucet pool", ledger.FaucetPool(), state.Account{Balance: ledger.DevnetFaucetSupply - 650}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := n.account(tt.addr); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	wantEvents := []abcitypes.Event{
		{Type: "tx", Attributes: []abcitypes.EventAttribute{{Key: "signer", Value: fresh.Address().String(), Index: true}, {Key: "nonce", Value: "1", Index: true}}},
		{Type: "fee", Attributes: []abcitypes.EventAttribute{{Key: "payer", Value: fresh.Address().String(), Index: true}, {Key: "amount", Value: "2", Index: true}}},
		{Type: "transfer", Attributes: []abcitypes.EventAttribute{{Key: "from", Value: fresh.Address().String(), Index: true}, {Key: "to", Value: k0.Address().String(), Index: true}, {Key: "amount", Value: "100", Index: true}}},
		{Type: "faucet", Attributes: []abcitypes.EventAttribute{{Key: "to", Value: k1.Address().String(), Index: true}, {Key: "amount", Value: "50", Index: true}}},
	}
	got, _ := json.Marshal(resp.TxResults[6].Events)
	want, _ := json.Marshal(wantEvents)
	if !bytes.Equal(got, want) {
		t.Errorf("events:\n got %s\nwant %s", got, want)
	}
	// The cap resets in the next window (10 blocks).
	for n.height < 10 {
		n.block()
	}
	if r := n.block(sign(t, fresh, 2, 0, faucet(fresh.Address(), 401))); r.TxResults[0].Code != 0 {
		t.Fatalf("faucet in a new window: %s", r.TxResults[0].Log)
	}
	n.mustInvariants()
}

// TestEmptyBlocksKeepAppHash: blocks with no (successful) transactions
// leave the app hash as it was, which create_empty_blocks=false needs.
func TestEmptyBlocksKeepAppHash(t *testing.T) {
	n := newNode(t, testGenesis(t, 2, 1000))
	genesisHash := n.hashes[0]
	r := n.block()
	if !bytes.Equal(r.AppHash, genesisHash) {
		t.Fatalf("first empty block changed the hash: %X -> %X", genesisHash, r.AppHash)
	}
	r = n.block(sign(t, key(t, 0), 0, 2, transfer(key(t, 1).Address(), 5)))
	changed := r.AppHash
	if bytes.Equal(changed, genesisHash) {
		t.Fatal("a transfer did not change the hash")
	}
	for range 3 {
		if r = n.block(); !bytes.Equal(r.AppHash, changed) {
			t.Fatalf("empty block changed the hash: %X -> %X", changed, r.AppHash)
		}
	}
	if r = n.block([]byte("junk")); !bytes.Equal(r.AppHash, changed) {
		t.Fatalf("a block of failed txs changed the hash")
	}
}

func TestInitChainErrors(t *testing.T) {
	dup := testGenesis(t, 1, 5)
	dup.Accounts = append(dup.Accounts, dup.Accounts[0])
	over := testGenesis(t, 0, 0)
	over.Accounts = []ledger.GenesisAccount{{Address: key(t, 1).Address(), Balance: 1 << 63}, {Address: key(t, 2).Address(), Balance: 1 << 63}}
	badFaucet := testGenesis(t, 0, 0)
	badFaucet.Params.FaucetWindow = 0
	tests := []struct {
		name    string
		chain   string
		in      []byte
		wantErr vmerr.Kind
	}{
		{"wrong chain id", "other", testGenesis(t, 1, 5).JSON(), vmerr.WrongChain},
		{"empty app state", chainID, nil, vmerr.Invalid},
		{"not json", chainID, []byte("{"), vmerr.Decode},
		{"unknown field", chainID, []byte(`{"params":{},"accounts":[],"extra":1}`), vmerr.Decode},
		{"bad address", chainID, []byte(`{"params":{},"accounts":[{"address":"zz","balance":"1"}]}`), vmerr.Decode},
		{"duplicate account", chainID, dup.JSON(), vmerr.Exists},
		{"supply overflow", chainID, over.JSON(), vmerr.Overflow},
		{"faucet without window", chainID, badFaucet.JSON(), vmerr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := openApp(t, t.TempDir())
			defer app.Close()
			_, err := app.InitChain(ctx, &abcitypes.InitChainRequest{ChainId: tt.chain, AppStateBytes: tt.in})
			if vmerr.KindOf(err) != tt.wantErr {
				t.Fatalf("err = %v (kind %v), want kind %v", err, vmerr.KindOf(err), tt.wantErr)
			}
		})
	}
}

func TestGenesisJSONRoundTrip(t *testing.T) {
	g := testGenesis(t, 2, 77)
	b := g.JSON()
	if !bytes.Contains(b, []byte(`"balance":"77"`)) || !bytes.Contains(b, []byte(`"min_fee":"2"`)) {
		t.Fatalf("amounts are not decimal strings: %s", b)
	}
	got, total, err := ledger.ParseGenesis(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := ledger.DevnetFaucetSupply + 2*77; total != want {
		t.Fatalf("total %d, want %d", total, want)
	}
	if !reflect.DeepEqual(got.Params, g.Params) || len(got.Accounts) != len(g.Accounts) {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestFinalizeBlockSequence(t *testing.T) {
	n := newNode(t, testGenesis(t, 1, 10))
	tests := []struct {
		name   string
		height int64
	}{{"skips a height", 2}, {"zero", 0}, {"negative", -1}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := n.app.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: tt.height}); err == nil {
				t.Fatal("out-of-sequence height accepted")
			}
		})
	}
	if _, err := n.app.Commit(ctx, &abcitypes.CommitRequest{}); err == nil {
		t.Fatal("commit without a finalized block accepted")
	}
	// Finalizing the same height twice (a re-run) keeps only the second.
	k := key(t, 0)
	n.finalize(sign(t, k, 0, 2, transfer(k.Address(), 1)))
	resp := n.finalize()
	n.commit(resp)
	if got := n.account(k.Address()); got.Nonce != 0 || got.Balance != 10 {
		t.Fatalf("discarded block leaked into state: %+v", got)
	}
	if !bytes.Equal(resp.AppHash, n.hashes[0]) {
		t.Fatal("re-run block hash differs from genesis hash")
	}
}

func TestPrepareProposal(t *testing.T) {
	n := newNode(t, testGenesis(t, 1, 10))
	txs := [][]byte{make([]byte, 40), make([]byte, 40), make([]byte, 40)}
	tests := []struct {
		name string
		max  int64
		want int
	}{{"all fit", 120, 3}, {"two fit", 119, 2}, {"none", 39, 0}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := n.app.PrepareProposal(ctx, &abcitypes.PrepareProposalRequest{Txs: txs, MaxTxBytes: tt.max})
			if err != nil || len(r.Txs) != tt.want {
				t.Fatalf("got %d txs (%v), want %d", len(r.GetTxs()), err, tt.want)
			}
		})
	}
	p, err := n.app.ProcessProposal(ctx, &abcitypes.ProcessProposalRequest{Txs: txs})
	if err != nil || p.Status != abcitypes.PROCESS_PROPOSAL_STATUS_ACCEPT {
		t.Fatalf("process proposal: %v %v", p, err)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		in   ledger.Config
	}{{"no dir", ledger.Config{ChainID: "x"}}, {"no chain", ledger.Config{Dir: t.TempDir()}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ledger.New(tt.in); vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("err = %v, want Invalid", err)
			}
		})
	}
}

// TestInitialHeight: a chain whose genesis starts above 1 saves its first
// version at that height and reopens there.
func TestInitialHeight(t *testing.T) {
	dir := t.TempDir()
	app := openApp(t, dir)
	g := testGenesis(t, 1, 10)
	if _, err := app.InitChain(ctx, &abcitypes.InitChainRequest{ChainId: chainID, AppStateBytes: g.JSON(), InitialHeight: 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: 1}); err == nil {
		t.Fatal("height 1 accepted on a chain starting at 7")
	}
	r, err := app.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: 7, Txs: [][]byte{sign(t, key(t, 0), 0, 2, transfer(key(t, 1).Address(), 3))}})
	if err != nil || r.TxResults[0].Code != 0 {
		t.Fatalf("block 7: %v %v", err, r)
	}
	if _, err := app.Commit(ctx, &abcitypes.CommitRequest{}); err != nil {
		t.Fatal(err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	app = openApp(t, dir)
	defer app.Close()
	if got := info(t, app); got.LastBlockHeight != 7 || !bytes.Equal(got.LastBlockAppHash, r.AppHash) {
		t.Fatalf("reopened at %d/%X, want 7/%X", got.LastBlockHeight, got.LastBlockAppHash, r.AppHash)
	}
	if _, err := app.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: 8}); err != nil {
		t.Fatal(err)
	}
}
