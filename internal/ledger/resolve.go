package ledger

import (
	"sync"

	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/jobs"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// resolveCacheSize bounds the cached resolutions (name@range pairs).
const resolveCacheSize = 4096

// resolveCache remembers what name@range resolved to, so a block of
// requests for the same contract does not scan the version index once per
// request (each scan opens a LevelDB iterator: about 0.2 ms). It is only
// touched under App.mu. An entry stays valid until a Deploy or Yank names
// its contract (which drops every range of that name, applied or not) or
// an uncommitted block is discarded (which drops everything, since the
// entry may have been computed on the discarded state), so a hit always
// equals what registry.Resolve would answer.
type resolveCache struct {
	byName map[string]map[string]*statepb.Version
	n      int
	dirty  bool // a Deploy or Yank ran since the last Commit
}

func (c *resolveCache) get(name string, rng *contract.Range) *statepb.Version {
	return c.byName[name][rng.String()]
}

func (c *resolveCache) put(name string, rng *contract.Range, v *statepb.Version) {
	if c.byName == nil || c.n >= resolveCacheSize {
		c.byName, c.n = map[string]map[string]*statepb.Version{}, 0
	}
	m := c.byName[name]
	if m == nil {
		m = map[string]*statepb.Version{}
		c.byName[name] = m
	}
	if _, ok := m[rng.String()]; !ok {
		c.n++
	}
	m[rng.String()] = v
}

func (c *resolveCache) drop(name string) {
	c.dirty = true
	c.n -= len(c.byName[name])
	delete(c.byName, name)
}

func (c *resolveCache) clear() { c.byName, c.n = nil, 0 }

// resolve is registry.Resolve on the block through the App's cache.
func (b *block) resolve(name string, rng *contract.Range) (*statepb.Version, error) {
	c := &b.a.resolved
	if v := c.get(name, rng); v != nil {
		return v, nil
	}
	v, _, _, err := registry.Resolve(b, name, rng)
	if err != nil {
		return nil, err
	}
	c.put(name, rng, v)
	return v, nil
}

// checkCacheSize bounds CheckTx's remembered request checks.
const checkCacheSize = 4096

// requestChecks remembers, for CheckTx, whether name@range.fn resolves on
// the committed state: entries carry the registry generation they were
// computed at (App.regGen, bumped at the Commit of any block that applied
// a Deploy or Yank), so one Request per contract pays the version scan
// and the rest a map lookup.
type requestChecks struct {
	mu sync.Mutex
	m  map[string]checkEntry
}

type checkEntry struct {
	gen uint64
	err error
}

// checkRequests refuses a tx whose Request names a contract, range or
// function that does not resolve on committed state (NotFound, Invalid):
// a failed tx pays nothing, so such requests would otherwise ride in
// blocks for free. A request for a version deployed in a block not yet
// committed is refused; send it after.
func (a *App) checkRequests(s *tx.Signed) error {
	a.qmu.RLock()
	defer a.qmu.RUnlock()
	if a.committed == nil {
		return nil
	}
	for i, m := range s.Body.Msgs {
		r := m.GetRequest()
		if r == nil {
			continue
		}
		if err := a.checkRequest(r.GetContract(), r.GetFn()); err != nil {
			return vmerr.E("ledger.check_tx", vmerr.KindOf(err), "message %d would fail: %w", i, err)
		}
	}
	return nil
}

// checkRequest answers for one contract reference and function; the
// caller holds qmu shared.
func (a *App) checkRequest(ref, fn string) error {
	key := ref + "\x00" + fn
	c := &a.checks
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && e.gen == a.regGen {
		return e.err
	}
	err := func() error {
		parsed, err := contract.ParseRef(ref)
		if err != nil {
			return err
		}
		v, _, _, err := registry.Resolve(registry.TreeReader{T: a.committed}, parsed.Name, parsed.Range)
		if err != nil {
			return err
		}
		return jobs.CheckFn(v, fn)
	}()
	if vmerr.KindOf(err) == vmerr.Internal || vmerr.KindOf(err) == vmerr.Unavailable {
		return nil // a storage failure is FinalizeBlock's to report
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= checkCacheSize {
		c.m = map[string]checkEntry{}
	}
	c.m[key] = checkEntry{gen: a.regGen, err: err}
	c.mu.Unlock()
	return err
}
