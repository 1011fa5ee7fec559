//go:build wasip1

// Command abi exercises every SDK function and the WASI shim from a real
// Go program, for the runtime's tests.
package main

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"time"

	sdk "github.com/virtual-machine/vm/sdk/go"
)

// env reports what the contract sees of the request and the shim.
//
//go:wasmexport env
func env() {
	seed := sdk.Seed()
	var rnd [8]byte
	if _, err := crand.Read(rnd[:]); err != nil {
		sdk.Abort(err.Error())
	}
	before := time.Now()
	time.Sleep(2 * time.Second)
	slept := time.Since(before)
	fmt.Println("hello from stdout")
	fmt.Fprintln(os.Stderr, "hello from stderr")
	sdk.Log("a log line")
	sdk.OutputJSON(map[string]any{
		"caller": sdk.Caller(), "height": sdk.Height(), "time": sdk.Time(), "now": time.Now().Unix(),
		"seed": hex.EncodeToString(seed[:]), "rand": hex.EncodeToString(rnd[:]), "slept": slept.String(),
		"gas_left_positive": sdk.GasLeft() > 0, "args": len(os.Args), "env": len(os.Environ()),
	})
}

// kv writes keys a..e, deletes c, and outputs a range over [b, z) limit 3
// and a Get of c and d.
//
//go:wasmexport kv
func kv() {
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		sdk.Set([]byte(k), []byte("v"+k))
	}
	sdk.Delete([]byte("c"))
	out := ""
	for _, e := range sdk.Range([]byte("b"), []byte("z"), 3) {
		out += string(e.Key) + "=" + string(e.Value) + ","
	}
	_, okc := sdk.Get([]byte("c"))
	vd, okd := sdk.Get([]byte("d"))
	out += strconv.FormatBool(okc) + "," + string(vd) + strconv.FormatBool(okd)
	sdk.Output([]byte(out))
}

// scan outputs a range over the whole namespace.
//
//go:wasmexport scan
func scan() {
	out := ""
	for _, e := range sdk.Range(nil, nil, 100) {
		out += string(e.Key) + "=" + string(e.Value) + ","
	}
	sdk.Output([]byte(out))
}

// forward calls the contract and function named in the input
// ("name fn") and outputs the callee's output or error.
//
//go:wasmexport forward
func forward() {
	var name, fn string
	fmt.Sscan(string(sdk.Input()), &name, &fn)
	out, err := sdk.Call(name, fn, []byte("7"))
	if err != nil {
		sdk.Output([]byte("error: " + err.Error()))
		return
	}
	sdk.Output(out)
}

// crash panics: the Go runtime prints the panic and exits with code 2.
//
//go:wasmexport crash
func crash() {
	var m map[string]int
	m["x"] = 1
}

// hog allocates until the memory limit.
//
//go:wasmexport hog
func hog() {
	var keep [][]byte
	for {
		keep = append(keep, make([]byte, 1<<20))
	}
}

func main() {}
