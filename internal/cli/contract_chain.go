package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// exitNotVerified is the exit code of `contract show` and `contract get`
// when the node's answer does not verify against the chain.
const exitNotVerified = 2

// anchorRootWait bounds how long show and get wait for the block header
// that commits a proof's app hash (the next block, made once the chain
// commits again). Longer than gas.go's anchorWait: a loaded single
// validator can take seconds to make it.
const anchorRootWait = 10 * time.Second

// publishWait bounds how long deploy, compose, yank and owner keep waiting
// for the block of a tx the node accepted but did not see committed
// within its own wait timeout.
const publishWait = 3 * time.Minute

// publishView is how deploy, compose, yank and owner print a committed
// transaction: its hash, block and fee, and the record it changed.
type publishView struct {
	Hash     string                   `json:"hash"`
	Height   int64                    `json:"height"`
	Fee      string                   `json:"fee"` // GAS paid
	Version  *apitype.ContractVersion `json:"version,omitempty"`
	Contract *apitype.Contract        `json:"contract,omitempty"`
}

// verifiedVersion is `contract show NAME@RANGE --output json`: the
// resolved version (the API's ContractVersion) and whether its location
// verified.
type verifiedVersion struct {
	apitype.ContractVersion
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"`
}

// verifiedContract is `contract show NAME --output json`.
type verifiedContract struct {
	apitype.Contract
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"`
}

// contractChainCmds are the registry subcommands of `vm contract`.
func contractChainCmds(g *globals) []*cobra.Command {
	return []*cobra.Command{newContractDeployCmd(g), newContractComposeCmd(g), newContractShowCmd(g),
		newContractVersionsCmd(g), newContractListCmd(g), newContractYankCmd(g), newContractOwnerCmd(g),
		newContractGetCmd(g)}
}

// publishFlags are the flags deploy and compose share.
type publishFlags struct {
	name, version, from, iface, description, fee string
	tags                                         []string
}

func (p *publishFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&p.name, "name", "", "contract name (required): 2..64 of a-z, 0-9 and '-'")
	f.StringVar(&p.version, "version", "", "semver version to publish (required), e.g. 1.0.0")
	f.StringVar(&p.from, "from", "", "key that signs and pays (required); the first publisher of a name owns it")
	f.StringVar(&p.iface, "interface", "", "interface JSON file: exported functions with JSON Schemas")
	f.StringVar(&p.description, "description", "", "one-line description")
	f.StringArrayVar(&p.tags, "tag", nil, "tag (repeatable)")
	f.StringVar(&p.fee, "fee", "", "fee in GAS (default: min_fee plus the deploy fee of the payload)")
}

// deploy builds the Deploy message from the flags and code or manifest,
// checking what can be checked locally, then publishes it.
func (p *publishFlags) deploy(ctx context.Context, g *globals, code, manifest []byte) error {
	if p.name == "" || p.version == "" || p.from == "" {
		return errors.New("--name, --version and --from are required")
	}
	d := &txpb.Deploy{Name: p.name, Version: p.version, Code: code, Manifest: manifest,
		Description: p.description, Tags: p.tags}
	for _, err := range []error{contract.ValidName(p.name), contract.ValidTags(p.tags), contract.ValidDescription(p.description)} {
		if err != nil {
			return err
		}
	}
	if _, err := contract.ParseVersion(p.version); err != nil {
		return err
	}
	if p.iface != "" {
		raw, err := readLimited(p.iface, g.stdin)
		if err != nil {
			return err
		}
		if _, d.Interface, err = composite.ParseInterface(raw); err != nil {
			return fmt.Errorf("%s: %w", p.iface, err)
		}
	}
	c := g.client()
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if st.MaxCodeSize > 0 && len(code) > st.MaxCodeSize {
		return fmt.Errorf("the module is %d bytes; this chain accepts at most %d", len(code), st.MaxCodeSize)
	}
	fee, err := deployFee(st, d, p.fee)
	if err != nil {
		return err
	}
	key, err := g.loadKey(p.from)
	if err != nil {
		return err
	}
	msg := &txpb.Msg{Sum: &txpb.Msg_Deploy{Deploy: d}}
	return g.publish(ctx, c, key, msg, fee, func(v *publishView) error {
		ver, err := c.ContractVersion(ctx, p.name, "="+d.Version, 0)
		v.Version = &ver
		return err
	})
}

// deployFee is --fee when given, else the chain's min_fee plus the deploy
// fee of d (contract.DeployFee at the chain's deploy_fee_per_kib).
func deployFee(st apitype.Status, d *txpb.Deploy, override string) (uint64, error) {
	if override != "" {
		return parseFee(override)
	}
	minFee, err := strconv.ParseUint(st.MinFee, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("node reports min_fee %q: %w", st.MinFee, err)
	}
	if d == nil {
		return minFee, nil
	}
	perKiB, err := strconv.ParseUint(st.DeployFeePerKiB, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("node reports deploy_fee_per_kib %q: %w", st.DeployFeePerKiB, err)
	}
	extra, err := contract.DeployFee(perKiB, d)
	if err != nil {
		return 0, err
	}
	if minFee+extra < minFee {
		return 0, fmt.Errorf("the fee overflows")
	}
	return minFee + extra, nil
}

// publish sends msg, waits for its block and prints the result with what
// after fills in. A refused tx prints its result and fails with the
// ledger's message.
func (g *globals) publish(ctx context.Context, c *client.Client, key crypto.PrivKey, msg *txpb.Msg, fee uint64, after func(*publishView) error) error {
	res, err := g.commitTx(ctx, c, key, msg, fee)
	if err != nil {
		return err
	}
	v := publishView{Hash: res.Hash, Height: res.Height, Fee: strconv.FormatUint(fee, 10)}
	if err := after(&v); err != nil {
		return fmt.Errorf("committed in block %d (tx %s), but reading the result failed: %w", res.Height, res.Hash, err)
	}
	return g.print(v, func(w io.Writer) {
		fmt.Fprintf(w, "tx:           %s\nheight:       %d\nfee:          %s GAS\n", v.Hash, v.Height, v.Fee)
		if v.Version != nil {
			printVersion(w, v.Version)
		}
		if v.Contract != nil {
			printContract(w, v.Contract)
		}
	})
}

// commitTx submits msg and waits for its block. A tx the chain refuses
// prints its result (hash, and height if it was included) and fails with
// the ledger's message.
func (g *globals) commitTx(ctx context.Context, c *client.Client, key crypto.PrivKey, msg *txpb.Msg, fee uint64) (apitype.SubmitResult, error) {
	res, err := submitAndWait(ctx, c, g.stderr, key, msg, fee)
	if err != nil && res.Hash != "" {
		_ = g.print(res, func(w io.Writer) {
			fmt.Fprintf(w, "tx:     %s\n", res.Hash)
			if res.Height != 0 {
				fmt.Fprintf(w, "height: %d\n", res.Height)
			}
		})
		err = fmt.Errorf("transaction rejected (%s): %s", vmerr.Kind(res.Code), res.Log)
	}
	return res, err
}

// submitAndWait signs msg with key at its account's next nonce and
// submits it, waiting for its block. A node that gives up waiting (a big
// module takes long to meter on a loaded node) has still accepted the tx,
// so then it polls GET /v1/txs/{hash} until the tx is committed, up to
// publishWait. A refused tx returns its result and a *vmerr.Error of its
// kind, as client.Send does.
func submitAndWait(ctx context.Context, c *client.Client, stderr io.Writer, key crypto.PrivKey, msg *txpb.Msg, fee uint64) (apitype.SubmitResult, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return apitype.SubmitResult{}, err
	}
	acc, err := c.AccountNoProof(ctx, key.Address(), 0)
	if err != nil {
		return apitype.SubmitResult{}, err
	}
	raw, err := tx.Sign(&txpb.TxBody{ChainId: st.ChainID, Nonce: acc.Nonce, Fee: fee, Msgs: []*txpb.Msg{msg}}, key)
	if err != nil {
		return apitype.SubmitResult{}, err
	}
	res, err := c.SubmitTx(ctx, raw, true)
	if vmerr.KindOf(err) != vmerr.Timeout {
		return res, err
	}
	hash := tx.HashOf(raw)
	fmt.Fprintf(stderr, "tx %s accepted; waiting for its block...\n", hash)
	wctx, cancel := context.WithTimeout(ctx, publishWait)
	defer cancel()
	for {
		t, terr := c.Tx(wctx, hash)
		if terr == nil {
			res = apitype.SubmitResult{Hash: t.Hash, Code: t.Code, Log: t.Log, Height: t.Height}
			if t.Code != 0 {
				return res, &vmerr.Error{Op: "cli.publish", Kind: vmerr.Kind(t.Code), Err: errors.New(t.Log)}
			}
			return res, nil
		}
		if vmerr.KindOf(terr) != vmerr.NotFound {
			return apitype.SubmitResult{}, terr
		}
		select {
		case <-wctx.Done():
			return apitype.SubmitResult{}, fmt.Errorf("tx %s was accepted but not committed within %s: %w", hash, publishWait, err)
		case <-time.After(anchorPoll):
		}
	}
}

func newContractDeployCmd(g *globals) *cobra.Command {
	var p publishFlags
	cmd := &cobra.Command{
		Use:   "deploy FILE.wasm --name NAME --version X.Y.Z --from KEY",
		Short: "Publish a module as a new version of a contract chain",
		Long: "Sends a Deploy transaction carrying FILE.wasm (\"-\" reads stdin) and waits for its block. The node\n" +
			"validates and meters the module and stores both by CID. The fee is the chain's min_fee plus\n" +
			"deploy_fee_per_kib per started KiB of the payload, unless --fee is given. Prints the tx, the block,\n" +
			"the fee paid and the published version (code_hash, metered_hash).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			code, err := readLimited(args[0], g.stdin)
			if err != nil {
				return err
			}
			if len(code) == 0 {
				return fmt.Errorf("%s is empty", args[0])
			}
			return p.deploy(cmd.Context(), g, code, nil)
		},
	}
	p.register(cmd)
	return cmd
}

func newContractComposeCmd(g *globals) *cobra.Command {
	var p publishFlags
	cmd := &cobra.Command{
		Use:   "compose MANIFEST.json --name NAME --version X.Y.Z --from KEY",
		Short: "Publish a composite contract: a manifest of steps over deployed contracts",
		Long: "Sends a Deploy transaction carrying the manifest (docs/COMPOSITES.md). The node checks that every\n" +
			"step's contract exists, that the steps form no cycle and that the declared schemas are compatible,\n" +
			"and pins each step's resolved version; the printed version shows the pinned manifest.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readLimited(args[0], g.stdin)
			if err != nil {
				return err
			}
			if _, err := composite.ParseManifest(raw); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return p.deploy(cmd.Context(), g, nil, raw)
		},
	}
	p.register(cmd)
	return cmd
}

func newContractShowCmd(g *globals) *cobra.Command {
	var height int64
	var noVerify bool
	cmd := &cobra.Command{
		Use:   "show NAME[@RANGE]",
		Short: "Show a contract chain's entry, or the version a range resolves to, verified",
		Long: "With NAME@RANGE (^1.2, ~1.2.3, 1.x, \">=1 <2\", 1.2.3, *) shows the version the range resolves to:\n" +
			"the highest non-yanked match, or an exact version even if yanked. With a bare NAME shows the\n" +
			"registry entry (owner, maintainers, latest, chain root and head). The answer's location (an\n" +
			"ICS23 proof) is checked to be about this record and these values, to verify, and to match the app\n" +
			"hash in a block header; the command exits with status 2 when it does not.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if height < 0 {
				return fmt.Errorf("--height %d: want 0 (latest) or a positive height", height)
			}
			ref := args[0]
			name, rng, hasRange := strings.Cut(ref, "@")
			if hasRange {
				if _, err := contract.ParseRef(ref); err != nil {
					return err
				}
			} else if err := contract.ValidName(name); err != nil {
				return err
			}
			ctx, c := cmd.Context(), g.client()
			var verr error
			var out any
			var text func(io.Writer)
			if hasRange {
				v, err := c.ContractVersion(ctx, name, rng, height)
				if err != nil {
					return err
				}
				vv := verifiedVersion{ContractVersion: v}
				if !noVerify {
					if verr = verifyVersion(ctx, c, v, rng); verr == nil {
						vv.Verified = true
					} else {
						vv.VerifyError = verr.Error()
					}
				}
				out, text = vv, func(w io.Writer) { printVersion(w, &vv.ContractVersion) }
			} else {
				ce, err := c.Contract(ctx, name, height)
				if err != nil {
					return err
				}
				vc := verifiedContract{Contract: ce}
				if !noVerify {
					if verr = verifyContract(ctx, c, ce); verr == nil {
						vc.Verified = true
					} else {
						vc.VerifyError = verr.Error()
					}
				}
				out, text = vc, func(w io.Writer) { printContract(w, &vc.Contract) }
			}
			if err := g.print(out, func(w io.Writer) {
				text(w)
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
	return cmd
}

func newContractVersionsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "versions NAME",
		Short: "List every version of a contract chain, in semver order",
		Long:  "Prints every version, yanked ones included. --output json prints a JSON array, one entry per version.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := contract.ValidName(args[0]); err != nil {
				return err
			}
			l, err := g.client().ContractVersions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return g.print(nonNil(l.Versions), func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "VERSION\tSEQ\tPUBLISHED\tYANKED\tCODE_HASH")
				for _, v := range l.Versions {
					hash := v.CodeHash
					if hash == "" {
						hash = "(composite)"
					}
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", v.Version, v.Seq, v.Published, yesNo(v.Yanked), hash)
				}
				tw.Flush()
			})
		},
	}
}

func newContractListCmd(g *globals) *cobra.Command {
	var q apitype.ContractQuery
	cmd := &cobra.Command{
		Use:   "list [--query Q] [--tag T]",
		Short: "List the contract registry",
		Long: "Lists contract chains in name order whose name or description contains Q (case-insensitive)\n" +
			"and that carry tag T. All pages are fetched unless --limit N asks for the first N only (1..100;\n" +
			"--after NAME starts after a name). --output json prints a JSON array of registry entries.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if q.Limit < 0 || q.Limit > 100 {
				return fmt.Errorf("--limit %d: want 1..100", q.Limit)
			}
			ctx, c := cmd.Context(), g.client()
			all, err := fetchPages(q.Limit, q.After, func(after string) ([]apitype.Contract, string, error) {
				page := q
				page.After = after
				l, err := c.Contracts(ctx, page)
				return l.Contracts, l.Next, err
			})
			if err != nil {
				return err
			}
			return g.print(all, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tLATEST\tVERSIONS\tKIND\tDESCRIPTION")
				for _, ce := range all {
					kind := "module"
					if ce.Composite {
						kind = "composite"
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", ce.Name, ce.Latest, ce.Versions, kind, ce.Description)
				}
				tw.Flush()
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Query, "query", "", "substring of the name or description")
	f.StringVar(&q.Tag, "tag", "", "only contracts with this tag")
	f.StringVar(&q.After, "after", "", "only names after this one")
	f.IntVar(&q.Limit, "limit", 0, "one page of at most this many (default: every page)")
	return cmd
}

func newContractYankCmd(g *globals) *cobra.Command {
	var from, fee string
	var undo bool
	cmd := &cobra.Command{
		Use:   "yank NAME@X.Y.Z --from KEY [--undo]",
		Short: "Stop ranges from resolving to a version (it stays resolvable by its exact version)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, version, ok := strings.Cut(args[0], "@")
			if !ok {
				return fmt.Errorf("%q: want NAME@VERSION, an exact version", args[0])
			}
			if err := contract.ValidName(name); err != nil {
				return err
			}
			if _, err := contract.ParseVersion(version); err != nil {
				return err
			}
			if from == "" {
				return errors.New("--from KEY is required: the owner or a maintainer")
			}
			ctx, c := cmd.Context(), g.client()
			feeAmt, err := minFee(ctx, c, fee)
			if err != nil {
				return err
			}
			key, err := g.loadKey(from)
			if err != nil {
				return err
			}
			msg := &txpb.Msg{Sum: &txpb.Msg_Yank{Yank: &txpb.Yank{Name: name, Version: version, Undo: undo}}}
			return g.publish(ctx, c, key, msg, feeAmt, func(v *publishView) error {
				ver, err := c.ContractVersion(ctx, name, "="+version, 0)
				v.Version = &ver
				return err
			})
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "key that signs (required): the owner or a maintainer")
	cmd.Flags().BoolVar(&undo, "undo", false, "un-yank: let ranges resolve to the version again")
	cmd.Flags().StringVar(&fee, "fee", "", "fee in GAS (default: the chain's minimum fee)")
	return cmd
}

func newContractOwnerCmd(g *globals) *cobra.Command {
	var from, fee, transfer string
	var add, remove []string
	cmd := &cobra.Command{
		Use:   "owner NAME [--add WHO]... [--remove WHO]... [--transfer WHO] --from KEY",
		Short: "Change who may publish a contract chain: maintainers and the owner",
		Long: "WHO is a key name in the keystore or a 40-hex-digit address. Maintainers may publish and yank;\n" +
			"only the owner changes owners. --transfer hands the chain to a new owner.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := contract.ValidName(name); err != nil {
				return err
			}
			if from == "" {
				return errors.New("--from KEY is required: the owner")
			}
			if len(add) == 0 && len(remove) == 0 && transfer == "" {
				return errors.New("nothing to change: give --add, --remove or --transfer")
			}
			o := &txpb.ContractOwners{Name: name}
			for _, list := range []struct {
				who []string
				dst *[][]byte
			}{{add, &o.Add}, {remove, &o.Remove}} {
				for _, w := range list.who {
					a, _, err := g.resolve(w)
					if err != nil {
						return err
					}
					*list.dst = append(*list.dst, bytes.Clone(a[:]))
				}
			}
			if transfer != "" {
				a, _, err := g.resolve(transfer)
				if err != nil {
					return err
				}
				o.NewOwner = bytes.Clone(a[:])
			}
			ctx, c := cmd.Context(), g.client()
			feeAmt, err := minFee(ctx, c, fee)
			if err != nil {
				return err
			}
			key, err := g.loadKey(from)
			if err != nil {
				return err
			}
			msg := &txpb.Msg{Sum: &txpb.Msg_ContractOwners{ContractOwners: o}}
			return g.publish(ctx, c, key, msg, feeAmt, func(v *publishView) error {
				ce, err := c.Contract(ctx, name, 0)
				ce.Location = nil // the entry as changed; `contract show` verifies it
				v.Contract = &ce
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "key that signs (required): the owner")
	f.StringArrayVar(&add, "add", nil, "maintainer to add (repeatable)")
	f.StringArrayVar(&remove, "remove", nil, "maintainer to remove (repeatable)")
	f.StringVar(&transfer, "transfer", "", "new owner")
	f.StringVar(&fee, "fee", "", "fee in GAS (default: the chain's minimum fee)")
	return cmd
}

func newContractGetCmd(g *globals) *cobra.Command {
	var out string
	var metered bool
	cmd := &cobra.Command{
		Use:   "get NAME[@RANGE] -o FILE.wasm [--metered]",
		Short: "Download a version's module, verified by its CID and the chain",
		Long: "Resolves the reference like `contract show`, downloads the original module (or with --metered the\n" +
			"metered one miners run) and checks that its bytes hash to the CID the chain records for that\n" +
			"version, and that the version's location verifies. Only then writes FILE. Here -o/--output names\n" +
			"the output file. Exit status 2 when verification fails.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("-o FILE.wasm is required")
			}
			ref, err := contract.ParseRef(args[0])
			if err != nil {
				return err
			}
			_, rng, _ := strings.Cut(args[0], "@")
			ctx, c := cmd.Context(), g.client()
			code, v, err := c.ContractCode(ctx, ref.Name, rng, metered)
			if err != nil {
				if vmerr.KindOf(err) == vmerr.Unauthorized {
					fmt.Fprintln(g.stderr, "Error: download not verified:", err)
					return &exitError{code: exitNotVerified}
				}
				return err
			}
			if err := verifyVersion(ctx, c, v, rng); err != nil {
				fmt.Fprintln(g.stderr, "Error: version not verified:", err)
				return &exitError{code: exitNotVerified}
			}
			if err := os.WriteFile(out, code, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			id, kind := v.CodeHash, "original"
			if metered {
				id, kind = v.MeteredHash, "metered"
			}
			fmt.Fprintf(g.stdout, "wrote %s: %s@%s, %s module, %d bytes\ncid:      %s\nverified: yes (CID of the bytes and the version's location)\n",
				out, v.Name, v.Version, kind, len(code), id)
			return nil
		},
	}
	// The local --output/-o shadows the global output-format flag here.
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write the module to (required)")
	cmd.Flags().BoolVar(&metered, "metered", false, "download the metered module instead of the original")
	return cmd
}

// minFee is --fee when given, else the chain's min_fee.
func minFee(ctx context.Context, c *client.Client, override string) (uint64, error) {
	if override != "" {
		return parseFee(override)
	}
	st, err := c.Status(ctx)
	if err != nil {
		return 0, err
	}
	return deployFee(st, nil, "")
}

// verifyVersion checks that v is an acceptable answer to rng ("" or
// "*" for any): the range matches it and it is not yanked unless rng is
// exact; that v's Location proves the stored record of exactly this
// version with exactly these fields, that the proof verifies, and that a
// block header commits its app hash; the owner, which lives in the
// registry entry, is checked against that entry's own proof at the same
// height. What it cannot check is that no higher match exists: the node
// is trusted to pick the highest.
func verifyVersion(ctx context.Context, c *client.Client, v apitype.ContractVersion, rng string) error {
	if err := acceptable(v, rng); err != nil {
		return err
	}
	loc := v.Location
	if loc == nil {
		return errors.New("the node returned no location")
	}
	ver, err := contract.ParseVersion(v.Version)
	if err != nil {
		return err
	}
	if !state.SameKey(loc, state.VersionKey(v.Name, contract.SortKey(ver))) || loc.Namespace != state.NamespaceVersions {
		return fmt.Errorf("the location is about key %s in %q, not %s@%s", loc.Key, loc.Namespace, v.Name, v.Version)
	}
	raw, err := hex.DecodeString(loc.Value)
	if err != nil {
		return fmt.Errorf("location value: %w", err)
	}
	rec, err := state.DecodeVersion(raw)
	if err != nil {
		return err
	}
	owner, err := crypto.ParseAddress(v.Owner)
	if err != nil {
		return fmt.Errorf("owner %q: %w", v.Owner, err)
	}
	answer := v
	answer.Location = nil
	if err := sameJSON(state.VersionView(rec, owner[:], v.Height), answer); err != nil {
		return err
	}
	if err := verifyLocation(ctx, c, loc, v.Height); err != nil {
		return err
	}
	ce, err := c.Contract(ctx, v.Name, v.Height)
	if err != nil {
		return fmt.Errorf("registry entry for the owner: %w", err)
	}
	if ce.Owner != v.Owner || ce.Height != v.Height {
		return fmt.Errorf("the registry entry at height %d names owner %s, the answer %s", ce.Height, ce.Owner, v.Owner)
	}
	return verifyContract(ctx, c, ce)
}

// fetchPages follows a list's next cursor from after until the node says
// there is no more, or returns the first page only when limit is set. A
// cursor that does not advance is an error (a node could loop us).
func fetchPages[T any](limit int, after string, fetch func(after string) ([]T, string, error)) ([]T, error) {
	all := []T{}
	for {
		items, next, err := fetch(after)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if limit != 0 || next == "" {
			return all, nil
		}
		if next <= after {
			return nil, fmt.Errorf("the node's paging does not advance (next %q after %q)", next, after)
		}
		after = next
	}
}

// acceptable reports whether version v could be the answer to rng.
func acceptable(v apitype.ContractVersion, rng string) error {
	if rng == "" {
		rng = "*"
	}
	r, err := contract.ParseRange(rng)
	if err != nil {
		return err
	}
	ver, err := contract.ParseVersion(v.Version)
	if err != nil {
		return err
	}
	if !r.Check(ver) {
		return fmt.Errorf("the node answered %s@%s, which %q does not match", v.Name, v.Version, rng)
	}
	if v.Yanked && !r.Exact() {
		return fmt.Errorf("the node answered %s@%s, which is yanked, for the range %q", v.Name, v.Version, rng)
	}
	return nil
}

// verifyContract is verifyVersion for a registry entry.
func verifyContract(ctx context.Context, c *client.Client, ce apitype.Contract) error {
	loc := ce.Location
	if loc == nil {
		return errors.New("the node returned no location")
	}
	if !state.SameKey(loc, state.ContractKey(ce.Name)) || loc.Namespace != state.NamespaceContracts {
		return fmt.Errorf("the location is about key %s in %q, not contract %s", loc.Key, loc.Namespace, ce.Name)
	}
	raw, err := hex.DecodeString(loc.Value)
	if err != nil {
		return fmt.Errorf("location value: %w", err)
	}
	rec, err := state.DecodeContract(raw)
	if err != nil {
		return err
	}
	answer := ce
	answer.Location = nil
	if err := sameJSON(state.ContractView(rec, ce.Height), answer); err != nil {
		return err
	}
	return verifyLocation(ctx, c, loc, ce.Height)
}

// sameJSON reports whether the proved record and the answer encode alike.
func sameJSON(proved, answer any) error {
	p, err1 := json.Marshal(proved)
	a, err2 := json.Marshal(answer)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if !bytes.Equal(p, a) {
		return fmt.Errorf("the proof is of %s, the node said %s", p, a)
	}
	return nil
}

// verifyLocation checks loc's proof, its height, that a header commits its
// app hash (see anchor) and that it is on the node's chain.
func verifyLocation(ctx context.Context, c *client.Client, loc *apitype.Location, height int64) error {
	if loc.Height != height {
		return fmt.Errorf("the location is at height %d, the answer at %d", loc.Height, height)
	}
	if err := state.VerifyLocation(loc); err != nil {
		return err
	}
	root, _ := hex.DecodeString(loc.AppHash)
	if err := anchorRoot(ctx, c, height, root); err != nil {
		return err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if loc.ChainID != st.ChainID {
		return fmt.Errorf("the location is on chain %q, the node is on %q", loc.ChainID, st.ChainID)
	}
	return nil
}

// anchorRoot finds a block header that commits root, the app hash of the
// state at height: the header of block height+1, or — while that block
// does not exist yet (a chain that makes no empty blocks makes it only
// once the state changes again) — the header of block height itself when
// it carries the same root. An app hash commits the whole state, so equal
// roots are equal states, whatever the block held (a block of refused txs
// changes nothing). It waits up to anchorRootWait for block height+1.
func anchorRoot(ctx context.Context, c *client.Client, height int64, root []byte) error {
	same := func(b apitype.Block) bool {
		h, err := hex.DecodeString(b.AppHash)
		return err == nil && bytes.Equal(h, root)
	}
	deadline := time.Now().Add(anchorRootWait)
	for {
		next, err := c.Block(ctx, height+1)
		if err == nil {
			if !same(next) {
				return fmt.Errorf("the proof's app hash %x is not block %d's app hash %s", root, next.Height, strings.ToLower(next.AppHash))
			}
			return nil
		}
		if vmerr.KindOf(err) != vmerr.NotFound {
			return fmt.Errorf("block %d: %w", height+1, err)
		}
		if cur, err := c.Block(ctx, height); err == nil && same(cur) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no block header commits the proof's app hash: block %d is not there yet and block %d has another app hash", height+1, height)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(anchorPoll):
		}
	}
}

func printVersion(w io.Writer, v *apitype.ContractVersion) {
	fmt.Fprintf(w, "contract:     %s@%s\n", v.Name, v.Version)
	if v.CodeHash != "" {
		fmt.Fprintf(w, "code_hash:    %s (%d bytes)\nmetered_hash: %s (%d bytes)\n", v.CodeHash, v.CodeSize, v.MeteredHash, v.MeteredSize)
	} else {
		fmt.Fprintln(w, "kind:         composite")
	}
	fmt.Fprintf(w, "owner:        %s\npublisher:    %s\nseq:          %d\npublished:    block %d\nyanked:       %s\n",
		v.Owner, v.Publisher, v.Seq, v.Published, yesNo(v.Yanked))
	if len(v.Exports) > 0 {
		fmt.Fprintf(w, "exports:      %s\n", strings.Join(v.Exports, ", "))
	}
	if v.Description != "" {
		fmt.Fprintf(w, "description:  %s\n", v.Description)
	}
	if len(v.Tags) > 0 {
		fmt.Fprintf(w, "tags:         %s\n", strings.Join(v.Tags, ", "))
	}
	if len(v.Manifest) > 0 {
		fmt.Fprintf(w, "manifest:     %s\n", v.Manifest)
	}
	fmt.Fprintf(w, "record_hash:  %s\nheight:       %d\n", v.RecordHash, v.Height)
}

func printContract(w io.Writer, ce *apitype.Contract) {
	kind := "module"
	if ce.Composite {
		kind = "composite"
	}
	fmt.Fprintf(w, "contract:     %s (%s)\nowner:        %s\n", ce.Name, kind, ce.Owner)
	if len(ce.Maintainers) > 0 {
		fmt.Fprintf(w, "maintainers:  %s\n", strings.Join(ce.Maintainers, ", "))
	}
	fmt.Fprintf(w, "latest:       %s\nversions:     %d\ncreated:      block %d\nupdated:      block %d\n",
		ce.Latest, ce.Versions, ce.Created, ce.Updated)
	if ce.Description != "" {
		fmt.Fprintf(w, "description:  %s\n", ce.Description)
	}
	if len(ce.Tags) > 0 {
		fmt.Fprintf(w, "tags:         %s\n", strings.Join(ce.Tags, ", "))
	}
	fmt.Fprintf(w, "root:         %s\nhead:         %s\nheight:       %d\n", ce.Root, ce.Head, ce.Height)
}

func printVerified(w io.Writer, skipped bool, err error) {
	switch {
	case skipped:
		fmt.Fprintln(w, "verified:     no (--no-verify)")
	case err == nil:
		fmt.Fprintln(w, "verified:     yes (the proof checks against the app hash in a block header)")
	default:
		fmt.Fprintf(w, "verified:     NO: %s\n", err)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
