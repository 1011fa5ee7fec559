package cli

import "github.com/spf13/cobra"

// newContractCmd is the contract command group: local runs and metering
// now; deploy and the pool come with the contract registry.
func newContractCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contract",
		Short: "Run, meter and publish WebAssembly contracts",
	}
	return cmd
}
