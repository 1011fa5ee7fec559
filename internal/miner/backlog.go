package miner

import (
	"container/heap"
	"strings"

	"github.com/virtual-machine/vm/internal/apitype"
)

// backlog holds taken offers waiting for an execution slot, earliest
// deadline first, ties broken by request id. Every miner orders the same
// offers the same way, however they reached it (the stream, a re-listing
// after a full backlog, a re-offer): honest miners of a request then reach
// it at about the same time, within the commit window its first seal
// opens. First come, first served would let miners drift apart under a
// burst until no round gathers its quorum. A superseded round (a newer one
// of the same request was taken since) is dropped when it comes up.
type backlog struct {
	h     offerHeap
	bytes int // offerSize of the queued offers
}

func (b *backlog) len() int { return len(b.h) }

func (b *backlog) push(r apitype.Request) {
	heap.Push(&b.h, r)
	b.bytes += offerSize(r)
}

// pop removes and returns the first offer.
func (b *backlog) pop() (apitype.Request, bool) {
	if len(b.h) == 0 {
		return apitype.Request{}, false
	}
	r := heap.Pop(&b.h).(apitype.Request)
	b.bytes -= offerSize(r)
	if len(b.h) == 0 {
		b.h = nil // let the backing array go
	}
	return r, true
}

type offerHeap []apitype.Request

func (h offerHeap) Len() int { return len(h) }
func (h offerHeap) Less(i, j int) bool {
	if h[i].Deadline != h[j].Deadline {
		return h[i].Deadline < h[j].Deadline
	}
	return strings.Compare(h[i].ID, h[j].ID) < 0
}
func (h offerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *offerHeap) Push(x any)   { *h = append(*h, x.(apitype.Request)) }
func (h *offerHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = apitype.Request{}
	*h = old[:len(old)-1]
	return r
}
