// Package txpb holds the protobuf types generated from
// proto/vm/tx/v1/tx.proto; regenerate with `make proto`.
package txpb
