package market_test

import (
	"cmp"
	"slices"
	"testing"

	"github.com/virtual-machine/vm/internal/market"
)

var sinkU64 uint64

// BenchmarkSplit: Split over the 16-tier default schedule against a
// baseline that only does the 16 naive multiply-divides (no overflow
// safety, no validation, no allocation).
func BenchmarkSplit(b *testing.B) {
	tiers := market.Default().Tiers
	const reward = 123_456_789_012
	b.Run("baseline=naive16", func(b *testing.B) {
		for b.Loop() {
			var s uint64
			for _, t := range tiers {
				s += reward * uint64(t) / market.BasisPoints
			}
			sinkU64 += s
		}
	})
	b.Run("tiers=16", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			shares, refund, err := market.Split(reward, 16, 16, tiers)
			if err != nil {
				b.Fatal(err)
			}
			sinkU64 += shares[15] + refund
		}
	})
}

// BenchmarkAgree: Agree on 16 reveals (three distinct results, shuffled
// seal orders) against a baseline that only clones and sorts the 16
// entries by seal order, which Agree must do too.
func BenchmarkAgree(b *testing.B) {
	es := make([]market.Entry, 16)
	for i := range es {
		es[i] = rev((i*7)%16, i+1, 1+i%3)
	}
	b.Run("baseline=sort16", func(b *testing.B) {
		for b.Loop() {
			c := slices.Clone(es)
			slices.SortFunc(c, func(x, y market.Entry) int { return cmp.Compare(x.Order, y.Order) })
			sinkU64 += uint64(c[0].Order)
		}
	})
	b.Run("reveals=16", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a, err := market.Agree(es, 5)
			if err != nil || !a.Reached {
				b.Fatal(err)
			}
			sinkU64 += uint64(len(a.Agreeing))
		}
	})
}

// BenchmarkMemoKey: MemoKey with 16 reads against one Seal (a single
// SHA-256 of 90 bytes) as the baseline.
func BenchmarkMemoKey(b *testing.B) {
	reads := make([]market.Read, 16)
	for i := range reads {
		reads[i] = market.Read{Contract: "hello", Key: []byte{byte(15 - i), 'k', 'e', 'y'}, Found: true, Version: uint64(i + 1)}
	}
	b.Run("baseline=seal", func(b *testing.B) {
		for b.Loop() {
			s := market.Seal(addr(1), hash(2), hash(3))
			sinkU64 += uint64(s[0])
		}
	})
	b.Run("reads=16", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k := market.MemoKey(hash(1), "greet", hash(2), reads)
			sinkU64 += uint64(k[0])
		}
	})
}
