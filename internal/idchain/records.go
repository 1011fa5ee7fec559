package idchain

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
)

// ID is the stored record of an ID (key IDKey(name)): bound to the account
// Owner, whose ed25519 public key is PubKey (hex; readers' encryption keys
// derive from it); Controllers (addresses) may write its records; Attrs
// are public attributes. Created and Updated are request heights.
type ID struct {
	ID          string            `json:"id"`
	Owner       string            `json:"owner"`
	PubKey      string            `json:"pubkey"`
	Controllers []string          `json:"controllers"`
	Attrs       map[string]string `json:"attrs"`
	Created     int64             `json:"created"`
	Updated     int64             `json:"updated"`
}

// Record is one entry of an ID's "my chain" (key RecordKey(id, key)). A
// public record has Value; a private one has Ciphertext (an age file
// encrypted on the client to the X25519 keys of Readers, IDs) and
// Private set. By is the address that wrote it at height Updated.
type Record struct {
	Key        string   `json:"key"`
	Value      string   `json:"value,omitempty"`
	Private    bool     `json:"private,omitempty"`
	Ciphertext []byte   `json:"ciphertext,omitempty"`
	Readers    []string `json:"readers,omitempty"`
	By         string   `json:"by"`
	Updated    int64    `json:"updated"`
}

// Encode is the stored JSON of id (map keys sorted, so deterministic).
func (id *ID) Encode() []byte { return mustJSON(id) }

// Encode is the stored JSON of r.
func (r *Record) Encode() []byte { return mustJSON(r) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only strings, slices and integers: cannot fail
	}
	return b
}

// DecodeID decodes and checks a stored ID record.
func DecodeID(b []byte) (*ID, error) {
	var id ID
	if err := decodeStrict(b, &id); err != nil {
		return nil, fmt.Errorf("id record: %w", err)
	}
	if err := id.check(); err != nil {
		return nil, fmt.Errorf("id record: %w", err)
	}
	return &id, nil
}

func (id *ID) check() error {
	if err := ValidName(id.ID); err != nil {
		return err
	}
	if err := ValidAddress(id.Owner); err != nil {
		return err
	}
	pub, err := ParsePubKey(id.PubKey)
	if err != nil {
		return err
	}
	if Address(pub) != id.Owner {
		return fmt.Errorf("owner %s is not the address of public key %s", id.Owner, id.PubKey)
	}
	if err := checkControllers(id.Controllers); err != nil {
		return err
	}
	return checkAttrs(id.Attrs)
}

func checkControllers(cs []string) error {
	if len(cs) > MaxControllers {
		return fmt.Errorf("%d controllers: at most %d", len(cs), MaxControllers)
	}
	for i, c := range cs {
		if err := ValidAddress(c); err != nil {
			return fmt.Errorf("controller: %w", err)
		}
		if slices.Contains(cs[:i], c) {
			return fmt.Errorf("controller %s listed twice", c)
		}
	}
	return nil
}

func checkAttrs(attrs map[string]string) error {
	if len(attrs) > MaxAttrs {
		return fmt.Errorf("%d attributes: at most %d", len(attrs), MaxAttrs)
	}
	for k, v := range attrs {
		if err := ValidKey(k); err != nil {
			return fmt.Errorf("attribute: %w", err)
		}
		if len(v) > MaxAttrValue {
			return fmt.Errorf("attribute %s: %d bytes, at most %d", k, len(v), MaxAttrValue)
		}
	}
	return nil
}

// DecodeRecord decodes and checks a stored record.
func DecodeRecord(b []byte) (*Record, error) {
	var r Record
	if err := decodeStrict(b, &r); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	if err := ValidAddress(r.By); err != nil {
		return nil, fmt.Errorf("record: writer: %w", err)
	}
	return &r, nil
}

// check applies the rules of a record's content, shared by what is
// stored and what Set accepts.
func (r *Record) check() error {
	if err := ValidKey(r.Key); err != nil {
		return err
	}
	if !r.Private {
		switch {
		case len(r.Ciphertext) > 0 || len(r.Readers) > 0:
			return fmt.Errorf("record %s: ciphertext and readers are for private records", r.Key)
		case len(r.Value) > MaxValue:
			return fmt.Errorf("record %s: value of %d bytes, at most %d", r.Key, len(r.Value), MaxValue)
		}
		return nil
	}
	switch {
	case r.Value != "":
		return fmt.Errorf("record %s: a private record has no plain value", r.Key)
	case len(r.Ciphertext) == 0 || len(r.Ciphertext) > MaxCiphertext:
		return fmt.Errorf("record %s: a private record has 1 to %d bytes of ciphertext", r.Key, MaxCiphertext)
	case len(r.Readers) == 0 || len(r.Readers) > MaxReaders:
		return fmt.Errorf("record %s: a private record has 1 to %d readers", r.Key, MaxReaders)
	}
	for i, rd := range r.Readers {
		if err := ValidName(rd); err != nil {
			return fmt.Errorf("reader: %w", err)
		}
		if slices.Contains(r.Readers[:i], rd) {
			return fmt.Errorf("reader %s listed twice", rd)
		}
	}
	return nil
}

// CiphertextBase64 is r's ciphertext as standard base64 (its JSON form).
func (r *Record) CiphertextBase64() string { return base64.StdEncoding.EncodeToString(r.Ciphertext) }
