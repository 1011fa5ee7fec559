//go:build race

package composite_test

// raceEnabled: under -race the shared runtime uses the interpreter, because
// wazero's instrumented compiler takes tens of seconds per Go contract.
const raceEnabled = true
