package cli_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	ics23 "github.com/cosmos/ics23/go"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/cli"
	"github.com/virtual-machine/vm/internal/lightproof"
	"github.com/virtual-machine/vm/internal/portal/bundle"
	"github.com/virtual-machine/vm/internal/state"
)

// verifyChecks is how many checks an ID card's location that verifies
// passes in the browser (src/verify/verify.ts, with pages/id.ts's check
// that the location is the card's record).
const verifyChecks = 13

// TestPortalVerify creates an ID with the CLI on `vm devnet`, opens its
// page in Chromium and clicks Verify: every check passes, against the
// genesis validators the browser pins on first use. A pin that differs
// from the node's genesis is refused. Then the verifier itself (bundled
// alone by bundle.BuildEntry and evaluated in the page; the portal's
// bundle has no test hook) is run on tampered locations and light blocks,
// and on blocks forged with the devnet validator's key, each next to
// lightproof.Verify: the browser accepts exactly what Go accepts.
func TestPortalVerify(t *testing.T) {
	home := t.TempDir()
	url, _ := mrDevnet(t, home)
	t.Setenv(cli.EnvPass, "pw")
	ktKey(t, home, "alice", "pw")
	if r := ktRun(t, home, "--node", url, "gas", "faucet", "alice"); r.code != 0 {
		t.Fatalf("faucet: %s", r.stderr)
	}
	if r := ktRun(t, home, "--node", url, "id", "create", "vfyada", "--from", "alice", "-o", "json", "--timeout", "5m"); r.code != 0 {
		t.Fatalf("id create: %s", r.stderr)
	}
	trust, err := lightproof.LoadHome(home)
	if err != nil {
		t.Fatal(err)
	}
	gen := api.GenesisOf(trust)

	b := brOpen(t)
	b.do(t, "open the ID", chromedp.Navigate(url+"/ids/vfyada"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	b.do(t, "verify", chromedp.Click(`//button[text()="Verify"]`))
	b.waitText(t, ".verify", "Verified: every check passed")
	b.shot(t, "id-verified")
	count := func(sel string) int {
		n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if p, f := count(`.verify li[data-check="passed"]`), count(`.verify li[data-check="failed"]`); p != verifyChecks || f != 0 {
		t.Errorf("%d checks passed, %d failed; want %d and 0", p, f, verifyChecks)
	}
	shown, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("[data-trust-hash]").dataset.trustHash`))
	if err != nil || shown != gen.Hash {
		t.Errorf("the page trusts set %q (%v), the home's genesis is %s", shown, err, gen.Hash)
	}
	if got := b.text(t, ".verify"); !strings.Contains(got, "first use") {
		t.Errorf("first verify does not say it pinned the genesis: %q", got)
	}
	b.do(t, "verify again", chromedp.Click(`//button[text()="Verify"]`))
	b.waitText(t, ".verify", "pinned in this browser on")
	b.waitText(t, ".verify", "Verified: every check passed")

	// A browser that pinned another genesis for this chain refuses.
	other := api.GenesisOf(lightproof.Trust{ChainID: trust.ChainID, Validators: cmttypes.NewValidatorSet(
		[]*cmttypes.Validator{privValT().ExtractIntoValidator(10)})})
	pin, _ := json.Marshal(map[string]any{"chain_id": other.ChainID, "hash": other.Hash, "pinned_at": "2026-01-01T00:00:00Z",
		"validators": other.Validators})
	b.do(t, "pin another genesis", chromedp.Evaluate[chromedp.Void](`localStorage.setItem(`+jsString("vm-genesis:"+trust.ChainID)+`, `+jsString(string(pin))+`)`),
		chromedp.Click(`//button[text()="Verify"]`))
	b.waitText(t, ".verify .status.error", "not the ones this browser pinned")
	b.shot(t, "id-verify-other-genesis")
	b.do(t, "restore the pin", chromedp.Evaluate[chromedp.Void](`localStorage.removeItem(`+jsString("vm-genesis:"+trust.ChainID)+`)`))

	// A node that lies about block H+1 (one signature altered), played by
	// the CDP Fetch domain answering the page's /v1/commits requests:
	// the page shows the checks before the signatures passed, the
	// signature check failed in red, and no "Verified".
	stop := pvIntercept(t, b, url, "*/v1/commits/*", func(_ string, body []byte) []byte {
		var c apitype.Commit
		if err := json.Unmarshal(body, &c); err != nil {
			t.Error(err)
			return body
		}
		out, _ := json.Marshal(pvReencode(t, c, func(lb *cmttypes.LightBlock) { lb.Commit.Signatures[0].Signature[0] ^= 0x80 }))
		return out
	})
	pvVerdict(t, b)
	stop()
	b.waitText(t, ".verify .status.error", "wrong signature")
	b.shot(t, "id-verify-lying-node")
	if p, f := count(`.verify li[data-check="passed"]`), count(`.verify li[data-check="failed"]`); p != verifyChecks-2 || f != 1 {
		t.Errorf("a lying node: %d checks passed, %d failed; want %d and 1", p, f, verifyChecks-2)
	}
	if got := b.text(t, `.verify li[data-check="failed"]`); !strings.Contains(got, "+2/3") || !strings.Contains(got, "failed") {
		t.Errorf("the failed check reads %q", got)
	}
	if got := b.text(t, ".verify"); strings.Contains(got, "Verified") {
		t.Errorf("a lying node's location shows as verified: %q", got)
	}

	// A node that shows made-up data beside the genuine location: the
	// card's owner (and the attributes) are not the proven record's.
	stop = pvIntercept(t, b, url, "*/v1/ids/vfyada", func(_ string, body []byte) []byte {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Error(err)
			return body
		}
		m["owner"] = hex.EncodeToString(make([]byte, 20))
		m["attrs"] = map[string]string{"email": "mallory@example.org"}
		out, _ := json.Marshal(m)
		return out
	})
	b.do(t, "open the ID from a lying node", chromedp.Navigate(url+"/ids/vfyada"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	pvVerdict(t, b)
	stop()
	b.waitText(t, `.verify li[data-check="failed"]`, "the page shows owner 0000000000000000000000000000000000000000, the proven record says")
	if p := count(`.verify li[data-check="passed"]`); p != 1 {
		t.Errorf("made-up owner: %d checks passed before the refusal, want 1", p)
	}
	b.shot(t, "id-verify-made-up-owner")

	// The verifier alone, on tampered and forged inputs.
	js, err := bundle.BuildEntry("../portal/web", "src/verify/testentry.ts")
	if err != nil {
		t.Fatal(err)
	}
	b.do(t, "load the verifier", chromedp.Evaluate[chromedp.Void](string(js)))
	var id apitype.ID
	ktGetJSON(t, url+"/v1/ids/vfyada", &id)
	if id.Location == nil {
		t.Fatal("the ID has no location")
	}
	loc := *id.Location
	genuine := pvCommit(t, url, loc.Height+1)
	genJSON, _ := json.Marshal(gen)
	// browser runs verifyLocation on l, with c as block l.height+1 (nil:
	// the node's), and returns "ok" or "refused at CHECK: why".
	browser := func(l apitype.Location, c *apitype.Commit) string {
		lj, _ := json.Marshal(l)
		cj, _ := json.Marshal(c)
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(async () => {
			const T = vmVerifyTest, C = `+string(cj)+`;
			const trust = await T.parseGenesis(`+string(genJSON)+`);
			try {
				await T.verifyLocation(`+string(lj)+`, trust, (h) => C ? Promise.resolve(C) : T.fetchCommit(h, 2000));
				return "ok";
			} catch (e) {
				return e instanceof T.VerifyError ? "refused at " + e.message : "error: " + e.message;
			}
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	flip := func(s string, i int) string { // flips the low bit of hex digit i
		d, _ := strconv.ParseUint(s[i:i+1], 16, 8)
		return s[:i] + strconv.FormatUint(d^1, 16) + s[i+1:]
	}
	pv := devnetPV(t, home)
	newPV := []cmttypes.PrivValidator{privValT(), privValT(), privValT()}
	genesisVal := trust.Validators.Validators[0].Copy()
	mixed := cmttypes.NewValidatorSet([]*cmttypes.Validator{genesisVal,
		newPV[0].(cmttypes.MockPV).ExtractIntoValidator(1), newPV[1].(cmttypes.MockPV).ExtractIntoValidator(1),
		newPV[2].(cmttypes.MockPV).ExtractIntoValidator(1)})
	strangers := cmttypes.NewValidatorSet([]*cmttypes.Validator{newPV[0].(cmttypes.MockPV).ExtractIntoValidator(10)})
	lb := pvDecode(t, &genuine)

	// An account nobody has used: its location proves absence.
	nobody := privValT().PrivKey.PubKey().Address()
	var absentAcc apitype.Account
	ktGetJSON(t, url+"/v1/accounts/"+hex.EncodeToString(nobody)+"?height="+strconv.FormatInt(loc.Height, 10), &absentAcc)
	if absentAcc.Location == nil || absentAcc.Location.Value != "" {
		t.Fatalf("an unused account's location is not an absence proof: %+v", absentAcc.Location)
	}
	absent := *absentAcc.Location
	absentProof := func(change func(p *ics23.NonExistenceProof)) string {
		raw, _ := hex.DecodeString(absent.Proof)
		var p ics23.CommitmentProof
		if err := p.Unmarshal(raw); err != nil || p.GetNonexist() == nil {
			t.Fatalf("the absence proof is not a non-existence proof: %v", err)
		}
		change(p.GetNonexist())
		enc, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(enc)
	}

	tests := []struct {
		name      string
		base      *apitype.Location // nil: loc, the ID's
		loc       func(l *apitype.Location)
		commit    func() apitype.Commit // nil: the node's
		wantCheck string                // "" = verifies
	}{
		{name: "genuine", wantCheck: ""},
		{name: "genuine, its commit given", commit: func() apitype.Commit { return genuine }},
		{name: "key altered", loc: func(l *apitype.Location) { l.Key = flip(l.Key, len(l.Key)-1) }, wantCheck: "Merkle proof"},
		{name: "key prefix altered", loc: func(l *apitype.Location) { l.Key = flip(l.Key, 1) }, wantCheck: "Merkle proof"},
		{name: "value altered", loc: func(l *apitype.Location) { l.Value = flip(l.Value, len(l.Value)/2) }, wantCheck: "Merkle proof"},
		{name: "value emptied", loc: func(l *apitype.Location) { l.Value = "" }, wantCheck: "Merkle proof"},
		{name: "app hash altered", loc: func(l *apitype.Location) { l.AppHash = flip(l.AppHash, 7) }, wantCheck: "Merkle proof"},
		{name: "proof byte 5 altered", loc: func(l *apitype.Location) { l.Proof = flip(l.Proof, 10) }, wantCheck: "Merkle proof"},
		{name: "proof middle altered", loc: func(l *apitype.Location) { l.Proof = flip(l.Proof, len(l.Proof)/2) }, wantCheck: "Merkle proof"},
		{name: "proof last byte altered", loc: func(l *apitype.Location) { l.Proof = flip(l.Proof, len(l.Proof)-1) }, wantCheck: "Merkle proof"},
		{name: "proof truncated", loc: func(l *apitype.Location) { l.Proof = l.Proof[:len(l.Proof)-2] }, wantCheck: "Merkle proof"},
		{name: "proof not hex", loc: func(l *apitype.Location) { l.Proof = "zz" + l.Proof }, wantCheck: "location is well formed"},
		{name: "height altered", loc: func(l *apitype.Location) { l.Height = 1 }, wantCheck: "header carries the location's app hash"},
		{name: "height zero", loc: func(l *apitype.Location) { l.Height = 0 }, wantCheck: "location is well formed"},
		{name: "chain altered", loc: func(l *apitype.Location) { l.ChainID = "vm-other" }, wantCheck: "trusted chain"},
		{name: "header app hash altered", commit: func() apitype.Commit {
			return pvReencode(t, genuine, func(lb *cmttypes.LightBlock) { lb.Header.AppHash = make([]byte, 32) })
		}, wantCheck: "header carries the location's app hash"},
		{name: "header time altered", commit: func() apitype.Commit {
			return pvReencode(t, genuine, func(lb *cmttypes.LightBlock) { lb.Header.Time = lb.Header.Time.Add(time.Second) })
		}, wantCheck: "commit signs this header"},
		{name: "signature altered", commit: func() apitype.Commit {
			return pvReencode(t, genuine, func(lb *cmttypes.LightBlock) { lb.Commit.Signatures[0].Signature[5] ^= 1 })
		}, wantCheck: "+2/3"},
		{name: "signature timestamp altered", commit: func() apitype.Commit {
			return pvReencode(t, genuine, func(lb *cmttypes.LightBlock) {
				lb.Commit.Signatures[0].Timestamp = lb.Commit.Signatures[0].Timestamp.Add(time.Nanosecond)
			})
		}, wantCheck: "+2/3"},
		{name: "validator power altered", commit: func() apitype.Commit {
			return pvReencode(t, genuine, func(lb *cmttypes.LightBlock) { lb.ValidatorSet.Validators[0].VotingPower++ })
		}, wantCheck: "validator set is the header's"},
		{name: "display hash altered", commit: func() apitype.Commit {
			c := genuine
			c.Hash = flip(c.Hash, 0)
			return c
		}, wantCheck: "decodes"},
		{name: "light block truncated", commit: func() apitype.Commit {
			c := genuine
			c.LightBlock = c.LightBlock[:len(c.LightBlock)-20]
			return c
		}, wantCheck: "decodes"},
		{name: "block of strangers", commit: func() apitype.Commit {
			return pvForge(t, lb, strangers, newPV[:1], 0)
		}, wantCheck: "trusted genesis validators"},
		{name: "four validators, all sign, round 2", commit: func() apitype.Commit {
			return pvForge(t, lb, mixed, append([]cmttypes.PrivValidator{pv}, newPV...), 2)
		}},
		{name: "four validators, genesis and one sign", commit: func() apitype.Commit {
			return pvForge(t, lb, mixed, []cmttypes.PrivValidator{pv, newPV[1]}, 0)
		}},
		{name: "four validators, genesis absent", commit: func() apitype.Commit {
			return pvForge(t, lb, mixed, newPV, 0)
		}, wantCheck: "trusted genesis validators"},
		{name: "absent account", base: &absent},
		{name: "absent account, a value claimed", base: &absent, loc: func(l *apitype.Location) { l.Value = loc.Value }, wantCheck: "Merkle proof"},
		{name: "absent account, the ID's key claimed", base: &absent, loc: func(l *apitype.Location) { l.Key = loc.Key }, wantCheck: "Merkle proof"},
		{name: "absent account, app hash altered", base: &absent, loc: func(l *apitype.Location) { l.AppHash = flip(l.AppHash, 0) }, wantCheck: "Merkle proof"},
		{name: "absent account, left neighbour dropped", base: &absent, loc: func(l *apitype.Location) {
			l.Proof = absentProof(func(p *ics23.NonExistenceProof) { p.Left = nil })
		}, wantCheck: "Merkle proof"},
		{name: "absent account, right neighbour dropped", base: &absent, loc: func(l *apitype.Location) {
			l.Proof = absentProof(func(p *ics23.NonExistenceProof) { p.Right = nil })
		}, wantCheck: "Merkle proof"},
		{name: "absent account, neighbours swapped", base: &absent, loc: func(l *apitype.Location) {
			l.Proof = absentProof(func(p *ics23.NonExistenceProof) { p.Left, p.Right = p.Right, p.Left })
		}, wantCheck: "Merkle proof"},
		{name: "absent account, an existence proof", base: &absent, loc: func(l *apitype.Location) { l.Proof = loc.Proof }, wantCheck: "Merkle proof"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := loc
			if tc.base != nil {
				l = *tc.base
			}
			if tc.loc != nil {
				tc.loc(&l)
			}
			var c *apitype.Commit
			if tc.commit != nil {
				cc := tc.commit()
				c = &cc
			}
			gc := c
			if gc == nil {
				if l.Height >= 0 {
					cc := pvCommit(t, url, l.Height+1)
					gc = &cc
				}
			}
			goErr := lightproof.Verify(&l, gc, trust)
			got := browser(l, c)
			if (got == "ok") != (goErr == nil) {
				t.Fatalf("browser: %s; lightproof.Verify: %v", got, goErr)
			}
			if tc.wantCheck == "" && got != "ok" || tc.wantCheck != "" && !strings.Contains(got, "refused at ") ||
				!strings.Contains(got, tc.wantCheck) {
				t.Errorf("browser: %s; want a refusal at %q (lightproof.Verify: %v)", got, tc.wantCheck, goErr)
			}
		})
	}

	t.Run("ics23 spec", func(t *testing.T) { pvSpec(t, b, loc) })
	t.Run("random mutations", func(t *testing.T) { pvMutations(t, b, gen, trust, loc, genuine) })

	// A node whose genesis hash is not its validators' is refused.
	bad := gen
	bad.Hash = flip(bad.Hash, 3)
	badJSON, _ := json.Marshal(bad)
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`vmVerifyTest.pinnedTrust(() => Promise.resolve(`+string(badJSON)+`), sessionStorage)
		.then(() => "pinned", (e) => e.message)`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.Contains(got, "is not its validators'") {
		t.Errorf("a genesis whose hash lies: %q (%v)", got, err)
	}
}

// pvCommit is GET /v1/commits/h, waiting for the block.
func pvCommit(t *testing.T, url string, h int64) apitype.Commit {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var c apitype.Commit
		err := getJSONErr(url+"/v1/commits/"+strconv.FormatInt(h, 10), &c)
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("commit %d: %v", h, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func getJSONErr(url string, v any) error {
	res, err := http.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return json.Unmarshal(b, v)
}

func pvDecode(t *testing.T, c *apitype.Commit) *cmttypes.LightBlock {
	t.Helper()
	lb, err := lightproof.Decode(c)
	if err != nil {
		t.Fatal(err)
	}
	return lb
}

// pvReencode decodes c, lets change modify it and encodes it back, the
// display fields following the change (so only the change is tested).
func pvReencode(t *testing.T, c apitype.Commit, change func(lb *cmttypes.LightBlock)) apitype.Commit {
	t.Helper()
	lb := pvDecode(t, &c)
	change(lb)
	pb, err := lb.ToProto()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := pb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	h := lb.Header
	c.ChainID, c.Height, c.Hash = h.ChainID, h.Height, hex.EncodeToString(h.Hash())
	c.AppHash, c.Time = hex.EncodeToString(h.AppHash), h.Time.UTC().Format(time.RFC3339Nano)
	c.LightBlock = hex.EncodeToString(raw)
	return c
}

// pvForge returns a Commit of a copy of genuine's header naming vals as
// its validators, signed in round by each of signers (nanosecond
// timestamps, so the sign bytes' time has every field).
func pvForge(t *testing.T, genuine *cmttypes.LightBlock, vals *cmttypes.ValidatorSet, signers []cmttypes.PrivValidator, round int32) apitype.Commit {
	t.Helper()
	h := *genuine.Header
	h.ValidatorsHash, h.NextValidatorsHash = vals.Hash(), vals.Hash()
	blockID := cmttypes.BlockID{Hash: h.Hash(), PartSetHeader: genuine.Commit.BlockID.PartSetHeader}
	sigs := make([]cmttypes.CommitSig, vals.Size())
	for i := range sigs {
		sigs[i] = cmttypes.NewCommitSigAbsent()
	}
	for i, pv := range signers {
		pub, err := pv.GetPubKey()
		if err != nil {
			t.Fatal(err)
		}
		idx, _ := vals.GetByAddress(pub.Address())
		if idx < 0 {
			t.Fatalf("signer %X is not in the set", pub.Address())
		}
		v := &cmttypes.Vote{Type: cmtproto.PrecommitType, Height: h.Height, Round: round, BlockID: blockID,
			Timestamp: h.Time.Add(time.Duration(i+1) * 1_234_567), ValidatorAddress: pub.Address(), ValidatorIndex: idx}
		pb := v.ToProto()
		if err := pv.SignVote(h.ChainID, pb, false); err != nil {
			t.Fatal(err)
		}
		sigs[idx] = cmttypes.CommitSig{BlockIDFlag: cmttypes.BlockIDFlagCommit, ValidatorAddress: pub.Address(),
			Timestamp: v.Timestamp, Signature: pb.Signature}
	}
	lb := &cmttypes.LightBlock{SignedHeader: &cmttypes.SignedHeader{Header: &h,
		Commit: &cmttypes.Commit{Height: h.Height, Round: round, BlockID: blockID, Signatures: sigs}}, ValidatorSet: vals}
	c, err := lightproof.Encode(lb, true)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func privValT() cmttypes.MockPV {
	return cmttypes.NewMockPVWithParams(ed25519.GenPrivKey(), false, false)
}

// devnetPV is the devnet validator's own key, to forge blocks the
// genesis validator signed.
func devnetPV(t *testing.T, home string) cmttypes.PrivValidator {
	t.Helper()
	keyFile := filepath.Join(home, "config", "priv_validator_key.json")
	if _, err := os.Stat(keyFile); err != nil {
		t.Fatal(err)
	}
	fpv := privval.LoadFilePVEmptyState(keyFile, filepath.Join(t.TempDir(), "state.json"))
	return cmttypes.NewMockPVWithParams(fpv.Key.PrivKey, false, false)
}

// pvSpec holds the browser's ICS23 check to ics23.VerifyMembership with
// the IAVL spec on proofs whose hash chain is intact but whose ops break
// (or keep) the spec: each mutated proof's root is recomputed without the
// spec, so only the spec checks can refuse it.
func pvSpec(t *testing.T, b *brSession, loc apitype.Location) {
	raw, _ := hex.DecodeString(loc.Proof)
	key, _ := hex.DecodeString(loc.Key)
	value, _ := hex.DecodeString(loc.Value)
	var genuine ics23.CommitmentProof
	if err := genuine.Unmarshal(raw); err != nil || genuine.GetExist() == nil || len(genuine.GetExist().Path) < 2 {
		t.Fatalf("the location's proof is not an existence proof with 2+ inner ops: %v", err)
	}
	tests := []struct {
		name   string
		change func(p *ics23.ExistenceProof)
		wantOK bool
	}{
		{name: "genuine", change: func(*ics23.ExistenceProof) {}, wantOK: true},
		{name: "path cut to a subtree", change: func(p *ics23.ExistenceProof) { p.Path = p.Path[:len(p.Path)-1] }, wantOK: true},
		{name: "leaf hash SHA-512", change: func(p *ics23.ExistenceProof) { p.Leaf.Hash = ics23.HashOp_SHA512 }},
		{name: "leaf value not prehashed", change: func(p *ics23.ExistenceProof) { p.Leaf.PrehashValue = ics23.HashOp_NO_HASH }},
		{name: "leaf key prehashed", change: func(p *ics23.ExistenceProof) { p.Leaf.PrehashKey = ics23.HashOp_SHA256 }},
		{name: "leaf without length prefix", change: func(p *ics23.ExistenceProof) { p.Leaf.Length = ics23.LengthOp_NO_PREFIX }},
		{name: "leaf prefix with a byte more", change: func(p *ics23.ExistenceProof) { p.Leaf.Prefix = append(p.Leaf.Prefix, 0) }},
		{name: "leaf prefix not 0", change: func(p *ics23.ExistenceProof) { p.Leaf.Prefix = append([]byte{2}, p.Leaf.Prefix[1:]...) }},
		{name: "leaf prefix negative size", change: func(p *ics23.ExistenceProof) { p.Leaf.Prefix = []byte{0, 1, 2} }},
		{name: "no leaf op", change: func(p *ics23.ExistenceProof) { p.Leaf = nil }},
		{name: "inner hash SHA-512", change: func(p *ics23.ExistenceProof) { p.Path[0].Hash = ics23.HashOp_SHA512 }},
		{name: "inner prefix with a byte more", change: func(p *ics23.ExistenceProof) { p.Path[0].Prefix = append(p.Path[0].Prefix, 0x20) }},
		{name: "inner height below its layer", change: func(p *ics23.ExistenceProof) {
			p.Path[1].Prefix = append([]byte{2, 2, 2}, p.Path[1].Prefix[pvSkip3(t, p.Path[1].Prefix):]...)
		}},
		{name: "inner suffix not whole children", change: func(p *ics23.ExistenceProof) { p.Path[0].Suffix = append(p.Path[0].Suffix, 1) }},
		{name: "inner prefix too long", change: func(p *ics23.ExistenceProof) {
			p.Path[0].Prefix = append(append([]byte{}, p.Path[0].Prefix...), make([]byte, 34)...)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p ics23.CommitmentProof
			if err := p.Unmarshal(raw); err != nil {
				t.Fatal(err)
			}
			ep := p.GetExist()
			tc.change(ep)
			var root []byte
			if ep.Leaf != nil {
				r, err := ep.Calculate()
				if err != nil {
					t.Fatal(err)
				}
				root = r
			} else {
				root, _ = hex.DecodeString(loc.AppHash)
			}
			enc, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			goOK := ics23.VerifyMembership(ics23.IavlSpec, root, &p, key, value)
			got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(async () => {
				const T = vmVerifyTest, hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));
				try {
					await T.verifyMembership(T.decodeProof(hex(`+jsString(hex.EncodeToString(enc))+`)),
						hex(`+jsString(hex.EncodeToString(root))+`), hex(`+jsString(loc.Key)+`), hex(`+jsString(loc.Value)+`));
					return "ok";
				} catch (e) { return "refused: " + e.message; }
			})()`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			if (got == "ok") != goOK || goOK != tc.wantOK {
				t.Errorf("browser %s; ics23.VerifyMembership %v; want ok=%v", got, goOK, tc.wantOK)
			}
		})
	}
}

// pvSkip3 is the length of the three varints (height, size, version)
// that open an IAVL op's prefix.
func pvSkip3(t *testing.T, b []byte) int {
	off := 0
	for range 3 {
		_, n := binary.Varint(b[off:])
		if n <= 0 {
			t.Fatalf("prefix %x does not open with three varints", b)
		}
		off += n
	}
	return off
}

// BenchmarkPortalVerify times one verification of an account location
// (the faucet pool's, at the height before the latest) and its commit:
// in Chromium (verifyLocation from the test bundle, the commit given, so
// no network; timed in the page over a batch) against lightproof.Verify
// in Go on the same inputs, in the same run. It reports both in ms per
// verification and their ratio.
func BenchmarkPortalVerify(b *testing.B) {
	url, _ := mrDevnet(b, b.TempDir(), "--warm=false")
	var st apitype.Status
	for {
		if err := getJSONErr(url+"/v1/status", &st); err != nil {
			b.Fatal(err)
		}
		if st.LatestHeight >= 3 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var acc apitype.Account
	h := st.LatestHeight - 1
	if err := getJSONErr(url+"/v1/accounts/"+state.ModuleAddress("faucet").String()+"?height="+strconv.FormatInt(h, 10), &acc); err != nil || acc.Location == nil {
		b.Fatalf("faucet account at %d: %+v %v", h, acc, err)
	}
	loc := *acc.Location
	var c apitype.Commit
	if err := getJSONErr(url+"/v1/commits/"+strconv.FormatInt(loc.Height+1, 10), &c); err != nil {
		b.Fatal(err)
	}
	trust, err := pvTrust(url)
	if err != nil {
		b.Fatal(err)
	}
	if err := lightproof.Verify(&loc, &c, trust.t); err != nil {
		b.Fatal(err)
	}
	br := brOpen(b)
	js, err := bundle.BuildEntry("../portal/web", "src/verify/testentry.ts")
	if err != nil {
		b.Fatal(err)
	}
	lj, _ := json.Marshal(loc)
	cj, _ := json.Marshal(c)
	gj, _ := json.Marshal(trust.g)
	if err := chromedp.Do(br.ctx, chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.Evaluate[chromedp.Void](string(js)),
		chromedp.Evaluate[chromedp.Void](`(async () => { globalThis.benchTrust = await vmVerifyTest.parseGenesis(`+string(gj)+`); })()`, chromedp.EvalAwaitPromise)); err != nil {
		b.Fatal(err)
	}
	const batch = 100
	var browserMS, goMS float64
	for b.Loop() {
		ms, err := chromedp.Run(br.ctx, chromedp.Evaluate[float64](`(async () => {
			const T = vmVerifyTest, L = `+string(lj)+`, C = `+string(cj)+`;
			const t0 = performance.now();
			for (let i = 0; i < `+strconv.Itoa(batch)+`; i++) await T.verifyLocation(L, benchTrust, () => Promise.resolve(C));
			return (performance.now() - t0) / `+strconv.Itoa(batch)+`;
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		for range batch {
			if err := lightproof.Verify(&loc, &c, trust.t); err != nil {
				b.Fatal(err)
			}
		}
		browserMS += ms
		goMS += float64(time.Since(t0).Microseconds()) / 1000 / batch
	}
	n := float64(b.N)
	b.ReportMetric(browserMS/n, "browser-ms/verify")
	b.ReportMetric(goMS/n, "go-ms/verify")
	b.ReportMetric(browserMS/goMS, "browser/go")
}

// pvTrust is the node's genesis as GET /v1/genesis gives it and as
// lightproof's Trust, checked to be the same set.
func pvTrust(url string) (struct {
	g apitype.Genesis
	t lightproof.Trust
}, error) {
	var out struct {
		g apitype.Genesis
		t lightproof.Trust
	}
	if err := getJSONErr(url+"/v1/genesis", &out.g); err != nil {
		return out, err
	}
	vals := make([]*cmttypes.Validator, len(out.g.Validators))
	for i, v := range out.g.Validators {
		pub, err := hex.DecodeString(v.PubKey)
		if err != nil {
			return out, err
		}
		p, err := strconv.ParseInt(v.Power, 10, 64)
		if err != nil {
			return out, err
		}
		vals[i] = cmttypes.NewValidator(ed25519.PubKey(pub), p)
	}
	out.t = lightproof.Trust{ChainID: out.g.ChainID, Validators: cmttypes.NewValidatorSet(vals)}
	if h := hex.EncodeToString(out.t.Validators.Hash()); h != out.g.Hash {
		return out, fmt.Errorf("genesis hash %s, its validators hash to %s", out.g.Hash, h)
	}
	return out, nil
}

// pvMutations flips random bytes (fixed seed) of the location's proof and
// of the light block — the block's display fields recomputed when Go can
// still decode it, so the change reaches the checks behind them — and
// requires that the browser accepts none that lightproof.Verify refuses.
// The other direction (Go accepts, the browser refuses) is allowed where
// the browser is stricter (docs/rationale-verify.md) and only counted.
func pvMutations(t *testing.T, b *brSession, gen apitype.Genesis, trust lightproof.Trust, loc apitype.Location, c apitype.Commit) {
	rng := rand.New(rand.NewPCG(27, 1))
	type input struct {
		L apitype.Location `json:"l"`
		C apitype.Commit   `json:"c"`
	}
	var ins []input
	mutate := func(h string) string {
		raw, _ := hex.DecodeString(h)
		raw[rng.IntN(len(raw))] ^= byte(1 + rng.IntN(255))
		return hex.EncodeToString(raw)
	}
	for i := range 300 {
		in := input{L: loc, C: c}
		if i%2 == 0 {
			in.L.Proof = mutate(loc.Proof)
		} else {
			in.C.LightBlock = mutate(c.LightBlock)
			raw, _ := hex.DecodeString(in.C.LightBlock)
			var pb cmtproto.LightBlock
			if pb.Unmarshal(raw) == nil {
				if lb, err := pvFromProto(&pb); err == nil {
					h := lb.Header
					in.C.ChainID, in.C.Height, in.C.Hash = h.ChainID, h.Height, hex.EncodeToString(h.Hash())
					in.C.AppHash, in.C.Time = hex.EncodeToString(h.AppHash), h.Time.UTC().Format(time.RFC3339Nano)
				}
			}
		}
		ins = append(ins, in)
	}
	js, _ := json.Marshal(ins)
	gj, _ := json.Marshal(gen)
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(async () => {
		const T = vmVerifyTest, trust = await T.parseGenesis(`+string(gj)+`), out = [];
		for (const { l, c } of `+string(js)+`) {
			try {
				await T.verifyLocation(l, trust, () => Promise.resolve(c));
				out.push("ok");
			} catch (e) { out.push(e instanceof T.VerifyError ? "refused at " + e.message : "error: " + e.message); }
		}
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || len(got) != len(ins) {
		t.Fatalf("%d results for %d inputs: %v", len(got), len(ins), err)
	}
	stricter, accepted := 0, 0
	for i, in := range ins {
		goErr := lightproof.Verify(&in.L, &in.C, trust)
		switch {
		case got[i] == "ok" && goErr != nil:
			t.Errorf("input %d: the browser accepts what lightproof.Verify refuses (%v)", i, goErr)
		case got[i] != "ok" && goErr == nil:
			stricter++
			t.Logf("input %d: the browser refuses what Go accepts: %s", i, got[i])
		case got[i] == "ok":
			accepted++
		}
		if !strings.HasPrefix(got[i], "ok") && !strings.HasPrefix(got[i], "refused at ") {
			t.Errorf("input %d: not a VerifyError: %s", i, got[i])
		}
	}
	t.Logf("%d mutations: %d accepted by both, %d refused by the browser only", len(ins), accepted, stricter)
}

// pvFromProto converts a light block as lightproof.Decode does, turning
// CometBFT's panics on hostile input into errors.
func pvFromProto(pb *cmtproto.LightBlock) (lb *cmttypes.LightBlock, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return cmttypes.LightBlockFromProto(pb)
}

// pvIntercept makes the page's requests matching pattern (a CDP URL
// pattern) answer what lie makes of the real answer (Go fetches it from
// url; lie gets the path and the body). stop ends the interception and
// waits for its goroutine.
func pvIntercept(t *testing.T, b *brSession, url, pattern string, lie func(path string, body []byte) []byte) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	events := chromedp.Events(ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range events {
			if err != nil {
				return
			}
			path := strings.TrimPrefix(ev.Request.URL, url)
			code, body := int64(200), []byte(nil)
			res, err := http.Get(url + path)
			if err == nil {
				body, err = io.ReadAll(res.Body)
				res.Body.Close()
				code = int64(res.StatusCode)
			}
			if err != nil {
				code, body = 503, []byte(`{"code":"unavailable","message":"interception: `+err.Error()+`"}`)
			} else if code == 200 {
				body = lie(path, body)
			}
			// The page may have moved on (ctx ended): the error is moot.
			_, _ = chromedp.Call(b.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: code,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}}, Body: body})
		}
	}()
	return func() {
		cancel()
		<-done
		if _, err := chromedp.Call(b.ctx, fetch.Disable, cdp.Empty{}); err != nil {
			t.Error(err)
		}
	}
}

// pvVerdict clicks Verify and waits until the page shows a verdict.
func pvVerdict(t *testing.T, b *brSession) {
	t.Helper()
	b.do(t, "verify", chromedp.Click(`//button[text()="Verify"]`),
		chromedp.WaitVisible(chromedp.CSS(`.verify[data-verify="passed"], .verify[data-verify="failed"]`)))
}
