package crypto_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/virtual-machine/vm/internal/crypto"
)

func TestSignVerify(t *testing.T) {
	k, err := crypto.KeyFromSeed(bytes.Repeat([]byte{7}, crypto.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("body bytes")
	sig := k.Sign(msg)
	tests := []struct {
		name string
		pub  crypto.PubKey
		msg  []byte
		sig  []byte
		want bool
	}{
		{"valid", k.PubKey(), msg, sig, true},
		{"other message", k.PubKey(), []byte("body bytez"), sig, false},
		{"flipped signature bit", k.PubKey(), msg, flip(sig, 3), false},
		{"short signature", k.PubKey(), msg, sig[:63], false},
		{"short key", k.PubKey()[:31], msg, sig, false},
		{"other key", mustKey(t, 8).PubKey(), msg, sig, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := crypto.Verify(tt.pub, tt.msg, tt.sig); got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAddressText(t *testing.T) {
	k := mustKey(t, 1)
	a := k.Address()
	b, err := crypto.ParseAddress(a.String())
	if err != nil || b != a {
		t.Fatalf("round trip: %v %v", b, err)
	}
	for _, bad := range []string{"", "00", a.String() + "00", "zz" + a.String()[2:]} {
		if _, err := crypto.ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) accepted", bad)
		}
	}
	if got := crypto.PubKey(k.PubKey()).Address(); got != a {
		t.Fatalf("address from pubkey %v != %v", got, a)
	}
}

func TestKeystore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	ks := crypto.NewKeystore(dir, 1000)
	f, err := ks.Add("alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ks.Load("alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if k.Address() != f.Address {
		t.Fatalf("loaded %v, stored %v", k.Address(), f.Address)
	}
	if _, err := ks.Load("alice", "wrong"); !errors.Is(err, crypto.ErrBadPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := ks.Add("alice", "pw"); !errors.Is(err, crypto.ErrKeyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := ks.Load("bob", "pw"); !errors.Is(err, crypto.ErrKeyNotFound) {
		t.Fatalf("missing: %v", err)
	}
	for _, bad := range []string{"", "Alice", "../x", "a/b", string(bytes.Repeat([]byte{'a'}, 65)), mustKey(t, 3).Address().String()} {
		if _, err := ks.Add(bad, "pw"); !errors.Is(err, crypto.ErrBadKeyName) {
			t.Errorf("name %q: %v", bad, err)
		}
	}
	// A tampered file must not decrypt to some other key.
	g, _ := ks.Get("alice")
	g.Address[0] ^= 1
	if _, err := g.Decrypt("pw"); !errors.Is(err, crypto.ErrBadPassphrase) {
		t.Fatalf("tampered address: %v", err)
	}
	// A file that is not one of ours does not hide the keys that are.
	if err := os.WriteFile(filepath.Join(dir, "Not A Key.json"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := ks.List()
	if err != nil || len(list) != 1 || list[0].Name != "alice" {
		t.Fatalf("List = %v, %v", list, err)
	}
	if err := ks.Delete("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Get("alice"); !errors.Is(err, crypto.ErrKeyNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func mustKey(t *testing.T, b byte) crypto.PrivKey {
	t.Helper()
	k, err := crypto.KeyFromSeed(bytes.Repeat([]byte{b}, crypto.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 1
	return c
}

func BenchmarkVerify(b *testing.B) {
	k, _ := crypto.GenerateKey(nil)
	msg := bytes.Repeat([]byte{1}, 120)
	sig := k.Sign(msg)
	pub := k.PubKey()
	for b.Loop() {
		if !crypto.Verify(pub, msg, sig) {
			b.Fatal("bad")
		}
	}
}
