package apitype

import "encoding/json"

// AccountTx is one transaction of an account's history: a committed tx
// (failed ones included) in which the account took part — as signer, fee
// payer, sender, recipient, requester, publisher, miner, ... (see
// internal/explorer for the rule). The encoded bytes are not repeated:
// GET /v1/txs/{hash} has them.
type AccountTx struct {
	Hash   string          `json:"hash"`
	Height int64           `json:"height"`
	Index  uint32          `json:"index"`
	Time   string          `json:"time"` // block time, RFC 3339
	Code   uint32          `json:"code"`
	Log    string          `json:"log,omitempty"`
	Events []Event         `json:"events,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"` // the decoded TxBody, as GET /v1/txs/{hash}
}

// TxList is GET /v1/accounts/{addr}/txs: newest first. Next, when set,
// is the `before` cursor ("height:index") of the following page.
type TxList struct {
	Address string      `json:"address"`
	Txs     []AccountTx `json:"txs"`
	Next    string      `json:"next,omitempty"`
}

// TxQuery pages an account's history: entries strictly before
// (BeforeHeight, BeforeIndex) in (height, index) order — BeforeHeight 0
// means from the newest — at most Limit (0 = 20, max 100).
type TxQuery struct {
	BeforeHeight int64
	BeforeIndex  uint32
	Limit        int
}

// StatsQuery selects the window of GET /v1/contracts/{name}/stats: buckets
// of Step seconds (a multiple of 60) starting at From (unix seconds,
// rounded down to a multiple of Step) and covering up to To (exclusive).
// Zero values take defaults: To = the end of the minute of the latest
// block, From = To − 1 h, Step = 60.
type StatsQuery struct {
	From, To, Step int64
}

// Latency holds estimated percentiles of settlement latency in
// milliseconds: the settling block's time minus the including block's.
// The estimates come from a log-scale histogram and are within its bucket
// error (see internal/explorer); all zero when Samples is 0.
type Latency struct {
	P50     int64  `json:"p50"`
	P90     int64  `json:"p90"`
	P99     int64  `json:"p99"`
	Samples uint64 `json:"samples"`
}

// StatsBucket is what settled in one time bucket: results (Calls) split
// by the contract run's status (ok, out_of_gas, trap, ... and expired for
// requests that reached their deadline unsettled), OK + Failed = Calls,
// the gas the runs used and their latency.
type StatsBucket struct {
	Start     int64             `json:"start"` // unix seconds
	Calls     uint64            `json:"calls"`
	OK        uint64            `json:"ok"`
	Failed    uint64            `json:"failed"`
	ByStatus  map[string]uint64 `json:"by_status,omitempty"`
	GasUsed   uint64            `json:"gas_used"`
	LatencyMS Latency           `json:"latency_ms"`
}

// ContractStats is GET /v1/contracts/{name}/stats: every bucket of the
// window in time order (empty ones included), and their totals (Start =
// From).
type ContractStats struct {
	Name    string        `json:"name"`
	From    int64         `json:"from"`
	To      int64         `json:"to"`
	Step    int64         `json:"step"`
	Buckets []StatsBucket `json:"buckets"`
	Totals  StatsBucket   `json:"totals"`
}

// ContractResult is one result of a contract on the resultChain, as the
// explorer index keeps it; GET /v1/results/{id} has the full record with
// output and logs.
type ContractResult struct {
	RequestID  string `json:"request_id"`
	Contract   string `json:"contract"` // name@version
	Fn         string `json:"fn"`
	Status     string `json:"status"`                // settled, memo, expired
	ExecStatus string `json:"exec_status,omitempty"` // ok, out_of_gas, ...; empty when expired
	GasUsed    uint64 `json:"gas_used"`
	Seq        uint64 `json:"seq"`
	Height     int64  `json:"height"`   // of the settling block
	Included   int64  `json:"included"` // height of the block that included the request
	Time       string `json:"time"`     // settling block's time, RFC 3339
	LatencyMS  int64  `json:"latency_ms"`
}

// ContractResultList is GET /v1/contracts/{name}/results: newest first.
// Next, when set, is the `before` cursor ("height:seq") of the following
// page.
type ContractResultList struct {
	Name    string           `json:"name"`
	Results []ContractResult `json:"results"`
	Next    string           `json:"next,omitempty"`
}

// ResultQuery pages a contract's results: strictly before (BeforeHeight,
// BeforeSeq) — BeforeHeight 0 means from the newest — at most Limit (0 =
// 20, max 100).
type ResultQuery struct {
	BeforeHeight int64
	BeforeSeq    uint64
	Limit        int
}
