package miner

import (
	"context"
	"strconv"
	"time"

	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// maxAttempts bounds how often one message is sent again after its
// transaction did not reach a block (nonce resyncs, timeouts).
const maxAttempts = 5

// refusedEvent is the ledger's event for a work message it refused in a
// work-only transaction; its "index" attribute is the message's index.
const refusedEvent = "work_refused"

// sendLoop batches work messages into transactions (at most MaxBatchMsgs
// messages and MaxBatchBytes bytes each) and keeps up to Pipeline of them
// in flight, each signed with the next nonce. While all slots are busy,
// messages accumulate, so batches grow with the load. Messages whose
// transaction did not reach a block are sent again (Agent.again), after
// the nonce is re-read from the account. Transactions are submitted and
// awaited under sctx, which outlives ctx by Close's grace period.
func (a *Agent) sendLoop(ctx, sctx context.Context) {
	slots := make(chan struct{}, a.cfg.Pipeline)
	var carry []work
	for {
		if len(carry) == 0 {
			carry = a.takeRetries()
		}
		if len(carry) == 0 {
			select {
			case w := <-a.urgent:
				carry = append(carry, w)
			default:
				select {
				case w := <-a.urgent:
					carry = append(carry, w)
				case w := <-a.outbox:
					carry = append(carry, w)
				case <-a.kick:
					continue
				case <-ctx.Done():
					return
				}
			}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		batch, size := carry, 0
		carry = nil
		for i, w := range batch {
			if i > 0 && (i == MaxBatchMsgs || size+w.size > MaxBatchBytes) {
				batch, carry = batch[:i], batch[i:]
				break
			}
			size += w.size
		}
		// Fill the batch with what is queued, then keep it open for up to
		// BatchLinger for more: without the wait, each message executed
		// while slots are free went out in a transaction of its own, and a
		// freed pipeline was spent on single-message transactions in a
		// few milliseconds (each costing the node a signature, a nonce and
		// a fee), leaving no slot for the results of the next block.
		var linger <-chan time.Time
	fill:
		for len(carry) == 0 && len(batch) < MaxBatchMsgs {
			var w work
			select {
			case w = <-a.urgent: // reveals first: their window is short
			default:
				select {
				case w = <-a.urgent:
				case w = <-a.outbox:
				default:
					if linger == nil {
						linger = time.After(BatchLinger)
					}
					select {
					case w = <-a.urgent:
					case w = <-a.outbox:
					case <-linger:
						break fill
					case <-ctx.Done():
						break fill
					}
				}
			}
			if size+w.size > MaxBatchBytes {
				carry = append(carry, w)
				break fill
			}
			batch, size = append(batch, w), size+w.size
		}
		nonce, err := a.nextNonce(ctx, slots)
		if err != nil {
			<-slots
			a.log.Warn("reading the account nonce", "err", err)
			carry = append(batch, carry...)
			if !sleep(ctx, a.cfg.PollInterval) {
				return
			}
			continue
		}
		a.spawn(func() {
			defer func() { <-slots }()
			a.submit(sctx, nonce, batch)
		})
	}
}

// takeRetries returns the messages to send again, oldest first.
func (a *Agent) takeRetries() []work {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.retry
	a.retry = nil
	return out
}

// nextNonce returns the nonce for the next transaction. After a
// transaction did not consume its nonce, it first waits for every other
// transaction in flight (it holds one of slots already), then re-reads the
// account's nonce.
func (a *Agent) nextNonce(ctx context.Context, slots chan struct{}) (uint64, error) {
	a.mu.Lock()
	need := a.resync
	a.mu.Unlock()
	if need {
		held := 0
		defer func() {
			for range held {
				<-slots
			}
		}()
		for held < cap(slots)-1 {
			select {
			case slots <- struct{}{}:
				held++
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		acc, err := a.c.AccountNoProof(ctx, a.addr, 0)
		if err != nil {
			return 0, err
		}
		a.mu.Lock()
		a.nonce, a.resync = acc.Nonce, false
		a.mu.Unlock()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n := a.nonce
	a.nonce++
	return n, nil
}

// submit signs batch with nonce, submits it, waits for its block and
// records each message's outcome: which messages were refused comes with
// the answer (jobs.WorkLog), or else from reading the transaction back.
func (a *Agent) submit(ctx context.Context, nonce uint64, batch []work) {
	msgs := make([]*txpb.Msg, len(batch))
	for i, w := range batch {
		msgs[i] = w.msg
	}
	raw, err := tx.Sign(&txpb.TxBody{ChainId: a.chainID, Nonce: nonce, Fee: a.fee, Msgs: msgs}, a.cfg.Key)
	if err != nil {
		a.log.Error("signing a work transaction", "err", err)
		a.markResync()
		a.settle(batch, nil, true)
		return
	}
	rs, err := a.c.SubmitTxs(ctx, [][]byte{raw}, true)
	if ctx.Err() != nil {
		return
	}
	if err != nil || len(rs) != 1 {
		a.log.Debug("submitting a work transaction", "err", err)
		a.again(batch)
		return
	}
	r := rs[0]
	code := vmerr.Kind(r.Code)
	switch {
	case r.Code == 0 && r.Height > 0:
		a.txs.Add(1)
		a.setHeight(r.Height)
		refused, ok := jobs.ParseWorkLog(r.Log)
		if !ok { // a node that does not write the work log: read the events
			refused = a.refusals(ctx, r.Hash)
		}
		a.settle(batch, refused, false)
	case r.Code == 0, code == vmerr.BadNonce, code == vmerr.Timeout, code == vmerr.Unavailable, code == vmerr.Internal:
		// Not in a block (or not known to be): send the messages again.
		a.log.Debug("work transaction not committed", "nonce", nonce, "code", code, "log", r.Log)
		a.again(batch)
	default:
		// Refused as a whole: every message refused in its block (the
		// nonce is not consumed), or CheckTx refused it.
		a.log.Debug("work transaction refused", "nonce", nonce, "code", code, "log", r.Log, "height", r.Height)
		a.setHeight(r.Height)
		a.markResync()
		a.settle(batch, nil, true)
	}
}

// refusals returns the indexes of the messages of committed transaction
// hash the ledger refused (its work_refused events). When the transaction
// cannot be read back, it reports none.
func (a *Agent) refusals(ctx context.Context, hash string) map[int]bool {
	h, err := tx.ParseHash(hash)
	if err != nil {
		return nil
	}
	t, err := a.c.Tx(ctx, h)
	if err != nil {
		a.log.Debug("reading back a work transaction", "tx", hash, "err", err)
		return nil
	}
	var out map[int]bool
	for _, ev := range t.Events {
		if ev.Type != refusedEvent {
			continue
		}
		if i, err := strconv.Atoi(ev.Attributes["index"]); err == nil {
			if out == nil {
				out = map[int]bool{}
			}
			out[i] = true
		}
	}
	return out
}

// again queues batch to be sent again under a re-read nonce; a message
// sent maxAttempts times is given up.
func (a *Agent) again(batch []work) {
	a.txRetries.Add(1)
	a.mu.Lock()
	a.resync = true
	var dropped []work
	for _, w := range batch {
		w.attempts++
		if w.attempts >= maxAttempts {
			dropped = append(dropped, w)
			continue
		}
		a.retry = append(a.retry, w)
	}
	a.mu.Unlock()
	if len(dropped) > 0 {
		a.log.Warn("giving up work messages after repeated failures", "messages", len(dropped))
		a.settle(dropped, nil, true)
	}
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

func (a *Agent) markResync() {
	a.mu.Lock()
	a.resync = true
	a.mu.Unlock()
}

// settle records the outcome of batch's messages: refused[i] (or all, with
// allRefused) were refused by the ledger, the others applied. An applied
// seal makes its round wait for the reveal phase; a refused reveal is
// tried again at the next block while the phase lasts.
func (a *Agent) settle(batch []work, refused map[int]bool, allRefused bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, w := range batch {
		no := allRefused || refused[i]
		if no {
			a.refused.Add(1)
		}
		switch w.msg.GetSum().(type) {
		case *txpb.Msg_Seal:
			p := a.pending[w.id]
			switch {
			case no:
				delete(a.pending, w.id)
			case p != nil:
				a.seals.Add(1)
				p.sealed, p.sealedAt = true, a.height
			}
		case *txpb.Msg_Reveal:
			p := a.pending[w.id]
			switch {
			case no && p != nil:
				p.inFlight = false
			case !no:
				a.reveals.Add(1)
				delete(a.pending, w.id)
			}
		case *txpb.Msg_Result:
			if !no {
				a.results.Add(1)
			}
		}
	}
}
