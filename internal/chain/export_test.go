package chain

import (
	"encoding/binary"
	"path/filepath"

	dbm "github.com/cometbft/cometbft-db"
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
	a := append(append([]byte{}, prefixAcct...), GhostAccount[:]...)
	a = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(a, 1), 0)
	if err := db.Set(a, []byte{}); err != nil {
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
