package wasm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// Status is the outcome of a contract call. Values and names are part of
// the result encoding and the API: append only.
type Status uint8

// The statuses. Only StatusOK applies the call's writes.
const (
	StatusOK                Status = 0 // the function returned normally
	StatusOutOfGas          Status = 1 // the gas limit (or the init budget) was reached
	StatusCallDepthExceeded Status = 2 // wasm frames or contract-call nesting over the limit
	StatusMemoryLimit       Status = 3 // trapped while memory was at its page limit
	StatusTrap              Status = 4 // any other trap, a proc_exit, a host-call cap
	StatusAbort             Status = 5 // the contract called abort(msg)
	StatusInvalidModule     Status = 6 // the module cannot run (bad bytes, imports, missing export)
	StatusOutputTooLarge    Status = 7 // output_write beyond the output cap
	StatusBadInput          Status = 8 // the request itself is unusable (input too large, bad fn name)
	statusCount                    = 9
)

var statusNames = [statusCount]string{"ok", "out_of_gas", "call_depth_exceeded", "memory_limit",
	"trap", "abort", "invalid_module", "output_too_large", "bad_input"}

// String returns the stable snake_case name of s.
func (s Status) String() string {
	if s < statusCount {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// ParseStatus is the inverse of String.
func ParseStatus(name string) (Status, error) {
	for i, n := range statusNames {
		if n == name {
			return Status(i), nil
		}
	}
	return 0, vmerr.E("wasm.status", vmerr.Invalid, "unknown status %q", name)
}

// MarshalText implements encoding.TextMarshaler (JSON uses the name).
func (s Status) MarshalText() ([]byte, error) {
	if s >= statusCount {
		return nil, vmerr.E("wasm.status", vmerr.Invalid, "unknown status %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Read is one state read that reached the namespace's State: the version
// the value had (0 and Found false when absent). Reads served from the
// call's own earlier writes are not recorded.
type Read struct {
	Contract string `json:"contract"`
	Key      []byte `json:"key"`
	Found    bool   `json:"found"`
	Version  uint64 `json:"version"`
}

// Write is the final effect of a call on one key: a value, or a delete.
type Write struct {
	Contract string `json:"contract"`
	Key      []byte `json:"key"`
	Value    []byte `json:"value,omitempty"`
	Delete   bool   `json:"delete,omitempty"`
}

// Event is a structured event a contract emitted.
type Event struct {
	Contract string `json:"contract"`
	Topic    string `json:"topic"`
	Data     []byte `json:"data"`
}

// Result is what a call produced. Miners compare results by Hash, so every
// field is deterministic. On any status other than StatusOK, Output,
// WriteSet and Events are empty; ReadSet, Logs and Error are kept.
type Result struct {
	Status   Status   `json:"status"`
	Output   []byte   `json:"output"`
	GasUsed  uint64   `json:"gas_used"`
	ReadSet  []Read   `json:"read_set"`
	WriteSet []Write  `json:"write_set"`
	Logs     []string `json:"logs"`
	Events   []Event  `json:"events"`
	Error    string   `json:"error,omitempty"`
	// Context is set when the call, or a contract it called, read its
	// caller, height, time or seed through the vm ABI: the result depends
	// on more than code, function, input and state, so it is never
	// memoized. (The WASI clock and random_get do not set it: language
	// runtimes read them on their own.)
	Context bool `json:"context,omitempty"`
	// Steps is set on a composite's result only: one entry per step that
	// ran, in order.
	Steps []Step `json:"steps,omitempty"`
}

// Step is what a composite's result records of one step, for memos: which
// call it was, whether a memo answered it, and, when it may become a memo
// itself, its own result.
type Step struct {
	CodeHash  [32]byte `json:"code_hash"` // the step's metered module (Module.Hash)
	Fn        string   `json:"fn"`
	InputHash [32]byte `json:"input_hash"` // SHA-256 of the input the step got
	// Hit is set when a memo answered the step: it did not run and used
	// no gas; its reads are in the composite's read set.
	Hit bool `json:"hit,omitempty"`
	// Result is the canonical encoding of the step's own result when the
	// step ran and that result may be memoized (StepMemoizable); empty
	// otherwise.
	Result []byte `json:"result,omitempty"`
}

// MaxStepResult bounds Step.Result: a larger step result is not recorded
// (and so not memoized), which keeps a composite's result within the
// size a transaction may carry.
const MaxStepResult = 16 << 10

// StepMemoizable reports whether r, a step's own result, may be replayed
// as a memo: it is ok, wrote nothing, did not read its context, and every
// value it read came from stored state (a value served by an earlier
// step's writes has version 0).
func StepMemoizable(r *Result) bool {
	if r.Status != StatusOK || len(r.WriteSet) > 0 || r.Context || len(r.Steps) > 0 {
		return false
	}
	for _, rd := range r.ReadSet {
		if rd.Found && rd.Version == 0 {
			return false
		}
	}
	return true
}

// resultMagic starts every encoded Result; the digit is the encoding version.
const resultMagic = "VMR1"

// MarshalBinary returns the canonical encoding of r (docs/ABI.md, "Result
// encoding"): ReadSet and WriteSet sorted by (contract, key); it fails only
// for an unknown status or a duplicate (contract, key) in a set.
func (r *Result) MarshalBinary() ([]byte, error) {
	if r.Status >= statusCount {
		return nil, vmerr.E("wasm.result", vmerr.Invalid, "unknown status %d", uint8(r.Status))
	}
	reads := slices.Clone(r.ReadSet)
	slices.SortFunc(reads, func(a, b Read) int { return cmpCK(a.Contract, a.Key, b.Contract, b.Key) })
	writes := slices.Clone(r.WriteSet)
	slices.SortFunc(writes, func(a, b Write) int { return cmpCK(a.Contract, a.Key, b.Contract, b.Key) })
	for i := 1; i < len(reads); i++ {
		if cmpCK(reads[i-1].Contract, reads[i-1].Key, reads[i].Contract, reads[i].Key) == 0 {
			return nil, vmerr.E("wasm.result", vmerr.Invalid, "duplicate read of %q", reads[i].Key)
		}
	}
	for i := 1; i < len(writes); i++ {
		if cmpCK(writes[i-1].Contract, writes[i-1].Key, writes[i].Contract, writes[i].Key) == 0 {
			return nil, vmerr.E("wasm.result", vmerr.Invalid, "duplicate write of %q", writes[i].Key)
		}
	}
	b := make([]byte, 0, 64+len(r.Output))
	b = append(b, resultMagic...)
	b = append(b, byte(r.Status))
	b = binary.BigEndian.AppendUint64(b, r.GasUsed)
	b = appendBytes(b, r.Output)
	b = appendBytes(b, []byte(r.Error))
	b = binary.BigEndian.AppendUint32(b, uint32(len(reads)))
	for _, rd := range reads {
		b = appendBytes(b, []byte(rd.Contract))
		b = appendBytes(b, rd.Key)
		b = append(b, boolByte(rd.Found))
		b = binary.BigEndian.AppendUint64(b, rd.Version)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(writes)))
	for _, w := range writes {
		b = appendBytes(b, []byte(w.Contract))
		b = appendBytes(b, w.Key)
		b = append(b, boolByte(w.Delete))
		b = appendBytes(b, w.Value)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Logs)))
	for _, l := range r.Logs {
		b = appendBytes(b, []byte(l))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Events)))
	for _, e := range r.Events {
		b = appendBytes(b, []byte(e.Contract))
		b = appendBytes(b, []byte(e.Topic))
		b = appendBytes(b, e.Data)
	}
	if !r.Context && len(r.Steps) == 0 {
		return b, nil // no trailer: the original VMR1 form
	}
	b = append(b, boolByte(r.Context))
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Steps)))
	for _, st := range r.Steps {
		if st.Hit && len(st.Result) > 0 {
			return nil, vmerr.E("wasm.result", vmerr.Invalid, "step %s: a memo hit carries no result", st.Fn)
		}
		b = append(b, st.CodeHash[:]...)
		b = appendBytes(b, []byte(st.Fn))
		b = append(b, st.InputHash[:]...)
		b = append(b, boolByte(st.Hit))
		b = appendBytes(b, st.Result)
	}
	return b, nil
}

// UnmarshalBinary decodes the canonical encoding. It accepts only
// canonical input (sorted, duplicate-free sets, known status, booleans 0 or
// 1, no delete with a value, no trailing bytes), so decode then encode
// gives the same bytes. Errors are of kind vmerr.Decode.
func (r *Result) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	if string(d.take(len(resultMagic))) != resultMagic {
		return d.fail("bad magic")
	}
	var out Result
	out.Status = Status(d.u8())
	if d.err == nil && out.Status >= statusCount {
		return d.fail("unknown status")
	}
	out.GasUsed = d.u64()
	out.Output = d.bytes()
	out.Error = string(d.bytes())
	n := d.count()
	for i := 0; i < n && d.err == nil; i++ {
		rd := Read{Contract: string(d.bytes()), Key: d.bytes(), Found: d.boolean(), Version: d.u64()}
		if i > 0 && cmpCK(out.ReadSet[i-1].Contract, out.ReadSet[i-1].Key, rd.Contract, rd.Key) >= 0 {
			return d.fail("read set not sorted")
		}
		out.ReadSet = append(out.ReadSet, rd)
	}
	n = d.count()
	for i := 0; i < n && d.err == nil; i++ {
		w := Write{Contract: string(d.bytes()), Key: d.bytes(), Delete: d.boolean(), Value: d.bytes()}
		if w.Delete && len(w.Value) > 0 {
			return d.fail("delete with a value")
		}
		if i > 0 && cmpCK(out.WriteSet[i-1].Contract, out.WriteSet[i-1].Key, w.Contract, w.Key) >= 0 {
			return d.fail("write set not sorted")
		}
		out.WriteSet = append(out.WriteSet, w)
	}
	n = d.count()
	for i := 0; i < n && d.err == nil; i++ {
		out.Logs = append(out.Logs, string(d.bytes()))
	}
	n = d.count()
	for i := 0; i < n && d.err == nil; i++ {
		out.Events = append(out.Events, Event{Contract: string(d.bytes()), Topic: string(d.bytes()), Data: d.bytes()})
	}
	if d.err == nil && len(d.b) > 0 {
		if err := d.trailer(&out); err != nil {
			return err
		}
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return d.fail("trailing bytes")
	}
	*r = out
	return nil
}

// Hash returns the SHA-256 of the canonical encoding; miners agree on a
// result by this hash. It fails only where MarshalBinary does.
func (r *Result) Hash() ([32]byte, error) {
	b, err := r.MarshalBinary()
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// Equal reports whether r and o have the same canonical encoding.
func (r *Result) Equal(o *Result) bool {
	a, err1 := r.MarshalBinary()
	b, err2 := o.MarshalBinary()
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

// String returns a short human-readable summary.
func (r *Result) String() string {
	j, _ := json.Marshal(struct {
		Status  Status `json:"status"`
		GasUsed uint64 `json:"gas_used"`
		Error   string `json:"error,omitempty"`
	}{r.Status, r.GasUsed, r.Error})
	return string(j)
}

func cmpCK(ac string, ak []byte, bc string, bk []byte) int {
	if c := bytes.Compare([]byte(ac), []byte(bc)); c != 0 {
		return c
	}
	return bytes.Compare(ak, bk)
}

func appendBytes(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// decoder reads the canonical encoding; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

// trailer decodes the optional context flag and steps, present only when
// one of them is set. A step's result must itself be a canonical,
// memoizable (StepMemoizable) result of at most MaxStepResult bytes.
func (d *decoder) trailer(out *Result) error {
	out.Context = d.boolean()
	n := d.count()
	if d.err == nil && !out.Context && n == 0 {
		return d.fail("empty trailer")
	}
	for i := 0; i < n && d.err == nil; i++ {
		var st Step
		copy(st.CodeHash[:], d.take(32))
		st.Fn = string(d.bytes())
		copy(st.InputHash[:], d.take(32))
		st.Hit = d.boolean()
		st.Result = d.bytes()
		if d.err != nil {
			break
		}
		if len(st.Result) > 0 {
			var sr Result
			if st.Hit || len(st.Result) > MaxStepResult || sr.UnmarshalBinary(st.Result) != nil || !StepMemoizable(&sr) {
				return d.fail(fmt.Sprintf("step %d: result not recordable", i))
			}
		}
		out.Steps = append(out.Steps, st)
	}
	return d.err
}

func (d *decoder) fail(msg string) error {
	if d.err == nil {
		d.err = vmerr.E("wasm.result.decode", vmerr.Decode, "%s", msg)
	}
	return d.err
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail("truncated")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8() byte {
	v := d.take(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (d *decoder) boolean() bool {
	v := d.u8()
	if v > 1 {
		d.fail("bad boolean")
	}
	return v == 1
}

func (d *decoder) u32() uint32 {
	v := d.take(4)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

func (d *decoder) u64() uint64 {
	v := d.take(8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// bytes reads a length-prefixed byte string; empty gives nil.
func (d *decoder) bytes() []byte {
	n := d.u32()
	if uint64(n) > uint64(len(d.b)) {
		d.fail("truncated")
		return nil
	}
	v := d.take(int(n))
	if len(v) == 0 {
		return nil
	}
	return bytes.Clone(v)
}

// count reads a list length, refusing one that cannot fit in the rest.
func (d *decoder) count() int {
	n := d.u32()
	if uint64(n) > uint64(len(d.b)) {
		d.fail("bad count")
		return 0
	}
	return int(n)
}
