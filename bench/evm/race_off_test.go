//go:build !race

package evm_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
