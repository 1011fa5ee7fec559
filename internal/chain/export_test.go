package chain

import (
	"encoding/binary"
	"log/slog"
	"path/filepath"

	dbm "github.com/cometbft/cometbft-db"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"
)

// GhostContract and GhostAccount name the stale explorer entries
// DowngradeIndex plants: an upgrade must remove them.
const GhostContract = "ghost"

var GhostAccount = [20]byte{0xEE, 0xEE}

// DowngradeIndex makes the (closed) index database of home look as
// written by an older format: no version key, and stale explorer entries
// (stats of a contract that never ran, a history entry of an account
// that never existed, doubled stats for every minute it has), which the
// upgrade on the next start must discard before re-indexing.
func DowngradeIndex(home string) error {
	db, err := dbm.NewPebbleDB("vmtx", filepath.Join(home, "data"))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Delete(keyVersion); err != nil {
		return err
	}
	k := binary.BigEndian.AppendUint64(nameKey(prefixStats, GhostContract), 600)
	if err := db.Set(k, []byte{1, 1, 1, 1, 0, 0, 0}); err != nil {
		return err
	}
	a := binary.BigEndian.AppendUint64(append(append([]byte{}, prefixAcct...), GhostAccount[:]...), 1)
	if err := db.Set(a, appendIndexes(nil, []uint32{0})); err != nil {
		return err
	}
	return db.SetSync([]byte("zz-unrelated"), []byte("x"))
}

// ReExplore runs the explorer part of indexing again for heights from..to
// of a running node, each in its own batch, as a re-index after a crash
// would (without moving "indexed through"): every key must come out the
// same and no result counted twice.
func (n *Node) ReExplore(from, to int64) error {
	for h := from; h <= to; h++ {
		blk, _ := n.idx.blocks.LoadBlock(h)
		resp, err := n.idx.states.LoadFinalizeBlockResponse(h)
		if err != nil {
			return err
		}
		batch := n.idx.db.NewBatch()
		if err := n.idx.explore(batch, h, blk, resp); err != nil {
			batch.Close()
			return err
		}
		if err := batch.Write(); err != nil {
			return err
		}
		batch.Close()
	}
	return nil
}

// BenchIndex is an index over its own pebble database, for benchmarks of
// the per-block index work without consensus.
type BenchIndex struct {
	set *dbSet
	x   *index
}

// NewBenchIndex opens an index database in dir.
func NewBenchIndex(dir, chainID string) (*BenchIndex, error) {
	set := &dbSet{log: slog.New(slog.DiscardHandler)}
	db, err := set.open("vmtx", dir)
	if err != nil {
		return nil, err
	}
	if _, err := upgrade(db); err != nil {
		return nil, err
	}
	return &BenchIndex{set: set, x: &index{db: db, chainID: chainID, log: set.log}}, nil
}

// Index writes height h's batch as indexHeight does: the tx keys, with
// explore the explorer's keys too, and "indexed through".
func (bi *BenchIndex) Index(h int64, blk *cmttypes.Block, resp *abcitypes.FinalizeBlockResponse, explore bool) error {
	batch := bi.x.db.NewBatch()
	defer batch.Close()
	if _, err := bi.x.indexTxs(batch, h, blk, resp); err != nil {
		return err
	}
	if explore {
		if err := bi.x.explore(batch, h, blk, resp); err != nil {
			return err
		}
	}
	if err := batch.Set(keyIndexed, binary.BigEndian.AppendUint64(nil, uint64(h))); err != nil {
		return err
	}
	return batch.Write()
}

// Close closes the database.
func (bi *BenchIndex) Close() error { return bi.set.closeAll() }

// AppendIndexes and ReadIndexes are the account-history value codec.
var (
	AppendIndexes = appendIndexes
	ReadIndexes   = readIndexes
)
