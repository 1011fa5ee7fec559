// Package statepb holds the protobuf types generated from
// proto/vm/state/v1/contract.proto; regenerate with `make proto`.
package statepb
