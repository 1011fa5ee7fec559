// Package bench owns the transfer load generator behind `vm bench
// transfers`: deterministic sender keys, pre-signed transfers (signing is
// client work and is timed apart from the run), submission in batches at
// a fixed concurrency through internal/client, and the report — committed
// tx/s, submit→commit latency percentiles and a process's peak RSS. It
// reaches a node only through its HTTP API, so it measures a node in this
// process, a spawned one or a remote one the same way.
package bench

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Defaults of Config.
const (
	DefaultConcurrency = 4
	DefaultBatch       = 500
	DefaultAmount      = 1
	DefaultFee         = 1
)

// Config describes one load run.
type Config struct {
	N           int    // transfers to submit
	Accounts    int    // senders; account i pays account (i+1) mod Accounts
	Concurrency int    // submitters, each with one request in flight; DefaultConcurrency when 0
	Batch       int    // transfers per request (POST /v1/txs:batch?wait=commit); DefaultBatch when 0
	ChainID     string // chain the transfers are signed for
	Amount      uint64 // GAS per transfer; DefaultAmount when 0
	Fee         uint64 // fee per transfer; DefaultFee when 0
	// Rate, when positive, paces the submitters to about Rate
	// transactions per second in total (open loop), so latency is measured
	// at a load the node can sustain; 0 submits as fast as answers come.
	Rate float64
	// Call, when set, makes every transaction a market Request (see
	// CallSpec) instead of a transfer.
	Call *CallSpec
}

// Validate fills defaults and checks c. Errors are Invalid.
func (c Config) Validate() (Config, error) {
	const op = "bench.config"
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.Amount == 0 {
		c.Amount = DefaultAmount
	}
	if c.Fee == 0 {
		c.Fee = DefaultFee
	}
	switch {
	case c.N < 1:
		return c, vmerr.E(op, vmerr.Invalid, "n must be at least 1, not %d", c.N)
	case c.Accounts < 2:
		return c, vmerr.E(op, vmerr.Invalid, "accounts must be at least 2, not %d", c.Accounts)
	case c.Concurrency < 1 || c.Batch < 1 || c.Batch > 10_000:
		return c, vmerr.E(op, vmerr.Invalid, "concurrency must be ≥ 1 and batch 1..10000 (got %d, %d)", c.Concurrency, c.Batch)
	case c.ChainID == "":
		return c, vmerr.E(op, vmerr.Invalid, "chain id is required")
	}
	c.Concurrency = min(c.Concurrency, c.Accounts)
	return c, nil
}

// Keys returns the deterministic bench keys 0..n-1: key i has the seed
// SHA-256("vm-bench/" + i), so two runs (and a node's genesis) agree on
// the accounts without sharing files.
func Keys(n int) []crypto.PrivKey {
	keys := make([]crypto.PrivKey, n)
	for i := range keys {
		seed := sha256.Sum256([]byte("vm-bench/" + strconv.Itoa(i)))
		k, err := crypto.KeyFromSeed(seed[:])
		if err != nil {
			panic(err) // a 32-byte seed always works
		}
		keys[i] = k
	}
	return keys
}

// Count is how many transfers account i sends in a run of cfg: N split
// evenly, the first N mod Accounts accounts sending one more.
func (c Config) Count(i int) int {
	n := c.N / c.Accounts
	if i < c.N%c.Accounts {
		n++
	}
	return n
}

// Need is the GAS account i must hold before a run: what it sends and pays.
func (c Config) Need(i int) uint64 {
	if c.Call != nil {
		return uint64(c.Count(i)) * (c.Call.Escrow() + c.Fee)
	}
	return uint64(c.Count(i)) * (c.Amount + c.Fee)
}

// Plan is a run's pre-signed transfers, split among the submitters.
type Plan struct {
	Config   Config
	Keys     []crypto.PrivKey
	Start    []uint64   // first nonce of each account
	Work     [][][]byte // Work[w]: submitter w's txs in submission order
	SignTime time.Duration
}

// Sign pre-signs every transfer of cfg for keys (len(keys) ==
// cfg.Accounts), account i starting at nonce start[i] (nil: all 0).
// Submitter w owns the accounts i with i mod Concurrency == w and sends
// their transfers round by round (every owned account's nonce k before
// any nonce k+1), so one account's nonces reach the node in order. The
// signing runs on all cores and is timed in Plan.SignTime. Errors are
// Invalid.
func Sign(cfg Config, keys []crypto.PrivKey, start []uint64) (*Plan, error) {
	cfg, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	if len(keys) != cfg.Accounts || (start != nil && len(start) != cfg.Accounts) {
		return nil, vmerr.E("bench.sign", vmerr.Invalid, "%d keys and %d start nonces for %d accounts", len(keys), len(start), cfg.Accounts)
	}
	if start == nil {
		start = make([]uint64, cfg.Accounts)
	}
	p := &Plan{Config: cfg, Keys: keys, Start: start, Work: make([][][]byte, cfg.Concurrency)}
	t0 := time.Now()
	errs := make([]error, cfg.Concurrency)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p.Work[w], errs[w] = p.signWorker(w)
		}()
	}
	wg.Wait()
	p.SignTime = time.Since(t0)
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *Plan) signWorker(w int) ([][]byte, error) {
	cfg := p.Config
	var txs [][]byte
	for round := 0; ; round++ {
		more := false
		for i := w; i < cfg.Accounts; i += cfg.Concurrency {
			if round >= cfg.Count(i) {
				continue
			}
			more = true
			to := p.Keys[(i+1)%cfg.Accounts].Address()
			msg := &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: to[:], Amount: cfg.Amount}}}
			if cfg.Call != nil {
				msg = cfg.Call.msg(i, round)
			}
			raw, err := tx.Sign(&txpb.TxBody{ChainId: cfg.ChainID, Nonce: p.Start[i] + uint64(round), Fee: cfg.Fee,
				Msgs: []*txpb.Msg{msg}}, p.Keys[i])
			if err != nil {
				return nil, err
			}
			txs = append(txs, raw)
		}
		if !more {
			return txs, nil
		}
	}
}

// Result is the report of one run. Durations are in milliseconds in JSON.
type Result struct {
	Label     string `json:"label"`
	N         int    `json:"n"`
	Committed int    `json:"committed"` // transfers committed with code 0
	Failed    int    `json:"failed"`    // rejected, failed in the block or not committed in time
	// FirstFailure describes one failed transfer, if any.
	FirstFailure string `json:"first_failure,omitempty"`
	// Failures counts the failed transfers by outcome: the name of their
	// result code's vmerr.Kind, or NotCommitted.
	Failures    map[string]int `json:"failures,omitempty"`
	Concurrency int            `json:"concurrency"`
	Batch       int            `json:"batch"`
	ElapsedMS   float64        `json:"elapsed_ms"` // first submit → last commit seen
	// TxPerSec is Committed / elapsed: the whole run, ramp-up included.
	TxPerSec float64 `json:"tx_per_sec"`
	// SustainedTxPerSec counts the transfers committed between the moments
	// 10 % and 90 % of them had committed, over that time: the steady
	// state without ramp-up and drain.
	SustainedTxPerSec float64 `json:"sustained_tx_per_sec"`
	P50MS             float64 `json:"p50_ms"` // submit→commit latency of one transfer
	P99MS             float64 `json:"p99_ms"`
	SignMS            float64 `json:"sign_ms"` // client-side pre-signing, not in ElapsedMS
	// PeakRSSBytes is the VmHWM of RSSPid after the run (0 when unknown).
	PeakRSSBytes int64  `json:"peak_rss_bytes"`
	RSSSource    string `json:"rss_source,omitempty"` // what process the RSS is of
	// NodeStartMS is how long the node took from start to its first block
	// and API (0 for a node that was already running).
	NodeStartMS float64 `json:"node_start_ms,omitempty"`
	// Checked is set when every account's balance and nonce were checked
	// against the plan after the run.
	Checked bool `json:"checked"`
	// Events is what a /v1/events reader saw during the run, when one
	// followed it (Follow).
	Events *EventsResult `json:"events,omitempty"`
}

// Run submits p's transfers through c — Concurrency submitters, each
// sending its transfers Batch at a time with POST /v1/txs:batch?wait=commit
// and the next batch when the answer comes — and reports. A transfer's
// latency is from its batch's send to its batch's answer, so it is an
// upper bound of its own submit→commit time. Errors: ctx ended, or a
// request failed outright (the node unreachable, a batch refused whole);
// rejected transfers are counted in Result.Failed, not errors.
func Run(ctx context.Context, c *client.Client, p *Plan) (Result, error) {
	return runWith(ctx, c, p, nil)
}

// runWith is Run, calling onSend (when set) just before each batch is sent
// with its place: submitter w's transactions lo..lo+n.
func runWith(ctx context.Context, c *client.Client, p *Plan, onSend func(w, lo, n int, at time.Time)) (Result, error) {
	cfg := p.Config
	res := Result{N: cfg.N, Concurrency: cfg.Concurrency, Batch: cfg.Batch, SignMS: ms(p.SignTime)}
	type done struct {
		at      time.Time
		lat     time.Duration
		n, fail int
		first   string
		codes   map[string]int
	}
	var (
		mu    sync.Mutex
		dones []done
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var firstErr error // the failure that stopped the run (guarded by mu)
	t0 := time.Now()
	var wg sync.WaitGroup
	for w, txs := range p.Work {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j, lo := 0, 0; lo < len(txs); j, lo = j+1, lo+cfg.Batch {
				batch := txs[lo:min(lo+cfg.Batch, len(txs))]
				if cfg.Rate > 0 { // open loop: batch j of submitter w has its slot
					slot := float64((j*cfg.Concurrency+w)*cfg.Batch) / cfg.Rate
					if !sleepUntil(ctx, t0.Add(time.Duration(slot*float64(time.Second)))) {
						return
					}
				}
				sent := time.Now()
				if onSend != nil {
					onSend(w, lo, len(batch), sent)
				}
				rs, err := c.SubmitTxs(ctx, batch, true)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				d := done{at: time.Now(), n: len(batch)}
				d.lat = d.at.Sub(sent)
				for _, r := range rs {
					if r.Code != 0 || r.Height == 0 {
						d.fail++
						if d.codes == nil {
							d.codes = make(map[string]int)
						}
						d.codes[failureName(r)]++
						if d.first == "" {
							d.first = fmt.Sprintf("tx %s: code %d (%s) %s", r.Hash, r.Code, vmerr.Kind(r.Code), r.Log)
						}
					}
				}
				mu.Lock()
				dones = append(dones, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return res, vmerr.Wrap("bench.run", vmerr.KindOf(firstErr), firstErr)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	slices.SortFunc(dones, func(a, b done) int { return a.at.Compare(b.at) })
	lats := make([]time.Duration, 0, cfg.N)
	var commitAt []time.Time // one entry per committed transfer, in order
	for _, d := range dones {
		res.Failed += d.fail
		for k, v := range d.codes {
			if res.Failures == nil {
				res.Failures = make(map[string]int)
			}
			res.Failures[k] += v
		}
		if res.FirstFailure == "" {
			res.FirstFailure = d.first
		}
		for range d.n - d.fail {
			lats = append(lats, d.lat)
			commitAt = append(commitAt, d.at)
		}
	}
	res.Committed = len(commitAt)
	if len(dones) > 0 {
		el := dones[len(dones)-1].at.Sub(t0)
		res.ElapsedMS = ms(el)
		res.TxPerSec = float64(res.Committed) / el.Seconds()
	}
	if n := len(commitAt); n > 0 {
		lo, hi := n/10, n*9/10
		if span := commitAt[hi-1].Sub(commitAt[lo]); hi-1 > lo && span > 0 {
			res.SustainedTxPerSec = float64(hi-1-lo) / span.Seconds()
		} else {
			res.SustainedTxPerSec = res.TxPerSec
		}
		slices.Sort(lats)
		res.P50MS = ms(lats[n/2])
		res.P99MS = ms(lats[min(n-1, n*99/100)])
	}
	return res, nil
}

// NotCommitted is the Result.Failures key of a transfer answered with
// code 0 but no height: accepted and not (yet) committed.
const NotCommitted = "not_committed"

func failureName(r apitype.SubmitResult) string {
	if r.Code == 0 {
		return NotCommitted
	}
	return vmerr.Kind(r.Code).String()
}

// FailureSummary is Failures as text, most frequent first (ties by
// name), e.g. "bad_nonce 120, timeout 3"; empty when nothing failed.
func (r Result) FailureSummary() string {
	names := make([]string, 0, len(r.Failures))
	for k := range r.Failures {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := r.Failures[b] - r.Failures[a]; c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, r.Failures[k])
	}
	return strings.Join(parts, ", ")
}

// Balance is one account's balance and nonce.
type Balance struct {
	Balance uint64
	Nonce   uint64
}

// Snapshot reads every key's account (no proof), Concurrency at a time.
// Errors are the client's.
func Snapshot(ctx context.Context, c *client.Client, keys []crypto.PrivKey, concurrency int) ([]Balance, error) {
	out := make([]Balance, len(keys))
	errs := make([]error, len(keys))
	sem := make(chan struct{}, max(1, concurrency))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var a apitype.Account
			a, errs[i] = c.AccountNoProof(ctx, k.Address(), 0)
			if errs[i] == nil {
				out[i].Nonce = a.Nonce
				out[i].Balance, errs[i] = strconv.ParseUint(a.Balance, 10, 64)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Check compares after, the accounts after a run of p, with before: every
// account's nonce must have advanced by its transfer count and its
// balance moved by what it received minus what it sent and paid. The
// error (kind Invalid) lists the first few accounts that disagree.
func (p *Plan) Check(before, after []Balance) error {
	cfg := p.Config
	var bad []string
	for i := range cfg.Accounts {
		prev := (i + cfg.Accounts - 1) % cfg.Accounts
		wantNonce := before[i].Nonce + uint64(cfg.Count(i))
		wantBal := before[i].Balance + uint64(cfg.Count(prev))*cfg.Amount - cfg.Need(i)
		if after[i].Nonce != wantNonce || after[i].Balance != wantBal {
			bad = append(bad, fmt.Sprintf("account %d: nonce %d balance %d, want %d and %d", i, after[i].Nonce, after[i].Balance, wantNonce, wantBal))
		}
	}
	if len(bad) > 0 {
		return vmerr.E("bench.check", vmerr.Invalid, "%d accounts disagree: %s", len(bad), strings.Join(bad[:min(3, len(bad))], "; "))
	}
	return nil
}

// Fund gives every key that holds less than need(i) a faucet draw of
// need(i) (a faucet-only tx at the account's current nonce, fee 0),
// Batch at a time with wait, and returns the nonces the transfers must
// start at. It is for a running devnet (faucet on); the draws are not
// part of any measurement. Errors: a draw that does not commit (kind of
// its code), or the client's.
func Fund(ctx context.Context, c *client.Client, chainID string, keys []crypto.PrivKey, before []Balance, need func(i int) uint64, batch int) ([]uint64, error) {
	start := make([]uint64, len(keys))
	var txs [][]byte
	for i, k := range keys {
		start[i] = before[i].Nonce
		if before[i].Balance >= need(i) {
			continue
		}
		to := k.Address()
		msg := &txpb.Msg{Sum: &txpb.Msg_Faucet{Faucet: &txpb.Faucet{To: to[:], Amount: need(i)}}}
		raw, err := tx.Sign(&txpb.TxBody{ChainId: chainID, Nonce: start[i], Msgs: []*txpb.Msg{msg}}, k)
		if err != nil {
			return nil, err
		}
		txs = append(txs, raw)
		start[i]++
	}
	for lo := 0; lo < len(txs); lo += max(1, batch) {
		rs, err := c.SubmitTxs(ctx, txs[lo:min(lo+max(1, batch), len(txs))], true)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if r.Code != 0 {
				return nil, vmerr.E("bench.fund", vmerr.Kind(r.Code), "faucet draw %s: %s", r.Hash, r.Log)
			}
		}
	}
	return start, nil
}

// PeakRSS returns the peak resident set size (VmHWM) of process pid from
// /proc/<pid>/status, in bytes. Errors: the file is missing (not Linux,
// process gone) or has no VmHWM line (kind Unavailable).
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, vmerr.Wrap("bench.peak_rss", vmerr.Unavailable, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil || len(f) != 2 || f[1] != "kB" {
				break
			}
			return kb << 10, nil
		}
	}
	return 0, vmerr.E("bench.peak_rss", vmerr.Unavailable, "no VmHWM in /proc/%d/status", pid)
}

// ResetPeakRSS asks Linux to restart pid's VmHWM from its current RSS
// (writing 5 to /proc/<pid>/clear_refs), so two runs in one process get
// their own peaks. Errors are Unavailable.
func ResetPeakRSS(pid int) error {
	if err := os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0); err != nil {
		return vmerr.Wrap("bench.reset_peak_rss", vmerr.Unavailable, err)
	}
	return nil
}

// String is the text report of r.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d/%d committed, %d failed in %.2f s (concurrency %d, batch %d)\n", r.Label, r.Committed, r.N, r.Failed,
		r.ElapsedMS/1000, r.Concurrency, r.Batch)
	fmt.Fprintf(&b, "  throughput: %.0f tx/s overall, %.0f tx/s sustained (10–90 %% of commits)\n", r.TxPerSec, r.SustainedTxPerSec)
	fmt.Fprintf(&b, "  submit→commit latency: p50 %.1f ms, p99 %.1f ms\n", r.P50MS, r.P99MS)
	fmt.Fprintf(&b, "  pre-signing (client, not timed above): %.0f ms\n", r.SignMS)
	if r.NodeStartMS > 0 {
		fmt.Fprintf(&b, "  node start → first block and API: %.0f ms\n", r.NodeStartMS)
	}
	if r.Checked {
		fmt.Fprintf(&b, "  every account's balance and nonce checked: ok\n")
	}
	if r.PeakRSSBytes > 0 {
		fmt.Fprintf(&b, "  peak RSS: %.0f MiB (%s)\n", float64(r.PeakRSSBytes)/(1<<20), r.RSSSource)
	}
	if r.Events != nil {
		b.WriteString(r.Events.String())
	}
	if len(r.Failures) > 0 {
		fmt.Fprintf(&b, "  failures by code: %s\n", r.FailureSummary())
	}
	if r.FirstFailure != "" {
		fmt.Fprintf(&b, "  first failure: %s\n", r.FirstFailure)
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
