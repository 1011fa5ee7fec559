package api

import (
	"encoding/binary"
	"io"
	"math/bits"
	"mime"
	"net/http"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits of POST /v1/txs:batch.
const (
	// MaxBatchTxs is the most transactions one batch may carry.
	MaxBatchTxs = 10_000
	// MaxBatchBody bounds a batch body in bytes.
	MaxBatchBody = 32 << 20
)

// submitBatch is POST /v1/txs:batch: many signed transactions in one
// request, each handed to the backend in body order exactly as POST
// /v1/txs would (so one sender's nonces keep their order), answered with
// one SubmitResult per transaction in the same order. A body that does
// not decode submits nothing and answers 400/413/415. Per-transaction
// failures (rejected by CheckTx, mempool full, not committed in time) are
// results with a nonzero code, under HTTP 200. ?wait=commit answers after
// every accepted transaction is committed or the wait timeout passed.
func (s *Server) submitBatch(w http.ResponseWriter, r *http.Request) error {
	const op = "api.submit_batch"
	ctx, wait, cancel, err := s.waitParam(op, r)
	if err != nil {
		return err
	}
	defer cancel()
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/octet-stream" {
			return &httpError{status: http.StatusUnsupportedMediaType,
				err: vmerr.E(op, vmerr.Invalid, "content type %q: want application/octet-stream", ct)}
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBatchBody))
	if err != nil {
		return bodyError(op, err, MaxBatchBody)
	}
	txs, err := DecodeBatch(b)
	if err != nil {
		return err
	}
	out := apitype.BatchResult{Results: make([]apitype.SubmitResult, len(txs))}
	if bb, ok := s.b.(BatchBackend); ok {
		rs, err := bb.SubmitTxs(ctx, txs, wait)
		if err != nil {
			return err
		}
		if len(rs) != len(txs) {
			return vmerr.E(op, vmerr.Internal, "backend answered %d results for %d transactions", len(rs), len(txs))
		}
		for i, r := range rs {
			out.Results[i] = batchResult(txs[i], r, nil)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	for i, raw := range txs {
		res, err := s.b.SubmitTx(r.Context(), raw, false)
		out.Results[i] = batchResult(raw, res, err)
	}
	if wait {
		// Submitting an accepted tx again with wait finds it in the
		// mempool cache (or already committed) and waits for its block.
		for i, raw := range txs {
			if out.Results[i].Code != 0 {
				continue
			}
			res, err := s.b.SubmitTx(ctx, raw, true)
			out.Results[i] = batchResult(raw, res, err)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// batchResult is the SubmitResult of one batch entry; a backend error
// becomes a result with the error's kind as code.
func batchResult(raw []byte, res apitype.SubmitResult, err error) apitype.SubmitResult {
	if res.Hash == "" {
		res.Hash = tx.HashOf(raw).String()
	}
	if err != nil {
		res.Code, res.Log = uint32(vmerr.KindOf(err)), err.Error()
	}
	return res
}

// DecodeBatch splits a POST /v1/txs:batch body: a sequence of entries,
// each the transaction's length as an unsigned LEB128 varint followed by
// that many bytes of encoded Tx. It returns sub-slices of b. An empty
// body, a truncated, over-long or non-minimal varint (one body has one
// encoding), a zero length or a length past
// the end fail with kind Decode; an entry over tx.MaxDeployTxSize or more than
// MaxBatchTxs entries with TooLarge.
func DecodeBatch(b []byte) ([][]byte, error) {
	const op = "api.decode_batch"
	if len(b) == 0 {
		return nil, vmerr.E(op, vmerr.Decode, "empty batch")
	}
	var txs [][]byte
	for off := 0; off < len(b); {
		n, k := binary.Uvarint(b[off:])
		if k <= 0 {
			return nil, vmerr.E(op, vmerr.Decode, "entry %d: bad length prefix at byte %d", len(txs), off)
		}
		if k != (bits.Len64(n|1)+6)/7 {
			return nil, vmerr.E(op, vmerr.Decode, "entry %d: length prefix at byte %d is not minimally encoded", len(txs), off)
		}
		off += k
		switch {
		case n == 0:
			return nil, vmerr.E(op, vmerr.Decode, "entry %d: empty transaction", len(txs))
		case n > tx.MaxDeployTxSize:
			return nil, vmerr.E(op, vmerr.TooLarge, "entry %d: transaction is %d bytes, limit %d", len(txs), n, tx.MaxDeployTxSize)
		case n > uint64(len(b)-off):
			return nil, vmerr.E(op, vmerr.Decode, "entry %d: length %d runs past the end of the body", len(txs), n)
		}
		if len(txs) == MaxBatchTxs {
			return nil, vmerr.E(op, vmerr.TooLarge, "more than %d transactions in one batch", MaxBatchTxs)
		}
		txs = append(txs, b[off:off+int(n)])
		off += int(n)
	}
	return txs, nil
}
