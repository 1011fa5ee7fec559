//go:build race

package wasm_test

// raceEnabled: under -race, compiling a multi-MB Go contract with wazero's
// compiler takes ~40 s (wazero itself is instrumented), so Go-contract
// tests use the interpreter in every shared runtime slot. Hand-assembled
// modules still run under both engines (TestHostile, TestEnginesAgree).
const raceEnabled = true
