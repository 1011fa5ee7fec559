package explorer_test

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/explorer"
	"github.com/virtual-machine/vm/internal/vmerr"
)

const addr = "00112233445566778899aabbccddeeff00112233"

func TestIsAddressAttr(t *testing.T) {
	for _, tc := range []struct {
		name, key, value string
		want             bool
	}{
		{"signer", "signer", addr, true},
		{"payer", "payer", addr, true},
		{"from", "from", addr, true},
		{"to", "to", addr, true},
		{"requester", "requester", addr, true},
		{"publisher", "publisher", addr, true},
		{"yank by", "by", addr, true},
		{"owner", "owner", addr, true},
		{"miner register address", "address", addr, true},
		{"miner", "miner", addr, true},
		{"key not listed", "id", addr, false},
		{"result hash key", "result_hash", addr, false},
		{"contract name", "name", addr, false},
		{"uppercase hex", "to", "00112233445566778899AABBCCDDEEFF00112233", false},
		{"39 digits", "to", addr[:39], false},
		{"41 digits", "to", addr + "0", false},
		{"not hex", "to", "g0112233445566778899aabbccddeeff00112233", false},
		{"empty", "to", "", false},
		{"a 32-byte id", "to", addr + "0011223344556677889900aa", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := explorer.IsAddressAttr(tc.key, tc.value); got != tc.want {
				t.Errorf("IsAddressAttr(%q, %q) = %v, want %v", tc.key, tc.value, got, tc.want)
			}
		})
	}
}

// TestLatencyBuckets checks every latency lands in the bucket whose
// bounds hold it, and the bucket's estimate is within 12.5% (exact below
// 8 ms).
func TestLatencyBuckets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(ms int64) {
		i := explorer.LatencyBucket(ms)
		lo, hi := explorer.BucketBounds(i)
		if i < 0 || i >= explorer.NumLatencyBuckets || ms < lo || (ms >= hi && i != explorer.NumLatencyBuckets-1) {
			t.Fatalf("%d ms in bucket %d [%d, %d)", ms, i, lo, hi)
		}
		est := explorer.Estimate(i)
		if d := est - ms; ms < 8 && d != 0 || d < -ms/8 || d > ms/8 {
			t.Fatalf("%d ms estimated %d (bucket %d [%d, %d))", ms, est, i, lo, hi)
		}
	}
	for ms := int64(0); ms < 100_000; ms++ {
		check(ms)
	}
	for range 100_000 {
		check(r.Int64N(1 << 41))
	}
	if explorer.LatencyBucket(-5) != 0 || explorer.LatencyBucket(1<<62) != explorer.NumLatencyBuckets-1 {
		t.Error("out-of-range latencies not clamped")
	}
	// Buckets are contiguous and increasing.
	for i := 1; i < explorer.NumLatencyBuckets; i++ {
		_, prevHi := explorer.BucketBounds(i - 1)
		lo, hi := explorer.BucketBounds(i)
		if lo > prevHi || hi <= lo && hi-lo != 0 {
			t.Errorf("bucket %d [%d, %d) after one ending at %d", i, lo, hi, prevHi)
		}
	}
}

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []int64
		p    int
		want int64
	}{
		{"empty", nil, 50, 0},
		{"one", []int64{3}, 99, 3},
		{"median of three", []int64{1, 2, 3}, 50, 2},
		{"p99 of 100: 99 in [96, 112)", seq(1, 100), 99, 104},
		{"p90 of 10", seq(1, 10), 90, 9},
		{"p50 of 1000..1999", seq(1000, 1999), 50, 1408},
		{"zero latencies", []int64{0, 0, 0, 5000}, 50, 0}, // memo hits settle in their block
		{"p100 is the largest", []int64{1, 2, 1 << 20}, 100, explorer.Estimate(explorer.LatencyBucket(1 << 20))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h explorer.Histogram
			for _, v := range tc.in {
				h.Add(v)
			}
			if got := h.Percentile(tc.p); got != tc.want {
				t.Errorf("Percentile(%d) = %d, want %d", tc.p, got, tc.want)
			}
			if len(tc.in) > 0 {
				// The exact percentile by rank is in the reported bucket.
				exact := tc.in[(tc.p*len(tc.in)+99)/100-1]
				if explorer.LatencyBucket(tc.want) != explorer.LatencyBucket(exact) {
					t.Errorf("Percentile(%d) = %d is not in the bucket of the exact %d", tc.p, tc.want, exact)
				}
			}
		})
	}
}

func seq(a, b int64) []int64 {
	var out []int64
	for v := a; v <= b; v++ {
		out = append(out, v)
	}
	return out
}

func TestWindow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      apitype.StatsQuery
		latest  int64
		want    apitype.StatsQuery
		wantN   int
		wantErr bool
	}{
		{"defaults", apitype.StatsQuery{}, 7250, apitype.StatsQuery{From: 3660, To: 7260, Step: 60}, 60, false},
		{"defaults near epoch", apitype.StatsQuery{}, 100, apitype.StatsQuery{From: 0, To: 120, Step: 60}, 2, false},
		{"from rounded to step", apitype.StatsQuery{From: 7210, To: 14400, Step: 3600}, 0, apitype.StatsQuery{From: 7200, To: 14400, Step: 3600}, 2, false},
		{"partial last bucket", apitype.StatsQuery{From: 60, To: 150, Step: 60}, 0, apitype.StatsQuery{From: 60, To: 150, Step: 60}, 2, false},
		{"1440 buckets", apitype.StatsQuery{From: 60, To: 60 + 1440*60}, 0, apitype.StatsQuery{From: 60, To: 60 + 1440*60, Step: 60}, 1440, false},
		{"1441 buckets", apitype.StatsQuery{From: 60, To: 120 + 1440*60}, 0, apitype.StatsQuery{}, 0, true},
		{"from after to", apitype.StatsQuery{From: 600, To: 60}, 0, apitype.StatsQuery{}, 0, true},
		{"from equals to", apitype.StatsQuery{From: 600, To: 600}, 0, apitype.StatsQuery{}, 0, true},
		{"from after default to", apitype.StatsQuery{From: 1 << 40}, 100, apitype.StatsQuery{}, 0, true},
		{"step 90", apitype.StatsQuery{Step: 90}, 100, apitype.StatsQuery{}, 0, true},
		{"negative step", apitype.StatsQuery{Step: -60}, 100, apitype.StatsQuery{}, 0, true},
		{"negative from", apitype.StatsQuery{From: -60}, 100, apitype.StatsQuery{}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := explorer.Window("test", tc.in, tc.latest)
			if tc.wantErr {
				if vmerr.KindOf(err) != vmerr.Invalid {
					t.Fatalf("Window(%+v) = %+v, %v; want Invalid", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want || n != tc.wantN {
				t.Errorf("Window(%+v) = %+v, %d, %v; want %+v, %d", tc.in, got, n, err, tc.want, tc.wantN)
			}
		})
	}
}

func TestParseResult(t *testing.T) {
	full := map[string]string{"id": "ab", "status": "settled", "contract": "echo@1.2.3", "fn": "run", "seq": "7",
		"included": "40", "exec_status": "out_of_gas", "gas_used": "1000"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range full {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		in      map[string]string
		want    explorer.Result
		wantErr bool
	}{
		{"settled", full, explorer.Result{ID: "ab", Name: "echo", Version: "1.2.3", Fn: "run", Status: "settled",
			ExecStatus: "out_of_gas", GasUsed: 1000, Seq: 7, Included: 40}, false},
		{"expired has no run", with("exec_status", ""), explorer.Result{ID: "ab", Name: "echo", Version: "1.2.3", Fn: "run",
			Status: "settled", GasUsed: 1000, Seq: 7, Included: 40}, false},
		{"older ledger: no contract", with("contract", ""), explorer.Result{}, true},
		{"no version", with("contract", "echo"), explorer.Result{}, true},
		{"no included", with("included", ""), explorer.Result{}, true},
		{"bad seq", with("seq", "x"), explorer.Result{}, true},
		{"bad gas", with("gas_used", "-1"), explorer.Result{}, true},
		{"paid miners", with("miners", strings.Repeat("a", 40)+","+strings.Repeat("b", 40)), explorer.Result{ID: "ab", Name: "echo",
			Version: "1.2.3", Fn: "run", Status: "settled", ExecStatus: "out_of_gas", GasUsed: 1000, Seq: 7, Included: 40,
			Miners: []string{strings.Repeat("a", 40), strings.Repeat("b", 40)}}, false},
		{"a miner that is no address", with("miners", strings.Repeat("a", 40)+",bob"), explorer.Result{}, true},
		{"no id", with("id", ""), explorer.Result{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := explorer.ParseResult(func(k string) string { return tc.in[k] })
			if ok == tc.wantErr || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseResult = %+v, %v; want %+v, ok %v", got, ok, tc.want, !tc.wantErr)
			}
		})
	}
	if r := (explorer.Result{Status: "expired"}); r.Outcome() != explorer.StatusExpired {
		t.Errorf("expired outcome %q", r.Outcome())
	}
}

func TestParseCursor(t *testing.T) {
	for _, tc := range []struct {
		in      string
		h       int64
		n       uint64
		wantErr bool
	}{
		{"12:3", 12, 3, false},
		{"1:0", 1, 0, false},
		{explorer.Cursor(1<<40, 1<<40), 1 << 40, 1 << 40, false},
		{"0:1", 0, 0, true},
		{"12", 0, 0, true},
		{"12:", 0, 0, true},
		{":3", 0, 0, true},
		{"-1:3", 0, 0, true},
		{"1:-3", 0, 0, true},
		{"a:b", 0, 0, true},
		{"1:2:3", 0, 0, true},
	} {
		h, n, err := explorer.ParseCursor("test", tc.in)
		if tc.wantErr != (err != nil) || h != tc.h || n != tc.n {
			t.Errorf("ParseCursor(%q) = %d, %d, %v", tc.in, h, n, err)
		}
		if err != nil && vmerr.KindOf(err) != vmerr.Invalid {
			t.Errorf("ParseCursor(%q): kind %v", tc.in, vmerr.KindOf(err))
		}
	}
}

func TestPageLimit(t *testing.T) {
	for in, want := range map[int]int{0: 20, 1: 1, 100: 100, 101: -1, -1: -1} {
		got, err := explorer.PageLimit("test", in)
		if (want < 0) != (err != nil) || want >= 0 && got != want {
			t.Errorf("PageLimit(%d) = %d, %v", in, got, err)
		}
	}
}

func sample() explorer.Stats {
	var s explorer.Stats
	s.Add(explorer.Result{Status: "settled", ExecStatus: "ok", GasUsed: 700}, 1200, true)
	s.Add(explorer.Result{Status: "settled", ExecStatus: "out_of_gas", GasUsed: 1000}, 2400, true)
	s.Add(explorer.Result{Status: "memo", ExecStatus: "ok", GasUsed: 700}, 0, true)
	s.Add(explorer.Result{Status: "expired"}, 50_000, true)
	s.Add(explorer.Result{Status: "settled", ExecStatus: "trap", GasUsed: 3}, 0, false)
	s.Through = 77
	return s
}

func TestStatsAdd(t *testing.T) {
	s := sample()
	b := s.Bucket(600)
	want := apitype.StatsBucket{Start: 600, Calls: 5, OK: 2, Failed: 3, GasUsed: 2403,
		ByStatus: map[string]uint64{"ok": 2, "out_of_gas": 1, "expired": 1, "trap": 1},
		LatencyMS: apitype.Latency{Samples: 3, P50: explorer.Estimate(explorer.LatencyBucket(1200)),
			P90: explorer.Estimate(explorer.LatencyBucket(2400)), P99: explorer.Estimate(explorer.LatencyBucket(2400))}}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("Bucket = %+v\nwant %+v", b, want)
	}
	var m explorer.Stats
	m.Merge(&s)
	m.Merge(&s)
	if mb := m.Bucket(0); mb.Calls != 10 || mb.GasUsed != 4806 || mb.ByStatus["trap"] != 2 || mb.LatencyMS.Samples != 6 || m.Through != 77 {
		t.Errorf("merged twice = %+v", mb)
	}
}

func TestStatsEncoding(t *testing.T) {
	for _, s := range []explorer.Stats{{}, sample(), {Through: 1<<63 - 1, Calls: 1 << 60, OK: 1 << 60}} {
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got explorer.Stats
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("decode %x: %v", b, err)
		}
		if len(s.ByStatus) == 0 {
			s.ByStatus = nil
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("round trip = %+v, want %+v", got, s)
		}
	}
	good, _ := func() ([]byte, error) { s := sample(); return s.MarshalBinary() }()
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"unknown format", append([]byte{9}, good[1:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(append([]byte{}, good...), 0)},
		{"ok above calls", []byte{1, 0, 1, 2, 0, 0, 0}},
		{"zero status count", []byte{1, 0, 1, 1, 0, 1, 2, 'o', 'k', 0, 0}},
		{"empty status name", []byte{1, 0, 1, 1, 0, 1, 0, 1, 0}},
		{"statuses out of order", []byte{1, 0, 2, 0, 0, 2, 1, 'b', 1, 1, 'a', 1, 0}},
		{"bucket out of range", []byte{1, 0, 1, 1, 0, 0, 1, 0xFF, 0x01, 1}},
		{"buckets repeated", []byte{1, 0, 1, 1, 0, 0, 2, 3, 1, 3, 1}},
		{"zero bucket count", []byte{1, 0, 1, 1, 0, 0, 1, 3, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s explorer.Stats
			if err := s.UnmarshalBinary(tc.in); vmerr.KindOf(err) != vmerr.Decode {
				t.Errorf("UnmarshalBinary(%x) = %v, want a Decode error", tc.in, err)
			}
		})
	}
}

// FuzzStats checks the decoder never panics and that whatever it accepts
// re-encodes to the same bytes (the encoding is canonical).
func FuzzStats(f *testing.F) {
	s := sample()
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		var s explorer.Stats
		if err := s.UnmarshalBinary(in); err != nil {
			return
		}
		out, err := s.MarshalBinary()
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("accepted %x, re-encodes as %x (%v)", in, out, err)
		}
	})
}

func TestBuild(t *testing.T) {
	one := func(ms int64, exec string) explorer.Stats {
		var s explorer.Stats
		s.Add(explorer.Result{Status: "settled", ExecStatus: exec, GasUsed: 10}, ms, true)
		return s
	}
	q, n, err := explorer.Window("test", apitype.StatsQuery{From: 600, To: 1200, Step: 300}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := explorer.Build("echo", q, n, []explorer.MinuteStats{
		{Start: 540, Stats: one(5, "ok")}, // before the window
		{Start: 600, Stats: one(100, "ok")},
		{Start: 840, Stats: one(200, "trap")},
		{Start: 900, Stats: one(300, "ok")},
		{Start: 1200, Stats: one(5, "ok")}, // at to: outside
	})
	if got.Name != "echo" || got.From != 600 || got.To != 1200 || got.Step != 300 || len(got.Buckets) != 2 {
		t.Fatalf("Build = %+v", got)
	}
	b0, b1 := got.Buckets[0], got.Buckets[1]
	if b0.Start != 600 || b0.Calls != 2 || b0.OK != 1 || b0.Failed != 1 || b0.GasUsed != 20 || b1.Start != 900 || b1.Calls != 1 {
		t.Errorf("buckets = %+v", got.Buckets)
	}
	if got.Totals.Calls != 3 || got.Totals.LatencyMS.Samples != 3 || got.Totals.LatencyMS.P50 != explorer.Estimate(explorer.LatencyBucket(200)) {
		t.Errorf("totals = %+v", got.Totals)
	}
}
