package composite

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits of interfaces. They are consensus rules: changing one changes which
// Deploy transactions are valid.
const (
	MaxInterfaceSize = 64 << 10 // bytes of an interface document
	MaxFunctions     = 256      // functions of one interface
	MaxFnNameLen     = 64       // bytes of a function name
)

// schemaURL is the location every schema is compiled at. It uses a scheme no
// loader serves, so only the document itself resolves.
const schemaURL = "vm:///schema.json"

// Function is one exported function of a contract version with the JSON
// Schemas of its input and output (either may be absent: nothing declared).
type Function struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Input       json.RawMessage `json:"input,omitempty"`  // JSON Schema of the call input (the input bytes are JSON)
	Output      json.RawMessage `json:"output,omitempty"` // JSON Schema of the output
}

// Interface is what a contract version declares about its functions.
type Interface struct {
	Functions []Function `json:"functions"`
}

// ParseInterface decodes and validates an interface document: strict JSON
// (unknown fields and trailing data refused), at most MaxInterfaceSize bytes,
// 1..MaxFunctions functions with unique names of 1..MaxFnNameLen bytes, and
// every schema compiles as draft 2020-12 (unless it names another draft with
// "$schema") without loading any URL: a remote "$ref" is refused, a validator
// never fetches. Before anything is compiled, the schemas together must fit
// the JSON limits (MaxJSONDepth per schema, MaxSchemaNodes for all schemas of
// the interface, MaxNumberLen, MaxNumberExponent, MaxStringLen,
// MaxPatternInstSize); number literals are checked as text and never
// converted. It returns the interface, with every schema re-encoded
// canonically, and the canonical bytes of the whole document (compact JSON,
// object keys sorted), which re-parse to the same bytes. Errors are of kind
// vmerr.TooLarge for an oversized document, vmerr.Limit for a schema over a
// JSON limit (the message names the limit) and vmerr.Invalid otherwise.
func ParseInterface(b []byte) (*Interface, []byte, error) {
	const op = "composite.interface"
	if len(b) > MaxInterfaceSize {
		return nil, nil, vmerr.E(op, vmerr.TooLarge, "interface is %d bytes; at most %d are allowed", len(b), MaxInterfaceSize)
	}
	var in Interface
	if err := decodeStrict(b, &in); err != nil {
		return nil, nil, vmerr.E(op, vmerr.Invalid, "interface: %w", err)
	}
	if n := len(in.Functions); n == 0 || n > MaxFunctions {
		return nil, nil, vmerr.E(op, vmerr.Invalid, "interface has %d functions; 1..%d are allowed", n, MaxFunctions)
	}
	seen := make(map[string]bool, len(in.Functions))
	schemas := newSchemaBudget()
	for i := range in.Functions {
		f := &in.Functions[i]
		if len(f.Name) == 0 || len(f.Name) > MaxFnNameLen {
			return nil, nil, vmerr.E(op, vmerr.Invalid, "function %d: name is %d bytes; 1..%d are allowed", i, len(f.Name), MaxFnNameLen)
		}
		if seen[f.Name] {
			return nil, nil, vmerr.E(op, vmerr.Invalid, "function %q is declared twice", f.Name)
		}
		seen[f.Name] = true
		for _, s := range []struct {
			what string
			raw  *json.RawMessage
		}{{"input", &f.Input}, {"output", &f.Output}} {
			if len(*s.raw) == 0 {
				continue
			}
			doc, err := decodeBounded(*s.raw, schemas)
			if err != nil {
				var le *limitError
				if errors.As(err, &le) {
					return nil, nil, vmerr.E(op, vmerr.Limit, "function %q: %s schema: %w", f.Name, s.what, err)
				}
				return nil, nil, vmerr.E(op, vmerr.Invalid, "function %q: %s schema: %w", f.Name, s.what, err)
			}
			canon, err := marshalCompact(doc)
			if err != nil {
				return nil, nil, vmerr.E(op, vmerr.Invalid, "function %q: %s schema: %w", f.Name, s.what, err)
			}
			if _, err := newSchemaCompiler(doc).compile(""); err != nil {
				return nil, nil, vmerr.E(op, vmerr.Invalid, "function %q: %s schema does not compile: %w", f.Name, s.what, err)
			}
			*s.raw = canon
		}
	}
	canon, err := marshalCompact(&in)
	if err != nil {
		return nil, nil, vmerr.E(op, vmerr.Invalid, "interface: %w", err)
	}
	return &in, canon, nil
}

// Func returns the function called name, or nil when i (which may be nil)
// declares none.
func (i *Interface) Func(name string) *Function {
	if i == nil {
		return nil
	}
	for k := range i.Functions {
		if i.Functions[k].Name == name {
			return &i.Functions[k]
		}
	}
	return nil
}

// CheckExports reports whether the module exports every function i declares
// (exports are the module's exported function names). The error is of kind
// vmerr.Invalid and names the first declared function that is missing. A nil
// Interface declares nothing and passes.
func (i *Interface) CheckExports(exports []string) error {
	if i == nil {
		return nil
	}
	have := make(map[string]bool, len(exports))
	for _, e := range exports {
		have[e] = true
	}
	for _, f := range i.Functions {
		if !have[f.Name] {
			return vmerr.E("composite.exports", vmerr.Invalid, "function %q is declared in the interface but the module does not export it", f.Name)
		}
	}
	return nil
}

// ValidateInput validates input, which must be JSON, against the input schema
// of function fn. A function without an input schema accepts any input. The
// error is of kind vmerr.Invalid: fn is not declared, the schema does not
// compile, input is not JSON, or it does not match (the message carries the
// schema validator's explanation).
func (i *Interface) ValidateInput(fn string, input []byte) error {
	const op = "composite.validate"
	f := i.Func(fn)
	if f == nil {
		return vmerr.E(op, vmerr.Invalid, "function %q is not declared in the interface", fn)
	}
	if len(f.Input) == 0 {
		return nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(f.Input))
	if err != nil {
		return vmerr.E(op, vmerr.Invalid, "function %q: input schema does not compile: %w", fn, err)
	}
	sch, err := newSchemaCompiler(doc).compile("")
	if err != nil {
		return vmerr.E(op, vmerr.Invalid, "function %q: input schema does not compile: %w", fn, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(input))
	if err != nil {
		return vmerr.E(op, vmerr.Invalid, "function %q: input is not JSON: %w", fn, err)
	}
	if err := sch.Validate(v); err != nil {
		return vmerr.E(op, vmerr.Invalid, "function %q: input does not match its schema: %s", fn, oneLine(err))
	}
	return nil
}

// noLoader refuses every URL: schemas are self-contained.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, errors.New("remote references are not allowed: " + url)
}

// schemaCompiler compiles schemas at JSON Pointers of one document, which
// is added (and checked against its meta-schema) once; each location is
// compiled once and the result, or its error, is kept. It is used by one
// goroutine at a time.
type schemaCompiler struct {
	c       *jsonschema.Compiler
	added   error // the error of adding the document, if any
	results map[string]compiled
}

type compiled struct {
	sch *jsonschema.Schema
	err error
}

// newSchemaCompiler prepares compiling doc, a decoded schema document (from
// decodeBounded or jsonschema.UnmarshalJSON), with draft 2020-12 as default
// and no loader.
func newSchemaCompiler(doc any) *schemaCompiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	return &schemaCompiler{c: c, added: c.AddResource(schemaURL, doc), results: map[string]compiled{}}
}

// compile returns the schema at the JSON Pointer ptr ("" for the root).
func (sc *schemaCompiler) compile(ptr string) (*jsonschema.Schema, error) {
	if sc.added != nil {
		return nil, sc.added
	}
	if r, ok := sc.results[ptr]; ok {
		return r.sch, r.err
	}
	loc := schemaURL
	if ptr != "" {
		loc += "#" + fragmentEscape(ptr)
	}
	sch, err := sc.c.Compile(loc)
	sc.results[ptr] = compiled{sch, err}
	return sch, err
}

// fragmentEscape percent-encodes a JSON Pointer for a URI fragment.
func fragmentEscape(ptr string) string {
	var sb strings.Builder
	for i := 0; i < len(ptr); i++ {
		c := ptr[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte("/-._~", c) >= 0 {
			sb.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		sb.WriteByte('%')
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&15])
	}
	return sb.String()
}

// decodeStrict decodes exactly one JSON value from b into v, refusing
// unknown fields and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON document")
	}
	return nil
}

// marshalCompact is json.Marshal without HTML escaping.
func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// oneLine flattens a multi-line validator message.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// DecodeStoredInterface decodes the canonical bytes ParseInterface
// returned earlier (an interface stored on chain when its version was
// deployed) without validating or compiling it again: Pin compiles what
// it needs itself, and recompiling every step's interface on each
// composite deploy would cost up to a second at the limits. Errors:
// Invalid for bytes that are not an interface document.
func DecodeStoredInterface(b []byte) (*Interface, error) {
	var in Interface
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, vmerr.E("composite.stored_interface", vmerr.Invalid, "stored interface: %v", err)
	}
	return &in, nil
}
