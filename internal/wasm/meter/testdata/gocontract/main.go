// Command gocontract is a test fixture: a Go program compiled with
// GOOS=wasip1 GOARCH=wasm (see ../../gen_test.go) that exercises the Go
// runtime (allocation, maps, goroutines, bulk memory), SHA-256 and floats,
// then writes its results to stdout.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"sort"
	"strconv"
)

func main() {
	n := 1 << 16
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(i*7 + i>>8)
	}
	sum := sha256.Sum256(buf)
	out := "sha256 " + hex.EncodeToString(sum[:]) + "\n"

	// Floats, including NaNs whose bits the engine chooses.
	zero := float64(len(os.Args) - len(os.Args))
	nan := zero / zero
	xs := []float64{math.Sqrt(2), math.Pi * 1e10, -0.0, nan, math.Inf(1), math.Log(3)}
	for _, x := range xs {
		out += strconv.FormatFloat(x, 'g', -1, 64) + " " +
			strconv.FormatUint(math.Float64bits(x), 16) + "\n"
	}

	// Maps (iteration order depends on the runtime's random seed) sorted.
	m := map[string]int{}
	for i := 0; i < 1000; i++ {
		m[strconv.Itoa(i%37)] += i
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys[:5] {
		out += k + "=" + strconv.Itoa(m[k]) + "\n"
	}

	// Goroutines and channels.
	ch := make(chan int)
	for i := 0; i < 8; i++ {
		go func(i int) { ch <- i * i }(i)
	}
	total := 0
	for i := 0; i < 8; i++ {
		total += <-ch
	}
	out += "squares " + strconv.Itoa(total) + "\n"
	os.Stdout.WriteString(out)
}
