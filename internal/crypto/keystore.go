package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// DefaultIterations is the PBKDF2-SHA256 work factor for new key files
// (OWASP's 2023 figure). PBKDF2 and AES-GCM are chosen over scrypt because
// WebCrypto has both natively, so the portal can read and write the same
// files in the browser.
const DefaultIterations = 600_000

// MinIterations is the lowest work factor `vm keys import` accepts in a
// file written elsewhere (the portal, another machine).
const MinIterations = 100_000

// Keystore errors that callers test with errors.Is.
var (
	ErrKeyNotFound   = errors.New("key not found")
	ErrKeyExists     = errors.New("key already exists")
	ErrBadPassphrase = errors.New("wrong passphrase or corrupted key file")
	ErrBadKeyName    = errors.New("key names are 1-64 characters of a-z, 0-9, '-', '_' and '.', and are not addresses")
)

var keyNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// validName reports whether name may name a key. A name spelled like an
// address is refused: where a command takes "key name or address", such a
// key would silently redirect GAS meant for that address.
func validName(name string) bool {
	if !keyNameRE.MatchString(name) {
		return false
	}
	_, err := ParseAddress(name)
	return err != nil
}

// KeyFile is the on-disk (and export) form of one encrypted key.
type KeyFile struct {
	Version    int     `json:"version"`
	Name       string  `json:"name"`
	Address    Address `json:"address"`
	PubKey     string  `json:"pub_key"` // hex
	KDF        string  `json:"kdf"`     // "pbkdf2-sha256"
	Iterations int     `json:"iterations"`
	Salt       string  `json:"salt"`       // hex, 16 bytes
	Nonce      string  `json:"nonce"`      // hex, 12 bytes
	Ciphertext string  `json:"ciphertext"` // hex, AES-256-GCM of the 32-byte seed, AAD "vm-key-v1:"+address
}

// Keystore is a directory of encrypted key files, one per name.
type Keystore struct {
	dir        string
	iterations int
}

// NewKeystore returns the keystore in dir; iterations <= 0 means DefaultIterations.
func NewKeystore(dir string, iterations int) *Keystore {
	if iterations <= 0 {
		iterations = DefaultIterations
	}
	return &Keystore{dir: dir, iterations: iterations}
}

// Encrypt seals k under passphrase as a KeyFile named name.
func Encrypt(name string, k PrivKey, passphrase string, iterations int) (*KeyFile, error) {
	if !validName(name) {
		return nil, fmt.Errorf("crypto: key %q: %w", name, ErrBadKeyName)
	}
	if passphrase == "" {
		return nil, errors.New("crypto: empty passphrase")
	}
	salt := make([]byte, 16)
	nonce := make([]byte, 12)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	f := &KeyFile{Version: 1, Name: name, Address: k.Address(), PubKey: hex.EncodeToString(k.PubKey()),
		KDF: "pbkdf2-sha256", Iterations: iterations, Salt: hex.EncodeToString(salt), Nonce: hex.EncodeToString(nonce)}
	aead, err := f.aead(passphrase, salt)
	if err != nil {
		return nil, err
	}
	f.Ciphertext = hex.EncodeToString(aead.Seal(nil, nonce, k.Seed(), f.aad()))
	return f, nil
}

// Decrypt opens f with passphrase. It fails with ErrBadPassphrase when the
// passphrase is wrong or the file was altered.
func (f *KeyFile) Decrypt(passphrase string) (PrivKey, error) {
	if f.Version != 1 || f.KDF != "pbkdf2-sha256" || f.Iterations < 1 || f.Iterations > 100_000_000 {
		return nil, fmt.Errorf("crypto: key %q: unsupported key file (version %d, kdf %q)", f.Name, f.Version, f.KDF)
	}
	salt, err1 := hex.DecodeString(f.Salt)
	nonce, err2 := hex.DecodeString(f.Nonce)
	ct, err3 := hex.DecodeString(f.Ciphertext)
	if err := errors.Join(err1, err2, err3); err != nil || len(nonce) != 12 {
		return nil, fmt.Errorf("crypto: key %q: malformed key file", f.Name)
	}
	aead, err := f.aead(passphrase, salt)
	if err != nil {
		return nil, err
	}
	seed, err := aead.Open(nil, nonce, ct, f.aad())
	if err != nil {
		return nil, fmt.Errorf("crypto: key %q: %w", f.Name, ErrBadPassphrase)
	}
	k, err := KeyFromSeed(seed)
	if err != nil {
		return nil, err
	}
	if k.Address() != f.Address {
		return nil, fmt.Errorf("crypto: key %q: %w", f.Name, ErrBadPassphrase)
	}
	return k, nil
}

func (f *KeyFile) aad() []byte { return []byte("vm-key-v1:" + f.Address.String()) }

func (f *KeyFile) aead(passphrase string, salt []byte) (cipher.AEAD, error) {
	key, err := pbkdf2.Key(sha256.New, passphrase, salt, f.Iterations, 32)
	if err != nil {
		return nil, fmt.Errorf("crypto: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Add creates a new random key named name. It fails with ErrKeyExists when
// the name is taken.
func (s *Keystore) Add(name, passphrase string) (*KeyFile, error) {
	k, err := GenerateKey(nil)
	if err != nil {
		return nil, err
	}
	return s.Import(name, k, passphrase)
}

// Import stores k under name, encrypted with passphrase.
func (s *Keystore) Import(name string, k PrivKey, passphrase string) (*KeyFile, error) {
	f, err := Encrypt(name, k, passphrase, s.iterations)
	if err != nil {
		return nil, err
	}
	return f, s.Write(f)
}

// Write stores an already-encrypted key file (as exported by the portal).
func (s *Keystore) Write(f *KeyFile) error {
	if !validName(f.Name) {
		return fmt.Errorf("crypto: key %q: %w", f.Name, ErrBadKeyName)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("crypto: keystore: %w", err)
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	// Write a temporary file, sync it, then link it into place: a crash
	// never leaves a truncated key file, and an existing key is never
	// replaced (link fails when the name exists).
	tmp, err := os.CreateTemp(s.dir, ".tmp-"+f.Name+"-*")
	if err != nil {
		return fmt.Errorf("crypto: keystore: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("crypto: keystore: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("crypto: keystore: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("crypto: keystore: %w", err)
	}
	if err := os.Link(tmp.Name(), s.path(f.Name)); errors.Is(err, os.ErrExist) {
		return fmt.Errorf("crypto: key %q: %w", f.Name, ErrKeyExists)
	} else if err != nil {
		return fmt.Errorf("crypto: keystore: %w", err)
	}
	return nil
}

// Get reads the key file for name without decrypting it.
func (s *Keystore) Get(name string) (*KeyFile, error) {
	if !validName(name) {
		return nil, fmt.Errorf("crypto: key %q: %w", name, ErrBadKeyName)
	}
	b, err := os.ReadFile(s.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("crypto: key %q: %w", name, ErrKeyNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("crypto: keystore: %w", err)
	}
	var f KeyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("crypto: key %q: malformed key file: %w", name, err)
	}
	return &f, nil
}

// Load decrypts the key named name.
func (s *Keystore) Load(name, passphrase string) (PrivKey, error) {
	f, err := s.Get(name)
	if err != nil {
		return nil, err
	}
	return f.Decrypt(passphrase)
}

// List returns the key files in name order.
func (s *Keystore) List() ([]*KeyFile, error) {
	ents, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("crypto: keystore: %w", err)
	}
	var out []*KeyFile
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() || !validName(name) {
			continue // not a key file of ours (or a temporary one)
		}
		f, err := s.Get(name)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Delete removes the key named name.
func (s *Keystore) Delete(name string) error {
	if _, err := s.Get(name); err != nil {
		return err
	}
	return os.Remove(s.path(name))
}

func (s *Keystore) path(name string) string { return filepath.Join(s.dir, name+".json") }
