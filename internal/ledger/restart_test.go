package ledger_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/ledger"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// blockTxs is the deterministic content of block h in the restart tests:
// key 0 pays key 1, nonce h-1.
func blockTxs(t testing.TB, h int64) [][]byte {
	return [][]byte{sign(t, key(t, 0), uint64(h-1), 2, transfer(key(t, 1).Address(), uint64(h)))}
}

// copyDir copies a live state directory, as a crash would leave it (the
// LevelDB lock file excluded: locks do not survive a process).
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		if d.Name() == "LOCK" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func info(t *testing.T, app *ledger.App) *abcitypes.InfoResponse {
	t.Helper()
	r, err := app.Info(ctx, &abcitypes.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// location turns an /account query answer into the apitype.Location a
// client would check offline against appHash.
func location(q *abcitypes.QueryResponse, appHash []byte) *apitype.Location {
	loc := &apitype.Location{ChainID: chainID, Height: q.Height, Namespace: state.NamespaceAccounts,
		Key: hex.EncodeToString(q.Key), Value: hex.EncodeToString(q.Value), AppHash: hex.EncodeToString(appHash)}
	if q.ProofOps != nil && len(q.ProofOps.Ops) == 1 {
		loc.Proof = hex.EncodeToString(q.ProofOps.Ops[0].Data)
	}
	return loc
}

// TestRestartWithoutClose copies the state directory as a crash would
// leave it, once after a Commit and once after a FinalizeBlock that was
// never committed, and checks that reopening reports the last committed
// height and hash, and that the handshake's replay of the uncommitted
// block reproduces its app hash.
func TestRestartWithoutClose(t *testing.T) {
	n := newNode(t, testGenesis(t, 2, 1000))
	for h := int64(1); h <= 5; h++ {
		n.block(blockTxs(t, h)...)
	}
	afterCommit := copyDir(t, n.dir)
	pending := n.finalize(blockTxs(t, 6)...)
	afterFinalize := copyDir(t, n.dir)
	n.commit(pending)

	for _, dir := range []string{afterCommit, afterFinalize} {
		app := openApp(t, dir)
		got := info(t, app)
		if got.LastBlockHeight != 5 || !bytes.Equal(got.LastBlockAppHash, n.hashes[5]) {
			t.Fatalf("reopened at %d/%X, want 5/%X", got.LastBlockHeight, got.LastBlockAppHash, n.hashes[5])
		}
		// CometBFT replays block 6.
		r, err := app.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: 6, Txs: blockTxs(t, 6)})
		if err != nil {
			t.Fatal(err)
		}
		if r.TxResults[0].Code != 0 || !bytes.Equal(r.AppHash, n.hashes[6]) {
			t.Fatalf("replayed block 6: code %d hash %X, want %X", r.TxResults[0].Code, r.AppHash, n.hashes[6])
		}
		if _, err := app.Commit(ctx, &abcitypes.CommitRequest{}); err != nil {
			t.Fatal(err)
		}
		if err := app.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
		if err := app.Close(); err != nil {
			t.Fatal(err)
		}
		if err := app.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}

	// A clean Close and reopen, then proofs at every past height.
	if err := n.app.Close(); err != nil {
		t.Fatal(err)
	}
	app := openApp(t, n.dir)
	defer app.Close()
	if got := info(t, app); got.LastBlockHeight != 6 || !bytes.Equal(got.LastBlockAppHash, n.hashes[6]) {
		t.Fatalf("reopened at %d/%X, want 6/%X", got.LastBlockHeight, got.LastBlockAppHash, n.hashes[6])
	}
	if _, err := app.InitChain(ctx, &abcitypes.InitChainRequest{ChainId: chainID, AppStateBytes: testGenesis(t, 1, 1).JSON()}); vmerr.KindOf(err) != vmerr.Exists {
		t.Fatalf("InitChain on a used state: %v", err)
	}
	for h := int64(1); h <= 6; h++ {
		q, _ := app.Query(ctx, &abcitypes.QueryRequest{Path: ledger.PathAccount, Data: addrBytes(key(t, 1).Address()), Height: h, Prove: true})
		if q.Code != 0 || q.Height != h {
			t.Fatalf("height %d: code %d %s, height %d", h, q.Code, q.Log, q.Height)
		}
		if err := state.VerifyLocation(location(q, n.hashes[h])); err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
		acc, _ := state.DecodeAccount(q.Value)
		if want := 1000 + uint64(h*(h+1)/2); acc.Balance != want {
			t.Fatalf("height %d: balance %d, want %d", h, acc.Balance, want)
		}
	}
}

func addrBytes(a crypto.Address) []byte { return a[:] }

// TestKill9 runs a ledger in a child process, kills it with SIGKILL right
// after it finalized (but did not commit) block 6, and checks the restart.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
	cmd.Env = append(os.Environ(), "LEDGER_CRASH_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() { once.Do(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) }
	defer kill()
	hashes := map[int64][]byte{}
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(60*time.Second, kill)
	defer deadline.Stop()
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || (f[0] != "committed" && f[0] != "finalized") {
			continue
		}
		h, _ := strconv.ParseInt(f[1], 10, 64)
		hashes[h], _ = hex.DecodeString(f[2])
		if f[0] == "finalized" {
			break
		}
	}
	kill()
	_, _ = io.Copy(io.Discard, out)
	if len(hashes) != 6 {
		t.Fatalf("child reported %d heights, want 6", len(hashes))
	}
	app := openApp(t, dir)
	defer app.Close()
	if got := info(t, app); got.LastBlockHeight != 5 || !bytes.Equal(got.LastBlockAppHash, hashes[5]) {
		t.Fatalf("after kill -9: %d/%X, want 5/%X", got.LastBlockHeight, got.LastBlockAppHash, hashes[5])
	}
	r, err := app.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: 6, Txs: blockTxs(t, 6)})
	if err != nil || !bytes.Equal(r.AppHash, hashes[6]) {
		t.Fatalf("replay of 6: %v %X, want %X", err, r.GetAppHash(), hashes[6])
	}
}

// TestCrashChild is the child of TestKill9; it does nothing otherwise.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("LEDGER_CRASH_DIR")
	if dir == "" {
		t.Skip("only runs as TestKill9's child")
	}
	app := openApp(t, dir)
	if _, err := app.InitChain(ctx, &abcitypes.InitChainRequest{ChainId: chainID, AppStateBytes: testGenesis(t, 2, 1000).JSON()}); err != nil {
		t.Fatal(err)
	}
	for h := int64(1); h <= 6; h++ {
		r, err := app.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: h, Txs: blockTxs(t, h)})
		if err != nil {
			t.Fatal(err)
		}
		if h == 6 {
			fmt.Printf("finalized %d %X\n", h, r.AppHash)
			time.Sleep(time.Minute) // wait for SIGKILL
			t.Fatal("not killed")
		}
		if _, err := app.Commit(ctx, &abcitypes.CommitRequest{}); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("committed %d %X\n", h, r.AppHash)
	}
}
