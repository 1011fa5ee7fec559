// Package miner is the compute miner agent (DESIGN §3, "offers → runtime →
// seal → reveal"): an Executor that runs an offered request's metered code
// (fetched by content address and verified) against the contract state as
// of the request's start height, and an Agent that takes offers from a
// node, executes them within a capacity bound, and posts the seals, reveals
// and quorum-1 results as signed, batched transactions. It reaches the node
// only through internal/client.
package miner
