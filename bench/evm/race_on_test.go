//go:build race

package evm_test

// raceEnabled reports whether the race detector is on: wazero's compiler
// takes tens of seconds per multi-MB Go module when race-instrumented.
const raceEnabled = true
