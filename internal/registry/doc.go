// Package registry owns the contract registry's state transitions and
// reads (DESIGN §1 "contract chain"): publishing a version (Deploy),
// yanking, changing owners, resolving a range, listing. It works on any
// Store: the ledger's block state in consensus, and the in-memory API
// backend of internal/api/apitest, so both follow one set of rules.
//
// Every function is deterministic: no clock, no map iteration, keys read
// in tree order. Store failures are returned unchanged (the caller knows
// whether they are fatal); a stored record that does not decode is a
// *CorruptError.
package registry
