//go:build race

package examples_test

// raceEnabled: under -race wazero's compiler needs ~40 s per Go contract,
// so the examples run on the interpreter only (internal/wasm compares the
// engines without -race).
const raceEnabled = true
