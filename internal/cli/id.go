package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// idRef is the contract reference every IDChain request names.
const idRef = idchain.Contract + "@^1"

// idOpts are the market terms of an IDChain request.
type idOpts struct {
	from, gas, price, reward string
	deadline                 int64
	timeout                  time.Duration
}

func (o *idOpts) flags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&o.from, "from", "", "key (in the keystore) that signs and pays")
	fl.StringVar(&o.gas, "gas", "5000000", "gas limit of the call")
	fl.StringVar(&o.price, "price", "1", "GAS per unit of gas used")
	fl.StringVar(&o.reward, "reward", "100", "reward in GAS for the miner")
	fl.Int64Var(&o.deadline, "deadline", 100, "blocks after inclusion before an unanswered request is refunded (a loaded chain makes 20 a second)")
	fl.DurationVar(&o.timeout, "timeout", 2*time.Minute, "how long to wait for the result")
	_ = cmd.MarkFlagRequired("from")
}

func newIDCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "id",
		Short: "Global IDs on the IDChain: create, show, verify, and the ID's own records",
		Long: "An ID (3 to 32 characters of a-z, 0-9 and '-') is bound to the account that creates it. Changes are\n" +
			"requests to the system contract " + idRef + ", run by miners; reads are free and come with a\n" +
			"location (a Merkle proof against a block's app hash) that `vm id verify` checks offline.",
	}
	cmd.AddCommand(newIDCreateCmd(g), newIDShowCmd(g), newIDVerifyCmd(g), newIDSetCmd(g), newIDGetCmd(g),
		newIDRmCmd(g), newIDRecordsCmd(g), newIDAttrCmd(g), newIDRotateCmd(g), newIDControllerCmd(g))
	return cmd
}

// idCreateView is `vm id create --output json`.
type idCreateView struct {
	ID        string            `json:"id"`
	Owner     string            `json:"owner"`
	Created   bool              `json:"created"`
	RequestID string            `json:"request_id,omitempty"`
	Location  *apitype.Location `json:"location"`
}

func newIDCreateCmd(g *globals) *cobra.Command {
	var o idOpts
	var attrs []string
	cmd := &cobra.Command{
		Use:   "create NAME --from KEY [--attr K=V]...",
		Short: "Create an ID bound to --from's account, or return where it already is",
		Long: "Reads the ID first: when it exists nothing is sent and created is false. Otherwise sends a\n" +
			"create request (fee: min_fee plus the chain's id_create_fee) and waits for a miner's result;\n" +
			"if another account created the name first, created is false and the winner's ID is shown.\n" +
			"The location is at the height where the ID was written, so it is the same every time.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := idchain.ValidName(name); err != nil {
				return vmerr.Wrap("vm.id", vmerr.Invalid, err)
			}
			as, err := parseAttrs(attrs)
			if err != nil {
				return err
			}
			ctx, c := cmd.Context(), g.client()
			view := idCreateView{ID: name}
			if id, err := c.ID(ctx, name, 0); err == nil {
				view.Owner, view.Location = id.Owner, id.Location
				return g.printIDCreate(view)
			} else if vmerr.KindOf(err) != vmerr.NotFound {
				return err
			}
			key, err := g.loadKey(o.from)
			if err != nil {
				return err
			}
			in := idchain.CreateInput{Name: name, PubKey: hex.EncodeToString(key.PubKey()), Attrs: as}
			s, err := g.idRequest(ctx, c, key, idchain.FnCreate, in, o)
			if err != nil {
				return err
			}
			var out idchain.CreateOutput
			if err := json.Unmarshal(s.exec.Output, &out); err != nil {
				return fmt.Errorf("create: the contract's output: %w", err)
			}
			id, err := c.ID(ctx, name, 0)
			if err != nil {
				return err
			}
			view.Owner, view.Created, view.RequestID, view.Location = id.Owner, out.Created, s.view.RequestID, id.Location
			return g.printIDCreate(view)
		},
	}
	o.flags(cmd)
	cmd.Flags().StringArrayVar(&attrs, "attr", nil, "public attribute K=V (repeatable)")
	return cmd
}

func (g *globals) printIDCreate(v idCreateView) error {
	return g.print(v, func(w io.Writer) {
		fmt.Fprintf(w, "id:       %s\nowner:    %s\ncreated:  %t\nlocation: %s height %d key %s\n",
			v.ID, v.Owner, v.Created, v.Location.ChainID, v.Location.Height, v.Location.Key)
	})
}

func parseAttrs(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("attribute %q: want K=V", kv)
		}
		out[k] = v
	}
	if err := idchain.CheckAttrs(out); err != nil {
		return nil, vmerr.Wrap("vm.id", vmerr.Invalid, err)
	}
	return out, nil
}

// idRequest sends fn(in) to the IDChain signed by key and waits for its
// verified result; a result other than ok fails with the contract's
// message.
func (g *globals) idRequest(ctx context.Context, c *client.Client, key crypto.PrivKey, fn string, in any, o idOpts) (settled, error) {
	input, err := json.Marshal(in)
	if err != nil {
		return settled{}, err
	}
	amounts := make([]uint64, 3)
	for i, s := range []string{o.gas, o.price, o.reward} {
		if amounts[i], err = strconv.ParseUint(s, 10, 64); err != nil {
			return settled{}, fmt.Errorf("--gas, --price and --reward take whole GAS amounts: %q", s)
		}
	}
	req := &txpb.Request{Contract: idRef, Fn: fn, Input: input, GasLimit: amounts[0], Price: amounts[1], Reward: amounts[2],
		Replicas: 1, Quorum: 1, Deadline: o.deadline}
	fee, err := idFee(ctx, c, fn)
	if err != nil {
		return settled{}, err
	}
	s, err := g.request(ctx, c, key, req, fee, o.timeout)
	if err != nil {
		return settled{}, err
	}
	switch {
	case s.exec == nil:
		return settled{}, fmt.Errorf("%s: request %s %s without a result", fn, s.view.RequestID, s.result.Status)
	case s.exec.Status != wasm.StatusOK:
		return settled{}, fmt.Errorf("%s refused (%s): %s", fn, s.exec.Status, s.exec.Error)
	}
	return s, nil
}

// idFee is the fee of one IDChain request: min_fee, plus id_create_fee
// for a create.
func idFee(ctx context.Context, c *client.Client, fn string) (uint64, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return 0, err
	}
	return idFeeOf(st, fn, true)
}

func newIDShowCmd(g *globals) *cobra.Command {
	var height int64
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show an ID, verified against its location",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.showID(cmd.Context(), g.client(), args[0], height)
		},
	}
	cmd.Flags().Int64Var(&height, "height", 0, "read at this height (default: where the ID was last written)")
	return cmd
}

// showID prints ID name at height (0: where it was last written).
func (g *globals) showID(ctx context.Context, c *client.Client, name string, height int64) error {
	id, err := c.ID(ctx, name, height)
	if err != nil {
		return err
	}
	return g.print(id, func(w io.Writer) {
		fmt.Fprintf(w, "id:          %s\nowner:       %s\npubkey:      %s\ncontrollers: %s\n", id.ID, id.Owner, id.PubKey,
			strings.Join(id.Controllers, ", "))
		keys := slices.Sorted(maps.Keys(id.Attrs))
		for _, k := range keys {
			fmt.Fprintf(w, "attr:        %s=%s\n", k, id.Attrs[k])
		}
		fmt.Fprintf(w, "created:     %d\nupdated:     %d\nlocation:    height %d, proof checked\n", id.Created, id.Updated, id.Location.Height)
	})
}
