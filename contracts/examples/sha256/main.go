//go:build wasip1

// Command sha256 is the example compute contract: hash reads a decimal
// iteration count N, hashes 32 zero bytes N times (each round hashing the
// previous digest) and writes the final digest in hex.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	sdk "github.com/virtual-machine/vm/sdk/go"
)

//go:wasmexport hash
func hash() {
	n, err := strconv.ParseUint(string(sdk.Input()), 10, 32)
	if err != nil {
		sdk.Abort("input must be a decimal iteration count")
	}
	var d [32]byte
	for i := uint64(0); i < n; i++ {
		d = sha256.Sum256(d[:])
	}
	sdk.Output([]byte(hex.EncodeToString(d[:])))
}

func main() {}
