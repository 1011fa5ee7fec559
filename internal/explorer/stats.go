package explorer

import (
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// The latency histogram: bucket 0 holds 0 ms; bucket 1+4k+s (k = 0..40,
// s = 0..3) holds [2^k·(4+s)/4, 2^k·(5+s)/4) ms — each power-of-two
// octave split in four equal parts, so a bucket is at most 25% wider
// than its lower bound and the midpoint estimate is within 12.5% of any
// value in it (exact below 8 ms, where buckets hold one integer).
// Latencies of 2^41 ms (70 years) and more share the last bucket.
const (
	NumLatencyBuckets = 1 + 4*41
	maxLatency        = 1<<41 - 1
)

// LatencyBucket is the histogram bucket of ms (negative counts as 0).
func LatencyBucket(ms int64) int {
	if ms <= 0 {
		return 0
	}
	v := uint64(min(ms, maxLatency))
	k := bits.Len64(v) - 1
	sub := int((v<<2)>>k) - 4
	return 1 + 4*k + sub
}

// BucketBounds is the integer range [lo, hi) of ms bucket i holds: its
// real bounds rounded up (below 4 ms a bucket holds one integer or none;
// hi of the last bucket is its nominal bound).
func BucketBounds(i int) (lo, hi int64) {
	if i <= 0 {
		return 0, 1
	}
	k, sub := (i-1)/4, int64((i-1)%4)
	return ((int64(1)<<k)*(4+sub) + 3) / 4, ((int64(1)<<k)*(5+sub) + 3) / 4
}

// Estimate is the value a percentile falling in bucket i is reported
// as: the bucket's only integer when it holds one, else its midpoint.
func Estimate(i int) int64 {
	lo, hi := BucketBounds(i)
	if hi-lo <= 1 {
		return lo
	}
	return (lo + hi) / 2
}

// Histogram counts latencies per bucket.
type Histogram [NumLatencyBuckets]uint64

// Add counts one latency.
func (h *Histogram) Add(ms int64) { h[LatencyBucket(ms)]++ }

// Count is the number of latencies counted.
func (h *Histogram) Count() uint64 {
	var n uint64
	for _, c := range h {
		n += c
	}
	return n
}

// Percentile estimates the p-th percentile (0 < p ≤ 100): the Estimate of
// the bucket holding the ⌈p·n/100⌉-th smallest latency; 0 when empty.
func (h *Histogram) Percentile(p int) int64 {
	n := h.Count()
	if n == 0 {
		return 0
	}
	rank := (uint64(p)*n + 99) / 100
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h {
		seen += c
		if seen >= rank {
			return Estimate(i)
		}
	}
	return Estimate(NumLatencyBuckets - 1)
}

// Stats aggregates the results of one contract over a span of time.
type Stats struct {
	// Through is the highest block height whose results are in Stats:
	// the index adds a block to a stored bucket only when its height is
	// above it, so re-indexing a block never counts it twice.
	Through  int64
	Calls    uint64
	OK       uint64
	GasUsed  uint64
	ByStatus map[string]uint64
	Latency  Histogram // of results that settled (not of expired ones)
}

// Add counts one result r, settled latencyMS after its inclusion (hasLatency
// false when the inclusion time is not known).
func (s *Stats) Add(r Result, latencyMS int64, hasLatency bool) {
	s.Calls++
	out := r.Outcome()
	if out == ExecOK {
		s.OK++
	}
	if s.ByStatus == nil {
		s.ByStatus = map[string]uint64{}
	}
	s.ByStatus[out]++
	s.GasUsed += r.GasUsed
	if hasLatency && r.Status != StatusExpired {
		s.Latency.Add(latencyMS)
	}
}

// Merge adds o into s (Through becomes the larger).
func (s *Stats) Merge(o *Stats) {
	s.Through = max(s.Through, o.Through)
	s.Calls += o.Calls
	s.OK += o.OK
	s.GasUsed += o.GasUsed
	for k, v := range o.ByStatus {
		if s.ByStatus == nil {
			s.ByStatus = map[string]uint64{}
		}
		s.ByStatus[k] += v
	}
	for i, c := range o.Latency {
		s.Latency[i] += c
	}
}

// Bucket is s as the API's bucket starting at start.
func (s *Stats) Bucket(start int64) apitype.StatsBucket {
	b := apitype.StatsBucket{Start: start, Calls: s.Calls, OK: s.OK, Failed: s.Calls - s.OK, GasUsed: s.GasUsed,
		LatencyMS: apitype.Latency{Samples: s.Latency.Count()}}
	if len(s.ByStatus) > 0 {
		b.ByStatus = make(map[string]uint64, len(s.ByStatus))
		for k, v := range s.ByStatus {
			b.ByStatus[k] = v
		}
	}
	if b.LatencyMS.Samples > 0 {
		b.LatencyMS.P50, b.LatencyMS.P90, b.LatencyMS.P99 = s.Latency.Percentile(50), s.Latency.Percentile(90), s.Latency.Percentile(99)
	}
	return b
}

// statsFormat is the first byte of an encoded Stats.
const statsFormat = 1

// Limits a decoder enforces.
const (
	maxStatuses  = 64
	maxStatusLen = 64
)

// MarshalBinary encodes s: a format byte, then uvarints Through, Calls,
// OK, GasUsed, the number of statuses and each (name length, name,
// count) in name order, the number of nonzero histogram buckets and each
// (bucket, count) in bucket order. The encoding is canonical.
func (s *Stats) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 64)
	b = append(b, statsFormat)
	b = binary.AppendUvarint(b, uint64(s.Through))
	b = binary.AppendUvarint(b, s.Calls)
	b = binary.AppendUvarint(b, s.OK)
	b = binary.AppendUvarint(b, s.GasUsed)
	names := make([]string, 0, len(s.ByStatus))
	for k := range s.ByStatus {
		names = append(names, k)
	}
	slices.Sort(names)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, k := range names {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, s.ByStatus[k])
	}
	var nz uint64
	for _, c := range s.Latency {
		if c > 0 {
			nz++
		}
	}
	b = binary.AppendUvarint(b, nz)
	for i, c := range s.Latency {
		if c > 0 {
			b = binary.AppendUvarint(b, uint64(i))
			b = binary.AppendUvarint(b, c)
		}
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded. Errors (Decode): a
// wrong format byte, truncated or trailing bytes, a varint that is not
// minimal, more than 64 statuses
// or a name over 64 bytes, statuses or buckets out of order or repeated,
// a bucket out of range, a zero count, OK above Calls, Through above
// 2^63−1.
func (s *Stats) UnmarshalBinary(b []byte) error {
	const op = "explorer.stats"
	bad := func(what string) error { return vmerr.E(op, vmerr.Decode, "stats: %s", what) }
	if len(b) == 0 || b[0] != statsFormat {
		return bad("unknown format")
	}
	b = b[1:]
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 || n != max(1, (bits.Len64(v)+6)/7) { // only minimal varints: canonical
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	var out Stats
	var vals [4]uint64
	for i := range vals {
		v, ok := next()
		if !ok {
			return bad("truncated")
		}
		vals[i] = v
	}
	if vals[0] > 1<<63-1 {
		return bad("height out of range")
	}
	out.Through, out.Calls, out.OK, out.GasUsed = int64(vals[0]), vals[1], vals[2], vals[3]
	if out.OK > out.Calls {
		return bad("more ok than calls")
	}
	n, ok := next()
	if !ok || n > maxStatuses {
		return bad("bad status count")
	}
	prev := ""
	for i := uint64(0); i < n; i++ {
		l, ok := next()
		if !ok || l == 0 || l > maxStatusLen || l > uint64(len(b)) {
			return bad("bad status name")
		}
		name := string(b[:l])
		b = b[l:]
		if i > 0 && name <= prev {
			return bad("statuses out of order")
		}
		prev = name
		c, ok := next()
		if !ok || c == 0 {
			return bad("bad status count")
		}
		if out.ByStatus == nil {
			out.ByStatus = make(map[string]uint64, n)
		}
		out.ByStatus[name] = c
	}
	n, ok = next()
	if !ok || n > NumLatencyBuckets {
		return bad("bad bucket count")
	}
	last := -1
	for i := uint64(0); i < n; i++ {
		idx, ok1 := next()
		c, ok2 := next()
		if !ok1 || !ok2 || idx >= NumLatencyBuckets || int(idx) <= last || c == 0 {
			return bad("bad bucket")
		}
		last = int(idx)
		out.Latency[idx] = c
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	*s = out
	return nil
}
