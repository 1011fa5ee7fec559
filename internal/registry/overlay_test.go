package registry_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/virtual-machine/vm/internal/registry"
)

// TestOverlayScan compares Overlay.Scan (pending writes and deletes over
// a base) with a scan of the merged map, over random states, ranges,
// directions and early stops.
func TestOverlayScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	key := func() string { return fmt.Sprintf("k%02d", r.IntN(30)) }
	for i := range 300 {
		base := mapStore{}
		for range r.IntN(20) {
			base[key()] = []byte("base")
		}
		o := &registry.Overlay{Base: base}
		want := mapStore{}
		for k, v := range base {
			want[k] = v
		}
		for range r.IntN(15) {
			k := key()
			if r.IntN(3) == 0 {
				o.Set([]byte(k), nil)
				delete(want, k)
			} else {
				o.Set([]byte(k), []byte("new"))
				want[k] = []byte("new")
			}
		}
		var start, end []byte
		if r.IntN(2) == 0 {
			start = []byte(key())
		}
		if r.IntN(2) == 0 {
			end = []byte(key())
		}
		asc := r.IntN(2) == 0
		stop := r.IntN(10)
		collect := func(s registry.Reader) []string {
			var out []string
			if err := s.Scan(start, end, asc, func(k, v []byte) bool {
				out = append(out, string(k)+"="+string(v))
				return len(out) < stop || stop == 0
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got, exp := collect(o), collect(want); !slices.Equal(got, exp) {
			t.Fatalf("case %d (%q..%q asc=%v stop=%d): got %v, want %v", i, start, end, asc, stop, got, exp)
		}
		if v, _ := o.Get([]byte("k05")); string(v) != string(want["k05"]) {
			t.Fatalf("case %d: Get k05 = %q, want %q", i, v, want["k05"])
		}
	}
}
