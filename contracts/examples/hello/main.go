//go:build wasip1

// Command hello is the example greeting contract: greet reads JSON
// {"name": ...} and writes {"greeting": "Hello, <name>!"}.
package main

import sdk "github.com/virtual-machine/vm/sdk/go"

//go:wasmexport greet
func greet() {
	var in struct {
		Name string `json:"name"`
	}
	sdk.InputJSON(&in)
	if in.Name == "" {
		sdk.Abort("name is empty")
	}
	sdk.OutputJSON(struct {
		Greeting string `json:"greeting"`
	}{"Hello, " + in.Name + "!"})
}

func main() {}
