package cli

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/idcrypt"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func newIDSetCmd(g *globals) *cobra.Command {
	var o idOpts
	var private bool
	var readers string
	cmd := &cobra.Command{
		Use:   "set NAME KEY=VALUE --from KEY [--private --readers ID,ID]",
		Short: "Write a record of an ID's own chain (owner or controller)",
		Long: "A public record's value is stored as given. With --private the value is encrypted here, with\n" +
			"age, to the keys of the listed reader IDs (as their ID records name them); the chain stores only\n" +
			"the ciphertext and the reader list. A reader removed from a later write cannot read that write.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, v, ok := strings.Cut(args[1], "=")
			if !ok {
				return fmt.Errorf("record %q: want KEY=VALUE", args[1])
			}
			ctx, c := cmd.Context(), g.client()
			rec := idchain.Record{Key: k, Value: v}
			if private {
				rs := splitList(readers)
				ct, err := encryptFor(ctx, c, []byte(v), rs)
				if err != nil {
					return err
				}
				rec = idchain.Record{Key: k, Private: true, Ciphertext: ct, Readers: rs}
			} else if readers != "" {
				return fmt.Errorf("--readers is for --private records")
			}
			if err := idchain.CheckRecord(&rec); err != nil {
				return vmerr.Wrap("vm.id", vmerr.Invalid, err)
			}
			key, err := g.loadKey(o.from)
			if err != nil {
				return err
			}
			s, err := g.idRequest(ctx, c, key, idchain.FnSet, idchain.SetInput{Name: args[0], Record: rec}, o)
			if err != nil {
				return err
			}
			r, err := c.IDRecord(ctx, args[0], k, 0)
			if err != nil {
				return err
			}
			return g.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "record:   %s/%s (private %t)\nrequest:  %s\nlocation: height %d, verified\n", args[0], k, private,
					s.view.RequestID, r.Location.Height)
			})
		},
	}
	o.flags(cmd)
	cmd.Flags().BoolVar(&private, "private", false, "encrypt the value to --readers")
	cmd.Flags().StringVar(&readers, "readers", "", "comma-separated reader IDs of a private record")
	return cmd
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// encryptFor encrypts plaintext to the owners' keys of the reader IDs,
// each read and verified from the chain.
func encryptFor(ctx context.Context, c *client.Client, plaintext []byte, readers []string) ([]byte, error) {
	if len(readers) == 0 {
		return nil, fmt.Errorf("a private record needs --readers")
	}
	pubs := make([]crypto.PubKey, len(readers))
	for i, name := range readers {
		id, err := c.ID(ctx, name, 0)
		if err != nil {
			return nil, fmt.Errorf("reader %s: %w", name, err)
		}
		if pubs[i], err = hex.DecodeString(id.PubKey); err != nil {
			return nil, fmt.Errorf("reader %s: %w", name, err)
		}
	}
	return idcrypt.Encrypt(plaintext, pubs)
}

func newIDGetCmd(g *globals) *cobra.Command {
	var from string
	var decrypt bool
	var height int64
	cmd := &cobra.Command{
		Use:   "get NAME KEY [--decrypt --from KEY]",
		Short: "Read a record of an ID, verified against its location; --decrypt opens a private one",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.client().IDRecord(cmd.Context(), args[0], args[1], height)
			if err != nil {
				return err
			}
			if decrypt {
				if !r.Private {
					return fmt.Errorf("%s/%s is not private", args[0], args[1])
				}
				if from == "" {
					return fmt.Errorf("--decrypt needs --from: the reader's key")
				}
				key, err := g.loadKey(from)
				if err != nil {
					return err
				}
				pt, err := idcrypt.Decrypt(r.Ciphertext, key)
				if err != nil {
					return err
				}
				r.Value, r.Ciphertext = string(pt), nil
			}
			return g.print(r, func(w io.Writer) {
				switch {
				case r.Private && !decrypt:
					fmt.Fprintf(w, "%s/%s: private, %d bytes of ciphertext, readers %s\n", r.ID, r.Key, len(r.Ciphertext), strings.Join(r.Readers, ","))
				default:
					fmt.Fprintf(w, "%s\n", r.Value)
				}
			})
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "with --decrypt: the reader's key (in the keystore)")
	cmd.Flags().BoolVar(&decrypt, "decrypt", false, "decrypt a private record")
	cmd.Flags().Int64Var(&height, "height", 0, "read at this height (default: where the record was written)")
	return cmd
}

func newIDRmCmd(g *globals) *cobra.Command {
	var o idOpts
	cmd := &cobra.Command{
		Use:   "rm NAME KEY --from KEY",
		Short: "Delete a record of an ID (owner or controller)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := g.loadKey(o.from)
			if err != nil {
				return err
			}
			s, err := g.idRequest(cmd.Context(), g.client(), key, idchain.FnRemove, idchain.RemoveInput{Name: args[0], Key: args[1]}, o)
			if err != nil {
				return err
			}
			return g.print(s.view, func(w io.Writer) { fmt.Fprintf(w, "removed %s/%s (request %s)\n", args[0], args[1], s.view.RequestID) })
		},
	}
	o.flags(cmd)
	return cmd
}

func newIDRotateCmd(g *globals) *cobra.Command {
	var o idOpts
	var to string
	cmd := &cobra.Command{
		Use:   "rotate NAME --to KEY --from KEY",
		Short: "Move an ID to another account's key (owner only); the old key is refused afterwards",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kf, err := g.keystore().Get(to)
			if err != nil {
				return err
			}
			key, err := g.loadKey(o.from)
			if err != nil {
				return err
			}
			ctx, c := cmd.Context(), g.client()
			if _, err := g.idRequest(ctx, c, key, idchain.FnRotate, idchain.RotateInput{Name: args[0], PubKey: kf.PubKey}, o); err != nil {
				return err
			}
			return g.showID(ctx, c, args[0], 0)
		},
	}
	o.flags(cmd)
	cmd.Flags().StringVar(&to, "to", "", "key (in the keystore) of the new owner")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func newIDControllerCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Add or remove an address allowed to write an ID's records (owner only)",
	}
	for _, add := range []bool{true, false} {
		var o idOpts
		use, short := "add NAME ADDRESS --from KEY", "Add a controller"
		if !add {
			use, short = "rm NAME ADDRESS --from KEY", "Remove a controller"
		}
		sub := &cobra.Command{
			Use: use, Short: short, Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				addr, err := crypto.ParseAddress(args[1])
				if err != nil {
					return err
				}
				in := idchain.ControllersInput{Name: args[0]}
				if add {
					in.Add = []string{addr.String()}
				} else {
					in.Remove = []string{addr.String()}
				}
				key, err := g.loadKey(o.from)
				if err != nil {
					return err
				}
				ctx, c := cmd.Context(), g.client()
				if _, err := g.idRequest(ctx, c, key, idchain.FnControllers, in, o); err != nil {
					return err
				}
				return g.showID(ctx, c, args[0], 0)
			},
		}
		o.flags(sub)
		cmd.AddCommand(sub)
	}
	return cmd
}

func newIDAttrCmd(g *globals) *cobra.Command {
	var o idOpts
	var rm []string
	cmd := &cobra.Command{
		Use:   "attr NAME [K=V]... [--rm K]... --from KEY",
		Short: "Set or remove public attributes of an ID (owner or controller)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := parseAttrs(args[1:])
			if err != nil {
				return err
			}
			if len(set) == 0 && len(rm) == 0 {
				return fmt.Errorf("nothing to change: give K=V or --rm K")
			}
			key, err := g.loadKey(o.from)
			if err != nil {
				return err
			}
			ctx, c := cmd.Context(), g.client()
			in := idchain.AttrsInput{Name: args[0], Set: set, Remove: rm}
			if _, err := g.idRequest(ctx, c, key, idchain.FnAttrs, in, o); err != nil {
				return err
			}
			return g.showID(ctx, c, args[0], 0)
		},
	}
	o.flags(cmd)
	cmd.Flags().StringArrayVar(&rm, "rm", nil, "attribute to remove (repeatable)")
	return cmd
}

func newIDRecordsCmd(g *globals) *cobra.Command {
	var after string
	var limit int
	var height int64
	cmd := &cobra.Command{
		Use:   "records NAME [--after KEY] [--limit N]",
		Short: "List the records of an ID's own chain, each verified against its location",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := g.client().IDRecords(cmd.Context(), args[0], after, limit, height)
			if err != nil {
				return err
			}
			return g.print(l, func(w io.Writer) {
				for _, r := range l.Records {
					if r.Private {
						fmt.Fprintf(w, "%s\t(private, readers %s)\n", r.Key, strings.Join(r.Readers, ","))
					} else {
						fmt.Fprintf(w, "%s\t%s\n", r.Key, r.Value)
					}
				}
				if l.Next != "" {
					fmt.Fprintf(w, "more: --after %s\n", l.Next)
				}
			})
		},
	}
	cmd.Flags().StringVar(&after, "after", "", "list keys after this one (a previous page's last)")
	cmd.Flags().IntVar(&limit, "limit", 0, "records per page, 1..1000 (default 100)")
	cmd.Flags().Int64Var(&height, "height", 0, "read at this height (default: the latest)")
	return cmd
}
