package ledger

import (
	"runtime"
	"sync"
	"sync/atomic"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/virtual-machine/vm/internal/tx"
)

// zip215 are the acceptance rules of crypto.Verify; with them a batch
// accepts exactly the signatures that single verification accepts.
var zip215 = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

// minBatch is the fewest signatures worth a goroutine and a batch.
const minBatch = 64

// decoded is one block transaction after the stateless stage.
type decoded struct {
	s   *tx.Signed
	err error // decode or signature failure; s is nil then
}

// PreVerify checks the signatures of txs the way FinalizeBlock does — in
// ZIP-215 batches, split over GOMAXPROCS workers, 2–4x cheaper per
// signature than one by one — and remembers those that verified, so the
// CheckTx that follows for each of them (a submitted batch goes through
// the mempool one tx at a time) need not verify it again. It changes no
// state and decides nothing: a tx that does not decode or whose signature
// fails is not remembered, and CheckTx refuses it with its own error.
// Batches of fewer than minBatch txs are left to CheckTx. Safe for
// concurrent use.
func (a *App) PreVerify(txs [][]byte) {
	if len(txs) < minBatch {
		return
	}
	a.verifyAll(txs, func(s *tx.Signed) bool { return a.pre.has(s.Hash) || a.sigs.has(s.Hash) },
		func(s *tx.Signed) { a.pre.add(s.Hash, s) })
}

// decodeAndVerify decodes every raw tx and checks every signature that is
// not in the CheckTx cache. The result for each tx is a pure function of
// its bytes: workers only split the slice, and batch verification with
// ZIP-215 rules agrees with single verification. All goroutines end before
// it returns.
func (a *App) decodeAndVerify(txs [][]byte) []decoded {
	return a.verifyAll(txs, func(s *tx.Signed) bool { _, ok := a.sigs.take(s.Hash); return ok }, nil)
}

// verifyAll decodes txs and batch-verifies the signatures known is false
// for, calling verified (when not nil) for each that verified.
func (a *App) verifyAll(txs [][]byte, known func(*tx.Signed) bool, verified func(*tx.Signed)) []decoded {
	out := make([]decoded, len(txs))
	workers := min(runtime.GOMAXPROCS(0), len(txs)/minBatch)
	if workers <= 1 {
		a.verifyRange(txs, out, known, verified)
		return out
	}
	var wg sync.WaitGroup
	chunk := (len(txs) + workers - 1) / workers
	for lo := 0; lo < len(txs); lo += chunk {
		hi := min(lo+chunk, len(txs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.verifyRange(txs[lo:hi], out[lo:hi], known, verified)
		}()
	}
	wg.Wait()
	return out
}

// verifyRange fills out[i] for txs[i], verifying the signatures known is
// false for in one batch; verified (when not nil) is called for each
// that verified.
func (a *App) verifyRange(txs [][]byte, out []decoded, known func(*tx.Signed) bool, verified func(*tx.Signed)) {
	bv := voi.NewBatchVerifierWithCapacity(len(txs))
	var idx []int
	for i, raw := range txs {
		s, err := tx.Decode(raw, a.chainID)
		if err != nil {
			out[i].err = err
			continue
		}
		out[i].s = s
		if known(s) {
			continue
		}
		bv.AddWithOptions(voi.PublicKey(s.PubKey), s.BodyBytes, s.Signature, zip215)
		idx = append(idx, i)
	}
	if len(idx) == 0 {
		return
	}
	ok, valid := bv.Verify(nil)
	for j, i := range idx {
		// On a failed batch voi re-verifies each entry singly, so valid[j]
		// is already the single answer; crypto.Verify gives the error text
		// and stays the one authority if the two ever disagreed.
		if !ok && !valid[j] {
			if err := out[i].s.VerifySignature(); err != nil {
				out[i] = decoded{err: err}
				continue
			}
		}
		if verified != nil {
			verified(out[i].s)
		}
	}
}

// hashCache is a bounded map by tx hash, oldest entry evicted first.
// Taking an entry frees it at once; its ring slot is reused by eviction
// later.
type hashCache[V any] struct {
	mu    sync.Mutex
	limit int
	n     atomic.Int64 // len(m), read without the lock
	m     map[tx.Hash]V
	ring  []tx.Hash // insertion order, grows up to limit
	next  int       // oldest entry once the ring is full
}

func newHashCache[V any](limit int) *hashCache[V] {
	return &hashCache[V]{limit: limit, m: make(map[tx.Hash]V)}
}

// add keeps v under h (a hash already kept keeps its value).
func (c *hashCache[V]) add(h tx.Hash, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[h]; ok {
		return
	}
	if len(c.ring) < c.limit {
		c.ring = append(c.ring, h)
	} else {
		delete(c.m, c.ring[c.next])
		c.ring[c.next] = h
		c.next = (c.next + 1) % len(c.ring)
	}
	c.m[h] = v
	c.n.Store(int64(len(c.m)))
}

// has reports whether h is kept.
func (c *hashCache[V]) has(h tx.Hash) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.m[h]
	return ok
}

// take returns and forgets the value of h.
func (c *hashCache[V]) take(h tx.Hash) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[h]
	if ok {
		delete(c.m, h)
		c.n.Store(int64(len(c.m)))
	}
	return v, ok
}

// empty reports, without the lock, whether nothing is kept.
func (c *hashCache[V]) empty() bool { return c.n.Load() == 0 }

// preCache holds the txs PreVerify decoded and verified, by hash, until
// their CheckTx takes them (so it neither decodes nor verifies them
// again). A decoded tx is a pure function of its bytes and the chain id,
// and CheckTx only reads it.
type preCache struct{ *hashCache[*tx.Signed] }

func newPreCache(limit int) preCache { return preCache{newHashCache[*tx.Signed](limit)} }

// takeRaw returns and forgets the tx of raw's hash, nil when none is kept;
// it hashes raw only when the cache holds something.
func (c preCache) takeRaw(raw []byte) *tx.Signed {
	if c.empty() {
		return nil
	}
	s, _ := c.take(tx.HashOf(raw))
	return s
}

// sigCache remembers hashes of transactions whose signature CheckTx has
// verified, so FinalizeBlock need not verify them again. Verification is a
// pure function of the tx bytes, so the cache cannot change any outcome;
// it is bounded (oldest evicted first) and local to this node. A tx is
// finalized once, so FinalizeBlock takes its entry.
type sigCache = hashCache[struct{}]

func newSigCache(limit int) *sigCache { return newHashCache[struct{}](limit) }
