package chain

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble"
	dbm "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
)

// errClosed is what a write to a closed database returns.
var errClosed = errors.New("chain: database closed")

// dbSet opens every CometBFT database of one node and closes them all
// exactly once, after the node has stopped. CometBFT closes some of its
// databases in Node.OnStop while reactor goroutines may still read them
// (a panic on "pebble: closed"), and never closes others (the tx index);
// the guard makes Close a no-op for CometBFT and turns reads after the real
// close into "not found" instead of a panic.
type dbSet struct {
	log *slog.Logger

	mu  sync.Mutex
	dbs []*guardedDB
}

// provider is the cmtcfg.DBProvider of the node: pebble databases in the
// home's data dir, logging to slog.
func (s *dbSet) provider(ctx *cmtcfg.DBContext) (dbm.DB, error) {
	g, err := s.open(ctx.ID, ctx.Config.DBDir())
	if err != nil {
		return nil, err
	}
	return g, nil
}

func (s *dbSet) open(name, dir string) (*guardedDB, error) {
	opts := &pebble.Options{Logger: pebbleLogger{s.log}}
	db, err := dbm.NewPebbleDBWithOpts(name, dir, opts)
	if err != nil {
		return nil, err
	}
	g := &guardedDB{db: db}
	s.mu.Lock()
	s.dbs = append(s.dbs, g)
	s.mu.Unlock()
	return g, nil
}

// closeAll closes every database opened through s.
func (s *dbSet) closeAll() error {
	s.mu.Lock()
	dbs := s.dbs
	s.dbs = nil
	s.mu.Unlock()
	var errs []error
	for _, g := range dbs {
		errs = append(errs, g.realClose())
	}
	return errors.Join(errs...)
}

// guardedDB is a dbm.DB whose Close is deferred to its owner and which
// fails soft after the real close.
type guardedDB struct {
	mu     sync.RWMutex
	closed bool
	db     dbm.DB
}

var _ dbm.DB = (*guardedDB)(nil)

func (g *guardedDB) realClose() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	return g.db.Close()
}

// Close is a no-op: the dbSet closes the database after the node stopped.
func (g *guardedDB) Close() error { return nil }

func (g *guardedDB) Get(key []byte) ([]byte, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return nil, nil
	}
	return g.db.Get(key)
}

func (g *guardedDB) Has(key []byte) (bool, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return false, nil
	}
	return g.db.Has(key)
}

func (g *guardedDB) write(f func(dbm.DB) error) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return errClosed
	}
	return f(g.db)
}

func (g *guardedDB) Set(k, v []byte) error {
	return g.write(func(d dbm.DB) error { return d.Set(k, v) })
}

func (g *guardedDB) SetSync(k, v []byte) error {
	return g.write(func(d dbm.DB) error { return d.SetSync(k, v) })
}

func (g *guardedDB) Delete(k []byte) error {
	return g.write(func(d dbm.DB) error { return d.Delete(k) })
}

func (g *guardedDB) DeleteSync(k []byte) error {
	return g.write(func(d dbm.DB) error { return d.DeleteSync(k) })
}

func (g *guardedDB) Iterator(start, end []byte) (dbm.Iterator, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return nil, errClosed
	}
	return g.db.Iterator(start, end)
}

func (g *guardedDB) ReverseIterator(start, end []byte) (dbm.Iterator, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return nil, errClosed
	}
	return g.db.ReverseIterator(start, end)
}

// NewBatch returns the underlying database's batch. A batch written after
// the real close fails inside pebble; CometBFT only writes batches from
// goroutines that have stopped by then.
func (g *guardedDB) NewBatch() dbm.Batch { return g.db.NewBatch() }

func (g *guardedDB) Print() error { return g.db.Print() }

func (g *guardedDB) Stats() map[string]string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return nil
	}
	return g.db.Stats()
}

func (g *guardedDB) Compact(start, end []byte) error {
	return g.write(func(d dbm.DB) error { return d.Compact(start, end) })
}
