package lightproof_test

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/lightproof"
	"github.com/virtual-machine/vm/internal/nodetest"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// fixture is what every test here verifies: a real devnet node, the
// trust its home's genesis gives, an account location at height H, the
// Commit of block H+1 proving it, and a location of the same account at
// an earlier height whose state (and app hash) differs.
type fixture struct {
	env    *nodetest.Env
	trust  lightproof.Trust
	addr   crypto.Address
	loc    apitype.Location // account at height H, balance 77
	commit apitype.Commit   // block H+1
	before apitype.Location // the same key before the transfer (absence proof)
}

// setup starts a devnet node (stopped when t ends), moves GAS to a new
// account and collects the fixture.
func setup(t testing.TB) *fixture {
	t.Helper()
	env := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k := nodetest.Key(7)
	env.Fund(t, k.Address(), 77)
	acc, err := env.Client.Account(ctx, k.Address(), 0)
	if err != nil || acc.Location == nil {
		t.Fatalf("account: %+v %v", acc, err)
	}
	trust, err := lightproof.LoadHome(env.Home)
	if err != nil {
		t.Fatalf("trust: %v", err)
	}
	loc := *acc.Location
	var cm apitype.Commit
	for {
		cm, err = env.Client.Commit(ctx, loc.Height+1)
		if err == nil {
			break
		}
		if vmerr.KindOf(err) != vmerr.NotFound || ctx.Err() != nil {
			t.Fatalf("commit %d: %v", loc.Height+1, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	prev, err := env.Client.Account(ctx, k.Address(), loc.Height-1)
	if err != nil || prev.Location == nil || prev.Location.Value != "" {
		t.Fatalf("account before the transfer: %+v %v", prev, err)
	}
	return &fixture{env: env, trust: trust, addr: k.Address(), loc: loc, commit: cm, before: *prev.Location}
}

func TestVerifyRealNode(t *testing.T) {
	f := setup(t)
	if err := lightproof.Verify(&f.loc, &f.commit, f.trust); err != nil {
		t.Fatalf("genuine location: %v", err)
	}
	if !state.SameKey(&f.loc, state.AccountKey(f.addr)) {
		t.Fatalf("location key %s is not the account's", f.loc.Key)
	}
	if f.trust.ChainID != nodetest.ChainID || f.trust.Validators.Size() != 1 {
		t.Fatalf("trust %q with %d validators", f.trust.ChainID, f.trust.Validators.Size())
	}
	if f.commit.Height != f.loc.Height+1 || f.commit.AppHash != f.loc.AppHash || f.commit.ChainID != f.loc.ChainID {
		t.Fatalf("commit %+v does not match location %+v", f.commit, f.loc)
	}
	lb, err := lightproof.VerifyCommit(&f.commit, f.trust)
	if err != nil || lb.Header.Height != f.commit.Height {
		t.Fatalf("VerifyCommit: %v", err)
	}

	t.Run("location", func(t *testing.T) { testLocationTampering(t, f) })
	t.Run("commit", func(t *testing.T) { testCommitTampering(t, f) })
	t.Run("forged", func(t *testing.T) { testForgedCommits(t, f) })
	t.Run("client", func(t *testing.T) { testClient(t, f) })
	t.Run("node", func(t *testing.T) { testNodeCommits(t, f) })
}

// testLocationTampering changes each field of a genuine location: every
// change but the namespace (which no proof covers) must fail.
func testLocationTampering(t *testing.T, f *fixture) {
	flip := func(h string) string { // change the last hex digit
		b := []byte(h)
		if b[len(b)-1] == '0' {
			b[len(b)-1] = '1'
		} else {
			b[len(b)-1] = '0'
		}
		return string(b)
	}
	tests := []struct {
		name     string
		in       func(l *apitype.Location)
		wantKind vmerr.Kind // OK: must verify
		wantErr  string
	}{
		{name: "genuine", in: func(*apitype.Location) {}},
		{name: "chain id", in: func(l *apitype.Location) { l.ChainID = "vm-other" }, wantKind: vmerr.Unauthorized, wantErr: "trusted chain"},
		{name: "height one lower", in: func(l *apitype.Location) { l.Height-- }, wantKind: vmerr.Unauthorized, wantErr: "needs block"},
		{name: "height one higher", in: func(l *apitype.Location) { l.Height++ }, wantKind: vmerr.Unauthorized, wantErr: "needs block"},
		{name: "height zero", in: func(l *apitype.Location) { l.Height = 0 }, wantKind: vmerr.Invalid, wantErr: "not positive"},
		{name: "key", in: func(l *apitype.Location) { l.Key = flip(l.Key) }, wantKind: vmerr.Unauthorized, wantErr: "proof does not verify"},
		{name: "key of another namespace", in: func(l *apitype.Location) { l.Key = "02" + l.Key[2:] }, wantKind: vmerr.Unauthorized, wantErr: "proof does not verify"},
		{name: "value", in: func(l *apitype.Location) { l.Value = flip(l.Value) }, wantKind: vmerr.Unauthorized, wantErr: "proof does not verify"},
		{name: "value removed (absence claim)", in: func(l *apitype.Location) { l.Value = "" }, wantKind: vmerr.Unauthorized, wantErr: "proof does not verify"},
		{name: "app hash", in: func(l *apitype.Location) { l.AppHash = flip(l.AppHash) }, wantKind: vmerr.Unauthorized, wantErr: "proof does not verify"},
		{name: "proof byte", in: func(l *apitype.Location) { l.Proof = flip(l.Proof) }, wantKind: vmerr.Unauthorized},
		{name: "proof truncated", in: func(l *apitype.Location) { l.Proof = l.Proof[:len(l.Proof)/2] }, wantKind: vmerr.Decode},
		{name: "proof not hex", in: func(l *apitype.Location) { l.Proof = "zz" + l.Proof }, wantKind: vmerr.Decode, wantErr: "malformed hex"},
		{name: "no proof", in: func(l *apitype.Location) { l.Proof = "" }, wantKind: vmerr.Invalid},
		// A genuine location of another height: its proof holds against
		// its own app hash, which is not block H+1's.
		{name: "genuine location of another height", in: func(l *apitype.Location) { *l = f.before; l.Height = f.loc.Height },
			wantKind: vmerr.Unauthorized, wantErr: "app hash"},
		// The namespace is a label no proof covers: Verify accepts it,
		// and the caller must compare the key with the one it asked for.
		{name: "namespace (not covered)", in: func(l *apitype.Location) { l.Namespace = "miners" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := f.loc
			tc.in(&l)
			err := lightproof.Verify(&l, &f.commit, f.trust)
			checkErr(t, err, tc.wantKind, tc.wantErr)
		})
	}
	t.Run("nil arguments", func(t *testing.T) {
		checkErr(t, lightproof.Verify(nil, &f.commit, f.trust), vmerr.Invalid, "no location")
		checkErr(t, lightproof.Verify(&f.loc, nil, f.trust), vmerr.Invalid, "no commit")
		checkErr(t, lightproof.Verify(&f.loc, &f.commit, lightproof.Trust{}), vmerr.Invalid, "chain id")
		checkErr(t, lightproof.Verify(&f.loc, &f.commit, lightproof.Trust{ChainID: f.trust.ChainID}), vmerr.Invalid, "validator set")
	})
}

// testCommitTampering changes parts of the genuine Commit: its display
// fields, its bytes, the header, a signature and the validator set.
func testCommitTampering(t *testing.T, f *fixture) {
	other := privVal(t)
	tests := []struct {
		name     string
		in       func(t *testing.T, c *apitype.Commit)
		wantKind vmerr.Kind
		wantErr  string
	}{
		{name: "genuine re-encoded", in: func(t *testing.T, c *apitype.Commit) { reencode(t, c, func(*cmttypes.LightBlock) {}) }},
		{name: "display app hash", in: func(_ *testing.T, c *apitype.Commit) { c.AppHash = f.before.AppHash }, wantKind: vmerr.Invalid, wantErr: "app_hash"},
		{name: "display height", in: func(_ *testing.T, c *apitype.Commit) { c.Height++ }, wantKind: vmerr.Invalid, wantErr: "height"},
		{name: "display chain id", in: func(_ *testing.T, c *apitype.Commit) { c.ChainID = "x" }, wantKind: vmerr.Invalid, wantErr: "chain_id"},
		{name: "display hash", in: func(_ *testing.T, c *apitype.Commit) { c.Hash = strings.Repeat("0", 64) }, wantKind: vmerr.Invalid, wantErr: "hash"},
		{name: "display time", in: func(_ *testing.T, c *apitype.Commit) { c.Time = "2000-01-01T00:00:00Z" }, wantKind: vmerr.Invalid, wantErr: "time"},
		{name: "not hex", in: func(_ *testing.T, c *apitype.Commit) { c.LightBlock = "xyz" }, wantKind: vmerr.Decode, wantErr: "not hex"},
		{name: "garbage bytes", in: func(_ *testing.T, c *apitype.Commit) { c.LightBlock = "ffffffff" }, wantKind: vmerr.Decode},
		{name: "empty", in: func(_ *testing.T, c *apitype.Commit) { c.LightBlock = "" }, wantKind: vmerr.Invalid, wantErr: "lacks"},
		{name: "truncated", in: func(_ *testing.T, c *apitype.Commit) { c.LightBlock = c.LightBlock[:len(c.LightBlock)/2] }, wantKind: vmerr.Decode},
		{name: "oversized", in: func(_ *testing.T, c *apitype.Commit) {
			c.LightBlock = strings.Repeat("00", lightproof.MaxLightBlockSize+1)
		}, wantKind: vmerr.TooLarge},
		{name: "header app hash", in: func(t *testing.T, c *apitype.Commit) {
			reencode(t, c, func(lb *cmttypes.LightBlock) { lb.Header.AppHash = mustHex(t, f.before.AppHash) })
		}, wantKind: vmerr.Unauthorized, wantErr: "app hash"},
		{name: "header height", in: func(t *testing.T, c *apitype.Commit) {
			reencode(t, c, func(lb *cmttypes.LightBlock) { lb.Header.Height++; lb.Commit.Height++ })
		}, wantKind: vmerr.Unauthorized, wantErr: "needs block"},
		{name: "header chain id", in: func(t *testing.T, c *apitype.Commit) {
			reencode(t, c, func(lb *cmttypes.LightBlock) { lb.Header.ChainID = "vm-other" })
		}, wantKind: vmerr.Unauthorized, wantErr: "header is of chain"},
		{name: "header time (commit no longer signs it)", in: func(t *testing.T, c *apitype.Commit) {
			reencode(t, c, func(lb *cmttypes.LightBlock) { lb.Header.Time = lb.Header.Time.Add(time.Second) })
		}, wantKind: vmerr.Unauthorized, wantErr: "commit signs block"},
		{name: "a signature", in: func(t *testing.T, c *apitype.Commit) {
			reencode(t, c, func(lb *cmttypes.LightBlock) { lb.Commit.Signatures[0].Signature[0] ^= 1 })
		}, wantKind: vmerr.Unauthorized, wantErr: "signature"},
		{name: "signature removed", in: func(t *testing.T, c *apitype.Commit) {
			reencode(t, c, func(lb *cmttypes.LightBlock) {
				lb.Commit.Signatures[0] = cmttypes.CommitSig{BlockIDFlag: cmttypes.BlockIDFlagAbsent}
			})
		}, wantKind: vmerr.Unauthorized, wantErr: "genesis validators"},
		{name: "commit for another height", in: func(t *testing.T, c *apitype.Commit) {
			reencode(t, c, func(lb *cmttypes.LightBlock) { lb.Commit.Height-- })
		}, wantKind: vmerr.Invalid, wantErr: "commit"},
		{name: "validator set of another key", in: func(t *testing.T, c *apitype.Commit) {
			reencode(t, c, func(lb *cmttypes.LightBlock) {
				lb.ValidatorSet = cmttypes.NewValidatorSet([]*cmttypes.Validator{other.ExtractIntoValidator(10)})
			})
		}, wantKind: vmerr.Unauthorized, wantErr: "validator set hashes"},
		{name: "validator set with more power", in: func(t *testing.T, c *apitype.Commit) {
			reencode(t, c, func(lb *cmttypes.LightBlock) { lb.ValidatorSet.Validators[0].VotingPower++ })
		}, wantKind: vmerr.Unauthorized, wantErr: "validator set hashes"},
		{name: "validator set overflowing power", in: func(t *testing.T, c *apitype.Commit) {
			reencode(t, c, func(lb *cmttypes.LightBlock) {
				v := other.ExtractIntoValidator(cmttypes.MaxTotalVotingPower)
				lb.ValidatorSet.Validators = append(lb.ValidatorSet.Validators, v)
			})
		}, wantKind: vmerr.Invalid, wantErr: "power"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := f.commit
			tc.in(t, &c)
			err := lightproof.Verify(&f.loc, &c, f.trust)
			checkErr(t, err, tc.wantKind, tc.wantErr)
		})
	}
	t.Run("VerifyCommit header app hash", func(t *testing.T) {
		// Without a location to compare with, a changed app hash is
		// caught because the commit does not sign the changed header.
		c := f.commit
		reencode(t, &c, func(lb *cmttypes.LightBlock) { lb.Header.AppHash = mustHex(t, f.before.AppHash) })
		_, err := lightproof.VerifyCommit(&c, f.trust)
		checkErr(t, err, vmerr.Unauthorized, "commit signs block")
	})
}

// testForgedCommits builds headers signed by keys that are not the
// genesis validator's: every check but the trusted-power one passes, so
// that one alone must refuse them.
func testForgedCommits(t *testing.T, f *fixture) {
	forger := privVal(t)
	lb := decode(t, &f.commit)
	forgedVals := cmttypes.NewValidatorSet([]*cmttypes.Validator{forger.ExtractIntoValidator(10)})

	t.Run("set not in genesis", func(t *testing.T) {
		c := forge(t, lb, forgedVals, []cmttypes.PrivValidator{forger}, nil)
		err := lightproof.Verify(&f.loc, &c, f.trust)
		checkErr(t, err, vmerr.Unauthorized, "genesis validators did not sign")
		// The forgery is otherwise complete: with the forger trusted, it verifies.
		if err := lightproof.Verify(&f.loc, &c, lightproof.Trust{ChainID: f.trust.ChainID, Validators: forgedVals}); err != nil {
			t.Fatalf("forgery under its own trust: %v (the test forges badly)", err)
		}
	})
	t.Run("forged app hash", func(t *testing.T) {
		// A forger can commit any app hash it likes, e.g. the one of the
		// state before the transfer, and present that state's location.
		c := forge(t, lb, forgedVals, []cmttypes.PrivValidator{forger}, mustHex(t, f.before.AppHash))
		loc := f.before
		loc.Height = f.loc.Height
		checkErr(t, lightproof.Verify(&loc, &c, f.trust), vmerr.Unauthorized, "genesis validators did not sign")
	})
	t.Run("genesis validator with token power", func(t *testing.T) {
		// The forged set lists the genesis validator (so its hash may
		// name it) but the forger holds all but a sliver of the power;
		// the genesis validator never signed, so trusted power is 0.
		genesisVal := f.trust.Validators.Validators[0].Copy()
		genesisVal.VotingPower = 1
		vals := cmttypes.NewValidatorSet([]*cmttypes.Validator{forger.ExtractIntoValidator(1000), genesisVal})
		c := forge(t, lb, vals, []cmttypes.PrivValidator{forger}, nil)
		checkErr(t, lightproof.Verify(&f.loc, &c, f.trust), vmerr.Unauthorized, "genesis validators did not sign")
	})
	// The genesis validator's own key (a test may read the node's home):
	// with it, a block signed by a set that differs from the genesis one
	// shows both power checks at work.
	home := f.env.Home
	genesisPV := cmttypes.NewMockPVWithParams(privval.LoadFilePVEmptyState(
		filepath.Join(home, "config", "priv_validator_key.json"), filepath.Join(t.TempDir(), "state.json")).Key.PrivKey, false, false)
	genesisVal := f.trust.Validators.Validators[0]
	t.Run("changed set with the genesis validator signing", func(t *testing.T) {
		// Genesis power 10 of 15 signs: all the trusted power, +2/3 of the new set.
		vals := cmttypes.NewValidatorSet([]*cmttypes.Validator{genesisVal.Copy(), forger.ExtractIntoValidator(5)})
		c := forge(t, lb, vals, []cmttypes.PrivValidator{genesisPV, forger}, nil)
		if err := lightproof.Verify(&f.loc, &c, f.trust); err != nil {
			t.Fatalf("a block of a changed set the genesis validator signed: %v", err)
		}
	})
	t.Run("changed set without +2/3", func(t *testing.T) {
		// The genesis validator signs (trusted power passes) but holds 10
		// of 110 in the new set, and the forger does not sign.
		vals := cmttypes.NewValidatorSet([]*cmttypes.Validator{genesisVal.Copy(), forger.ExtractIntoValidator(100)})
		c := forge(t, lb, vals, []cmttypes.PrivValidator{genesisPV}, nil)
		checkErr(t, lightproof.Verify(&f.loc, &c, f.trust), vmerr.Unauthorized, "validators did not sign it with +2/3")
	})
	t.Run("trust of another chain's genesis", func(t *testing.T) {
		checkErr(t, lightproof.Verify(&f.loc, &f.commit, lightproof.Trust{ChainID: f.trust.ChainID, Validators: forgedVals}),
			vmerr.Unauthorized, "genesis validators did not sign")
	})
}

// testClient checks client.VerifyLocation end to end, the wait for a
// block not committed yet, and the client's handling of heights.
func testClient(t *testing.T, f *fixture) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := f.env.Client
	if err := c.VerifyLocation(ctx, &f.loc, f.trust); err != nil {
		t.Fatalf("VerifyLocation: %v", err)
	}
	// A location at the latest height: block H+1 does not exist yet, and
	// VerifyLocation waits for it (an idle devnet makes one a second).
	acc, err := c.Account(ctx, f.addr, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyLocation(ctx, acc.Location, f.trust); err != nil {
		t.Fatalf("VerifyLocation at the latest height %d: %v", acc.Location.Height, err)
	}
	// An absence proof: the account before the transfer, at its height.
	if err := c.VerifyLocation(ctx, &f.before, f.trust); err != nil {
		t.Fatalf("VerifyLocation of an absence at %d: %v", f.before.Height, err)
	}
	tampered := f.loc
	tampered.Value = f.before.Value
	checkErr(t, c.VerifyLocation(ctx, &tampered, f.trust), vmerr.Unauthorized, "")
	// The earlier location at the height the later one claims: the
	// client fetches that height's commit, whose app hash differs.
	moved := f.before
	moved.Height = f.loc.Height
	checkErr(t, c.VerifyLocation(ctx, &moved, f.trust), vmerr.Unauthorized, "app hash")
	checkErr(t, c.VerifyLocation(ctx, nil, f.trust), vmerr.Invalid, "no location")
	zero := f.loc
	zero.Height = 0
	checkErr(t, c.VerifyLocation(ctx, &zero, f.trust), vmerr.Invalid, "not positive")

	_, err = c.Commit(ctx, -1)
	checkErr(t, err, vmerr.Invalid, "negative")
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Commit(ctx, st.LatestHeight+1000)
	checkErr(t, err, vmerr.NotFound, "")
	latest, err := c.Commit(ctx, 0)
	if err != nil || latest.Height < st.LatestHeight {
		t.Fatalf("latest commit: %+v %v (status latest %d)", latest, err, st.LatestHeight)
	}
	if _, err := lightproof.VerifyCommit(&latest, f.trust); err != nil {
		t.Fatalf("latest (seen) commit: %v", err)
	}
	// Far future: VerifyLocation waits, then gives up with Timeout.
	short, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	future := f.loc
	future.Height = st.LatestHeight + 1000
	checkErr(t, c.VerifyLocation(short, &future, f.trust), vmerr.Timeout, "not committed yet")
}

// testNodeCommits checks every stored block's commit verifies, canonical
// for all but the latest, and that block h's header carries the app hash
// the ledger reports for the state after block h-1.
func testNodeCommits(t *testing.T, f *fixture) {
	ctx := context.Background()
	c := f.env.Client
	latest, err := c.Commit(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for h := int64(1); h < latest.Height; h++ {
		cm, err := c.Commit(ctx, h)
		if err != nil {
			t.Fatalf("commit %d: %v", h, err)
		}
		if !cm.Canonical {
			t.Errorf("commit %d below the latest %d is not canonical", h, latest.Height)
		}
		if _, err := lightproof.VerifyCommit(&cm, f.trust); err != nil {
			t.Errorf("commit %d: %v", h, err)
		}
		blk, err := c.Block(ctx, h)
		if err != nil || blk.Hash != cm.Hash || blk.AppHash != cm.AppHash {
			t.Errorf("block %d %+v vs commit %+v: %v", h, blk, cm, err)
		}
	}
	if h := f.loc.Height; h > 0 {
		cm, err := c.Commit(ctx, h+1)
		if err != nil || cm.AppHash != f.loc.AppHash {
			t.Errorf("header %d app hash %s, location at %d says %s (%v)", h+1, cm.AppHash, h, f.loc.AppHash, err)
		}
	}
}

func TestLoadGenesis(t *testing.T) {
	dir := t.TempDir()
	pv := privVal(t)
	pub, _ := pv.GetPubKey()
	pv2 := privVal(t)
	pub2, _ := pv2.GetPubKey()
	gen := func(vals ...cmttypes.GenesisValidator) []byte {
		doc := cmttypes.GenesisDoc{ChainID: "vm-x", GenesisTime: time.Unix(1, 0).UTC(), Validators: vals}
		b, err := cmtjson.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name     string
		in       []byte
		want     int // validators
		wantKind vmerr.Kind
	}{
		{name: "one validator", in: gen(cmttypes.GenesisValidator{PubKey: pub, Power: 10}), want: 1},
		{name: "two validators", in: gen(cmttypes.GenesisValidator{PubKey: pub, Power: 10}, cmttypes.GenesisValidator{PubKey: pub2, Power: 5}), want: 2},
		{name: "no validators", in: gen(), wantKind: vmerr.Invalid},
		{name: "zero power", in: gen(cmttypes.GenesisValidator{PubKey: pub, Power: 0}), wantKind: vmerr.Invalid},
		{name: "negative power", in: gen(cmttypes.GenesisValidator{PubKey: pub, Power: -3}), wantKind: vmerr.Invalid},
		{name: "overflowing power", in: gen(cmttypes.GenesisValidator{PubKey: pub, Power: cmttypes.MaxTotalVotingPower},
			cmttypes.GenesisValidator{PubKey: pub2, Power: 1}), wantKind: vmerr.Invalid},
		{name: "listed twice", in: gen(cmttypes.GenesisValidator{PubKey: pub, Power: 1}, cmttypes.GenesisValidator{PubKey: pub, Power: 2}), wantKind: vmerr.Invalid},
		{name: "wrong address", in: gen(cmttypes.GenesisValidator{Address: pub2.Address(), PubKey: pub, Power: 1}), wantKind: vmerr.Invalid},
		{name: "no chain id", in: []byte(`{"validators":[]}`), wantKind: vmerr.Invalid},
		{name: "not JSON", in: []byte(`{"chain_id":`), wantKind: vmerr.Decode},
		{name: "empty", in: nil, wantKind: vmerr.Decode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			if err := os.WriteFile(path, tc.in, 0o600); err != nil {
				t.Fatal(err)
			}
			tr, err := lightproof.LoadGenesis(path)
			checkErr(t, err, tc.wantKind, "")
			if err == nil && (tr.ChainID != "vm-x" || tr.Validators.Size() != tc.want) {
				t.Errorf("trust %q, %d validators; want vm-x, %d", tr.ChainID, tr.Validators.Size(), tc.want)
			}
		})
	}
	_, err := lightproof.LoadGenesis(filepath.Join(dir, "missing.json"))
	checkErr(t, err, vmerr.NotFound, "")
	_, err = lightproof.LoadHome(dir)
	checkErr(t, err, vmerr.NotFound, "")
}

func TestTrustLevel(t *testing.T) {
	if lightproof.TrustLevel() != light.DefaultTrustLevel {
		t.Errorf("TrustLevel %v, CometBFT's default %v", lightproof.TrustLevel(), light.DefaultTrustLevel)
	}
}

func TestEncodeInvalid(t *testing.T) {
	if _, err := lightproof.Encode(nil, true); vmerr.KindOf(err) != vmerr.Invalid {
		t.Errorf("Encode(nil): %v", err)
	}
	if _, err := lightproof.Encode(&cmttypes.LightBlock{SignedHeader: &cmttypes.SignedHeader{}}, true); vmerr.KindOf(err) != vmerr.Invalid {
		t.Errorf("Encode(no header): %v", err)
	}
	if _, err := lightproof.Decode(nil); vmerr.KindOf(err) != vmerr.Invalid {
		t.Errorf("Decode(nil): %v", err)
	}
	if _, err := lightproof.VerifyCommit(nil, lightproof.Trust{}); vmerr.KindOf(err) != vmerr.Invalid {
		t.Errorf("VerifyCommit(nil): %v", err)
	}
}

// checkErr fails t unless err has kind want (OK: no error) and, when
// set, contains msg.
func checkErr(t *testing.T, err error, want vmerr.Kind, msg string) {
	t.Helper()
	if want == vmerr.OK {
		if err != nil {
			t.Fatalf("error %v, want none", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %v %q", want, msg)
	}
	if vmerr.KindOf(err) != want || !strings.Contains(err.Error(), msg) {
		t.Fatalf("error %v (kind %v), want kind %v containing %q", err, vmerr.KindOf(err), want, msg)
	}
}

func privVal(t testing.TB) cmttypes.MockPV {
	t.Helper()
	return cmttypes.NewMockPVWithParams(ed25519.GenPrivKey(), false, false)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t testing.TB, c *apitype.Commit) *cmttypes.LightBlock {
	t.Helper()
	lb, err := lightproof.Decode(c)
	if err != nil {
		t.Fatal(err)
	}
	return lb
}

// reencode decodes c, lets change modify the light block and encodes it
// back (display fields follow the change, so only the change is tested).
func reencode(t *testing.T, c *apitype.Commit, change func(lb *cmttypes.LightBlock)) {
	t.Helper()
	lb := decode(t, c)
	change(lb)
	pb, err := lb.ToProto()
	if err != nil {
		t.Fatal(err)
	}
	// Encode through the proto, not the (validating) converters, so a
	// broken light block can still be sent.
	raw, err := pb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	h := lb.Header
	c.ChainID, c.Height, c.Hash = h.ChainID, h.Height, hex.EncodeToString(h.Hash())
	c.AppHash, c.Time = hex.EncodeToString(h.AppHash), h.Time.UTC().Format(time.RFC3339Nano)
	c.LightBlock = hex.EncodeToString(raw)
}

// forge returns a Commit of a copy of genuine's header, naming vals as
// its validators (and appHash as its app hash when set), signed by every
// one of signers (who must be in vals).
func forge(t testing.TB, genuine *cmttypes.LightBlock, vals *cmttypes.ValidatorSet, signers []cmttypes.PrivValidator, appHash []byte) apitype.Commit {
	t.Helper()
	h := *genuine.Header
	h.ValidatorsHash, h.NextValidatorsHash = vals.Hash(), vals.Hash()
	if appHash != nil {
		h.AppHash = appHash
	}
	blockID := cmttypes.BlockID{Hash: h.Hash(), PartSetHeader: genuine.Commit.BlockID.PartSetHeader}
	sigs := make([]cmttypes.CommitSig, vals.Size())
	for i := range sigs {
		sigs[i] = cmttypes.NewCommitSigAbsent()
	}
	for _, pv := range signers {
		pub, err := pv.GetPubKey()
		if err != nil {
			t.Fatal(err)
		}
		idx, _ := vals.GetByAddress(pub.Address())
		if idx < 0 {
			t.Fatalf("signer %X is not in the set", pub.Address())
		}
		v := &cmttypes.Vote{Type: cmtproto.PrecommitType, Height: h.Height, BlockID: blockID, Timestamp: h.Time.Add(time.Millisecond),
			ValidatorAddress: pub.Address(), ValidatorIndex: idx}
		pb := v.ToProto()
		if err := pv.SignVote(h.ChainID, pb, false); err != nil {
			t.Fatal(err)
		}
		sigs[idx] = cmttypes.CommitSig{BlockIDFlag: cmttypes.BlockIDFlagCommit, ValidatorAddress: pub.Address(),
			Timestamp: v.Timestamp, Signature: pb.Signature}
	}
	lb := &cmttypes.LightBlock{SignedHeader: &cmttypes.SignedHeader{Header: &h,
		Commit: &cmttypes.Commit{Height: h.Height, BlockID: blockID, Signatures: sigs}}, ValidatorSet: vals}
	c, err := lightproof.Encode(lb, true)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
