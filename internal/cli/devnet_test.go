package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/cli"
	"github.com/virtual-machine/vm/internal/client"
)

// dnBuf is a bytes.Buffer safe for a writer and a reader goroutine.
type dnBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (d *dnBuf) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.b.Write(p)
}

func (d *dnBuf) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.b.String()
}

func dnFreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestDevnetRunsAndStopsOnCancel runs `vm devnet` in-process twice on one
// home: the first run creates the chain and serves the API, cancelling
// its context (Ctrl-C) stops it with exit 0; the second run reopens the
// chain at the same height.
func TestDevnetRunsAndStopsOnCancel(t *testing.T) {
	home := t.TempDir()
	run := func(wantWord string) int64 {
		addr := dnFreeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var out, errb dnBuf
		done := make(chan int, 1)
		go func() {
			done <- cli.Run(ctx, []string{"--home", home, "--log-level", "warn", "devnet", "--http", addr, "--p2p-port", "0", "--warm=false"},
				strings.NewReader(""), &out, &errb)
		}()
		c := client.New("http://"+addr, client.WithTimeout(time.Second))
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(out.String(), "Ctrl-C") {
			select {
			case code := <-done:
				t.Fatalf("devnet exited %d\n%s\n%s", code, out.String(), errb.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("devnet did not start\n%s", errb.String())
			}
		}
		st, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{wantWord + " devnet vm-devnet", "http://" + addr,
			"vm --home " + home + " --node http://" + addr + " gas faucet alice"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
		if wantWord == "Created" { // the first node in this process gets CometBFT's metrics too
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range []string{"cometbft_consensus_height", "vm_block_height", "vm_mempool_size"} {
				if !strings.Contains(string(body), want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
		}
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("exit %d after cancel\n%s", code, errb.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatal("devnet did not stop after cancel")
		}
		if strings.Contains(errb.String(), "panic") {
			t.Fatalf("panic on stop:\n%s", errb.String())
		}
		return st.LatestHeight
	}
	h1 := run("Created")
	h2 := run("Reopened")
	if h2 < h1 {
		t.Fatalf("reopened at height %d, was %d", h2, h1)
	}
}

func TestTestnetCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "net")
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), []string{"-o", "json", "testnet", "--validators", "3", "--out", out,
		"--base-port", "36000", "--http-base-port", "37000"}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var got struct {
		ChainID string   `json:"chain_id"`
		Homes   []string `json:"homes"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	if got.ChainID != "vm-testnet" || len(got.Homes) != 3 {
		t.Fatalf("got %+v", got)
	}
	for i, h := range got.Homes {
		b, err := os.ReadFile(filepath.Join(h, "vm.toml"))
		if err != nil || !strings.Contains(string(b), fmt.Sprintf("127.0.0.1:%d", 37000+i)) {
			t.Fatalf("%s/vm.toml: %s %v", h, b, err)
		}
	}

	bad := []struct {
		name string
		args []string
	}{
		{name: "no out", args: []string{"testnet"}},
		{name: "zero validators", args: []string{"testnet", "--out", filepath.Join(t.TempDir(), "x"), "--validators", "0"}},
		{name: "existing", args: []string{"testnet", "--out", out, "--validators", "3"}},
		{name: "bad port", args: []string{"testnet", "--out", filepath.Join(t.TempDir(), "y"), "--base-port", "70000"}},
		{name: "node without home", args: []string{"--home", t.TempDir(), "node", "--http", "127.0.0.1:0"}},
		{name: "node bad http", args: []string{"--home", got.Homes[0], "node", "--http", "nohost"}},
		{name: "devnet bad http", args: []string{"--home", t.TempDir(), "devnet", "--http", "x", "--p2p-port", "0"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var o, e bytes.Buffer
			if code := cli.Run(context.Background(), tc.args, strings.NewReader(""), &o, &e); code == 0 {
				t.Fatalf("exit 0, want failure; out %s", o.String())
			}
			if e.Len() == 0 {
				t.Fatal("no error message")
			}
		})
	}
}
