package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// minerRegisterView is `vm miner register --output json`: the committed
// transaction and the record it left.
type minerRegisterView struct {
	Hash   string         `json:"hash"`
	Height int64          `json:"height"`
	Fee    string         `json:"fee"` // GAS paid
	Miner  *apitype.Miner `json:"miner"`
}

// verifiedMiner is `vm miner show --output json`.
type verifiedMiner struct {
	apitype.Miner
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"`
}

// newMinerCmd is the miner command group. Without a subcommand it runs
// the compute miner agent (miner_run.go) when given --key, and prints its
// help otherwise.
func newMinerCmd(g *globals) *cobra.Command {
	var run minerRunFlags
	cmd := &cobra.Command{
		Use:   "miner [--key NAME --min-gas N [--kind K] [--capacity N] [--endpoint URL]]",
		Short: "Run the compute miner agent; register a miner and read the miner registry",
		Long: "A miner is identified by the address of the key that registers it. Registration and updates\n" +
			"are signed transactions paying the chain's min_fee.\n\n" +
			"`vm miner --key NAME --min-gas N` runs the compute miner agent against --node until Ctrl-C:\n" +
			"it registers the key (or updates its registration) with these attributes, takes open requests\n" +
			"whose offer is at least --min-gas GAS while it has free capacity, runs them in the metered\n" +
			"sandbox against the state at each request's start height, and posts the results (quorum 1),\n" +
			"or seals and then reveals them, paying the chain's min_fee per batch of messages.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.runMiner(cmd, run) },
	}
	addMinerRunFlags(cmd, &run)
	cmd.AddCommand(newMinerRegisterCmd(g), newMinerShowCmd(g), newMinerListCmd(g))
	return cmd
}

func newMinerRegisterCmd(g *globals) *cobra.Command {
	var keyName, minGas, kind, endpoint, version, fee string
	var capacity int
	var inactive bool
	cmd := &cobra.Command{
		Use:   "register --key NAME --min-gas N [--kind K] [--capacity N] [--endpoint URL] [--version V]",
		Short: "Register the key's address as a miner, or update its registration",
		Long: "Records (or replaces) the miner's attributes on the chain: its kind (" + strings.Join(tx.MinerKinds(), ", ") + "),\n" +
			"how many jobs it runs at once (1.." + strconv.Itoa(tx.MaxMinerCapacity) + "), the least GAS per job it accepts, an optional\n" +
			"reachability URL (http, https, ws or wss) and software version. Registering again replaces ALL\n" +
			"the attributes (a flag left out takes its default: an endpoint not given is cleared) and never\n" +
			"resets the counters (jobs, agreements, earnings). --inactive leaves: the record stays listed\n" +
			"but the miner is not offered work; register again without it to rejoin.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			gas, err := parseMinGas(minGas)
			if err != nil {
				return err
			}
			if capacity < 1 || capacity > tx.MaxMinerCapacity {
				return fmt.Errorf("--capacity %d: want 1..%d", capacity, tx.MaxMinerCapacity)
			}
			m := &txpb.MinerRegister{Kind: kind, Capacity: uint32(capacity), Endpoint: endpoint, MinGas: gas,
				SoftwareVersion: version, Active: !inactive}
			if err := tx.ValidateMinerRegister(m); err != nil {
				return err
			}
			key, err := g.loadKey(keyName)
			if err != nil {
				return err
			}
			ctx, c := cmd.Context(), g.client()
			f, err := minFee(ctx, c, fee)
			if err != nil {
				return err
			}
			return g.registerMiner(ctx, c, key, &txpb.Msg{Sum: &txpb.Msg_MinerRegister{MinerRegister: m}}, f)
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyName, "key", "", "key (in the keystore) whose address is the miner")
	f.StringVar(&minGas, "min-gas", "", "the least GAS per job the miner accepts (0 = any)")
	f.StringVar(&kind, "kind", "cpu", "cpu, gpu, storage, browser or relay")
	f.IntVar(&capacity, "capacity", 1, "jobs run at once")
	f.StringVar(&endpoint, "endpoint", "", "URL where the miner is reachable (http, https, ws or wss), optional")
	f.StringVar(&version, "version", "", "software version to announce, optional")
	f.BoolVar(&inactive, "inactive", false, "leave: stay listed but take no work")
	f.StringVar(&fee, "fee", "", "fee in GAS (default: the chain's min_fee)")
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("min-gas")
	return cmd
}

// registerMiner submits the registration, waits for its block and prints
// the record as of that block. A refused tx prints its result and fails
// with the ledger's message.
func (g *globals) registerMiner(ctx context.Context, c *client.Client, key crypto.PrivKey, msg *txpb.Msg, fee uint64) error {
	res, err := g.commitTx(ctx, c, key, msg, fee)
	if err != nil {
		return err
	}
	v := minerRegisterView{Hash: res.Hash, Height: res.Height, Fee: strconv.FormatUint(fee, 10)}
	mi, err := c.MinerNoProof(ctx, key.Address(), res.Height)
	if err != nil {
		return fmt.Errorf("committed in block %d (tx %s), but reading the record failed: %w", res.Height, res.Hash, err)
	}
	v.Miner = &mi
	return g.print(v, func(w io.Writer) {
		fmt.Fprintf(w, "tx:           %s\nheight:       %d\nfee:          %s GAS\n", v.Hash, v.Height, v.Fee)
		printMiner(w, v.Miner)
	})
}

func newMinerShowCmd(g *globals) *cobra.Command {
	var height int64
	var noVerify bool
	var keyName string
	cmd := &cobra.Command{
		Use:   "show [NAME|ADDRESS] [--key NAME]",
		Short: "Show a miner's attributes and counters, verified",
		Long: "NAME is a key in the keystore (its address is the miner); otherwise give the 40-hex-digit\n" +
			"address; without an argument, --key names the key. The answer's location (an ICS23 proof) is\n" +
			"checked to be about this miner's record and these values, to verify, and to match the app\n" +
			"hash in a block header; the command exits with status 2 when it does not.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if height < 0 {
				return fmt.Errorf("--height %d: want 0 (latest) or a positive height", height)
			}
			who := keyName
			switch {
			case len(args) == 1 && keyName != "":
				return errors.New("give NAME|ADDRESS or --key, not both")
			case len(args) == 1:
				who = args[0]
			case keyName == "":
				return errors.New("which miner? give NAME|ADDRESS or --key NAME")
			}
			addr, _, err := g.resolve(who)
			if err != nil {
				return err
			}
			ctx, c := cmd.Context(), g.client()
			mi, err := c.Miner(ctx, addr, height)
			if err != nil {
				return err
			}
			out := verifiedMiner{Miner: mi}
			var verr error
			if !noVerify {
				if verr = verifyMiner(ctx, c, addr, mi); verr == nil {
					out.Verified = true
				} else {
					out.VerifyError = verr.Error()
				}
			}
			if err := g.print(out, func(w io.Writer) {
				printMiner(w, &out.Miner)
				printVerified(w, noVerify, verr)
			}); err != nil {
				return err
			}
			if !noVerify && verr != nil {
				fmt.Fprintln(g.stderr, "Error: answer not verified:", verr)
				return &exitError{code: exitNotVerified}
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&height, "height", 0, "state height (default latest)")
	cmd.Flags().BoolVar(&noVerify, "no-verify", false, "skip the proof (verified is then false)")
	cmd.Flags().StringVar(&keyName, "key", "", "key (in the keystore) whose address is the miner")
	return cmd
}

func newMinerListCmd(g *globals) *cobra.Command {
	var q apitype.MinerQuery
	cmd := &cobra.Command{
		Use:   "list [--kind K]",
		Short: "List the miner registry, in address order",
		Long: "Lists every registered miner (active or not), of kind K when given. All pages are fetched\n" +
			"unless --limit N asks for the first N only (1..100; --after ADDRESS starts after an address).\n" +
			"--output json prints a JSON array of miners.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if q.Limit < 0 || q.Limit > 100 {
				return fmt.Errorf("--limit %d: want 1..100", q.Limit)
			}
			if q.Kind != "" && !tx.ValidMinerKind(q.Kind) {
				return fmt.Errorf("--kind %q: want one of %s", q.Kind, strings.Join(tx.MinerKinds(), ", "))
			}
			if q.After != "" {
				if _, err := crypto.ParseAddress(q.After); err != nil {
					return fmt.Errorf("--after: %w", err)
				}
			}
			ctx, c := cmd.Context(), g.client()
			all, err := fetchPages(q.Limit, q.After, func(after string) ([]apitype.Miner, string, error) {
				page := q
				page.After = after
				l, err := c.Miners(ctx, page)
				return l.Miners, l.Next, err
			})
			if err != nil {
				return err
			}
			return g.print(all, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ADDRESS\tKIND\tCAPACITY\tMIN_GAS\tACTIVE\tJOBS\tEARNED\tENDPOINT")
				for _, m := range all {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\n", m.Address, m.Kind, m.Capacity, m.MinGas,
						yesNo(m.Active), m.JobsTaken, m.Earned, m.Endpoint)
				}
				tw.Flush()
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Kind, "kind", "", "only miners of this kind")
	f.StringVar(&q.After, "after", "", "only addresses after this one")
	f.IntVar(&q.Limit, "limit", 0, "one page of at most this many (default: every page)")
	return cmd
}

// verifyMiner checks that mi's Location proves the stored record of addr
// with exactly these fields, that the proof verifies, and that a block
// header commits its app hash.
func verifyMiner(ctx context.Context, c *client.Client, addr crypto.Address, mi apitype.Miner) error {
	loc := mi.Location
	if loc == nil {
		return errors.New("the node returned no location")
	}
	if !state.SameKey(loc, state.MinerKey(addr)) || loc.Namespace != state.NamespaceMiners {
		return fmt.Errorf("the location is about key %s in %q, not miner %s", loc.Key, loc.Namespace, addr)
	}
	raw, err := hex.DecodeString(loc.Value)
	if err != nil {
		return fmt.Errorf("location value: %w", err)
	}
	rec, err := state.DecodeMiner(raw)
	if err != nil {
		return err
	}
	answer := mi
	answer.Location = nil
	if err := sameJSON(state.MinerView(rec, mi.Height), answer); err != nil {
		return err
	}
	return verifyLocation(ctx, c, loc, mi.Height)
}

// parseMinGas parses --min-gas: a whole number of GAS, 0 allowed.
func parseMinGas(s string) (uint64, error) {
	if s == "0" {
		return 0, nil
	}
	return parseAmount("--min-gas", s)
}

func printMiner(w io.Writer, m *apitype.Miner) {
	fmt.Fprintf(w, "miner:        %s\nkind:         %s\ncapacity:     %d\nmin_gas:      %s GAS\nactive:       %s\n",
		m.Address, m.Kind, m.Capacity, m.MinGas, yesNo(m.Active))
	if m.Endpoint != "" {
		fmt.Fprintf(w, "endpoint:     %s\n", m.Endpoint)
	}
	if m.SoftwareVersion != "" {
		fmt.Fprintf(w, "software:     %s\n", m.SoftwareVersion)
	}
	fmt.Fprintf(w, "registered:   block %d\nupdated:      block %d\n", m.Registered, m.Updated)
	fmt.Fprintf(w, "jobs_taken:   %d\nagreed:       %d\ndisagreed:    %d\ntimed_out:    %d\nearned:       %s GAS\nheight:       %d\n",
		m.JobsTaken, m.Agreed, m.Disagreed, m.TimedOut, m.Earned, m.Height)
}
