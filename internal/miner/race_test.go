//go:build race

package miner_test

// raceEnabled: under -race the executor runs the interpreter, because
// wazero's instrumented compiler takes tens of seconds per Go contract.
const raceEnabled = true
