// Package explorer owns the rules of the explorer indexes — account
// history and contract metrics — shared by the node's index
// (internal/chain) and the in-memory backend (internal/api/apitest):
// which event attributes name an account, what a result_committed event
// says about a contract call, per-minute contract statistics with a
// log-scale latency histogram and their binary encoding, and the windows,
// limits and cursors of the explorer routes. It holds no storage.
package explorer

import (
	"strconv"
	"strings"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits of the explorer routes.
const (
	DefaultLimit = 20   // entries of a history or results page when no limit is asked
	MaxLimit     = 100  // largest page
	MaxBuckets   = 1440 // most buckets one stats answer holds
	// DefaultWindow is the stats window when no from is asked, seconds.
	DefaultWindow = 3600
	// Minute is the stats granularity: the index keeps one bucket per
	// contract and minute, and a step is a multiple of it.
	Minute = 60
)

// Status names of a result that are not a contract run's status.
const (
	// StatusExpired is the by_status key of a request that reached its
	// deadline unsettled (no contract run settled).
	StatusExpired = "expired"
	// ExecOK is the contract run status that counts as ok.
	ExecOK = "ok"
)

// Event types and attribute keys this package reads.
const (
	EventResult = "result_committed" // jobs.EventResult
)

// IsAddressAttr reports whether an event attribute names an account: its
// key is one of the fixed list below AND its value is exactly 40
// lowercase hex digits (crypto.Address.String). The list covers every
// attribute the ledger emits that holds an address: tx.signer, fee.payer,
// fee_refund.payer, transfer.from and .to, faucet.to, request.requester,
// result_committed.requester, deploy.publisher, yank.by,
// contract_owners.owner, miner_register.address, seal.miner,
// reveal.miner, miner_penalised.miner. The key alone decides (the event
// type is not consulted), so a new event reusing a key is covered; a key
// outside the list never is, whatever its value.
func IsAddressAttr(key, value string) bool {
	switch key {
	case "signer", "payer", "from", "to", "requester", "publisher", "by", "owner", "address", "miner":
		return isAddress(value)
	}
	return false
}

func isAddress(v string) bool {
	if len(v) != 40 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Result is what a result_committed event says about one result.
type Result struct {
	ID         string // request id, hex
	Name       string // contract name
	Version    string
	Fn         string
	Status     string // settled, memo, expired
	ExecStatus string // the run's status; "" when none (expired)
	GasUsed    uint64
	Seq        uint64
	Included   int64    // height of the block that included the request
	Miners     []string // addresses of the miners paid for it, fastest first
}

// MinerKey is the stats name of a miner's jobs: no contract name has a
// ':', so the two never share a key.
func MinerKey(addr string) string { return "miner:" + addr }

// ParseResult reads a result_committed event through attr (the value of
// a key, "" when absent). ok is false when the event lacks what the index
// needs (id, contract as name@version, seq, included): an event from an
// older ledger, which the index skips.
func ParseResult(attr func(key string) string) (Result, bool) {
	r := Result{ID: attr("id"), Fn: attr("fn"), Status: attr("status"), ExecStatus: attr("exec_status")}
	c := attr("contract")
	at := strings.IndexByte(c, '@')
	if r.ID == "" || at <= 0 {
		return Result{}, false
	}
	r.Name, r.Version = c[:at], c[at+1:]
	var err error
	if r.Seq, err = strconv.ParseUint(attr("seq"), 10, 64); err != nil {
		return Result{}, false
	}
	if r.Included, err = strconv.ParseInt(attr("included"), 10, 64); err != nil {
		return Result{}, false
	}
	if ms := attr("miners"); ms != "" {
		for _, a := range strings.Split(ms, ",") {
			if !isAddress(a) {
				return Result{}, false
			}
			r.Miners = append(r.Miners, a)
		}
	}
	if g := attr("gas_used"); g != "" {
		if r.GasUsed, err = strconv.ParseUint(g, 10, 64); err != nil {
			return Result{}, false
		}
	}
	return r, true
}

// Outcome is the by_status key of r: its run's status, or "expired".
func (r Result) Outcome() string {
	if r.ExecStatus != "" {
		return r.ExecStatus
	}
	if r.Status != "" {
		return r.Status
	}
	return "unknown"
}

// PageLimit resolves a page size: 0 → DefaultLimit; 1..MaxLimit as is;
// anything else is Invalid.
func PageLimit(op string, n int) (int, error) {
	switch {
	case n == 0:
		return DefaultLimit, nil
	case n < 0 || n > MaxLimit:
		return 0, vmerr.E(op, vmerr.Invalid, "limit %d: want 1 to %d", n, MaxLimit)
	}
	return n, nil
}

// ResultsQuery checks a contract results query (name, page size,
// cursor) and returns the page size. Errors: Invalid.
func ResultsQuery(op, name string, q apitype.ResultQuery) (int, error) {
	if err := contract.ValidName(name); err != nil {
		return 0, vmerr.E(op, vmerr.Invalid, "%w", err)
	}
	limit, err := PageLimit(op, q.Limit)
	if err != nil {
		return 0, err
	}
	if q.BeforeHeight < 0 {
		return 0, vmerr.E(op, vmerr.Invalid, "before height %d is negative", q.BeforeHeight)
	}
	return limit, nil
}

// ParseCursor parses a "before" cursor "A:B" (height:index of a history
// entry, height:seq of a result): A a positive height, B ≥ 0. Errors:
// Invalid.
func ParseCursor(op, s string) (int64, uint64, error) {
	a, b, ok := strings.Cut(s, ":")
	h, err1 := strconv.ParseInt(a, 10, 64)
	n, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || h < 1 {
		return 0, 0, vmerr.E(op, vmerr.Invalid, "before=%q: want height:n, as a previous page's next (e.g. \"120:3\")", s)
	}
	return h, n, nil
}

// Cursor formats a cursor for ParseCursor.
func Cursor(h int64, n uint64) string {
	return strconv.FormatInt(h, 10) + ":" + strconv.FormatUint(n, 10)
}

// Window resolves q against latest, the latest block's time (unix
// seconds): Step 0 → Minute; To 0 → the end of latest's minute; From 0 →
// To − DefaultWindow (not below 0); From is then rounded down to a
// multiple of Step. It returns the resolved query and its number of
// buckets. Errors (Invalid, naming the rule): a negative value, a step
// that is not a positive multiple of 60, from not before to, more than
// MaxBuckets buckets.
func Window(op string, q apitype.StatsQuery, latest int64) (apitype.StatsQuery, int, error) {
	switch {
	case q.From < 0 || q.To < 0 || q.Step < 0:
		return q, 0, vmerr.E(op, vmerr.Invalid, "from, to and step must not be negative (from=%d to=%d step=%d)", q.From, q.To, q.Step)
	case q.Step%Minute != 0:
		return q, 0, vmerr.E(op, vmerr.Invalid, "step=%d: want a multiple of %d seconds", q.Step, Minute)
	}
	if q.Step == 0 {
		q.Step = Minute
	}
	if q.To == 0 {
		q.To = (max(latest, 0)/Minute + 1) * Minute
	}
	if q.From == 0 {
		q.From = max(q.To-DefaultWindow, 0)
	}
	if q.From >= q.To {
		return q, 0, vmerr.E(op, vmerr.Invalid, "from=%d is not before to=%d", q.From, q.To)
	}
	q.From -= q.From % q.Step
	n := (q.To - q.From + q.Step - 1) / q.Step
	if n > MaxBuckets {
		return q, 0, vmerr.E(op, vmerr.Invalid, "from=%d to=%d step=%d makes %d buckets, limit %d: widen step or narrow the window",
			q.From, q.To, q.Step, n, MaxBuckets)
	}
	return q, int(n), nil
}

// MinuteOf is the start of the minute holding unix second t.
func MinuteOf(t int64) int64 {
	if t < 0 {
		return 0
	}
	return t - t%Minute
}

// Build merges minute buckets into the answer for name over the window q
// (resolved by Window into n buckets). Minutes outside the window are
// ignored; every bucket is present, empty ones included.
func Build(name string, q apitype.StatsQuery, n int, minutes []MinuteStats) apitype.ContractStats {
	sums := make([]Stats, n)
	var total Stats
	for _, m := range minutes {
		if m.Start < q.From || m.Start >= q.To {
			continue
		}
		i := (m.Start - q.From) / q.Step
		sums[i].Merge(&m.Stats)
		total.Merge(&m.Stats)
	}
	out := apitype.ContractStats{Name: name, From: q.From, To: q.To, Step: q.Step, Buckets: make([]apitype.StatsBucket, n)}
	for i := range sums {
		out.Buckets[i] = sums[i].Bucket(q.From + int64(i)*q.Step)
	}
	out.Totals = total.Bucket(q.From)
	return out
}

// MinuteStats is one minute bucket of a contract's stats.
type MinuteStats struct {
	Start int64 // unix seconds, a multiple of Minute
	Stats Stats
}
