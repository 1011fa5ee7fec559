package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/node"
)

// shutdownTimeout bounds a node's clean stop after Ctrl-C.
const shutdownTimeout = 15 * time.Second

func newDevnetCmd(g *globals) *cobra.Command {
	var httpAddr string
	var p2pPort int
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a one-validator development network (with a faucet) in --home",
		Long: "devnet runs a single validator, the ledger and the HTTP API in this process.\n" +
			"The first run creates chain " + node.DevnetChainID + " in --home; later runs reopen it.\n" +
			"Stop it with Ctrl-C.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := node.Default()
			cfg.Home = g.home
			cfg.HTTPAddr = httpAddr
			if err := cfg.Validate(); err != nil {
				return err
			}
			created, err := node.InitDevnet(g.home, p2pPort)
			if err != nil {
				return err
			}
			return g.runNode(cmd.Context(), cfg, func(n *node.Node) {
				verb := "Reopened"
				if created {
					verb = "Created"
				}
				fmt.Fprintf(g.stdout, "%s devnet %s in %s\n", verb, n.ChainID(), g.home)
				fmt.Fprintf(g.stdout, "API:     %s   (metrics at %s/metrics)\n", n.URL(), n.URL())
				flags := ""
				if g.home != defaultHome() {
					flags += " --home " + g.home
				}
				if n.URL() != DefaultNode {
					flags += " --node " + n.URL()
				}
				fmt.Fprintf(g.stdout, "Get GAS: vm%s keys add alice && vm%s gas faucet alice\n", flags, flags)
				fmt.Fprintln(g.stdout, "Press Ctrl-C to stop.")
			})
		},
	}
	cmd.Flags().StringVar(&httpAddr, "http", node.DefaultHTTPAddr, "HTTP API listen address")
	cmd.Flags().IntVar(&p2pPort, "p2p-port", node.DefaultP2PPort, "CometBFT P2P port on 127.0.0.1 (used when the home is created; 0 = any)")
	return cmd
}

func newNodeCmd(g *globals) *cobra.Command {
	var httpAddr string
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run the validator whose home is --home (e.g. one written by vm testnet)",
		Long: "node runs the node in --home. Its HTTP address comes from --http, else from\n" +
			"the home's " + node.ConfigFile + ", else " + node.DefaultHTTPAddr + ". Stop it with Ctrl-C.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := node.LoadFile(node.Default(), g.home)
			if err != nil {
				return err
			}
			cfg.Home = g.home
			if cmd.Flags().Changed("http") {
				cfg.HTTPAddr = httpAddr
			}
			return g.runNode(cmd.Context(), cfg, func(n *node.Node) {
				fmt.Fprintf(g.stdout, "Node of chain %s from %s\nAPI: %s\nPress Ctrl-C to stop.\n", n.ChainID(), g.home, n.URL())
			})
		},
	}
	cmd.Flags().StringVar(&httpAddr, "http", node.DefaultHTTPAddr, "HTTP API listen address (overrides "+node.ConfigFile+")")
	return cmd
}

func newTestnetCmd(g *globals) *cobra.Command {
	var (
		out               string
		validators        int
		basePort, httpPrt int
		chainID           string
	)
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Write the homes of an N-validator network on this machine",
		Long: "testnet writes --validators homes under --out (node0, node1, …), each a validator\n" +
			"of the same genesis (the devnet parameters, faucet on), with P2P on 127.0.0.1:base-port+i\n" +
			"and the HTTP API on 127.0.0.1:http-base-port+i. Run each with: vm node --home OUT/nodeI",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			homes, err := node.InitTestnet(out, validators, chainID, basePort, httpPrt)
			if err != nil {
				return err
			}
			return g.print(map[string]any{"chain_id": chainID, "homes": homes}, func(w io.Writer) {
				fmt.Fprintf(w, "Wrote %d validator homes of chain %s:\n", len(homes), chainID)
				for i, h := range homes {
					fmt.Fprintf(w, "  vm node --home %s    # API http://127.0.0.1:%d\n", h, httpPrt+i)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "directory to write the homes into")
	f.IntVar(&validators, "validators", 4, "number of validators")
	f.IntVar(&basePort, "base-port", node.DefaultP2PPort, "P2P port of node0 (node i uses base-port+i)")
	f.IntVar(&httpPrt, "http-base-port", 8080, "HTTP API port of node0 (node i uses http-base-port+i)")
	f.StringVar(&chainID, "chain-id", "vm-testnet", "chain id")
	return cmd
}

// runNode starts a node with cfg, calls started, and runs until ctx ends
// (Ctrl-C), then stops it cleanly.
func (g *globals) runNode(ctx context.Context, cfg node.Config, started func(*node.Node)) error {
	log, err := g.logger()
	if err != nil {
		return err
	}
	cfg.Logger = log
	n, err := node.New(cfg)
	if err != nil {
		return err
	}
	if err := n.Start(ctx); err != nil {
		return err
	}
	started(n)
	<-ctx.Done()
	fmt.Fprintln(g.stderr, "Stopping…")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return n.Close(sctx)
}
