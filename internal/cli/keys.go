package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/crypto"
)

// maxKeyFile bounds an imported key file.
const maxKeyFile = 64 << 10

// keyView is how keys print with --output json.
type keyView struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	PubKey  string `json:"pub_key,omitempty"`
}

// newKeysCmd is the keys command group: the local encrypted keystore
// under --home/keys. Nothing here talks to a node.
func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the local encrypted keystore",
		Long: "Keys are ed25519 key pairs stored encrypted (PBKDF2-SHA256 + AES-256-GCM) under --home/keys.\n" +
			"The passphrase comes from $" + EnvPass + ", else from the terminal.",
	}
	cmd.AddCommand(newKeysAddCmd(g), newKeysListCmd(g), newKeysShowCmd(g), newKeysExportCmd(g),
		newKeysImportCmd(g), newKeysDeleteCmd(g))
	return cmd
}

func newKeysAddCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "add NAME",
		Short: "Create a new key and print its address",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ks := g.keystore()
			if _, err := ks.Get(args[0]); err == nil {
				return fmt.Errorf("key %q: %w", args[0], crypto.ErrKeyExists)
			} else if !errors.Is(err, crypto.ErrKeyNotFound) {
				return err
			}
			pass, err := g.passphrase(fmt.Sprintf("New passphrase for key %q", args[0]), true)
			if err != nil {
				return err
			}
			f, err := ks.Add(args[0], pass)
			if err != nil {
				return err
			}
			return g.print(viewOf(f), func(w io.Writer) {
				fmt.Fprintln(w, f.Address)
			})
		},
	}
}

func newKeysListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the keys: name and address",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			files, err := g.keystore().List()
			if err != nil {
				return err
			}
			views := make([]keyView, 0, len(files))
			for _, f := range files {
				v := viewOf(f)
				v.PubKey = ""
				views = append(views, v)
			}
			return g.print(views, func(w io.Writer) {
				for _, v := range views {
					fmt.Fprintf(w, "%-20s %s\n", v.Name, v.Address)
				}
			})
		},
	}
}

func newKeysShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show a key's address and public key",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f, err := g.keystore().Get(args[0])
			if err != nil {
				return err
			}
			v := viewOf(f)
			return g.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "name:    %s\naddress: %s\npub_key: %s\n", v.Name, v.Address, v.PubKey)
			})
		},
	}
}

func newKeysExportCmd(g *globals) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "export NAME [FILE]",
		Short: "Write a key's encrypted key file (to FILE, or stdout)",
		Long: "Writes the key file exactly as stored: still encrypted under its passphrase, in the\n" +
			"format `vm keys import` and the portal read. FILE (or --file) must not exist.",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 2 {
				if file != "" && file != args[1] {
					return errors.New("give the output file once: as FILE or as --file")
				}
				file = args[1]
			}
			f, err := g.keystore().Get(args[0])
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(f, "", "  ")
			if err != nil {
				return err
			}
			b = append(b, '\n')
			if file == "" || file == "-" {
				_, err = g.stdout.Write(b)
				return err
			}
			fh, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("export key %q: %w", args[0], err)
			}
			if _, err := fh.Write(b); err != nil {
				fh.Close()
				return fmt.Errorf("export key %q: %w", args[0], err)
			}
			if err := fh.Close(); err != nil {
				return fmt.Errorf("export key %q: %w", args[0], err)
			}
			fmt.Fprintf(g.stderr, "Exported key %q (%s) to %s\n", f.Name, f.Address, file)
			return nil
		},
	}
	// Not -o: that is the global --output.
	cmd.Flags().StringVarP(&file, "file", "f", "", "output file (default stdout)")
	return cmd
}

func newKeysImportCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Import an exported key file under NAME",
		Long: "Reads a key file written by `vm keys export` or the portal. The passphrase is the one the\n" +
			"file was encrypted with; it is checked before the key is stored, and stays the key's passphrase.",
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			name, path := args[0], args[1]
			ks := g.keystore()
			if _, err := ks.Get(name); err == nil {
				return fmt.Errorf("key %q: %w", name, crypto.ErrKeyExists)
			} else if !errors.Is(err, crypto.ErrKeyNotFound) {
				return err
			}
			f, err := readKeyFile(path)
			if err != nil {
				return err
			}
			if f.Iterations < crypto.MinIterations {
				return fmt.Errorf("key file %s: PBKDF2 work factor %d is below the minimum %d; export it again with a stronger setting", path, f.Iterations, crypto.MinIterations)
			}
			pass, err := g.passphrase(fmt.Sprintf("Passphrase of %s", path), false)
			if err != nil {
				return err
			}
			k, err := f.Decrypt(pass)
			if err != nil {
				return err
			}
			if pk, err := hex.DecodeString(f.PubKey); err != nil || !bytes.Equal(pk, k.PubKey()) {
				return fmt.Errorf("key file %s: pub_key does not match the encrypted key", path)
			}
			f.Name = name
			if err := ks.Write(f); err != nil {
				return err
			}
			return g.print(viewOf(f), func(w io.Writer) {
				fmt.Fprintf(w, "Imported key %q: %s\n", name, f.Address)
			})
		},
	}
}

func newKeysDeleteCmd(g *globals) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME --yes",
		Short: "Delete a key from the keystore (export it first: this cannot be undone)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ks := g.keystore()
			f, err := ks.Get(args[0])
			if err != nil {
				return err
			}
			if !yes {
				return fmt.Errorf("refusing to delete key %q (%s) without --yes; it cannot be undone", f.Name, f.Address)
			}
			if err := ks.Delete(args[0]); err != nil {
				return err
			}
			return g.print(viewOf(f), func(w io.Writer) {
				fmt.Fprintf(w, "Deleted key %q (%s)\n", f.Name, f.Address)
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "really delete")
	return cmd
}

func viewOf(f *crypto.KeyFile) keyView {
	return keyView{Name: f.Name, Address: f.Address.String(), PubKey: f.PubKey}
}

// readKeyFile reads and parses an exported key file.
func readKeyFile(path string) (*crypto.KeyFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("key file %s: larger than %d bytes, not a key file", path, maxKeyFile)
	}
	var f crypto.KeyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("key file %s: not a key file: %w", path, err)
	}
	if f.Address.IsZero() || f.Ciphertext == "" {
		return nil, fmt.Errorf("key file %s: not a key file (no address or ciphertext)", path)
	}
	return &f, nil
}
