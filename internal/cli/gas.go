package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Defaults of the gas commands.
const (
	DefaultFaucetAmount = 100_000_000 // the devnet genesis cap per recipient per window (ledger.DevnetFaucetPerWindow)
	anchorWait          = 3 * time.Second
	anchorPoll          = 100 * time.Millisecond
)

// balanceView is `vm gas balance --output json`.
type balanceView struct {
	Address     string `json:"address"`
	Balance     string `json:"balance"`
	Nonce       uint64 `json:"nonce"`
	Height      int64  `json:"height"`
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"`
}

// newGasCmd is the gas command group: GAS balances and payments, through
// the node's API.
func newGasCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gas",
		Short: "Get, send and check GAS",
		Long: "Amounts are positive whole GAS (decimal, at most " + strconv.FormatUint(tx.MaxAmount, 10) + ").\n" +
			"An argument that names a key in the keystore is that key's address; otherwise it must be a\n" +
			"40-hex-digit address.",
	}
	cmd.AddCommand(newGasFaucetCmd(g), newGasSendCmd(g), newGasBalanceCmd(g))
	return cmd
}

func newGasFaucetCmd(g *globals) *cobra.Command {
	var amount, from, fee string
	var async bool
	cmd := &cobra.Command{
		Use:   "faucet NAME|ADDRESS",
		Short: "Get GAS from the devnet faucet",
		Long: "Sends a transaction with a Faucet message paying NAME or ADDRESS. It is signed by the named key,\n" +
			"or for a bare address by the key given with --from. Only chains with the faucet enabled accept it.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			amt, err := parseAmount("--amount", amount)
			if err != nil {
				return err
			}
			feeAmt, err := parseFee(fee)
			if err != nil {
				return err
			}
			to, isKey, err := g.resolve(args[0])
			if err != nil {
				return err
			}
			signer := from
			if signer == "" {
				if !isKey {
					return fmt.Errorf("%s is not a local key: give --from NAME to sign the faucet request", args[0])
				}
				signer = args[0]
			}
			key, err := g.loadKey(signer)
			if err != nil {
				return err
			}
			msg := &txpb.Msg{Sum: &txpb.Msg_Faucet{Faucet: &txpb.Faucet{To: to[:], Amount: amt}}}
			return g.send(cmd.Context(), key, msg, feeAmt, !async)
		},
	}
	cmd.Flags().StringVar(&amount, "amount", strconv.Itoa(DefaultFaucetAmount), "GAS to ask for")
	cmd.Flags().StringVar(&from, "from", "", "key that signs (default: the recipient's key)")
	cmd.Flags().StringVar(&fee, "fee", "0", "fee in GAS (faucet-only transactions may pay 0 on devnets)")
	cmd.Flags().BoolVar(&async, "async", false, "return once the node accepts the tx, without waiting for its block")
	return cmd
}

func newGasSendCmd(g *globals) *cobra.Command {
	var from, fee string
	var async bool
	cmd := &cobra.Command{
		Use:   "send --from NAME TO AMOUNT",
		Short: "Send GAS from a local key to a key name or address",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" {
				return errors.New("--from NAME is required: the key that pays")
			}
			amt, err := parseAmount("AMOUNT", args[1])
			if err != nil {
				return err
			}
			var feeAmt uint64
			haveFee := fee != ""
			if haveFee {
				if feeAmt, err = parseFee(fee); err != nil {
					return err
				}
			}
			to, _, err := g.resolve(args[0])
			if err != nil {
				return err
			}
			key, err := g.loadKey(from)
			if err != nil {
				return err
			}
			if !haveFee {
				st, err := g.client().Status(cmd.Context())
				if err != nil {
					return err
				}
				if feeAmt, err = strconv.ParseUint(st.MinFee, 10, 64); err != nil {
					return fmt.Errorf("node reports min_fee %q: %w", st.MinFee, err)
				}
			}
			msg := &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: to[:], Amount: amt}}}
			return g.send(cmd.Context(), key, msg, feeAmt, !async)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "key that pays (required)")
	cmd.Flags().StringVar(&fee, "fee", "", "fee in GAS (default: the chain's minimum fee)")
	cmd.Flags().BoolVar(&async, "async", false, "return once the node accepts the tx, without waiting for its block")
	return cmd
}

func newGasBalanceCmd(g *globals) *cobra.Command {
	var height int64
	var noVerify bool
	cmd := &cobra.Command{
		Use:   "balance NAME|ADDRESS",
		Short: "Show a balance, verified against the chain's app hash",
		Long: "Asks the node for the account with its location (an ICS23 proof), checks that the proof is\n" +
			"about this account and these values, that it verifies, and that its app hash is the one in the\n" +
			"header of block height+1 (or of block height, when that block is empty and height+1 is not\n" +
			"made yet). The command exits with status 2 when that verification fails.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if height < 0 {
				return fmt.Errorf("--height %d: want 0 (latest) or a positive height", height)
			}
			addr, _, err := g.resolve(args[0])
			if err != nil {
				return err
			}
			ctx, c := cmd.Context(), g.client()
			var acc apitype.Account
			if noVerify {
				acc, err = c.AccountNoProof(ctx, addr, height)
			} else {
				acc, err = c.Account(ctx, addr, height)
			}
			if err != nil {
				return err
			}
			v := balanceView{Address: addr.String(), Balance: acc.Balance, Nonce: acc.Nonce, Height: acc.Height}
			if !noVerify {
				if err := verifyAccount(ctx, c, addr, acc); err != nil {
					v.VerifyError = err.Error()
				} else {
					v.Verified = true
				}
			}
			if err := g.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "address:  %s\nbalance:  %s GAS\nnonce:    %d\nheight:   %d\n", v.Address, v.Balance, v.Nonce, v.Height)
				switch {
				case noVerify:
					fmt.Fprintln(w, "verified: no (--no-verify)")
				case v.Verified:
					fmt.Fprintln(w, "verified: yes (the proof checks against the app hash in a block header)")
				default:
					fmt.Fprintf(w, "verified: NO: %s\n", v.VerifyError)
				}
			}); err != nil {
				return err
			}
			if !noVerify && !v.Verified {
				fmt.Fprintln(g.stderr, "Error: balance not verified:", v.VerifyError)
				return &exitError{code: 2}
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&height, "height", 0, "state height (default latest)")
	cmd.Flags().BoolVar(&noVerify, "no-verify", false, "skip the proof (verified is then false)")
	return cmd
}

// client is the API client of --node.
func (g *globals) client() *client.Client { return client.New(g.node) }

// resolve maps a key name or an address to an address; isKey reports a
// key name. A key name wins over an address of the same spelling.
func (g *globals) resolve(arg string) (addr crypto.Address, isKey bool, err error) {
	ks := g.keystore()
	f, kerr := ks.Get(arg)
	if kerr == nil {
		return f.Address, true, nil
	}
	if !errors.Is(kerr, crypto.ErrKeyNotFound) && !errors.Is(kerr, crypto.ErrBadKeyName) {
		return addr, false, kerr
	}
	a, perr := crypto.ParseAddress(arg)
	if perr != nil {
		return addr, false, fmt.Errorf("%q is neither a key in %s nor an address (40 hex digits)", arg, g.home)
	}
	return a, false, nil
}

// send signs msg with key, submits it and prints the SubmitResult. A
// rejected tx prints its result and fails with its kind and log.
func (g *globals) send(ctx context.Context, key crypto.PrivKey, msg *txpb.Msg, fee uint64, wait bool) error {
	res, err := g.client().Send(ctx, key, []*txpb.Msg{msg}, fee, wait)
	if err != nil && res.Hash == "" {
		return err
	}
	if perr := g.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "tx:     %s\n", res.Hash)
		if res.Height != 0 {
			fmt.Fprintf(w, "height: %d\n", res.Height)
		}
		if err == nil && !wait {
			fmt.Fprintln(w, "status: accepted by the node (not waiting for its block)")
		} else if err == nil {
			fmt.Fprintln(w, "status: committed")
		}
	}); perr != nil {
		return perr
	}
	if err != nil {
		return fmt.Errorf("transaction rejected (%s): %s", vmerr.Kind(res.Code), res.Log)
	}
	return nil
}

// verifyAccount checks acc against its Location, the Location's proof,
// and that a block header commits the proof's app hash (see anchor).
func verifyAccount(ctx context.Context, c *client.Client, addr crypto.Address, acc apitype.Account) error {
	loc := acc.Location
	if loc == nil {
		return errors.New("the node returned no location")
	}
	if !state.SameKey(loc, state.AccountKey(addr)) || loc.Namespace != state.NamespaceAccounts {
		return fmt.Errorf("the location is about key %s in %q, not account %s", loc.Key, loc.Namespace, addr)
	}
	if loc.Height != acc.Height {
		return fmt.Errorf("the location is at height %d, the answer at %d", loc.Height, acc.Height)
	}
	val, err := hex.DecodeString(loc.Value)
	if err != nil {
		return fmt.Errorf("location value: %w", err)
	}
	proved, err := state.DecodeAccount(val)
	if err != nil {
		return err
	}
	if strconv.FormatUint(proved.Balance, 10) != acc.Balance || proved.Nonce != acc.Nonce {
		return fmt.Errorf("the proof is of balance %d nonce %d, the node said %s and %d", proved.Balance, proved.Nonce, acc.Balance, acc.Nonce)
	}
	if err := state.VerifyLocation(loc); err != nil {
		return err
	}
	root, _ := hex.DecodeString(loc.AppHash)
	if _, err := anchor(ctx, c, acc.Height, root); err != nil {
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

// anchor finds the block whose header commits root as the app hash of the
// state at height, and returns its height. That is block height+1; while
// it does not exist (a chain that makes no empty blocks makes it only if
// block height changed state), block height itself serves when it has no
// transactions, since an empty block leaves the state — and so its app
// hash — as its header records it. It waits up to anchorWait for height+1.
func anchor(ctx context.Context, c *client.Client, height int64, root []byte) (int64, error) {
	same := func(b apitype.Block) bool {
		h, err := hex.DecodeString(b.AppHash)
		return err == nil && bytes.Equal(h, root)
	}
	deadline := time.Now().Add(anchorWait)
	for {
		next, err := c.Block(ctx, height+1)
		if err == nil {
			if !same(next) {
				return 0, fmt.Errorf("the proof's app hash %s is not block %d's app hash %s", hex.EncodeToString(root), next.Height, strings.ToLower(next.AppHash))
			}
			return next.Height, nil
		}
		if vmerr.KindOf(err) != vmerr.NotFound {
			return 0, fmt.Errorf("block %d: %w", height+1, err)
		}
		cur, cerr := c.Block(ctx, height)
		if cerr == nil && cur.NumTxs == 0 && same(cur) {
			return cur.Height, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no block commits the proof's app hash: block %d is not there yet and block %d is not an empty block with that app hash", height+1, height)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(anchorPoll):
		}
	}
}

// parseAmount parses a GAS amount: a positive decimal integer no larger
// than tx.MaxAmount.
func parseAmount(what, s string) (uint64, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return 0, fmt.Errorf("%s %q: amounts cannot be negative", what, s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, fmt.Errorf("%s %q: too large (maximum %d)", what, s, uint64(tx.MaxAmount))
		}
		return 0, fmt.Errorf("%s %q: want a whole number of GAS, like 1000", what, s)
	}
	if n == 0 {
		return 0, fmt.Errorf("%s: must be positive", what)
	}
	if n > tx.MaxAmount {
		return 0, fmt.Errorf("%s %q: too large (maximum %d)", what, s, uint64(tx.MaxAmount))
	}
	return n, nil
}

// parseFee parses a fee: like an amount, but 0 is allowed.
func parseFee(s string) (uint64, error) {
	if s == "0" {
		return 0, nil
	}
	return parseAmount("--fee", s)
}
