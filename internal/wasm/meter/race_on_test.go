//go:build race

package meter_test

// raceEnabled reports a -race build, where slow single-goroutine tests skip.
const raceEnabled = true
