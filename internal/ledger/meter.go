package ledger

import (
	"crypto/sha256"
	"sync"

	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
	"github.com/virtual-machine/vm/internal/wasm/meter"
)

// Bounds of the metered modules kept between CheckTx and FinalizeBlock
// (metering a 2.5 MB Go module takes ~0.2 s; doing it once per node
// instead of twice matters to block time). Every entry, refusals too,
// counts at least meterEntryMin bytes, so neither bound can be dodged.
const (
	meterCacheBytes   = 128 << 20
	meterCacheEntries = 1024
	meterEntryMin     = 1 << 10
)

// meterResult is the outcome of metering one module: a pure function of
// the code and the size limit, so caching it cannot change consensus.
type meterResult struct {
	bin     []byte
	exports []string
	err     error
}

func (r *meterResult) size() int { return max(len(r.bin), meterEntryMin) }

type meterKey struct {
	code  [32]byte
	limit int
}

// meterCache is a FIFO-evicted map of recent meterings.
type meterCache struct {
	mu    sync.Mutex
	m     map[meterKey]*meterResult
	order []meterKey
	bytes int
}

// meterCode validates and meters code with the network's metering
// configuration (wasm.DefaultConfig's) and a size limit. Errors are of
// kind Invalid (not valid, not ABI, unsupported feature) or TooLarge.
func (a *App) meterCode(code []byte, limit int) *meterResult {
	k := meterKey{sha256.Sum256(code), limit}
	c := &a.meters
	c.mu.Lock()
	if r, ok := c.m[k]; ok {
		c.mu.Unlock()
		return r
	}
	c.mu.Unlock()
	r := &meterResult{}
	cfg := wasm.DefaultConfig().MeterConfig()
	cfg.MaxCodeSize = limit
	var bin []byte
	var info meter.Info
	var err error
	if len(code) <= limit {
		bin, info, err = meter.Instrument(code, cfg)
	}
	switch {
	case len(code) > limit:
		r.err = vmerr.E("ledger.deploy", vmerr.TooLarge, "code is %d bytes, limit %d", len(code), limit)
	case err != nil:
		r.err = vmerr.E("ledger.deploy", vmerr.Invalid, "code refused: %v", err)
	default:
		r.bin, r.exports = bin, info.Exports
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[meterKey]*meterResult)
	}
	if _, ok := c.m[k]; !ok {
		c.m[k] = r
		c.order = append(c.order, k)
		c.bytes += r.size()
		for (c.bytes > meterCacheBytes || len(c.order) > meterCacheEntries) && len(c.order) > 1 {
			old := c.order[0]
			c.order = c.order[1:]
			c.bytes -= c.m[old].size()
			delete(c.m, old)
		}
	}
	return r
}
