package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/bench"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/idchain"
)

// latency is a sample of one operation's durations, in milliseconds.
type latency struct {
	N     int     `json:"n"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
}

func newBenchIDsCmd(g *globals) *cobra.Command {
	var (
		cfg      bench.Config
		spec     = bench.CallSpec{Contract: idRef, Fn: idchain.FnCreate, GasLimit: 5_000_000, Price: 1, Reward: 10, Replicas: 1, Quorum: 1, Deadline: 500}
		miners   int
		capacity int
		wait     time.Duration
		profile  string
	)
	cmd := &cobra.Command{
		Use:   "ids",
		Short: "Create IDs on a devnet with miners and report settled creations/s and latency",
		Long: "ids is `vm bench calls` with the IDChain: after the same baseline of --n plain transfers, each\n" +
			"of --accounts accounts creates IDs of its own (id-<account>-<i>, --n in total) through the\n" +
			"system contract idchain@^1, run by --miners in-process miner agents, each followed on the block\n" +
			"stream to its result. One warm-up create settles first (the miner compiles the contract). After\n" +
			"the run it reads a sample of the created IDs back, verified, one at a time: the location side\n" +
			"of `vm id create`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			run := benchRun{cfg: cfg, spec: spec, miners: miners, capacity: capacity, wait: wait, ids: true, profile: profile}
			return g.runBench(cmd.Context(), run, func(w io.Writer, rep benchCallsReport) {
				fmt.Fprintf(w, "ratio creations/transfers: %.3f overall, %.3f sustained (%d miners × capacity %d)\n",
					rep.Ratio, rep.SustainedRatio, rep.Miners, rep.Capacity)
				if l := rep.Location; l != nil {
					fmt.Fprintf(w, "location read (GET /v1/ids/{id}, verified, %d IDs): p50 %.1f ms, p99 %.1f ms\n", l.N, l.P50MS, l.P99MS)
				}
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.N, "n", 5_000, "ID creations (and baseline transfers) to submit")
	f.IntVar(&cfg.Accounts, "accounts", 500, "creating accounts")
	f.IntVar(&cfg.Concurrency, "concurrency", bench.DefaultConcurrency, "submitters, each with one batch in flight")
	f.IntVar(&cfg.Batch, "batch", bench.DefaultBatch, "transactions per request (1..10000)")
	f.Float64Var(&cfg.Rate, "rate", 0, "pace the creations to about this many per second (0 = as fast as answers come)")
	f.IntVar(&miners, "miners", 1, "miner agents to run in this process")
	f.IntVar(&capacity, "capacity", runtime.NumCPU(), "each miner's capacity (requests executed at once)")
	f.StringVar(&profile, "cpuprofile", "", "write this process's CPU profile during the creations to this file")
	f.DurationVar(&wait, "wait", 2*time.Minute, "after the last submission, how long to wait for results")
	return cmd
}

// idCreateInput is the input of a create of name bound to key's account.
func idCreateInput(key crypto.PrivKey, name string) []byte {
	b, _ := json.Marshal(idchain.CreateInput{Name: name, PubKey: hex.EncodeToString(key.PubKey())})
	return b
}

// idFeeOf is the fee of a call of fn: min_fee, plus id_create_fee for an
// IDChain create (when ids).
func idFeeOf(st apitype.Status, fn string, ids bool) (uint64, error) {
	fee, err := deployFee(st, nil, "")
	if err != nil {
		return 0, err
	}
	if !ids || fn != idchain.FnCreate || st.IDCreateFee == "" {
		return fee, nil
	}
	extra, err := strconv.ParseUint(st.IDCreateFee, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("node reports id_create_fee %q: %w", st.IDCreateFee, err)
	}
	return fee + extra, nil
}

// locationSample is how many created IDs sampleLocations reads back.
const locationSample = 200

// sampleLocations reads up to locationSample IDs the run created (the
// first of each account's), verified, one at a time.
func sampleLocations(ctx context.Context, c *client.Client, accounts int, cfg bench.Config) (*latency, error) {
	var lats []time.Duration
	for a := 0; a < accounts && len(lats) < locationSample; a++ {
		if cfg.Count(a) == 0 {
			continue
		}
		t0 := time.Now()
		if _, err := c.ID(ctx, fmt.Sprintf("id-%d-0", a), 0); err != nil {
			return nil, err
		}
		lats = append(lats, time.Since(t0))
	}
	if len(lats) == 0 {
		return nil, nil
	}
	slices.Sort(lats)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return &latency{N: len(lats), P50MS: ms(lats[len(lats)/2]), P99MS: ms(lats[min(len(lats)-1, len(lats)*99/100)])}, nil
}
