// Package cli owns the vm command line: the cobra command tree, global
// flags, output formatting and passphrase handling. Commands reach a node
// only through internal/client; local-only commands (keys, contract run)
// use their own packages directly.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/virtual-machine/vm/internal/crypto"
)

// Defaults of the global flags.
const (
	DefaultNode = "http://127.0.0.1:8080"
	EnvPass     = "VM_PASSPHRASE"
)

// globals holds the global flags and the process streams every command uses.
type globals struct {
	home      string
	node      string
	output    string // "text" or "json"
	logLevel  string
	logFormat string

	stdin          io.Reader
	stdout, stderr io.Writer
}

// Run runs the vm command line with args and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCmd(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	return 0
}

// exitError ends a command with a specific exit code, having already
// printed what it needed to.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "vm",
		Short:         "Virtual-Machine: paid, verifiable WebAssembly computation",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.output != "text" && g.output != "json" {
				return fmt.Errorf("--output must be text or json, not %q", g.output)
			}
			return nil
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&g.home, "home", defaultHome(), "node and keystore directory")
	f.StringVar(&g.node, "node", DefaultNode, "URL of the node's HTTP API")
	f.StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	f.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	for _, add := range commands {
		root.AddCommand(add(g))
	}
	return root
}

// commands lists the top-level command constructors, one per file.
var commands = []func(*globals) *cobra.Command{
	newContractCmd, newMinerCmd, newCallCmd, newResultCmd, newIDCmd,
	newKeysCmd, newGasCmd, newStatusCmd,
	newDevnetCmd, newNodeCmd, newTestnetCmd,
	newBenchCmd,
}

func defaultHome() string {
	h, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".vm", "devnet")
	}
	return filepath.Join(h, ".vm", "devnet")
}

// keystore returns the keystore under --home.
func (g *globals) keystore() *crypto.Keystore {
	return crypto.NewKeystore(filepath.Join(g.home, "keys"), 0)
}

// passphrase returns VM_PASSPHRASE when set, else reads one from the
// terminal; with neither it fails with a clear error.
func (g *globals) passphrase(prompt string, confirm bool) (string, error) {
	if p, ok := os.LookupEnv(EnvPass); ok {
		return p, nil
	}
	f, ok := g.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", fmt.Errorf("no passphrase: set %s or run in a terminal", EnvPass)
	}
	fmt.Fprint(g.stderr, prompt+": ")
	p, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(g.stderr)
	if err != nil {
		return "", fmt.Errorf("read passphrase: %w", err)
	}
	if confirm {
		fmt.Fprint(g.stderr, "Repeat passphrase: ")
		q, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.stderr)
		if err != nil {
			return "", fmt.Errorf("read passphrase: %w", err)
		}
		if string(q) != string(p) {
			return "", errors.New("passphrases do not match")
		}
	}
	return string(p), nil
}

// loadKey decrypts the named key from the keystore.
func (g *globals) loadKey(name string) (crypto.PrivKey, error) {
	ks := g.keystore()
	if _, err := ks.Get(name); err != nil {
		return nil, err
	}
	pass, err := g.passphrase(fmt.Sprintf("Passphrase for key %q", name), false)
	if err != nil {
		return nil, err
	}
	return ks.Load(name, pass)
}

// print writes v as indented JSON with --output json, else calls text.
func (g *globals) print(v any, text func(w io.Writer)) error {
	if g.output == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(g.stdout)
	return nil
}

// logger builds the process logger from --log-level and --log-format.
func (g *globals) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(g.logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(g.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(g.stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", g.logFormat)
}
