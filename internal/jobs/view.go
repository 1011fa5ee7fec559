package jobs

import (
	"encoding/hex"
	"strconv"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/wasm"
)

// RequestView is the API form of request m read at committed height h
// under params p. Phase is what the next block (h+1) accepts.
func RequestView(m *statepb.Request, p market.Params, h int64) apitype.Request {
	offer, _ := market.Offer(p, marketRequest(m)) // validated at inclusion
	j := jobOf(m)
	seals := make([]apitype.Seal, len(m.Commits))
	for i, c := range m.Commits {
		seals[i] = apitype.Seal{Miner: addrHex(c.Miner), Height: c.Height, Revealed: c.Revealed}
	}
	seed := Seed(id32(m.Id), m.Start)
	return apitype.Request{
		ID: hex.EncodeToString(m.Id), Requester: addrHex(m.Requester), Contract: m.Contract, Name: m.Name,
		Version: m.Version, CodeHash: hex.EncodeToString(m.CodeHash), MeteredCID: state.CIDText(m.MeteredCid),
		Composite: m.Composite, Fn: m.Fn, Input: m.Input, GasLimit: u64(m.GasLimit), Price: u64(m.Price),
		Reward: u64(m.Reward), Replicas: m.Replicas, Quorum: m.Quorum, Included: m.Included, Deadline: m.Deadline,
		Escrow: u64(m.Escrow), Offer: u64(offer), Start: m.Start, StartTime: m.StartTime, Seed: hex.EncodeToString(seed[:]),
		ClosedAt: m.ClosedAt, CommitWindow: m.CommitWindow, RevealWindow: m.RevealWindow, Round: m.Round, Status: m.Status, Phase: phaseName(m, j, h+1), Seals: seals,
		TxHash: hex.EncodeToString(m.TxHash), Height: h,
	}
}

func phaseName(m *statepb.Request, j *market.Job, h int64) string {
	switch m.Status {
	case StatusSettled, StatusMemo:
		return market.PhaseSettled.String()
	case StatusExpired:
		return market.PhaseExpired.String()
	}
	return j.Phase(h).String()
}

// ResultView is the API form of resultChain entry m read at height h. A
// result whose bytes do not decode (never stored by the ledger) is shown
// without its execution fields.
func ResultView(m *statepb.Result, h int64) apitype.Result {
	out := apitype.Result{
		RequestID: hex.EncodeToString(m.RequestId), Status: m.Status, Contract: m.Contract, Fn: m.Fn,
		Requester: addrHex(m.Requester), Applied: m.Applied, Memo: m.Status == StatusMemo,
		Raw: m.Result, Paid: make([]apitype.Payment, len(m.Paid)), Refund: u64(m.Refund), Cost: u64(m.Cost), MemoFees: u64z(m.MemoFees),
		Rounds: m.Rounds, Seq: m.Seq, Prev: hex.EncodeToString(m.Prev), Settled: m.Height, Height: h,
	}
	if len(m.ResultHash) > 0 {
		out.ResultHash = hex.EncodeToString(m.ResultHash)
	}
	for i, p := range m.Paid {
		out.Paid[i] = apitype.Payment{Miner: addrHex(p.Miner), Reward: u64(p.Reward), Gas: u64(p.Gas)}
	}
	out.Disagreed, out.Unrevealed = addrsHex(m.Disagreed), addrsHex(m.Unrevealed)
	var r wasm.Result
	if len(m.Result) == 0 || r.UnmarshalBinary(m.Result) != nil {
		return out
	}
	out.ExecStatus, out.Output, out.GasUsed, out.Error, out.Logs = r.Status.String(), r.Output, r.GasUsed, r.Error, r.Logs
	for _, rd := range r.ReadSet {
		out.Reads = append(out.Reads, apitype.DataRead{Contract: rd.Contract, Key: rd.Key, Found: rd.Found, Version: rd.Version})
	}
	for _, w := range r.WriteSet {
		out.Writes = append(out.Writes, apitype.DataWrite{Contract: w.Contract, Key: w.Key, Value: w.Value, Delete: w.Delete})
	}
	return out
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// u64z is u64, but empty for 0 (a field most entries leave out).
func u64z(v uint64) string {
	if v == 0 {
		return ""
	}
	return u64(v)
}

// MemoView is the API form of memo, the memo of (code, fn, input) read at
// height h, holding the result raw.
func MemoView(memo *statepb.Memo, code [32]byte, fn string, input [32]byte, raw []byte, h int64) apitype.Memo {
	return apitype.Memo{
		CodeHash: hex.EncodeToString(code[:]), Fn: fn, InputHash: hex.EncodeToString(input[:]), Key: hex.EncodeToString(memo.Key),
		RequestID: hex.EncodeToString(memo.RequestId), Step: memo.Step, ResultHash: hex.EncodeToString(memo.ResultHash),
		Raw: raw, Stored: memo.Height, Beneficiary: addrHex(memo.Beneficiary), Hits: memo.Hits, Height: h,
	}
}

func addrHex(b []byte) string { return state.AddrText(b) }

func addrsHex(bs [][]byte) []string {
	if len(bs) == 0 {
		return nil
	}
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = addrHex(b)
	}
	return out
}
