// Package vmerr owns the one structured error type of the node: an
// operation, a stable Kind and the wrapped cause. Kinds are append-only
// because their numbers are ABCI result codes and part of the API.
package vmerr

import (
	"errors"
	"fmt"
)

// Kind classifies an error. Its value is the ABCI result code of a
// transaction that fails this way, so values never change; add new kinds at
// the end only.
type Kind uint32

// The kinds. OK is never the kind of an error; it is code 0.
const (
	OK                Kind = iota // 0: success, never an error's kind
	Internal                      // 1: a bug or an unexpected failure
	Invalid                       // 2: malformed or semantically invalid input
	Decode                        // 3: bytes that do not decode
	Unauthorized                  // 4: bad signature or not permitted
	WrongChain                    // 5: chain id mismatch
	BadNonce                      // 6: replayed or future nonce
	InsufficientFunds             // 7: balance too low
	TooLarge                      // 8: over a size limit
	NotFound                      // 9: no such thing
	Exists                        // 10: already exists
	Disabled                      // 11: feature off on this chain (e.g. faucet)
	Limit                         // 12: a cap or quota was hit
	Overflow                      // 13: an amount overflows
	Unavailable                   // 14: the node cannot serve this now
	Timeout                       // 15: gave up waiting
)

var kindNames = [...]string{"ok", "internal", "invalid", "decode", "unauthorized", "wrong_chain",
	"bad_nonce", "insufficient_funds", "too_large", "not_found", "exists", "disabled", "limit",
	"overflow", "unavailable", "timeout"}

// String returns the stable snake_case name of k.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint32(k))
}

// Error is an error with an operation and a Kind.
type Error struct {
	Op   string // what was being done, e.g. "ledger.transfer"
	Kind Kind
	Err  error // the cause; may be nil
}

// E builds an *Error. msg is formatted with args when args are given; when
// the last arg is an error it is wrapped, so errors.Is sees through.
func E(op string, kind Kind, msg string, args ...any) *Error {
	return &Error{Op: op, Kind: kind, Err: fmt.Errorf(msg, args...)}
}

// Wrap wraps err with op and kind; a nil err gives nil.
func Wrap(op string, kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Kind: kind, Err: err}
}

func (e *Error) Error() string {
	switch {
	case e.Err == nil:
		return e.Op + ": " + e.Kind.String()
	case e.Op == "":
		return e.Err.Error()
	}
	return e.Op + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the outermost *Error in err's chain, OK for
// nil and Internal for an error with no Kind.
func KindOf(err error) Kind {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}
