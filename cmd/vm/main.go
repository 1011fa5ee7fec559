// Command vm is the one binary of Virtual-Machine: node, devnet, keys, GAS,
// contracts, miners. All logic lives in internal/cli so it is testable
// in-process.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/virtual-machine/vm/internal/cli"
)

// defaultGCPercent replaces Go's 100 unless GOGC is set: a node's live heap
// is mostly the state tree's node cache, which the collector would
// otherwise rescan twice as often for nothing (docs/RATIONALE.md, GOGC).
const defaultGCPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
