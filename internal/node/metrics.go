package node

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/virtual-machine/vm/internal/chain"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// metrics are the node's own Prometheus metrics (CometBFT's are on the
// default registry; the API's are the api package's).
type metrics struct {
	chainID string
	txs     *prometheus.CounterVec
	height  prometheus.Gauge
	blockIv prometheus.Histogram
	blkTxs  prometheus.Histogram

	mu       sync.Mutex
	lastTime time.Time
	mempool  func() int
}

func newMetrics(reg *prometheus.Registry, chainID string) *metrics {
	m := &metrics{chainID: chainID}
	m.txs = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "vm", Name: "txs_total",
		Help: "Committed transactions by message type and result code (0 = success)."}, []string{"type", "code"})
	m.height = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "vm", Name: "block_height",
		Help: "Height of the latest committed block."})
	m.blockIv = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "vm", Name: "block_interval_seconds",
		Help:    "Time between consecutive committed blocks (block header times).",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300}})
	m.blkTxs = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "vm", Name: "block_txs",
		Help: "Transactions per committed block.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)})
	mempool := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "vm", Name: "mempool_size",
		Help: "Transactions waiting in the mempool."}, func() float64 {
		m.mu.Lock()
		f := m.mempool
		m.mu.Unlock()
		if f == nil {
			return 0
		}
		return float64(f())
	})
	reg.MustRegister(m.txs, m.height, m.blockIv, m.blkTxs, mempool)
	return m
}

func (m *metrics) setMempool(f func() int) {
	m.mu.Lock()
	m.mempool = f
	m.mu.Unlock()
}

// onCommit is the chain's per-block hook.
func (m *metrics) onCommit(c chain.Commit) {
	m.height.Set(float64(c.Height))
	m.blkTxs.Observe(float64(len(c.Txs)))
	m.mu.Lock()
	if !m.lastTime.IsZero() && c.Time.After(m.lastTime) {
		m.blockIv.Observe(c.Time.Sub(m.lastTime).Seconds())
	}
	m.lastTime = c.Time
	m.mu.Unlock()
	for i, raw := range c.Txs {
		m.txs.WithLabelValues(txType(raw, m.chainID), strconv.FormatUint(uint64(c.Codes[i]), 10)).Inc()
	}
}

// txType names a tx by its messages: "transfer", "faucet", "mixed", or
// "undecodable".
func txType(raw []byte, chainID string) string {
	s, err := tx.Decode(raw, chainID)
	if err != nil {
		return "undecodable"
	}
	kind := ""
	for _, msg := range s.Body.Msgs {
		k := "unknown"
		switch msg.GetSum().(type) {
		case *txpb.Msg_Transfer:
			k = "transfer"
		case *txpb.Msg_Faucet:
			k = "faucet"
		case *txpb.Msg_Deploy:
			k = "deploy"
		case *txpb.Msg_Yank:
			k = "yank"
		case *txpb.Msg_ContractOwners:
			k = "contract_owners"
		case *txpb.Msg_MinerRegister:
			k = "miner_register"
		}
		if kind != "" && kind != k {
			return "mixed"
		}
		kind = k
	}
	return kind
}

func formatUint(v uint64) string { return strconv.FormatUint(v, 10) }
