// Package jobs applies the execution market to the ledger's state (DESIGN
// §2): it includes requests (resolving name@range, moving the escrow,
// answering from a memo), accepts seals, reveals and quorum-1 results,
// settles agreed results (read-set check, write-set apply, tiered pay,
// refunds, miner counters, memos, the resultChain) and, at the start of
// every block, closes rounds that lapsed and requests whose deadline
// passed. The rules themselves are package market's; this package is their
// state transitions over a registry.Store and a Bank, so the ledger's
// FinalizeBlock and the in-memory API backend run the same code.
//
// Everything here is deterministic: no clocks (the block time comes in
// Env), no map iteration, no floats.
package jobs
