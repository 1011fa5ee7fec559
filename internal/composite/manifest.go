package composite

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Limits of manifests. They are consensus rules: changing one changes which
// composites deploy.
const (
	MaxManifestSize = 64 << 10 // bytes of a manifest document
	MaxSteps        = 32       // steps of one composite
	MaxObjectDepth  = 8        // nesting of "object" sources
	MaxStepIDLen    = 32       // bytes of a step id
)

// Source says how a value is built at run time. Exactly one field is set:
//   - Pointer: a JSON Pointer (RFC 6901) into the document
//     {"input": <call input>, "steps": {<id>: <output>, ...}}; it starts
//     with "/input" or "/steps/<id>".
//   - Value: a constant JSON value.
//   - Object: a JSON object whose fields are built from Sources (at least
//     one field; nesting at most MaxObjectDepth).
type Source struct {
	Pointer *string           `json:"pointer,omitempty"`
	Value   json.RawMessage   `json:"value,omitempty"`
	Object  map[string]Source `json:"object,omitempty"`
}

// Step is one contract call of a composite. Version is empty in a manifest
// as written and holds the exact pinned version after Pin.
type Step struct {
	ID       string `json:"id"`
	Contract string `json:"contract"` // "name@range" or "name"
	Fn       string `json:"fn"`
	Version  string `json:"version,omitempty"`
	Input    Source `json:"input"`
}

// Manifest is the body of a composite contract. Output (optional) builds the
// composite's output; without it the output is the last executed step's.
type Manifest struct {
	Steps  []Step  `json:"steps"`
	Output *Source `json:"output,omitempty"`
}

// ParseManifest decodes and validates a manifest: strict JSON (unknown fields
// and trailing data refused), at most MaxManifestSize bytes, 1..MaxSteps
// steps with unique ids matching ^[a-z][a-z0-9_-]{0,31}$, contract references
// that contract.ParseRef accepts, function names of 1..MaxFnNameLen bytes,
// and well-formed sources: exactly one form each, valid pointers starting
// with /input or /steps/<id> where the id exists and is not the step's own,
// object sources non-empty and nested at most MaxObjectDepth deep. At most
// MaxPointerSources pointer sources and MaxValueSources constant values, which together must fit the JSON limits
// (MaxJSONDepth per value, MaxValueNodes for all values, MaxNumberLen,
// MaxNumberExponent, MaxStringLen; numbers are checked as text). The step
// graph must be acyclic; a cycle is refused with the cycle spelled out
// ("a -> b -> a"). Constant values are re-encoded canonically. A "version"
// present on a step is kept (a pinned manifest re-parses) but not resolved:
// Pin overwrites it. Errors are of kind vmerr.TooLarge for an oversized
// document, vmerr.Limit for too many sources or constant values over a limit
// (the message names it) and vmerr.Invalid otherwise.
func ParseManifest(b []byte) (*Manifest, error) {
	const op = "composite.manifest"
	if len(b) > MaxManifestSize {
		return nil, vmerr.E(op, vmerr.TooLarge, "manifest is %d bytes; at most %d are allowed", len(b), MaxManifestSize)
	}
	var m Manifest
	if err := decodeStrict(b, &m); err != nil {
		return nil, vmerr.E(op, vmerr.Invalid, "manifest: %w", err)
	}
	if n := len(m.Steps); n == 0 || n > MaxSteps {
		return nil, vmerr.E(op, vmerr.Invalid, "manifest has %d steps; 1..%d are allowed", n, MaxSteps)
	}
	ids := make(map[string]int, len(m.Steps))
	for i, s := range m.Steps {
		if err := validStepID(s.ID); err != nil {
			return nil, vmerr.E(op, vmerr.Invalid, "step %d: %w", i, err)
		}
		if _, dup := ids[s.ID]; dup {
			return nil, vmerr.E(op, vmerr.Invalid, "step id %q is used twice", s.ID)
		}
		ids[s.ID] = i
	}
	vb := &valueBudget{budget: newValueBudget()}
	for i := range m.Steps {
		s := &m.Steps[i]
		if _, err := contract.ParseRef(s.Contract); err != nil {
			return nil, vmerr.E(op, vmerr.Invalid, "step %q: contract %q: %w", s.ID, s.Contract, err)
		}
		if len(s.Fn) == 0 || len(s.Fn) > MaxFnNameLen {
			return nil, vmerr.E(op, vmerr.Invalid, "step %q: fn is %d bytes; 1..%d are allowed", s.ID, len(s.Fn), MaxFnNameLen)
		}
		if err := checkSource(&s.Input, ids, s.ID, 0, vb); err != nil {
			return nil, sourceError(op, "step %q: input: %w", s.ID, err)
		}
	}
	if m.Output != nil {
		if err := checkSource(m.Output, ids, "", 0, vb); err != nil {
			return nil, sourceError(op, "output: %w", err)
		}
	}
	if cyc := m.cycle(ids); cyc != nil {
		return nil, vmerr.E(op, vmerr.Invalid, "the steps form a cycle: %s", strings.Join(cyc, " -> "))
	}
	return &m, nil
}

// Order returns the execution order of m's steps as indexes into m.Steps: a
// topological order of the graph "step reads another step's output", ties
// broken by manifest order, so it is deterministic. m must be acyclic (every
// manifest ParseManifest returns is).
func (m *Manifest) Order() []int {
	ids := m.index()
	deps := m.deps(ids)
	done := make([]bool, len(m.Steps))
	order := make([]int, 0, len(m.Steps))
	for len(order) < len(m.Steps) {
		progressed := false
		for i := range m.Steps {
			if done[i] || !allDone(deps[i], done) {
				continue
			}
			done[i] = true
			order = append(order, i)
			progressed = true
			break // restart from the first step: lowest index first
		}
		if !progressed { // a cycle: not a parsed manifest; keep the rest in manifest order
			for i := range m.Steps {
				if !done[i] {
					done[i] = true
					order = append(order, i)
				}
			}
		}
	}
	return order
}

// Canonical returns the deterministic compact JSON of m (object keys of
// sources and values sorted); ParseManifest of it gives a manifest whose
// Canonical is the same bytes. m must be a manifest ParseManifest returned
// (pinned or not): a hand-built one whose constant Value is not JSON breaks
// that invariant and panics.
func (m *Manifest) Canonical() []byte {
	b, err := marshalCompact(m)
	if err != nil { // only constant values can fail, and parsed ones are valid JSON
		panic(fmt.Sprintf("composite: manifest does not encode: %v", err))
	}
	return b
}

// valueBudget is what the constant values of one manifest have used.
type valueBudget struct {
	*budget
	sources  int // value sources so far
	pointers int // pointer sources so far
}

// sourceError wraps err from checkSource as vmerr.Limit when it is a limit
// violation and vmerr.Invalid otherwise.
func sourceError(op, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	var le *limitError
	if errors.As(err, &le) {
		return vmerr.Wrap(op, vmerr.Limit, err)
	}
	return vmerr.Wrap(op, vmerr.Invalid, err)
}

// validStepID checks ^[a-z][a-z0-9_-]{0,31}$.
func validStepID(id string) error {
	if len(id) == 0 || len(id) > MaxStepIDLen {
		return fmt.Errorf("id %q is %d bytes; 1..%d are allowed", id, len(id), MaxStepIDLen)
	}
	if id[0] < 'a' || id[0] > 'z' {
		return fmt.Errorf("id %q must start with a lowercase letter", id)
	}
	for i := 1; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z') && !('0' <= c && c <= '9') && c != '_' && c != '-' {
			return fmt.Errorf("id %q has byte %q; only a-z, 0-9, '_' and '-' are allowed", id, c)
		}
	}
	return nil
}

// checkSource validates one source; self is the step whose input it builds
// ("" for the output), depth the object nesting so far, vb what the
// manifest's constant values have used of their limits (a violation is a
// *limitError). Constant values are canonicalised in place.
func checkSource(s *Source, ids map[string]int, self string, depth int, vb *valueBudget) error {
	forms := 0
	if s.Pointer != nil {
		forms++
	}
	if len(s.Value) > 0 {
		forms++
	}
	if s.Object != nil {
		forms++
	}
	if forms != 1 {
		return fmt.Errorf("a source needs exactly one of \"pointer\", \"value\", \"object\" (has %d)", forms)
	}
	switch {
	case s.Pointer != nil:
		vb.pointers++
		if vb.pointers > MaxPointerSources {
			return overLimit("the manifest has more than %d \"pointer\" sources (MaxPointerSources)", MaxPointerSources)
		}
		toks, err := parsePointer(*s.Pointer)
		if err != nil {
			return err
		}
		if toks[0] == "steps" {
			if _, ok := ids[toks[1]]; !ok {
				return fmt.Errorf("pointer %q names step %q, which does not exist", *s.Pointer, toks[1])
			}
			if toks[1] == self {
				return fmt.Errorf("pointer %q names the step itself", *s.Pointer)
			}
		}
	case len(s.Value) > 0:
		vb.sources++
		if vb.sources > MaxValueSources {
			return overLimit("the manifest has more than %d \"value\" sources (MaxValueSources)", MaxValueSources)
		}
		v, err := decodeBounded(s.Value, vb.budget)
		if err != nil {
			return fmt.Errorf("value: %w", err)
		}
		canon, err := marshalCompact(v)
		if err != nil {
			return fmt.Errorf("value: %w", err)
		}
		s.Value = canon
	default:
		if depth+1 > MaxObjectDepth {
			return fmt.Errorf("object sources are nested deeper than %d", MaxObjectDepth)
		}
		if len(s.Object) == 0 {
			return fmt.Errorf("an object source needs at least one field (use {\"value\": {}} for an empty object)")
		}
		for _, k := range sortedKeys(s.Object) {
			f := s.Object[k]
			if err := checkSource(&f, ids, self, depth+1, vb); err != nil {
				return fmt.Errorf("field %q: %w", k, err)
			}
			s.Object[k] = f
		}
	}
	return nil
}

// parsePointer splits and unescapes a source pointer and checks that it
// starts with /input or /steps/<id> (the id is not checked here).
func parsePointer(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("pointer %q must start with \"/input\" or \"/steps/<id>\"", p)
	}
	raw := strings.Split(p[1:], "/")
	toks := make([]string, len(raw))
	for i, t := range raw {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, fmt.Errorf("pointer %q has a '~' not followed by 0 or 1", p)
			}
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	switch {
	case toks[0] == "input":
	case toks[0] == "steps" && len(toks) >= 2:
	default:
		return nil, fmt.Errorf("pointer %q must start with \"/input\" or \"/steps/<id>\"", p)
	}
	return toks, nil
}

// arrayIndex parses an RFC 6901 array index: "0" or digits without a
// leading zero.
func arrayIndex(tok string) (int, bool) {
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(tok)
	return n, err == nil
}

// index maps step ids to their positions.
func (m *Manifest) index() map[string]int {
	ids := make(map[string]int, len(m.Steps))
	for i, s := range m.Steps {
		ids[s.ID] = i
	}
	return ids
}

// deps returns, per step, the sorted distinct indexes of the steps its input
// reads.
func (m *Manifest) deps(ids map[string]int) [][]int {
	out := make([][]int, len(m.Steps))
	for i := range m.Steps {
		seen := map[int]bool{}
		m.Steps[i].Input.walkPointers(func(p string) {
			toks, err := parsePointer(p)
			if err != nil || toks[0] != "steps" {
				return
			}
			if j, ok := ids[toks[1]]; ok && !seen[j] {
				seen[j] = true
				out[i] = append(out[i], j)
			}
		})
		sortInts(out[i])
	}
	return out
}

// cycle returns a cycle of step ids (first id repeated at the end) or nil.
// The search visits steps and dependencies in manifest order, so the cycle
// reported is deterministic.
func (m *Manifest) cycle(ids map[string]int) []string {
	deps := m.deps(ids)
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(m.Steps))
	var stack []int
	var found []string
	var visit func(i int) bool
	visit = func(i int) bool {
		color[i] = grey
		stack = append(stack, i)
		for _, j := range deps[i] {
			switch color[j] {
			case grey:
				for k, s := range stack {
					if s == j {
						for _, c := range stack[k:] {
							found = append(found, m.Steps[c].ID)
						}
						found = append(found, m.Steps[j].ID)
						return true
					}
				}
			case white:
				if visit(j) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
		return false
	}
	for i := range m.Steps {
		if color[i] == white && visit(i) {
			return found
		}
	}
	return nil
}

// walkPointers calls fn with every pointer of s, fields in key order.
func (s *Source) walkPointers(fn func(string)) {
	switch {
	case s.Pointer != nil:
		fn(*s.Pointer)
	case s.Object != nil:
		for _, k := range sortedKeys(s.Object) {
			f := s.Object[k]
			f.walkPointers(fn)
		}
	}
}

func allDone(deps []int, done []bool) bool {
	for _, d := range deps {
		if !done[d] {
			return false
		}
	}
	return true
}
