package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// newStatusCmd is `vm status`: the node's and chain's state, via the API.
func newStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the status of the node at --node",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.client().Status(cmd.Context())
			if err != nil {
				return err
			}
			return g.print(st, func(w io.Writer) {
				fmt.Fprintf(w, "node:          %s (%s)\n", g.node, st.NodeVersion)
				fmt.Fprintf(w, "chain:         %s\n", st.ChainID)
				fmt.Fprintf(w, "height:        %d\n", st.LatestHeight)
				fmt.Fprintf(w, "block hash:    %s\n", st.LatestBlockHash)
				fmt.Fprintf(w, "app hash:      %s\n", st.LatestAppHash)
				fmt.Fprintf(w, "block time:    %s\n", st.LatestBlockTime)
				fmt.Fprintf(w, "catching up:   %t\n", st.CatchingUp)
				fmt.Fprintf(w, "validators:    %d\n", st.Validators)
				fmt.Fprintf(w, "min fee:       %s GAS\n", st.MinFee)
				fmt.Fprintf(w, "mempool:       %d txs\n", st.MempoolSize)
				if st.FaucetEnabled {
					fmt.Fprintf(w, "faucet:        enabled (%s)\n", st.FaucetAddress)
				} else {
					fmt.Fprintln(w, "faucet:        disabled")
				}
			})
		},
	}
}
