package cli

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/bench"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/miner"
	"github.com/virtual-machine/vm/internal/node"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// benchCallsReport is the JSON output of vm bench calls.
type benchCallsReport struct {
	Miners    int               `json:"miners"`
	Capacity  int               `json:"capacity"`
	Transfers bench.Result      `json:"transfers"` // the baseline, same node, same accounts
	Calls     bench.CallsResult `json:"calls"`
	MinerRuns []miner.Stats     `json:"miner_stats"`
	// MinerRecords are the miners' registry records after the run: what
	// the chain counted (taken, agreed, disagreed, timed out, earned).
	MinerRecords []apitype.Miner `json:"miner_records"`
	Spec         bench.CallSpec  `json:"spec"`
	// Ratio is settled calls/s over committed transfers/s.
	Ratio          float64 `json:"ratio"`
	SustainedRatio float64 `json:"sustained_ratio"`
	// Location is `vm bench ids`' read side: GET /v1/ids/{id} of created
	// IDs, verified, one at a time after the run.
	Location *latency `json:"location,omitempty"`
}

func newBenchCallsCmd(g *globals) *cobra.Command {
	var (
		cfg      bench.Config
		spec     = bench.CallSpec{Contract: "echo@^1", Fn: "echo", GasLimit: 100_000, Price: 1, Reward: 10, Replicas: 1, Quorum: 1, Deadline: 50}
		miners   int
		capacity int
		wait     time.Duration
		profile  string
		memProf  string
		memo     bool
	)
	cmd := &cobra.Command{
		Use:   "calls",
		Short: "Submit contract calls to a devnet with miners and report settled calls/s and latency",
		Long: "calls starts a devnet node in this process whose genesis funds --accounts deterministic\n" +
			"accounts and --miners miner accounts, deploys the bench's small contract (echo, a few hundred\n" +
			"bytes of hand-assembled WebAssembly using the host ABI), and starts --miners miner agents in\n" +
			"this process (each like `vm miner`, talking to the API over loopback). It then runs the\n" +
			"baseline, --n plain signed transfers, and the calls: --n Requests with distinct inputs (so no\n" +
			"memo answers them), submitted like `vm bench transfers`, each followed on the block stream\n" +
			"to its result_committed event. It reports settled calls/s, submit → result latency p50/p99\n" +
			"and the ratio to the transfers.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if memProf != "" {
				runtime.MemProfileRate = 64 << 10
				defer func() {
					if err := writeAllocProfile(memProf); err != nil {
						fmt.Fprintln(g.stderr, "bench: memory profile:", err)
					}
				}()
			}
			if memo {
				spec.Input = []byte(`{"memo":true}`)
			}
			run := benchRun{cfg: cfg, spec: spec, miners: miners, capacity: capacity, wait: wait, profile: profile}
			return g.runBench(cmd.Context(), run, func(w io.Writer, rep benchCallsReport) {
				fmt.Fprintf(w, "ratio calls/transfers: %.3f overall, %.3f sustained (%d miners × capacity %d, replicas %d quorum %d)\n",
					rep.Ratio, rep.SustainedRatio, rep.Miners, rep.Capacity, spec.Replicas, spec.Quorum)
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.N, "n", 20_000, "calls (and baseline transfers) to submit")
	f.IntVar(&cfg.Accounts, "accounts", 500, "requesting accounts")
	f.IntVar(&cfg.Concurrency, "concurrency", bench.DefaultConcurrency, "submitters, each with one batch in flight")
	f.IntVar(&cfg.Batch, "batch", bench.DefaultBatch, "transactions per request (1..10000)")
	f.BoolVar(&memo, "memo", false, "every call has the same input: one warm-up call settles through a miner first, then every call is a memo hit")
	f.Float64Var(&cfg.Rate, "rate", 0, "pace the calls to about this many per second (0 = as fast as answers come); the baseline transfers are never paced")
	f.IntVar(&miners, "miners", 1, "miner agents to run in this process")
	f.IntVar(&capacity, "capacity", runtime.NumCPU(), "each miner's capacity (requests executed at once)")
	f.Uint32Var(&spec.Replicas, "replicas", 1, "replicas k of each call")
	f.Uint32Var(&spec.Quorum, "quorum", 1, "quorum q of each call")
	f.Uint64Var(&spec.Reward, "reward", 10, "reward of each call")
	f.Uint64Var(&spec.GasLimit, "gas", 100_000, "gas limit of each call")
	f.StringVar(&profile, "cpuprofile", "", "write this process's CPU profile (node, miners and load generator) during the calls to this file")
	f.StringVar(&memProf, "memprofile", "", "write this process's allocation profile (since start; node, miners and load generator) to this file")
	f.DurationVar(&wait, "wait", 2*time.Minute, "after the last submission, how long to wait for results")
	return cmd
}

// benchRun is one `vm bench calls` or `vm bench ids` run.
type benchRun struct {
	cfg              bench.Config
	spec             bench.CallSpec
	miners, capacity int
	wait             time.Duration
	ids              bool   // ID creations instead of echo calls
	profile          string // CPU profile file, if any
}

// runBench is what the two commands share: the flags' checks, the CPU
// profile, the run, its report (the baseline, the calls, then text's
// lines) and an error when an included call did not settle.
func (g *globals) runBench(ctx context.Context, r benchRun, text func(w io.Writer, rep benchCallsReport)) error {
	if r.miners < 1 || r.capacity < 1 {
		return fmt.Errorf("--miners and --capacity must be at least 1")
	}
	rep, err := g.benchCalls(ctx, r)
	if err != nil {
		return err
	}
	err = g.print(rep, func(w io.Writer) {
		fmt.Fprint(w, rep.Transfers)
		fmt.Fprintln(w, rep.Calls)
		text(w, rep)
	})
	if err == nil && rep.Calls.Settled < rep.Calls.Submit.Committed {
		return fmt.Errorf("%d of %d included calls did not settle (%d expired, %d missing)",
			rep.Calls.Submit.Committed-rep.Calls.Settled, rep.Calls.Submit.Committed, rep.Calls.Expired, rep.Calls.Missing)
	}
	return err
}

// benchCalls runs the baseline and the calls against one in-process devnet.
// The CPU profile (r.profile) covers the calls only: not the start, the
// baseline or the warm-up (which compiles the IDChain).
func (g *globals) benchCalls(ctx context.Context, r benchRun) (benchCallsReport, error) {
	cfg, spec, nMiners, capacity, wait, ids := r.cfg, r.spec, r.miners, r.capacity, r.wait, r.ids
	rep := benchCallsReport{Miners: nMiners, Capacity: capacity, Spec: spec}
	keys := bench.Keys(cfg.Accounts + nMiners + 1)
	reqKeys, minerKeys, deployer := keys[:cfg.Accounts], keys[cfg.Accounts:cfg.Accounts+nMiners], keys[len(keys)-1]
	home, err := os.MkdirTemp("", "vm-bench-calls-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(home)
	funds := make([]node.Balance, len(keys))
	for i, k := range keys {
		funds[i] = node.Balance{Address: k.Address(), Amount: benchGenesisBalance}
	}
	if _, err := node.InitDevnetFunded(home, 0, funds); err != nil {
		return rep, err
	}
	url, stop, err := startBenchNode(ctx, home, false, "")
	if err != nil {
		return rep, err
	}
	defer func() {
		if err := stop(); err != nil {
			fmt.Fprintln(g.stderr, "bench: stopping the node:", err)
		}
	}()
	c := client.New(url, client.WithTimeout(2*time.Minute), client.WithWaitTimeout(5*time.Minute))
	st, err := c.Status(ctx)
	if err != nil {
		return rep, err
	}
	cfg.ChainID = st.ChainID
	if !ids {
		fmt.Fprintln(g.stderr, "bench: deploying echo@1.0.0 and starting the miners…")
		d := &txpb.Deploy{Name: "echo", Version: "1.0.0", Code: bench.EchoContract()}
		fee, err := deployFee(st, d, "")
		if err != nil {
			return rep, err
		}
		if r, err := c.Send(ctx, deployer, []*txpb.Msg{{Sum: &txpb.Msg_Deploy{Deploy: d}}}, fee, true); err != nil {
			return rep, fmt.Errorf("deploy: %+v: %w", r, err)
		}
	}
	agents, err := startBenchMiners(ctx, c, minerKeys, capacity)
	defer func() {
		for _, a := range agents {
			if err := stopAgent(a); err != nil {
				fmt.Fprintln(g.stderr, "bench: stopping a miner:", err)
			}
		}
	}()
	if err != nil {
		return rep, err
	}

	fmt.Fprintf(g.stderr, "bench: baseline: %d transfers…\n", cfg.N)
	tcfg := cfg
	tcfg.Rate = 0
	tplan, err := bench.Sign(tcfg, reqKeys, nil)
	if err != nil {
		return rep, err
	}
	if rep.Transfers, err = bench.Run(ctx, c, tplan); err != nil {
		return rep, err
	}
	rep.Transfers.Label = "transfers (baseline)"
	start := make([]uint64, len(reqKeys))
	for i := range start {
		start[i] = uint64(cfg.Count(i))
	}
	if spec.Input != nil || ids { // the warm-up call that leaves the memo, or compiles the IDChain
		in := spec.Input
		if ids {
			in = idCreateInput(deployer, "bench-warm-up")
			spec.Inputs = func(a, r int) []byte { return idCreateInput(reqKeys[a], fmt.Sprintf("id-%d-%d", a, r)) }
		}
		warm := &txpb.Request{Contract: spec.Contract, Fn: spec.Fn, Input: in, GasLimit: spec.GasLimit, Price: spec.Price,
			Reward: spec.Reward, Replicas: spec.Replicas, Quorum: spec.Quorum, Deadline: spec.Deadline}
		fee, err := idFeeOf(st, spec.Fn, ids)
		if err != nil {
			return rep, err
		}
		if err := warmUp(ctx, c, deployer, warm, fee); err != nil {
			return rep, err
		}
		cfg.Fee = fee
	}
	cfg.Call = &spec
	fmt.Fprintf(g.stderr, "bench: %d calls of %s.%s…\n", cfg.N, spec.Contract, spec.Fn)
	plan, err := bench.Sign(cfg, reqKeys, start)
	if err != nil {
		return rep, err
	}
	if r.profile != "" {
		stop, err := startCPUProfile(r.profile)
		if err != nil {
			return rep, err
		}
		rep.Calls, err = bench.RunCalls(ctx, c, plan, wait)
		stop()
		if err != nil {
			return rep, err
		}
	} else if rep.Calls, err = bench.RunCalls(ctx, c, plan, wait); err != nil {
		return rep, err
	}
	for _, a := range agents {
		rep.MinerRuns = append(rep.MinerRuns, a.Stats())
		m, err := c.Miner(ctx, a.Address(), 0)
		if err != nil {
			return rep, err
		}
		m.Location = nil
		rep.MinerRecords = append(rep.MinerRecords, m)
	}
	if ids {
		if rep.Location, err = sampleLocations(ctx, c, len(reqKeys), cfg); err != nil {
			return rep, err
		}
	}
	if t := rep.Transfers; t.TxPerSec > 0 && t.SustainedTxPerSec > 0 {
		rep.Ratio = rep.Calls.CallsPerSec / t.TxPerSec
		rep.SustainedRatio = rep.Calls.SustainedCallsPerSec / t.SustainedTxPerSec
	}
	return rep, nil
}

// writeAllocProfile writes the process's allocation profile to path.
func writeAllocProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startBenchMiners starts one agent per key (capacity each, minimum GAS 0)
// and returns those that started.
func startBenchMiners(ctx context.Context, c *client.Client, keys []crypto.PrivKey, capacity int) ([]*miner.Agent, error) {
	var out []*miner.Agent
	for _, k := range keys {
		a, err := startAgent(ctx, miner.Config{Client: c, Key: k, Kind: "cpu", Capacity: capacity, SoftwareVersion: minerVersion()})
		if err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}

// warmUp sends req from key (paying fee) and waits (up to a minute) until it settles.
func warmUp(ctx context.Context, c *client.Client, key crypto.PrivKey, req *txpb.Request, fee uint64) error {
	r, err := c.Send(ctx, key, []*txpb.Msg{{Sum: &txpb.Msg_Request{Request: req}}}, fee, true)
	if err != nil {
		return fmt.Errorf("warm-up call: %+v: %w", r, err)
	}
	h, err := tx.ParseHash(r.Hash)
	if err != nil {
		return err
	}
	id := market.RequestID(h, 0)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if _, err := c.Result(ctx, hex.EncodeToString(id[:]), 0); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the warm-up call %x did not settle within a minute", id)
}
