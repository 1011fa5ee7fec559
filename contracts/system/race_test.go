//go:build race

package system_test

// raceEnabled: under -race wazero's compiler needs ~40 s for a Go
// contract, so the tests run the contract on the interpreter only.
const raceEnabled = true
