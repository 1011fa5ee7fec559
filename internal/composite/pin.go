package composite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// RunFn is the one function a composite exposes. A composite's own
// interface, when it has one, declares exactly this function.
const RunFn = "run"

// maxRefHops bounds how many local "$ref"s the compatibility rule follows.
const maxRefHops = 8

// Pinned is what the ledger knows about the resolved contract of a step.
type Pinned struct {
	Version   string     // the exact version the range resolved to
	Interface *Interface // nil: the version declares none
	Composite bool       // the version is itself a composite
}

// Pin resolves the contract of every step with lookup (the ledger resolves
// the range against its state), checks the result and, only when every check
// passes, records the exact versions in Step.Version (overwriting any
// version already there). The checks, in step order:
//   - lookup fails: its error is returned with the step named and its kind
//     kept (vmerr.NotFound for a missing contract or version);
//   - the step's contract is a composite: vmerr.Invalid, "nested composites
//     are not supported";
//   - the contract has an interface that does not declare the step's fn:
//     vmerr.Invalid;
//   - schema compatibility (docs/COMPOSITES.md, "Compatibility"): each source
//     is checked against the input schema of the step it feeds, a pointer
//     source by comparing the producer's sub-schema at the pointer with the
//     consumer's (types must be a subset, integer within number; properties
//     the consumer requires must be required by the producer), a constant by
//     validating it, an object field by field. Whatever the rule cannot
//     decide is accepted. Failures are vmerr.Invalid naming the step, the
//     source and why.
//
// The work of one Pin is bounded whatever its input: each distinct consumer
// schema document is compiled at most once and each (document, pointer) at
// most once; a constant is validated only when the estimated cost (the
// consumer sub-schema with local "$ref"s expanded, times the constant's
// size, plus compiling the document the first time) fits what is left of a
// fixed per-Pin budget, and when the schema's cost can be bounded at all
// (no recursion through "$ref", no "$dynamicRef", no non-local or anchor
// references, no embedded "$id"). A constant that is not validated is
// accepted, like anything else the rule cannot decide. Schema documents over
// the JSON limits (see ParseInterface) are treated as unknown.
//
// self is the composite's own interface (nil: none). When present it must
// declare exactly the function RunFn; its input schema describes /input and
// its output schema is checked against the manifest's output. m must come
// from ParseManifest, and the interfaces (self and those lookup returns)
// from ParseInterface.
func (m *Manifest) Pin(self *Interface, lookup func(contract.Ref) (Pinned, error)) error {
	const op = "composite.pin"
	var run *Function
	if self != nil {
		run = self.Func(RunFn)
		if run == nil || len(self.Functions) != 1 {
			return vmerr.E(op, vmerr.Invalid, "a composite's interface declares exactly one function, %q", RunFn)
		}
	}
	pins := make([]Pinned, len(m.Steps))
	for i, s := range m.Steps {
		ref, err := contract.ParseRef(s.Contract)
		if err != nil {
			return vmerr.E(op, vmerr.Invalid, "step %q: contract %q: %w", s.ID, s.Contract, err)
		}
		p, err := lookup(ref)
		if err != nil {
			return vmerr.Wrap(op, vmerr.KindOf(err), fmt.Errorf("step %q: contract %q: %w", s.ID, s.Contract, err))
		}
		if p.Composite {
			return vmerr.E(op, vmerr.Invalid, "step %q: contract %s@%s is a composite: nested composites are not supported", s.ID, ref.Name, p.Version)
		}
		if p.Version == "" {
			return vmerr.E(op, vmerr.Internal, "step %q: lookup of %q returned no version", s.ID, s.Contract)
		}
		if p.Interface != nil && p.Interface.Func(s.Fn) == nil {
			return vmerr.E(op, vmerr.Invalid, "step %q: contract %s@%s does not declare function %q", s.ID, ref.Name, p.Version, s.Fn)
		}
		pins[i] = p
	}
	c := &compat{m: m, pins: pins, ids: m.index(), docs: map[string]*schemaDoc{}, pairs: map[pairKey]string{}, work: pinWorkBudget}
	if run != nil {
		c.input = c.root(run.Input)
	}
	for i, s := range m.Steps {
		var consumer *schemaAt
		if f := pins[i].Interface.Func(s.Fn); f != nil {
			consumer = c.root(f.Input)
		}
		if err := c.check(&s.Input, consumer); err != nil {
			return vmerr.E(op, vmerr.Invalid, "step %q: input %s", s.ID, err)
		}
	}
	if run != nil && len(run.Output) > 0 {
		out := m.Output
		if out == nil {
			last := m.Steps[m.Order()[len(m.Steps)-1]].ID
			p := "/steps/" + escapeToken(last)
			out = &Source{Pointer: &p}
		}
		if err := c.check(out, c.root(run.Output)); err != nil {
			return vmerr.E(op, vmerr.Invalid, "output %s", err)
		}
	}
	for i := range m.Steps {
		m.Steps[i].Version = pins[i].Version
	}
	return nil
}

// schemaAt is a schema node inside its document: ptr is the JSON Pointer
// of node in d.
type schemaAt struct {
	d    *schemaDoc
	node any
	ptr  string
}

// compat carries what the compatibility checks of one Pin need.
type compat struct {
	m     *Manifest
	pins  []Pinned
	ids   map[string]int
	input *schemaAt             // the composite's run input schema; nil: unknown
	docs  map[string]*schemaDoc // decoded schema documents by their bytes
	pairs map[pairKey]string    // memoised incompatible results
	work  int                   // what is left of pinWorkBudget
}

// root returns the schema document raw as a node, nil when absent,
// unparsable or over the JSON limits (unknown).
func (c *compat) root(raw json.RawMessage) *schemaAt {
	if len(raw) == 0 {
		return nil
	}
	d, ok := c.docs[string(raw)]
	if !ok {
		doc, err := decodeBounded(raw, newSchemaBudget())
		if err == nil {
			d = newSchemaDoc(doc)
		}
		c.docs[string(raw)] = d // nil: unknown
	}
	if d == nil {
		return nil
	}
	return &schemaAt{d: d, node: d.doc, ptr: ""}
}

// check checks source s against the consumer schema (nil: unknown). The
// error reads after "step X: input " or "output ".
func (c *compat) check(s *Source, consumer *schemaAt) error {
	consumer = consumer.deref()
	switch {
	case s.Pointer != nil:
		producer, err := c.producer(*s.Pointer)
		if err != nil {
			return err
		}
		if why := c.incompatible(producer, consumer); why != "" {
			return fmt.Errorf("pointer %q: %s", *s.Pointer, why)
		}
	case len(s.Value) > 0:
		if consumer == nil {
			return nil
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(s.Value))
		if err != nil {
			return fmt.Errorf("value: %w", err)
		}
		sch := c.validator(consumer, v)
		if sch == nil {
			return nil // too costly to decide, or a sub-schema that cannot stand alone: accepted
		}
		if err := sch.Validate(v); err != nil {
			return fmt.Errorf("value %s does not match the schema: %s", s.Value, oneLine(err))
		}
	default:
		if consumer != nil {
			ci := consumer.info()
			if ci.declaredOK && !ci.declared["object"] {
				return fmt.Errorf("object: the schema wants %s, not an object", typeList(ci.declared))
			}
			for _, r := range ci.required {
				if _, ok := s.Object[r]; !ok {
					return fmt.Errorf("object: property %q is required by the schema and not built", r)
				}
			}
		}
		for _, k := range sortedKeys(s.Object) {
			f := s.Object[k]
			sub, err := consumer.field(k)
			if err != nil {
				return fmt.Errorf("object: %w", err)
			}
			if err := c.check(&f, sub); err != nil {
				return fmt.Errorf("field %q: %w", k, err)
			}
		}
	}
	return nil
}

// validator returns the compiled consumer schema to validate the constant v
// with, charging the estimated work to c.work, or nil when the check is not
// run: the schema's cost cannot be bounded (references that are not local
// JSON Pointers, recursion, embedded resources), the work does not fit what
// is left of the budget, or the sub-schema does not compile on its own.
func (c *compat) validator(consumer *schemaAt, v any) *jsonschema.Schema {
	e, ok := consumer.d.expanded(consumer.node, consumer.ptr)
	if !ok {
		return nil
	}
	w := e * valueWeight(v)
	if consumer.d.sc == nil {
		w += consumer.d.nodes * compileWork
	}
	if w > c.work {
		return nil
	}
	c.work -= w
	if consumer.d.sc == nil {
		consumer.d.sc = newSchemaCompiler(consumer.d.doc)
	}
	sch, err := consumer.d.sc.compile(consumer.ptr)
	if err != nil {
		return nil
	}
	return sch
}

// producer returns the schema of the value a pointer selects (nil: unknown),
// or an error when the pointer provably selects nothing.
func (c *compat) producer(p string) (*schemaAt, error) {
	toks, err := parsePointer(p)
	if err != nil {
		return nil, err
	}
	var cur *schemaAt
	rest := toks[1:]
	if toks[0] == "input" {
		cur = c.input
	} else {
		i := c.ids[toks[1]]
		if f := c.pins[i].Interface.Func(c.m.Steps[i].Fn); f != nil {
			cur = c.root(f.Output)
		}
		rest = toks[2:]
	}
	for _, tok := range rest {
		cur = cur.deref()
		if cur == nil {
			return nil, nil
		}
		next, err := cur.item(tok)
		if err != nil {
			return nil, fmt.Errorf("pointer %q: %w", p, err)
		}
		cur = next
	}
	return cur.deref(), nil
}

// incompatible returns why a producer's values can provably fail the
// consumer, or "" when the rule finds nothing wrong. Results are memoised
// per (producer, consumer) pair.
func (c *compat) incompatible(producer, consumer *schemaAt) string {
	if producer == nil || consumer == nil {
		return ""
	}
	key := pairKey{producer.d, producer.ptr, consumer.d, consumer.ptr}
	if why, ok := c.pairs[key]; ok {
		return why
	}
	why := incompatible(producer.info(), consumer.info())
	c.pairs[key] = why
	return why
}

// pairKey names a (producer, consumer) pair of schema nodes.
type pairKey struct {
	pd *schemaDoc
	pp string
	cd *schemaDoc
	cp string
}

// incompatible is the rule on the nodes' derived facts.
func incompatible(p, c *nodeInfo) string {
	if p.exactOK && c.declaredOK {
		for t := range p.exact {
			if !c.declared[t] && !(t == "integer" && c.declared["number"]) {
				return fmt.Sprintf("produces %s but the consumer accepts %s", typeList(p.exact), typeList(c.declared))
			}
		}
	}
	if p.exactOK && len(p.exact) == 1 && p.exact["object"] {
		for _, r := range c.required {
			if !p.requiredSet[r] {
				return fmt.Sprintf("the consumer requires property %q, which the producer does not guarantee", r)
			}
		}
	}
	return ""
}

// nodeInfo is what the rule derives from one schema node.
type nodeInfo struct {
	exact       map[string]bool // exactTypes
	exactOK     bool
	declared    map[string]bool // declaredTypes
	declaredOK  bool
	required    []string // requiredOf
	requiredSet map[string]bool
}

// info returns s's derived facts, memoised in its document by pointer.
func (s *schemaAt) info() *nodeInfo {
	if in, ok := s.d.infos[s.ptr]; ok {
		return in
	}
	in := &nodeInfo{required: requiredOf(s.node), requiredSet: map[string]bool{}}
	in.exact, in.exactOK = exactTypes(s.node)
	in.declared, in.declaredOK = declaredTypes(s.node)
	for _, r := range in.required {
		in.requiredSet[r] = true
	}
	s.d.infos[s.ptr] = in
	return in
}

// deref follows a node that is only a local "$ref" (plus annotations) to its
// target, up to maxRefHops times; nil stays nil.
func (s *schemaAt) deref() *schemaAt {
	for hop := 0; s != nil && hop < maxRefHops; hop++ {
		m, ok := s.node.(map[string]any)
		if !ok {
			return s
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return s
		}
		for k := range m {
			if k != "$ref" && !isAnnotation(k) {
				return s
			}
		}
		if ref != "#" && !strings.HasPrefix(ref, "#/") {
			return s
		}
		ptr := ref[1:]
		if strings.ContainsRune(ptr, '%') {
			return s // percent-encoded fragments: not followed
		}
		node, ok := lookupPointer(s.d.doc, ptr)
		if !ok {
			return s
		}
		s = &schemaAt{d: s.d, node: node, ptr: ptr}
	}
	return s
}

// item returns the producer sub-schema for one pointer token (nil: unknown)
// or an error when the token provably selects nothing.
func (s *schemaAt) item(tok string) (*schemaAt, error) {
	m, ok := s.node.(map[string]any)
	if !ok {
		return nil, nil
	}
	if in := s.info(); in.exactOK && !in.exact["object"] && !in.exact["array"] {
		return nil, fmt.Errorf("the producer's value is %s; %q cannot select inside it", typeList(in.exact), tok)
	}
	if props, ok := m["properties"].(map[string]any); ok {
		if sub, ok := props[tok]; ok {
			return s.at(sub, "properties", tok), nil
		}
	}
	if i, ok := arrayIndex(tok); ok {
		if pre, ok := m["prefixItems"].([]any); ok {
			if i < len(pre) {
				return s.at(pre[i], "prefixItems", fmt.Sprint(i)), nil
			}
		}
		if items, ok := m["items"]; ok {
			return s.at(items, "items"), nil
		}
	}
	return nil, nil
}

// field returns the consumer sub-schema of object property k (nil: unknown)
// or an error when the consumer provably forbids the property.
func (s *schemaAt) field(k string) (*schemaAt, error) {
	if s == nil {
		return nil, nil
	}
	m, ok := s.node.(map[string]any)
	if !ok {
		return nil, nil
	}
	if props, ok := m["properties"].(map[string]any); ok {
		if sub, ok := props[k]; ok {
			return s.at(sub, "properties", k), nil
		}
	}
	if _, ok := m["patternProperties"]; ok {
		return nil, nil
	}
	switch ap := m["additionalProperties"].(type) {
	case bool:
		if !ap {
			return nil, fmt.Errorf("property %q is not allowed by the schema (additionalProperties is false)", k)
		}
	case map[string]any:
		return s.at(ap, "additionalProperties"), nil
	}
	return nil, nil
}

// at returns the child node reached by the given keyword path.
func (s *schemaAt) at(node any, path ...string) *schemaAt {
	ptr := s.ptr
	for _, p := range path {
		ptr += "/" + escapeToken(p)
	}
	return &schemaAt{d: s.d, node: node, ptr: ptr}
}

// isAnnotation reports whether keyword k never constrains a value.
func isAnnotation(k string) bool {
	switch k {
	case "$schema", "$id", "$anchor", "$comment", "$defs", "definitions",
		"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly":
		return true
	}
	return false
}

// hasApplicator reports whether a schema node narrows its values beyond its
// own "type" and "required" (references and combinators).
func hasApplicator(m map[string]any) bool {
	for _, a := range [...]string{"$ref", "$dynamicRef", "$recursiveRef", "allOf", "anyOf", "oneOf", "not", "if", "then", "else"} {
		if _, ok := m[a]; ok {
			return true
		}
	}
	return false
}

// declaredTypes returns the "type" set a schema node declares (ok false when
// it declares none).
func declaredTypes(node any) (map[string]bool, bool) {
	m, ok := node.(map[string]any)
	if !ok {
		return nil, false
	}
	switch t := m["type"].(type) {
	case string:
		return map[string]bool{t: true}, true
	case []any:
		ts := map[string]bool{}
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			ts[s] = true
		}
		return ts, len(ts) > 0
	}
	return nil, false
}

// exactTypes returns a set that contains the JSON type of every value the
// producer schema node admits, derived from "const", "enum" or "type"; ok
// false when applicators make it unknowable.
func exactTypes(node any) (map[string]bool, bool) {
	m, ok := node.(map[string]any)
	if !ok {
		return nil, false
	}
	if hasApplicator(m) {
		return nil, false
	}
	if c, ok := m["const"]; ok {
		return map[string]bool{jsonType(c): true}, true
	}
	if e, ok := m["enum"].([]any); ok {
		ts := map[string]bool{}
		for _, v := range e {
			ts[jsonType(v)] = true
		}
		return ts, len(ts) > 0
	}
	return declaredTypes(m)
}

// requiredOf returns the "required" property names of a schema node.
func requiredOf(node any) []string {
	m, ok := node.(map[string]any)
	if !ok {
		return nil
	}
	req, _ := m["required"].([]any)
	var out []string
	for _, r := range req {
		if s, ok := r.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// jsonType names the JSON Schema type of a decoded value (numbers with an
// integral value are "integer").
func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if isIntegerLiteral(string(v)) {
			return "integer"
		}
		return "number"
	}
	return "unknown"
}

// lookupPointer resolves a JSON Pointer in a decoded document.
func lookupPointer(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	cur := doc
	for _, t := range strings.Split(ptr[1:], "/") {
		t = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, ok := arrayIndex(t)
			if !ok || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// escapeToken escapes one JSON Pointer token.
func escapeToken(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

func typeList(ts map[string]bool) string {
	return strings.Join(slices.Sorted(maps.Keys(ts)), "|")
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func sortInts(s []int) { slices.Sort(s) }
