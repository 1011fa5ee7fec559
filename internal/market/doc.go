// Package market owns the pure, deterministic rules of the execution market
// (DESIGN §2): the market's chain parameters; stateless validation of a
// Request and the escrow it locks; request ids, seals and their check; the
// phase machine of one request (commit, reveal, settled, expired, lapsed)
// and which seals and reveals it accepts; the agreement of revealed results
// by quorum; the exact split of the reward and the gas payment among the
// agreeing miners with the refund to the requester; and the canonical memo
// key of a result.
//
// It imports neither the ledger nor CometBFT nor wazero, keeps no state of
// its own, reads no clock, iterates no map and uses no floats: every
// function gives the same answer on every machine, so the validators that
// call it in FinalizeBlock, the miner agent and the API agree. Amounts are
// uint64 GAS; an amount that would overflow is an error of kind
// vmerr.Overflow, never a wrap.
package market
