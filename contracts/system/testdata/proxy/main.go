//go:build wasip1

// Command proxy is a test contract: forward calls another contract with
// input "<contract> <fn>\n<input>" and outputs the callee's output, or
// aborts with the callee's error. contracts/system's tests use it to call
// the IDChain contract as a contract, not an account.
package main

import (
	"bytes"

	sdk "github.com/virtual-machine/vm/sdk/go"
)

//go:wasmexport forward
func forward() {
	head, body, _ := bytes.Cut(sdk.Input(), []byte("\n"))
	name, fn, _ := bytes.Cut(head, []byte(" "))
	out, err := sdk.Call(string(name), string(fn), body)
	if err != nil {
		sdk.Abort(err.Error())
	}
	sdk.Output(out)
}

func main() {}
