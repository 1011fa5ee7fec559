// Command portalbuild rebuilds internal/portal/dist from internal/portal/web.
// Run it from internal/portal (go generate does) after `npm ci --prefix web`.
package main

import (
	"fmt"
	"os"

	"github.com/virtual-machine/vm/internal/portal/bundle"
)

func main() {
	f, err := bundle.Build("web")
	if err == nil {
		err = bundle.Write("dist", f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
