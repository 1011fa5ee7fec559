package cli

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// maxContractFile bounds a module or input file read by the contract commands.
const maxContractFile = 64 << 20

// exitContractFailed is the exit code of `contract run` when the contract
// ran but did not end with status ok.
const exitContractFailed = 2

// newContractCmd is the contract command group: local runs and metering
// now; deploy and the pool come with the contract registry.
func newContractCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contract",
		Short: "Run, meter and publish WebAssembly contracts",
	}
	cmd.AddCommand(append([]*cobra.Command{newContractRunCmd(g), newContractMeterCmd(g)}, contractChainCmds(g)...)...)
	return cmd
}

// runView is how `contract run` prints a result.
type runView struct {
	Status       wasm.Status  `json:"status"`
	Output       *string      `json:"output,omitempty"`
	OutputBase64 string       `json:"output_base64,omitempty"`
	GasUsed      uint64       `json:"gas_used"`
	ElapsedNS    int64        `json:"elapsed_ns"`
	Error        string       `json:"error,omitempty"`
	Logs         []string     `json:"logs"`
	Events       []wasm.Event `json:"events"`
	ReadSet      []wasm.Read  `json:"read_set"`
	WriteSet     []wasm.Write `json:"write_set"`
	ResultHash   string       `json:"result_hash,omitempty"`
	Metered      bool         `json:"metered"`
	Engine       wasm.Engine  `json:"engine"`
	Contract     string       `json:"contract,omitempty"` // NAME@VERSION run, for a deployed ref
	Steps        []stepView   `json:"steps,omitempty"`    // a composite's steps, in run order
}

func newContractRunCmd(g *globals) *cobra.Command {
	var (
		fn, input, engine, caller, seedHex string
		gas                                uint64
		height, blockTime                  int64
		unmetered                          bool
		timeout                            time.Duration
	)
	cmd := &cobra.Command{
		Use:   "run FILE.wasm|NAME@RANGE --fn NAME",
		Short: "Run a contract function locally, on a module file or a deployed contract",
		Long: "Meters FILE.wasm (unless --unmetered), runs the exported function NAME (no params, no results)\n" +
			"with the given input against an empty in-memory state, and prints the result.\n" +
			"NAME@RANGE instead resolves a deployed contract on --node and runs its metered module (checked\n" +
			"against its CID) against the contract's state on the chain at that height, read through the API\n" +
			"(what a miner does; nothing is written); a composite runs all its pinned steps as one call with one\n" +
			"gas budget (--fn run).\n" +
			"--input is the input bytes as given, @FILE to read a file, or - for stdin.\n" +
			"Exit code: 0 for status ok, 2 for any other contract status, 1 for a usage or host error.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fn == "" {
				return fmt.Errorf("--fn is required")
			}
			deployed := isDeployedRef(args[0])
			var bin []byte
			var err error
			if !deployed {
				if bin, err = readLimited(args[0], g.stdin); err != nil {
					return err
				}
			}
			in, err := contractInput(input, g.stdin)
			if err != nil {
				return err
			}
			var seed [32]byte
			if seedHex != "" {
				b, err := hex.DecodeString(seedHex)
				if err != nil || len(b) != 32 {
					return fmt.Errorf("--seed must be 64 hex digits")
				}
				copy(seed[:], b)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			cfg := wasm.DefaultConfig()
			cfg.Engine = wasm.Engine(engine)
			cfg.CloseOnContextDone = unmetered // the only bound an unmetered run has
			rt, err := wasm.New(ctx, cfg)
			if err != nil {
				return err
			}
			defer rt.Close(context.WithoutCancel(ctx))
			req := wasm.Request{Fn: fn, Input: in, GasLimit: gas, Caller: caller, Height: height, Time: blockTime,
				Seed: seed, State: &wasm.MemState{}}
			if deployed {
				begin := time.Now()
				res, steps, label, err := runDeployed(ctx, g, rt, args[0], req)
				if err != nil {
					return err
				}
				return g.printResult(res, time.Since(begin), true, rt.Config().Engine, label, steps)
			}
			code := bin
			if !unmetered {
				code, err = rt.Meter(bin)
			}
			var m *wasm.Module
			if err == nil {
				m, err = rt.Compile(ctx, code)
			}
			if err != nil {
				if vmerr.KindOf(err) != vmerr.Invalid {
					return err
				}
				v := runView{Status: wasm.StatusInvalidModule, Error: err.Error(), Logs: []string{}, Events: []wasm.Event{},
					ReadSet: []wasm.Read{}, WriteSet: []wasm.Write{}, Engine: rt.Config().Engine, Metered: !unmetered}
				if err := g.print(v, func(w io.Writer) { printRun(w, &v) }); err != nil {
					return err
				}
				return &exitError{code: exitContractFailed}
			}
			begin := time.Now()
			res, err := rt.Call(ctx, m, req)
			if err != nil {
				return err
			}
			return g.printResult(res, time.Since(begin), m.Metered(), rt.Config().Engine, "", nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fn, "fn", "", "exported function to call (required)")
	f.StringVar(&input, "input", "", "input: the bytes as given, @FILE, or - for stdin")
	f.Uint64Var(&gas, "gas", 100_000_000, "gas limit")
	f.StringVar(&engine, "engine", string(wasm.EngineCompiler), "wazero engine: compiler or interpreter")
	f.BoolVar(&unmetered, "unmetered", false, "skip the metering rewrite (diagnostic: only host calls are charged)")
	f.StringVar(&caller, "caller", "", "caller the contract sees")
	f.Int64Var(&height, "height", 1, "block height the contract sees")
	f.Int64Var(&blockTime, "time", 0, "block time (unix seconds) the contract sees")
	f.StringVar(&seedHex, "seed", "", "32-byte random seed in hex (default zero)")
	f.DurationVar(&timeout, "timeout", time.Minute, "give up after this long (a safety net; gas is the bound)")
	return cmd
}

// printResult prints a run's result; a status other than ok is exit code
// exitContractFailed.
func (g *globals) printResult(res *wasm.Result, elapsed time.Duration, metered bool, engine wasm.Engine, label string, steps []stepView) error {
	h, err := res.Hash()
	if err != nil {
		return err
	}
	v := runView{Status: res.Status, GasUsed: res.GasUsed, ElapsedNS: elapsed.Nanoseconds(), Error: res.Error,
		Logs: nonNil(res.Logs), Events: nonNil(res.Events), ReadSet: nonNil(res.ReadSet),
		WriteSet: nonNil(res.WriteSet), ResultHash: hex.EncodeToString(h[:]), Metered: metered,
		Engine: engine, Contract: label, Steps: steps}
	if utf8.Valid(res.Output) {
		s := string(res.Output)
		v.Output = &s
	} else {
		v.OutputBase64 = base64.StdEncoding.EncodeToString(res.Output)
	}
	if err := g.print(v, func(w io.Writer) { printRun(w, &v) }); err != nil {
		return err
	}
	if res.Status != wasm.StatusOK {
		return &exitError{code: exitContractFailed}
	}
	return nil
}

func printRun(w io.Writer, v *runView) {
	if v.Contract != "" {
		fmt.Fprintf(w, "contract: %s\n", v.Contract)
	}
	for _, s := range v.Steps {
		fmt.Fprintf(w, "step:     %s %s@%s.%s %s gas %d\n", s.ID, s.Contract, s.Version, s.Fn, s.Status, s.GasUsed)
	}
	fmt.Fprintf(w, "status:   %s\n", v.Status)
	if v.Error != "" {
		fmt.Fprintf(w, "error:    %s\n", v.Error)
	}
	fmt.Fprintf(w, "gas used: %d\n", v.GasUsed)
	fmt.Fprintf(w, "elapsed:  %s\n", time.Duration(v.ElapsedNS))
	if v.Output != nil {
		fmt.Fprintf(w, "output:   %s\n", *v.Output)
	} else {
		fmt.Fprintf(w, "output (base64): %s\n", v.OutputBase64)
	}
	for _, l := range v.Logs {
		fmt.Fprintf(w, "log:      %s\n", strings.TrimRight(l, "\n"))
	}
	for _, e := range v.Events {
		fmt.Fprintf(w, "event:    %s %q\n", e.Topic, e.Data)
	}
	for _, wr := range v.WriteSet {
		if wr.Delete {
			fmt.Fprintf(w, "delete:   %q\n", wr.Key)
		} else {
			fmt.Fprintf(w, "write:    %q = %q\n", wr.Key, wr.Value)
		}
	}
	if v.ResultHash != "" {
		fmt.Fprintf(w, "result:   %s\n", v.ResultHash)
	}
}

func newContractMeterCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "meter FILE.wasm -o OUT.wasm",
		Short: "Write the metered (gas-instrumented) form of a module",
		Long: "Validates FILE.wasm against Host ABI v1 and the network's limits and writes the metered module\n" +
			"that miners run. Here -o/--output names the output file.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("-o OUT.wasm is required")
			}
			bin, err := readLimited(args[0], g.stdin)
			if err != nil {
				return err
			}
			rt, err := wasm.New(cmd.Context(), wasm.DefaultConfig())
			if err != nil {
				return err
			}
			defer rt.Close(context.WithoutCancel(cmd.Context()))
			metered, err := rt.Meter(bin)
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, metered, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			oh, mh := sha256.Sum256(bin), sha256.Sum256(metered)
			fmt.Fprintf(g.stdout, "metered %s (%d bytes, sha256 %x)\n     -> %s (%d bytes, sha256 %x)\n",
				args[0], len(bin), oh, out, len(metered), mh)
			return nil
		},
	}
	// The local --output/-o shadows the global output-format flag here.
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write the metered module to (required)")
	return cmd
}

// readLimited reads a file ("-" for stdin) of at most maxContractFile bytes.
func readLimited(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxContractFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxContractFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxContractFile)
	}
	return b, nil
}

// contractInput resolves --input: "-" is stdin, "@FILE" a file, anything
// else the bytes as given.
func contractInput(v string, stdin io.Reader) ([]byte, error) {
	switch {
	case v == "-":
		return readLimited("-", stdin)
	case strings.HasPrefix(v, "@"):
		return readLimited(v[1:], stdin)
	}
	return []byte(v), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
