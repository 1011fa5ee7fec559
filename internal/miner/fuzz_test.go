package miner_test

import (
	"context"
	"testing"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// FuzzExecuteOffer feeds the executor offers with arbitrary text fields (an
// offer is JSON from the node: the executor's decoder). It must never
// panic; an offer it cannot parse is an Invalid error before anything
// runs, and one it runs gives the constant module's output.
func FuzzExecuteOffer(f *testing.F) {
	rt := newRuntime(f)
	code := newMemCode()
	v, _ := meter(f, rt, code, "k", "1.0.0", constModule("k"), 1)
	e := newExecutor(f, code, newMemData(), 0)
	ok := offer(v, "run", "")
	f.Add(ok.GasLimit, ok.Seed, ok.MeteredCID, ok.Version, ok.Start, false)
	f.Add("18446744073709551616", ok.Seed, ok.MeteredCID, ok.Version, int64(1), false)
	f.Add("1", "zz", "", "", int64(-1), true)
	f.Fuzz(func(t *testing.T, gas, seed, cid, version string, start int64, comp bool) {
		r := ok
		r.GasLimit, r.Seed, r.MeteredCID, r.Version, r.Start, r.Composite = gas, seed, cid, version, start, comp
		res, raw, _, err := e.Execute(context.Background(), r)
		switch {
		case err != nil:
			if k := vmerr.KindOf(err); k != vmerr.Invalid && k != vmerr.NotFound && k != vmerr.Unauthorized {
				t.Fatalf("offer %+v: error kind %d: %v", r, k, err)
			}
		case len(raw) == 0:
			t.Fatalf("offer %+v: result without bytes", r)
		case res.Status == 0 && string(res.Output) != "k":
			t.Fatalf("offer %+v: output %q", r, res.Output)
		}
	})
}
