// Package contract owns the pure, deterministic domain rules of contract
// chains: contract names, tags and descriptions; strict semver versions and
// their order-preserving byte encoding (SortKey) used as ledger keys; version
// ranges with the key bounds a descending ledger scan starts and stops at;
// references "name@range" and their resolution to the highest acceptable
// version; the content addresses (CIDv1, raw, sha2-256) of code blobs; and
// the deploy fee.
//
// It imports neither the ledger nor CometBFT nor wazero, keeps no state, and
// every function gives the same answer on every machine, so validators that
// call it agree.
package contract
