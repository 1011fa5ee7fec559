package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/node"
	"github.com/virtual-machine/vm/internal/tx"
)

// shutdownTimeout bounds a node's clean stop after Ctrl-C.
const shutdownTimeout = 15 * time.Second

func newDevnetCmd(g *globals) *cobra.Command {
	var httpAddr string
	var p2pPort, minerCapacity int
	var withMiner, warm bool
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a one-validator development network (with a faucet) in --home",
		Long: "devnet runs a single validator, the ledger and the HTTP API in this process.\n" +
			"The first run creates chain " + node.DevnetChainID + " in --home; later runs reopen it.\n" +
			"A built-in compute miner (key in --home/" + DevnetMinerKeyFile + ", funded at genesis, minimum GAS 0)\n" +
			"runs beside it and talks to the API like any miner, so quorum-1 calls settle with nothing else\n" +
			"started; --miner=false leaves it out. Stop it with Ctrl-C.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := node.Default()
			cfg.Home = g.home
			cfg.HTTPAddr = httpAddr
			if err := cfg.Validate(); err != nil {
				return err
			}
			if minerCapacity < 1 || minerCapacity > tx.MaxMinerCapacity {
				return fmt.Errorf("--miner-capacity %d: want 1..%d", minerCapacity, tx.MaxMinerCapacity)
			}
			var minerKey crypto.PrivKey
			var funds []node.Balance
			if withMiner {
				var err error
				if minerKey, _, err = devnetMinerKey(g.home); err != nil {
					return err
				}
				funds = append(funds, node.Balance{Address: minerKey.Address(), Amount: DevnetMinerFunds})
			}
			created, err := node.InitDevnetFunded(g.home, p2pPort, funds)
			if err != nil {
				return err
			}
			return g.runNodeWith(cmd.Context(), cfg, func(n *node.Node) func() {
				verb := "Reopened"
				if created {
					verb = "Created"
				}
				fmt.Fprintf(g.stdout, "%s devnet %s in %s\n", verb, n.ChainID(), g.home)
				fmt.Fprintf(g.stdout, "Portal:  %s/\nAPI:     %s   (metrics at %s/metrics)\n", n.URL(), n.URL(), n.URL())
				flags := ""
				if g.home != defaultHome() {
					flags += " --home " + g.home
				}
				if n.URL() != DefaultNode {
					flags += " --node " + n.URL()
				}
				fmt.Fprintf(g.stdout, "Get GAS: vm%s keys add alice && vm%s gas faucet alice\n", flags, flags)
				stop := func() {}
				if withMiner {
					log, _ := g.logger() // checked by runNode
					a, err := startDevnetMiner(cmd.Context(), n.URL(), minerKey, minerCapacity, warm, log)
					if err != nil {
						fmt.Fprintf(g.stderr, "The built-in miner did not start: %v\n", err)
					} else {
						fmt.Fprintf(g.stdout, "Miner:   %s (built in, capacity %d)\n", a.Address(), minerCapacity)
						stop = func() {
							if err := stopAgent(a); err != nil {
								fmt.Fprintf(g.stderr, "Stopping the built-in miner: %v\n", err)
							}
						}
					}
				}
				fmt.Fprintln(g.stdout, "Press Ctrl-C to stop.")
				return stop
			})
		},
	}
	cmd.Flags().StringVar(&httpAddr, "http", node.DefaultHTTPAddr, "HTTP API listen address")
	cmd.Flags().IntVar(&p2pPort, "p2p-port", node.DefaultP2PPort, "CometBFT P2P port on 127.0.0.1 (used when the home is created; 0 = any)")
	cmd.Flags().BoolVar(&withMiner, "miner", true, "run the built-in compute miner")
	cmd.Flags().IntVar(&minerCapacity, "miner-capacity", runtime.NumCPU(), "jobs the built-in miner executes at once")
	cmd.Flags().BoolVar(&warm, "warm", true, "the built-in miner compiles the system contracts (the IDChain) at start, so the first ID created does not wait seconds")
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
	return g.runNodeWith(ctx, cfg, func(n *node.Node) func() { started(n); return func() {} })
}

// runNodeWith is runNode whose started returns a stop function: what it
// started beside the node stops before the node does.
func (g *globals) runNodeWith(ctx context.Context, cfg node.Config, started func(*node.Node) func()) error {
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
	stop := started(n)
	<-ctx.Done()
	fmt.Fprintln(g.stderr, "Stopping…")
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return n.Close(sctx)
}
