package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/bench"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/node"
)

// Bench run modes.
const (
	benchSpawn     = "spawn"      // the node is a child `vm bench serve` process
	benchInProcess = "in-process" // the node runs in this process
	benchRemote    = "remote"     // --node: a running node
)

// benchGenesisBalance is each bench account's genesis balance.
const benchGenesisBalance = 1 << 40

// benchSpawnWait bounds a spawned node's start.
const benchSpawnWait = 60 * time.Second

// benchReport is the JSON output of vm bench transfers.
type benchReport struct {
	Mode     string        `json:"mode"`
	Ledger   bench.Result  `json:"ledger"`
	Baseline *bench.Result `json:"baseline,omitempty"`
	// Ratio is the ledger's committed tx/s over the baseline's (overall).
	Ratio float64 `json:"ratio,omitempty"`
	// SustainedRatio is the same for the sustained rates.
	SustainedRatio float64 `json:"sustained_ratio,omitempty"`
}

func newBenchCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load generators that measure a node",
	}
	cmd.AddCommand(newBenchTransfersCmd(g), newBenchCallsCmd(g), newBenchIDsCmd(g), newBenchServeCmd(g))
	return cmd
}

func newBenchTransfersCmd(g *globals) *cobra.Command {
	var (
		cfg       bench.Config
		inProcess bool
		baseline  bool
		timeout   time.Duration
		profile   string
		events    eventsMode
	)
	cmd := &cobra.Command{
		Use:   "transfers",
		Short: "Submit signed transfers and report committed tx/s, latency and peak RSS",
		Long: "transfers pre-signs --n transfers from --accounts deterministic accounts (account i pays\n" +
			"account i+1), submits them --batch at a time from --concurrency submitters with\n" +
			"POST /v1/txs:batch?wait=commit, and reports committed tx/s (whole run and the steady\n" +
			"10–90 % window), submit→commit latency p50/p99 and the node's peak RSS.\n\n" +
			"Without --node it starts a devnet node in a temporary home whose genesis funds the\n" +
			"accounts: by default as a child process (`vm bench serve`), so the RSS is the node's\n" +
			"alone; with --in-process in this process (RSS then includes the load generator).\n" +
			"--baseline first runs the same load against the same chain with an app that only\n" +
			"verifies signatures, and prints the ratio. With --node it measures a running devnet,\n" +
			"funding the accounts from the faucet first (not measured); its RSS is not reported.\n" +
			"After a ledger run every account's balance and nonce are checked.\n\n" +
			"--events also follows GET /v1/events during the ledger run and reports the tx events\n" +
			"received against the transfers committed, whether the server dropped the reader, and\n" +
			"the stream's lag (block time → arrival of the block's last tx event); --events-batch\n" +
			"does the same reading one message per block (?batch=block).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			mode := benchSpawn
			switch {
			case cmd.Flag("node").Changed && inProcess:
				return fmt.Errorf("--node and --in-process exclude each other")
			case cmd.Flag("node").Changed:
				mode = benchRemote
			case inProcess:
				mode = benchInProcess
			}
			if mode == benchRemote && baseline {
				return fmt.Errorf("--baseline needs a node this command starts itself (leave out --node)")
			}
			cfg.ChainID = node.DevnetChainID
			if _, err := cfg.Validate(); err != nil {
				return err
			}
			rep := benchReport{Mode: mode}
			if baseline {
				r, err := g.benchOnce(ctx, mode, cfg, true, "", eventsMode{})
				if err != nil {
					return fmt.Errorf("baseline: %w", err)
				}
				rep.Baseline = &r
			}
			if profile != "" && mode == benchRemote {
				return fmt.Errorf("--cpuprofile needs a node this command starts itself (leave out --node)")
			}
			r, err := g.benchOnce(ctx, mode, cfg, false, profile, events)
			if err != nil {
				return err
			}
			rep.Ledger = r
			if b := rep.Baseline; b != nil && b.TxPerSec > 0 && b.SustainedTxPerSec > 0 {
				rep.Ratio = r.TxPerSec / b.TxPerSec
				rep.SustainedRatio = r.SustainedTxPerSec / b.SustainedTxPerSec
			}
			err = g.print(rep, func(w io.Writer) {
				if rep.Baseline != nil {
					fmt.Fprint(w, rep.Baseline)
				}
				fmt.Fprint(w, rep.Ledger)
				if rep.Baseline != nil {
					fmt.Fprintf(w, "ratio ledger/baseline: %.2f overall, %.2f sustained\n", rep.Ratio, rep.SustainedRatio)
				}
			})
			if err == nil && r.Failed > 0 {
				return fmt.Errorf("%d of %d transfers did not commit (%s)", r.Failed, r.N, r.FailureSummary())
			}
			if e := r.Events; err == nil && e != nil && (e.Dropped || e.Received < e.Expected) {
				return fmt.Errorf("event stream: %d of %d tx events received (dropped: %v)", e.Received, e.Expected, e.Dropped)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.N, "n", 100_000, "transfers to submit")
	f.IntVar(&cfg.Accounts, "accounts", 1000, "sending accounts")
	f.IntVar(&cfg.Concurrency, "concurrency", bench.DefaultConcurrency, "submitters, each with one batch in flight")
	f.IntVar(&cfg.Batch, "batch", bench.DefaultBatch, "transfers per request (1..10000)")
	f.BoolVar(&inProcess, "in-process", false, "run the node in this process instead of a child process")
	f.BoolVar(&baseline, "baseline", false, "also run the signature-only baseline app first and print the ratio")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long (0 = no limit)")
	f.BoolVar(&events.on, "events", false, "also follow GET /v1/events during the ledger run and report events received and lag")
	f.BoolVar(&events.batch, "events-batch", false, "like --events, reading one message per block (?batch=block)")
	f.StringVar(&profile, "cpuprofile", "", "write the CPU profile of the ledger run's node to this file\n"+
		"(with --in-process: of this whole process, load generator included)")
	return cmd
}

// benchOnce runs one load against a node of the given mode and reports.
// profile, when set, receives the CPU profile of the node.
func (g *globals) benchOnce(ctx context.Context, mode string, cfg bench.Config, baseline bool, profile string, events eventsMode) (bench.Result, error) {
	label := "ledger"
	if baseline {
		label = "baseline (signature-only app)"
	}
	fmt.Fprintf(g.stderr, "bench: %s: preparing %d accounts…\n", label, cfg.Accounts)
	keys := bench.Keys(cfg.Accounts)
	var (
		url     string
		pid     int
		rssFrom string
		startMS float64
	)
	if mode == benchRemote {
		url = g.node
	} else {
		home, err := os.MkdirTemp("", "vm-bench-")
		if err != nil {
			return bench.Result{}, err
		}
		defer os.RemoveAll(home)
		funds := make([]node.Balance, len(keys))
		for i, k := range keys {
			funds[i] = node.Balance{Address: k.Address(), Amount: benchGenesisBalance}
		}
		if _, err := node.InitDevnetFunded(home, 0, funds); err != nil {
			return bench.Result{}, err
		}
		t0 := time.Now()
		var stop func() error
		if mode == benchInProcess {
			url, stop, err = startBenchNode(ctx, home, baseline, profile)
			pid, rssFrom = os.Getpid(), "this process: node and load generator"
		} else {
			url, pid, stop, err = spawnBenchNode(ctx, home, baseline, profile, g.stderr)
			rssFrom = fmt.Sprintf("node process %d only", pid)
		}
		if err != nil {
			return bench.Result{}, err
		}
		startMS = float64(time.Since(t0).Microseconds()) / 1000
		defer func() {
			if err := stop(); err != nil {
				fmt.Fprintln(g.stderr, "bench: stopping the node:", err)
			}
		}()
	}
	c := client.New(url, client.WithTimeout(2*time.Minute), client.WithWaitTimeout(5*time.Minute))
	st, err := c.Status(ctx)
	if err != nil {
		return bench.Result{}, err
	}
	cfg.ChainID = st.ChainID
	var before []bench.Balance
	var start []uint64
	if !baseline {
		if before, err = bench.Snapshot(ctx, c, keys, 32); err != nil {
			return bench.Result{}, err
		}
		if mode == benchRemote {
			if !st.FaucetEnabled {
				return bench.Result{}, fmt.Errorf("the node at %s has no faucet to fund the bench accounts", url)
			}
			cfg, _ = cfg.Validate()
			fmt.Fprintf(g.stderr, "bench: funding %d accounts from the faucet…\n", cfg.Accounts)
			if start, err = bench.Fund(ctx, c, st.ChainID, keys, before, cfg.Need, cfg.Batch); err != nil {
				return bench.Result{}, err
			}
			if before, err = bench.Snapshot(ctx, c, keys, 32); err != nil {
				return bench.Result{}, err
			}
		}
	}
	fmt.Fprintf(g.stderr, "bench: %s: signing %d transfers…\n", label, cfg.N)
	plan, err := bench.Sign(cfg, keys, start)
	if err != nil {
		return bench.Result{}, err
	}
	if pid != 0 {
		_ = bench.ResetPeakRSS(pid) // best effort: the peak then covers this run only
	}
	var follower *bench.Follower
	if events.on || events.batch {
		if follower, err = bench.Follow(ctx, c, plan, events.batch); err != nil {
			return bench.Result{}, err
		}
	}
	fmt.Fprintf(g.stderr, "bench: %s: submitting…\n", label)
	res, err := bench.Run(ctx, c, plan)
	runEnd := time.Now()
	if follower != nil {
		grace := eventsGrace
		if err != nil {
			grace = 0 // the run failed: report what arrived, do not wait
		}
		e := follower.Wait(res, runEnd, grace)
		res.Events = &e
	}
	if err != nil {
		return res, err
	}
	res.Label, res.RSSSource, res.NodeStartMS = label, rssFrom, startMS
	if pid != 0 {
		if res.PeakRSSBytes, err = bench.PeakRSS(pid); err != nil {
			res.RSSSource = err.Error()
		}
	}
	if !baseline {
		after, err := bench.Snapshot(ctx, c, keys, 32)
		if err != nil {
			return res, err
		}
		if err := plan.Check(before, after); err != nil {
			return res, fmt.Errorf("%w (%d of %d transfers failed: %s; first failure: %s)", err, res.Failed, res.N, res.FailureSummary(), res.FirstFailure)
		}
		res.Checked = true
	}
	return res, nil
}

// eventsMode is the --events and --events-batch flags.
type eventsMode struct{ on, batch bool }

// eventsGrace is how long a run with --events waits, after the last
// commit answer, for the event stream to deliver the rest.
const eventsGrace = 30 * time.Second

// startBenchNode starts a devnet node from home in this process.
func startBenchNode(ctx context.Context, home string, baseline bool, profile string) (url string, stop func() error, err error) {
	cfg := node.Default()
	cfg.Home, cfg.HTTPAddr, cfg.CometMetrics, cfg.Baseline = home, "127.0.0.1:0", false, baseline
	n, err := node.New(cfg)
	if err != nil {
		return "", nil, err
	}
	if err := n.Start(ctx); err != nil {
		return "", nil, err
	}
	stopProfile := func() {}
	if profile != "" {
		if stopProfile, err = startCPUProfile(profile); err != nil {
			_ = n.Close(context.Background())
			return "", nil, err
		}
	}
	return n.URL(), func() error {
		stopProfile()
		return n.Close(context.Background())
	}, nil
}

// startCPUProfile starts the process's CPU profile into path; the
// returned func stops it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// spawnBenchNode runs `<this executable> bench serve` on home and waits
// for the line announcing its API. stop interrupts it and waits.
func spawnBenchNode(ctx context.Context, home string, baseline bool, profile string, stderr io.Writer) (url string, pid int, stop func() error, err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", 0, nil, err
	}
	args := []string{"bench", "serve", "--home", home, "--log-level", "warn"}
	if baseline {
		args = append(args, "--baseline")
	}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop = func() error {
		_ = cmd.Process.Signal(os.Interrupt)
		return cmd.Wait()
	}
	found := make(chan string, 1)
	go func() { // ends when the child closes stdout (exits)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), benchServeAPI); ok {
				found <- strings.TrimSpace(u)
			}
		}
		close(found)
	}()
	timer := time.NewTimer(benchSpawnWait)
	defer timer.Stop()
	select {
	case u, ok := <-found:
		if ok {
			return u, cmd.Process.Pid, stop, nil
		}
		err = fmt.Errorf("%s bench serve exited before announcing its API", exe)
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = fmt.Errorf("%s bench serve did not start within %s", exe, benchSpawnWait)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return "", 0, nil, err
}

// benchServeAPI prefixes the line where `vm bench serve` announces its API.
const benchServeAPI = "API: "

func newBenchServeCmd(g *globals) *cobra.Command {
	var (
		baseline bool
		profile  string
	)
	cmd := &cobra.Command{
		Use:    "serve",
		Short:  "Run the node of --home for vm bench (on a free loopback port)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := node.Default()
			cfg.Home, cfg.HTTPAddr, cfg.Baseline = g.home, "127.0.0.1:0", baseline
			if profile != "" {
				stop, err := startCPUProfile(profile)
				if err != nil {
					return err
				}
				defer stop()
			}
			return g.runNode(cmd.Context(), cfg, func(n *node.Node) {
				fmt.Fprintf(g.stdout, "%s%s\n", benchServeAPI, n.URL())
			})
		},
	}
	cmd.Flags().BoolVar(&baseline, "baseline", false, "run the signature-only app instead of the ledger")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write the node's CPU profile to this file")
	return cmd
}
