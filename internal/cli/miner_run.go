package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/miner"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// minerStopTimeout bounds an agent's clean stop after Ctrl-C.
const minerStopTimeout = 10 * time.Second

// DevnetMinerKeyFile is the built-in miner's key in a devnet home: the
// 32-byte ed25519 seed in hex, mode 0600. It is a plain file, not a
// keystore entry, because the devnet starts it without a passphrase.
const DevnetMinerKeyFile = "devnet-miner.key"

// DevnetMinerFunds is the genesis balance of the devnet's built-in miner,
// for its registration and work transaction fees.
const DevnetMinerFunds uint64 = 1_000_000_000

// minerRunFlags are the flags of `vm miner` run without a subcommand.
type minerRunFlags struct {
	key      string
	minGas   string
	kind     string
	capacity int
	endpoint string
	fault    string // test only: wrong or copy (Config.WrongResult, Config.Copy)
	warm     bool   // compile the system contracts at start (Config.Warm)
}

// addMinerRunFlags adds the run flags to the miner group command.
func addMinerRunFlags(cmd *cobra.Command, o *minerRunFlags) {
	f := cmd.Flags()
	f.StringVar(&o.key, "key", "", "key (in the keystore) whose address is the miner (runs the agent)")
	f.StringVar(&o.minGas, "min-gas", "", "the least GAS per job the agent takes (0 = any)")
	f.StringVar(&o.kind, "kind", "cpu", "cpu, gpu or browser")
	f.IntVar(&o.capacity, "capacity", 4, "jobs executed at once")
	f.StringVar(&o.endpoint, "endpoint", "", "URL where the miner is reachable (http, https, ws or wss), optional")
	f.BoolVar(&o.warm, "warm", true, "compile the system contracts (the IDChain) at start, so the first call to them does not wait seconds")
	// --fault is test only: fault injection for the market's process tests
	// (internal/node/market_proc_test.go). Hidden from the help.
	f.StringVar(&o.fault, "fault", "", "test only: fault injection for the market's process tests: wrong (corrupt every result) or copy (copy others' reveals)")
	_ = f.MarkHidden("fault")
}

// runMiner is `vm miner --key NAME --min-gas N ...`: it runs the compute
// miner agent against --node until ctx ends (SIGINT or SIGTERM), then
// prints its counters. Without --key it prints the group's help.
func (g *globals) runMiner(cmd *cobra.Command, o minerRunFlags) error {
	if o.key == "" && !cmd.Flags().Changed("min-gas") {
		return cmd.Help()
	}
	if o.key == "" || o.minGas == "" {
		return errors.New("running the miner needs --key and --min-gas (or use a subcommand)")
	}
	gas, err := parseMinGas(o.minGas)
	if err != nil {
		return err
	}
	if o.capacity < 1 || o.capacity > tx.MaxMinerCapacity {
		return fmt.Errorf("--capacity %d: want 1..%d", o.capacity, tx.MaxMinerCapacity)
	}
	var wrong, copying bool
	switch o.fault {
	case "":
	case "wrong":
		wrong = true
	case "copy":
		copying = true
	default:
		return fmt.Errorf("--fault %q: want wrong or copy", o.fault)
	}
	key, err := g.loadKey(o.key)
	if err != nil {
		return err
	}
	log, err := g.logger()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	a, err := startAgent(ctx, miner.Config{Client: g.client(), Key: key, MinGas: gas, Kind: o.kind, Capacity: o.capacity,
		Endpoint: o.endpoint, SoftwareVersion: minerVersion(), Logger: log, WrongResult: wrong, Copy: copying,
		Warm: warmList(o.warm)})
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stderr, "Miner %s mining on %s (kind %s, capacity %d, min gas %d). Press Ctrl-C to stop.\n",
		a.Address(), g.node, o.kind, o.capacity, gas)
	<-ctx.Done()
	fmt.Fprintln(g.stderr, "Stopping…")
	err = stopAgent(a)
	s := a.Stats()
	if perr := g.print(s, func(w io.Writer) {
		fmt.Fprintf(w, "taken: %d  executed: %d  results: %d  seals: %d  reveals: %d  refused: %d  txs: %d\n",
			s.Taken, s.Executed, s.Results, s.Seals, s.Reveals, s.Refused, s.Txs)
	}); err == nil {
		err = perr
	}
	return err
}

// startAgent builds and starts an agent.
func startAgent(ctx context.Context, cfg miner.Config) (*miner.Agent, error) {
	a, err := miner.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := a.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the miner: %w", err)
	}
	return a, nil
}

// stopAgent stops a within minerStopTimeout.
func stopAgent(a *miner.Agent) error {
	ctx, cancel := context.WithTimeout(context.Background(), minerStopTimeout)
	defer cancel()
	return a.Close(ctx)
}

// minerVersion is the software version the agent announces.
func minerVersion() string { return "vm-miner/" + miner.SoftwareVersion }

// devnetMinerKey returns the built-in miner's key in home, creating it
// (and the home) when absent; created reports a new key.
func devnetMinerKey(home string) (key crypto.PrivKey, created bool, err error) {
	path := filepath.Join(home, DevnetMinerKeyFile)
	b, err := os.ReadFile(filepath.Clean(path))
	if err == nil {
		seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		k, err := crypto.KeyFromSeed(seed)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	k, err := crypto.GenerateKey(nil)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(k.Seed())+"\n"), 0o600); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// startDevnetMiner runs the built-in miner of a devnet against url: the
// devnet's key, minimum GAS 0, capacity given. It talks to the node over
// loopback HTTP like any other miner. A key below devnetMinerLow GAS (a
// home created before the built-in miner existed, or a miner that spent
// its genesis funds on fees) first asks the devnet faucet for
// DefaultFaucetAmount.
func startDevnetMiner(ctx context.Context, url string, key crypto.PrivKey, capacity int, warm bool, log *slog.Logger) (*miner.Agent, error) {
	c := client.New(url)
	acc, err := c.AccountNoProof(ctx, key.Address(), 0)
	if err != nil {
		return nil, err
	}
	if bal, err := strconv.ParseUint(acc.Balance, 10, 64); err != nil || bal < devnetMinerLow {
		addr := key.Address()
		msg := &txpb.Msg{Sum: &txpb.Msg_Faucet{Faucet: &txpb.Faucet{To: addr[:], Amount: DefaultFaucetAmount}}}
		if r, err := c.Send(ctx, key, []*txpb.Msg{msg}, 0, true); err != nil {
			return nil, fmt.Errorf("funding the built-in miner from the faucet: %+v: %w", r, err)
		}
	}
	return startAgent(ctx, miner.Config{Client: c, Key: key, Kind: "cpu", Capacity: capacity,
		SoftwareVersion: minerVersion(), Logger: log.With("module", "miner"), Warm: warmList(warm)})
}

// warmList is the agent's Warm list for --warm.
func warmList(warm bool) []string {
	if !warm {
		return nil
	}
	return miner.WarmSystem()
}

// devnetMinerLow is the balance under which the built-in miner asks the
// faucet for GAS before it starts.
const devnetMinerLow = 10_000
