package idchain

import "fmt"

// CreateInput creates ID Name bound to the calling account, whose public
// key is PubKey (hex; its address must be the caller), with Attrs.
type CreateInput struct {
	Name   string            `json:"name"`
	PubKey string            `json:"pubkey"`
	Attrs  map[string]string `json:"attrs,omitempty"`
}

// CreateOutput says whether the call created the ID (false: it existed,
// and ID is the existing record).
type CreateOutput struct {
	Created bool `json:"created"`
	ID      *ID  `json:"id"`
}

// SetInput writes record Record.Key of ID Name (owner or controller).
// Record.By and Record.Updated are set by the contract.
type SetInput struct {
	Name   string `json:"name"`
	Record Record `json:"record"`
}

// RemoveInput deletes record Key of ID Name (owner or controller).
type RemoveInput struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// RecordOutput is the record written (nil after a removal).
type RecordOutput struct {
	ID     string  `json:"id"`
	Record *Record `json:"record,omitempty"`
}

// RotateInput moves ID Name to the account of PubKey (owner only): the
// old key is refused from then on.
type RotateInput struct {
	Name   string `json:"name"`
	PubKey string `json:"pubkey"`
}

// ControllersInput adds and removes controller addresses (owner only).
type ControllersInput struct {
	Name   string   `json:"name"`
	Add    []string `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// AttrsInput sets and removes attributes (owner or controller).
type AttrsInput struct {
	Name   string            `json:"name"`
	Set    map[string]string `json:"set,omitempty"`
	Remove []string          `json:"remove,omitempty"`
}

// IDOutput is the ID record after the change.
type IDOutput struct {
	ID *ID `json:"id"`
}

// DecodeInput decodes a function's JSON input strictly into v.
func DecodeInput(b []byte, v any) error {
	if err := decodeStrict(b, v); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	return nil
}

// CheckRecord applies the content rules of a record about to be written.
func CheckRecord(r *Record) error { return r.check() }

// CheckControllers applies the controller rules (addresses, count, no
// duplicates).
func CheckControllers(cs []string) error { return checkControllers(cs) }

// CheckAttrs applies the attribute rules.
func CheckAttrs(attrs map[string]string) error { return checkAttrs(attrs) }

// CheckID applies the rules of a stored ID record, as DecodeID does after
// decoding (for decoders other than DecodeID, such as the contract's).
func CheckID(id *ID) error { return id.check() }
