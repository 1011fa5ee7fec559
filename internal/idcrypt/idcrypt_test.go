package idcrypt_test

import (
	"bytes"
	"testing"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/idcrypt"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func key(t testing.TB, b byte) crypto.PrivKey {
	t.Helper()
	k, err := crypto.KeyFromSeed(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRoundTrip(t *testing.T) {
	ada, bob, eve := key(t, 1), key(t, 2), key(t, 3)
	msg := []byte("+1 555 0100")
	ct, err := idcrypt.Encrypt(msg, []crypto.PubKey{ada.PubKey(), bob.PubKey()})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, msg) {
		t.Fatal("ciphertext contains the plaintext")
	}
	for _, k := range []crypto.PrivKey{ada, bob} {
		got, err := idcrypt.Decrypt(ct, k)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("reader decrypts %q, %v", got, err)
		}
	}
	if _, err := idcrypt.Decrypt(ct, eve); vmerr.KindOf(err) != vmerr.Unauthorized {
		t.Fatalf("non-reader: %v, want unauthorized", err)
	}
	tampered := bytes.Clone(ct)
	tampered[len(tampered)-1] ^= 1
	if _, err := idcrypt.Decrypt(tampered, ada); vmerr.KindOf(err) != vmerr.Decode {
		t.Fatalf("tampered body: %v, want decode", err)
	}
}

func TestEncryptRefuses(t *testing.T) {
	tests := []struct {
		name    string
		readers []crypto.PubKey
	}{
		{"no reader", nil},
		{"short key", []crypto.PubKey{make(crypto.PubKey, 31)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := idcrypt.Encrypt([]byte("x"), tc.readers); vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("got %v, want invalid", err)
			}
		})
	}
}

func FuzzDecrypt(f *testing.F) {
	k := key(f, 1)
	ct, err := idcrypt.Encrypt([]byte("seed"), []crypto.PubKey{k.PubKey()})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ct)
	f.Add([]byte("age-encryption.org/v1\n-> X25519 abc\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := idcrypt.Decrypt(b, k)
		if err == nil && len(out) > idcrypt.MaxPlaintext {
			t.Fatalf("plaintext of %d bytes", len(out))
		}
	})
}
