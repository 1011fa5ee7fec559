package chain_test

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/virtual-machine/vm/internal/chain"
	"github.com/virtual-machine/vm/internal/crypto"
)

// BenchmarkIndexBlock measures the index's work for one block of 5,000
// transfers among 1,000 accounts with the ledger's events (tx, fee,
// transfer), written to pebble: base = the tx-hash keys alone (the index
// before the explorer), explorer = with account history and block time.
// Each iteration indexes a new height of new txs (random bytes of a
// transfer's size: the index hashes successful txs and reads their
// events, it does not decode them), so the database grows as on a node;
// building a block is not timed.
func BenchmarkIndexBlock(b *testing.B) {
	const nTx, nAcc, txSize = 5000, 1000, 190
	addrs := make([]string, nAcc)
	for i := range addrs {
		seed := make([]byte, 32)
		copy(seed, strconv.Itoa(i))
		k, err := crypto.KeyFromSeed(seed)
		if err != nil {
			b.Fatal(err)
		}
		addrs[i] = k.Address().String()
	}
	r := rand.New(rand.NewPCG(1, 2))
	block := func(h int64) (*cmttypes.Block, *abcitypes.FinalizeBlockResponse) {
		blk := &cmttypes.Block{Header: cmttypes.Header{Height: h, Time: time.Unix(1_700_000_000+h, 0)}}
		resp := &abcitypes.FinalizeBlockResponse{TxResults: make([]*abcitypes.ExecTxResult, nTx)}
		raw := make([]byte, nTx*txSize)
		for i := 0; i+8 <= len(raw); i += 8 {
			binary.LittleEndian.PutUint64(raw[i:], r.Uint64())
		}
		for i := range nTx {
			blk.Txs = append(blk.Txs, raw[i*txSize:(i+1)*txSize])
			f, to := addrs[i%nAcc], addrs[(i+1)%nAcc]
			resp.TxResults[i] = &abcitypes.ExecTxResult{Events: []abcitypes.Event{
				{Type: "tx", Attributes: []abcitypes.EventAttribute{{Key: "signer", Value: f}, {Key: "nonce", Value: strconv.FormatInt(h, 10)}}},
				{Type: "fee", Attributes: []abcitypes.EventAttribute{{Key: "payer", Value: f}, {Key: "amount", Value: "1"}}},
				{Type: "transfer", Attributes: []abcitypes.EventAttribute{{Key: "from", Value: f}, {Key: "to", Value: to}, {Key: "amount", Value: "1"}}},
			}}
		}
		return blk, resp
	}
	for _, explore := range []bool{false, true} {
		name := "base"
		if explore {
			name = "explorer"
		}
		b.Run(name, func(b *testing.B) {
			bi, err := chain.NewBenchIndex(b.TempDir(), testChain)
			if err != nil {
				b.Fatal(err)
			}
			defer bi.Close()
			for i := range b.N {
				b.StopTimer()
				h := int64(i + 1)
				blk, resp := block(h)
				b.StartTimer()
				if err := bi.Index(h, blk, resp, explore); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/nTx, "ns/tx")
		})
	}
}
