// Package miners owns the miner registry's state transitions and reads
// (DESIGN §1 "miner", issue 5): registering a miner or updating its
// attributes (MinerRegister, an upsert by the signer), reading one record,
// listing. It works on any registry.Store: the ledger's block state in
// consensus, and the in-memory API backend of internal/api/apitest, so
// both follow one set of rules.
//
// A miner is identified by its account address (IDs do not exist yet).
// Its record holds attributes (kind, capacity, endpoint, minimum GAS,
// software version, active) and counters (jobs taken, agreed, disagreed,
// timed out, earned); this package only initialises the counters, and a
// registration never resets them.
//
// Every function is deterministic: no clock, no map iteration, keys read
// in tree order. Store failures are returned unchanged; a stored record
// that does not decode is a *registry.CorruptError.
package miners
