//go:build wasip1

// Command fib is the example recursion contract: fib reads a decimal n
// (at most 40) and writes fib(n), computed by naive recursion.
package main

import (
	"strconv"

	sdk "github.com/virtual-machine/vm/sdk/go"
)

func fib(n uint32) uint64 {
	if n < 2 {
		return uint64(n)
	}
	return fib(n-1) + fib(n-2)
}

//go:wasmexport fib
func run() {
	n, err := strconv.ParseUint(string(sdk.Input()), 10, 32)
	if err != nil || n > 40 {
		sdk.Abort("input must be a decimal n <= 40")
	}
	sdk.Output([]byte(strconv.FormatUint(fib(uint32(n)), 10)))
}

func main() {}
