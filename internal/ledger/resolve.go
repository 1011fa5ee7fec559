package ledger

import (
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state/statepb"
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
