//go:build wasip1

// Command counter is the example state contract: increment adds the
// input's decimal delta (1 when empty) to the counter and emits an event;
// get writes the current value in decimal.
package main

import (
	"strconv"

	sdk "github.com/virtual-machine/vm/sdk/go"
)

var key = []byte("count")

func load() uint64 {
	v, ok := sdk.Get(key)
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		sdk.Abort("corrupt counter")
	}
	return n
}

//go:wasmexport increment
func increment() {
	delta := uint64(1)
	if in := sdk.Input(); len(in) > 0 {
		d, err := strconv.ParseUint(string(in), 10, 64)
		if err != nil {
			sdk.Abort("input must be a decimal delta")
		}
		delta = d
	}
	n := load() + delta
	v := []byte(strconv.FormatUint(n, 10))
	sdk.Set(key, v)
	sdk.Event("incremented", v)
	sdk.Output(v)
}

//go:wasmexport get
func get() {
	sdk.Output([]byte(strconv.FormatUint(load(), 10)))
}

func main() {}
