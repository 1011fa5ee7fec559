package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
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

// RegistryBackend is a Backend that serves the contract registry.
type RegistryBackend interface {
	api.Backend
	api.ContractBackend
}

// ContractConformance checks that b serves the contract registry as the
// API, its client and the CLI expect: deploys charged MinFee plus the
// deploy fee, ownership and maintainers, refusals (existing version,
// non-owner, bad code), range resolution with yanked versions, the chain's
// links, code by CID, composites pinned and without code, listing and
// locations that verify. funded must hold at least 10^6 GAS. Run it
// against every RegistryBackend: this fake and the real node.
func ContractConformance(t *testing.T, b RegistryBackend, funded crypto.PrivKey) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := b.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	minFee, err1 := strconv.ParseUint(st.MinFee, 10, 64)
	perKiB, err2 := strconv.ParseUint(st.DeployFeePerKiB, 10, 64)
	if err1 != nil || err2 != nil || st.MaxCodeSize <= 0 || st.MaxCodeSize > tx.MaxCodeSize {
		t.Fatalf("Status min_fee %q deploy_fee_per_kib %q max_code_size %d", st.MinFee, st.DeployFeePerKiB, st.MaxCodeSize)
	}
	maint, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	send := func(k crypto.PrivKey, msg *txpb.Msg) apitype.SubmitResult {
		t.Helper()
		fee := minFee
		if d := msg.GetDeploy(); d != nil {
			f, err := contract.DeployFee(perKiB, d)
			if err != nil {
				t.Fatal(err)
			}
			fee += f
		}
		acc, err := b.Account(ctx, k.Address(), 0, false)
		if err != nil {
			t.Fatalf("Account: %v", err)
		}
		raw, err := signBody(st.ChainID, k, acc.Nonce, fee, msg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := b.SubmitTx(ctx, raw, true)
		if err != nil {
			t.Fatalf("SubmitTx: %v", err)
		}
		return res
	}
	mustCommit := func(what string, res apitype.SubmitResult) {
		t.Helper()
		if res.Code != 0 || res.Height == 0 {
			t.Fatalf("%s: %+v", what, res)
		}
	}
	mustFail := func(what string, res apitype.SubmitResult, want vmerr.Kind) {
		t.Helper()
		if res.Code != uint32(want) || res.Log == "" {
			t.Errorf("%s: %+v, want code %d (%v)", what, res, want, want)
		}
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	name := "conf-" + hex.EncodeToString(suffix[:])
	codes := map[string][]byte{"1.0.0": EchoModule("v100"), "1.1.0": EchoModule("v110"), "2.0.0-rc.1": EchoModule("v2rc")}

	t.Run("unknown and malformed", func(t *testing.T) {
		for _, tc := range []struct {
			name, rng string
			want      vmerr.Kind
		}{
			{name, "", vmerr.NotFound},
			{name, "^1", vmerr.NotFound},
			{"Bad_Name", "^1", vmerr.Invalid},
			{"x", "", vmerr.Invalid},
			{"hello", "not a range", vmerr.Invalid},
		} {
			var err error
			if tc.rng == "" {
				_, err = b.Contract(ctx, tc.name, 0, false)
			} else {
				_, err = b.ContractVersion(ctx, tc.name, tc.rng, 0, false)
			}
			if vmerr.KindOf(err) != tc.want {
				t.Errorf("%s@%s: %v, want %v", tc.name, tc.rng, err, tc.want)
			}
		}
		if _, err := b.ContractVersions(ctx, name, 0); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("ContractVersions(unknown): %v, want NotFound", err)
		}
	})

	t.Run("deploy", func(t *testing.T) {
		mustCommit("fund maintainer", send(funded, Transfer(maint.Address(), 100_000+10*minFee)))
		for _, v := range []string{"1.0.0", "1.1.0", "2.0.0-rc.1"} {
			mustCommit("deploy "+v, send(funded, Deploy(name, v, codes[v], nil)))
		}
		mustFail("existing version", send(funded, Deploy(name, "1.0.0", codes["1.0.0"], nil)), vmerr.Exists)
		mustFail("non-owner", send(maint, Deploy(name, "1.2.0", codes["1.1.0"], nil)), vmerr.Unauthorized)
		mustFail("not wasm", send(funded, Deploy(name, "1.2.0", []byte("\x00asm garbage"), nil)), vmerr.Invalid)
		mustFail("bad semver", send(funded, Deploy(name, "1.2", codes["1.1.0"], nil)), vmerr.Invalid)
		// Too little fee for the payload.
		d := Deploy(name, "1.3.0", codes["1.1.0"], nil)
		if f, _ := contract.DeployFee(perKiB, d.GetDeploy()); f > 0 {
			acc, _ := b.Account(ctx, funded.Address(), 0, false)
			raw, _ := signBody(st.ChainID, funded, acc.Nonce, minFee, d)
			res, err := b.SubmitTx(ctx, raw, true)
			if err != nil || res.Code == 0 {
				t.Errorf("deploy paying only min_fee: %+v %v", res, err)
			}
		}
		mustCommit("add maintainer", send(funded, AddMaintainer(name, maint.Address())))
		// The very tx refused above (same bytes: a refused tx spends no
		// nonce) now commits.
		mustCommit("maintainer publishes", send(maint, Deploy(name, "1.2.0", codes["1.1.0"], nil)))
	})

	t.Run("resolve", func(t *testing.T) {
		c, err := b.Contract(ctx, name, 0, true)
		if err != nil {
			t.Fatalf("Contract: %v", err)
		}
		if c.Name != name || c.Owner != funded.Address().String() || c.Versions != 4 || c.Latest != "1.2.0" ||
			!slices.Equal(c.Maintainers, []string{maint.Address().String()}) || c.Composite || c.Created > c.Updated {
			t.Errorf("Contract: %+v", c)
		}
		checkLocation(t, b, c.Location, c.Height, state.ContractKey(name), st.ChainID)
		for _, tc := range []struct{ rng, want string }{
			{"", "1.2.0"}, {"*", "1.2.0"}, {"^1", "1.2.0"}, {"~1.1", "1.1.0"}, {"1.0.0", "1.0.0"},
			{"=1.1.0", "1.1.0"}, {"<1.1.0", "1.0.0"}, {">=2.0.0-rc.0", "2.0.0-rc.1"}, {"1.0.0 || 1.1.0", "1.1.0"},
		} {
			v, err := b.ContractVersion(ctx, name, tc.rng, 0, false)
			if err != nil || v.Version != tc.want {
				t.Errorf("%s@%s: %s %v, want %s", name, tc.rng, v.Version, err, tc.want)
			}
		}
		if _, err := b.ContractVersion(ctx, name, "^3", 0, false); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("^3: %v, want NotFound", err)
		}
		list, err := b.ContractVersions(ctx, name, 0)
		var got []string
		for _, v := range list.Versions {
			got = append(got, v.Version)
		}
		if err != nil || !slices.Equal(got, []string{"1.0.0", "1.1.0", "1.2.0", "2.0.0-rc.1"}) || list.Name != name {
			t.Fatalf("ContractVersions: %v %v", got, err)
		}
		bySeq := map[uint64]apitype.ContractVersion{}
		for _, v := range list.Versions {
			bySeq[v.Seq] = v
		}
		if bySeq[1].Version != "1.0.0" || bySeq[1].Prev != "" || c.Root != bySeq[1].RecordHash || c.Head != bySeq[4].RecordHash {
			t.Errorf("chain ends: root %s head %s, versions %+v", c.Root, c.Head, bySeq)
		}
		for seq := uint64(2); seq <= 4; seq++ {
			if bySeq[seq].Prev != bySeq[seq-1].RecordHash {
				t.Errorf("seq %d prev %s, want %s", seq, bySeq[seq].Prev, bySeq[seq-1].RecordHash)
			}
		}
		if p := bySeq[4].Publisher; p != maint.Address().String() {
			t.Errorf("1.2.0 published by %s, want the maintainer", p)
		}
		v, err := b.ContractVersion(ctx, name, "~1.1", 0, true)
		if err != nil {
			t.Fatal(err)
		}
		if v.CodeHash != contract.CID(codes["1.1.0"]).String() || v.CodeSize != uint64(len(codes["1.1.0"])) ||
			v.MeteredHash == "" || !slices.Contains(v.Exports, "echo") || v.Owner != funded.Address().String() {
			t.Errorf("1.1.0: %+v", v)
		}
		sk, _ := contract.ParseVersion("1.1.0")
		checkLocation(t, b, v.Location, v.Height, state.VersionKey(name, contract.SortKey(sk)), st.ChainID)
	})

	t.Run("code", func(t *testing.T) {
		v, code, err := b.ContractCode(ctx, name, "1.0.0", false, 0)
		if err != nil || !bytes.Equal(code, codes["1.0.0"]) || v.Version != "1.0.0" {
			t.Fatalf("ContractCode: %s %d bytes %v", v.Version, len(code), err)
		}
		v, metered, err := b.ContractCode(ctx, name, "^1", true, 0)
		if err != nil || v.Version != "1.2.0" || contract.CID(metered).String() != v.MeteredHash || int(v.MeteredSize) != len(metered) {
			t.Fatalf("metered ContractCode: %+v %d bytes %v", v, len(metered), err)
		}
		if _, _, err := b.ContractCode(ctx, name, "^7", false, 0); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("code of ^7: %v, want NotFound", err)
		}
	})

	t.Run("yank", func(t *testing.T) {
		mustFail("yank an unknown version", send(maint, Yank(name, "9.9.9", false)), vmerr.NotFound)
		mustFail("maintainer changes owners", send(maint, AddMaintainer(name, funded.Address())), vmerr.Unauthorized)
		mustCommit("yank 1.2.0", send(maint, Yank(name, "1.2.0", false)))
		mustFail("yank twice", send(funded, Yank(name, "1.2.0", false)), vmerr.Invalid)
		v, err := b.ContractVersion(ctx, name, "^1", 0, false)
		if err != nil || v.Version != "1.1.0" {
			t.Errorf("^1 after yanking 1.2.0: %s %v, want 1.1.0", v.Version, err)
		}
		v, err = b.ContractVersion(ctx, name, "1.2.0", 0, false)
		if err != nil || v.Version != "1.2.0" || !v.Yanked {
			t.Errorf("exact yanked 1.2.0: %+v %v", v, err)
		}
		mustCommit("unyank", send(funded, Yank(name, "1.2.0", true)))
		if v, err := b.ContractVersion(ctx, name, "^1", 0, false); err != nil || v.Version != "1.2.0" || v.Yanked {
			t.Errorf("^1 after unyank: %+v %v", v, err)
		}
	})

	t.Run("composite", func(t *testing.T) {
		cname := name + "-c"
		manifest := []byte(`{"steps":[{"id":"a","contract":"` + name + `@~1.0","fn":"echo","input":{"pointer":"/input"}},` +
			`{"id":"b","contract":"` + name + `@^1","fn":"echo","input":{"pointer":"/steps/a"}}]}`)
		mustCommit("deploy composite", send(funded, Deploy(cname, "1.0.0", nil, manifest)))
		bad := []byte(`{"steps":[{"id":"a","contract":"` + name + `-none@^1","fn":"echo","input":{"pointer":"/input"}}]}`)
		mustFail("composite with a missing step", send(funded, Deploy(cname, "1.0.1", nil, bad)), vmerr.NotFound)
		v, err := b.ContractVersion(ctx, cname, "", 0, false)
		if err != nil || v.CodeHash != "" || len(v.Manifest) == 0 {
			t.Fatalf("composite: %+v %v", v, err)
		}
		var m struct {
			Steps []struct{ Version string }
		}
		if err := json.Unmarshal(v.Manifest, &m); err != nil || len(m.Steps) != 2 || m.Steps[0].Version != "1.0.0" || m.Steps[1].Version != "1.2.0" {
			t.Errorf("pinned manifest %s: %v", v.Manifest, err)
		}
		if c, err := b.Contract(ctx, cname, 0, false); err != nil || !c.Composite {
			t.Errorf("composite entry: %+v %v", c, err)
		}
		if _, _, err := b.ContractCode(ctx, cname, "1.0.0", false, 0); vmerr.KindOf(err) != vmerr.NotFound {
			t.Errorf("code of a composite: %v, want NotFound", err)
		}
	})

	t.Run("list", func(t *testing.T) {
		l, err := b.Contracts(ctx, apitype.ContractQuery{Query: strings.ToUpper(name)})
		if err != nil || len(l.Contracts) != 2 || l.Contracts[0].Name != name || l.Contracts[1].Name != name+"-c" || l.Next != "" {
			t.Fatalf("Contracts(query): %+v %v", l, err)
		}
		l, err = b.Contracts(ctx, apitype.ContractQuery{Query: name, Limit: 1})
		if err != nil || len(l.Contracts) != 1 || l.Next != name {
			t.Fatalf("Contracts(limit 1): %+v %v", l, err)
		}
		l, err = b.Contracts(ctx, apitype.ContractQuery{Query: name, After: l.Next})
		if err != nil || len(l.Contracts) != 1 || l.Contracts[0].Name != name+"-c" {
			t.Fatalf("Contracts(after): %+v %v", l, err)
		}
		if l, err := b.Contracts(ctx, apitype.ContractQuery{Query: name, Tag: "no-such-tag"}); err != nil || len(l.Contracts) != 0 {
			t.Errorf("Contracts(tag): %+v %v", l, err)
		}
	})
}

// checkLocation verifies loc proves key at height against an app hash that
// a block header commits.
func checkLocation(t *testing.T, b api.Backend, loc *apitype.Location, height int64, key []byte, chainID string) {
	t.Helper()
	if loc == nil {
		t.Fatal("no location")
	}
	if !state.SameKey(loc, key) || loc.Height != height || loc.ChainID != chainID || loc.Value == "" {
		t.Errorf("location %+v, want key %x at %d", loc, key, height)
	}
	if err := state.VerifyLocation(loc); err != nil {
		t.Fatalf("VerifyLocation: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if next, err := b.Block(ctx, height+1); err == nil {
			if !strings.EqualFold(next.AppHash, loc.AppHash) {
				t.Errorf("block %d app hash %s, location %s", next.Height, next.AppHash, loc.AppHash)
			}
			return
		}
		if cur, err := b.Block(ctx, height); err == nil && cur.NumTxs == 0 && strings.EqualFold(cur.AppHash, loc.AppHash) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no header commits app hash %s of height %d", loc.AppHash, height)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
