// Package idcrypt encrypts the private records of the IDChain on the
// client: a record is an age file (filippo.io/age) with one recipient
// stanza per reader, each to the X25519 key derived from the reader's
// ed25519 account key (age's ssh-ed25519 recipient type, which performs
// that derivation), so a reader decrypts with the account key they
// already hold and the chain stores only ciphertext.
package idcrypt

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// MaxPlaintext bounds what Decrypt returns, so a hostile ciphertext
// cannot make the client allocate without bound.
const MaxPlaintext = 1 << 20

// Encrypt returns plaintext encrypted to every key of readers (at least
// one). Errors: Invalid (no reader, a malformed key).
func Encrypt(plaintext []byte, readers []crypto.PubKey) ([]byte, error) {
	const op = "idcrypt.encrypt"
	if len(readers) == 0 {
		return nil, vmerr.E(op, vmerr.Invalid, "a private record needs at least one reader")
	}
	rs := make([]age.Recipient, len(readers))
	for i, pub := range readers {
		if len(pub) != ed25519.PublicKeySize {
			return nil, vmerr.E(op, vmerr.Invalid, "reader %d: public key of %d bytes, want %d", i, len(pub), ed25519.PublicKeySize)
		}
		sp, err := ssh.NewPublicKey(ed25519.PublicKey(pub))
		if err != nil {
			return nil, vmerr.Wrap(op, vmerr.Invalid, err)
		}
		if rs[i], err = agessh.NewEd25519Recipient(sp); err != nil {
			return nil, vmerr.Wrap(op, vmerr.Invalid, err)
		}
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, rs...)
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Internal, err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, vmerr.Wrap(op, vmerr.Internal, err)
	}
	if err := w.Close(); err != nil {
		return nil, vmerr.Wrap(op, vmerr.Internal, err)
	}
	return out.Bytes(), nil
}

// Decrypt opens ciphertext with key. Errors: Unauthorized when key is not
// one of its readers, Decode for a malformed or tampered file, TooLarge
// past MaxPlaintext.
func Decrypt(ciphertext []byte, key crypto.PrivKey) ([]byte, error) {
	const op = "idcrypt.decrypt"
	if len(key) != ed25519.PrivateKeySize {
		return nil, vmerr.E(op, vmerr.Invalid, "private key of %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	id, err := agessh.NewEd25519Identity(ed25519.PrivateKey(key))
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	r, err := age.Decrypt(bytes.NewReader(ciphertext), id)
	if err != nil {
		var none *age.NoIdentityMatchError
		if errors.As(err, &none) {
			return nil, vmerr.E(op, vmerr.Unauthorized, "this key is not a reader of the record")
		}
		return nil, vmerr.Wrap(op, vmerr.Decode, err)
	}
	out, err := io.ReadAll(io.LimitReader(r, MaxPlaintext+1))
	if err != nil {
		return nil, vmerr.Wrap(op, vmerr.Decode, err)
	}
	if len(out) > MaxPlaintext {
		return nil, vmerr.E(op, vmerr.TooLarge, "plaintext over %d bytes", MaxPlaintext)
	}
	return out, nil
}
