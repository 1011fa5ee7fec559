// Command vm is the one binary of Virtual-Machine: node, devnet, keys, GAS,
// contracts, miners. All logic lives in internal/cli so it is testable
// in-process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/virtual-machine/vm/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
