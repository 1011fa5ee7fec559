package composite

import (
	"strings"
)

// Work units of Pin's constant checks (pinWorkBudget). One unit is about
// one schema keyword applied to one JSON value; compiling a document costs
// compileWork units per JSON value in it (compiling includes checking the
// document against its meta-schema).
const (
	compileWork   = 16
	patternWeight = 256 // a "pattern" counts as this many schema nodes
)

// schemaDoc is a decoded schema document Pin consults, with what is derived
// from it lazily: its compiler and the expanded sizes of "$ref" targets.
type schemaDoc struct {
	doc      any
	nodes    int                  // JSON values in doc
	embedded bool                 // doc has a non-root "$id" or "id": its references are not estimated
	sc       *schemaCompiler      // nil until a constant is validated against doc
	memo     map[string]int       // expanded size of a "$ref" target by pointer; -1 in progress, -2 unbounded
	exp      map[string]int       // expanded size of a consumer node by pointer; -2 unbounded
	infos    map[string]*nodeInfo // derived facts of a node by pointer
}

func newSchemaDoc(doc any) *schemaDoc {
	d := &schemaDoc{doc: doc, memo: map[string]int{}, exp: map[string]int{}, infos: map[string]*nodeInfo{}}
	d.scan(doc, true)
	return d
}

// scan counts doc's JSON values and notes embedded resources.
func (d *schemaDoc) scan(v any, root bool) {
	d.nodes++
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if _, ok := e.(string); ok && !root && (k == "$id" || k == "id") {
				d.embedded = true
			}
			d.scan(e, false)
		}
	case []any:
		for _, e := range v {
			d.scan(e, false)
		}
	}
}

// expanded returns, memoised by node's pointer ptr, an upper bound of the schema nodes validation can visit
// at one JSON value when it starts at node: node's subtree with every
// "$ref" replaced by (the expanded size of) its target, "$defs" not
// counted, strings weighted by length and patterns by patternWeight. ok is
// false when no bound exists below pinWorkBudget: a reference that is not
// "#" or "#/<pointer>", "$dynamicRef" or "$recursiveRef", recursion through
// references, an embedded resource, or a larger expansion.
func (d *schemaDoc) expanded(node any, ptr string) (int, bool) {
	if d.embedded {
		return 0, false
	}
	if n, ok := d.exp[ptr]; ok {
		return n, n >= 0
	}
	n, ok := d.size(node, true, "", pinWorkBudget)
	if !ok {
		n = -2
	}
	d.exp[ptr] = n
	return n, ok
}

// size is expanded for v, a schema (isSchema) or a keyword's value; key is
// the keyword v is the value of. It gives up (ok false) above limit.
func (d *schemaDoc) size(v any, isSchema bool, key string, limit int) (int, bool) {
	n := 1
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			e := v[k]
			var m int
			var ok bool
			switch {
			case !isSchema: // a map of schemas ("properties", "$defs", ...): keys are names
				m, ok = d.size(e, true, "", limit-n)
			case k == "$defs" || k == "definitions":
				continue // reached through "$ref" only
			case k == "const" || k == "enum" || k == "default" || k == "examples":
				m, ok = plainSize(e, limit-n)
			case k == "$ref":
				ref, isString := e.(string)
				if !isString {
					return 0, false
				}
				m, ok = d.ref(ref)
			case k == "$dynamicRef" || k == "$recursiveRef":
				return 0, false
			case k == "properties" || k == "patternProperties" || k == "dependentSchemas" || k == "dependencies":
				m, ok = d.size(e, false, k, limit-n)
			default:
				m, ok = d.size(e, true, k, limit-n)
			}
			if !ok {
				return 0, false
			}
			n += m
			if n > limit {
				return 0, false
			}
		}
	case []any:
		for _, e := range v {
			m, ok := d.size(e, isSchema, key, limit-n)
			if !ok {
				return 0, false
			}
			n += m
			if n > limit {
				return 0, false
			}
		}
	case string:
		if key == "pattern" {
			n = patternWeight
		} else {
			n = 1 + len(v)/8
		}
	}
	if n > limit {
		return 0, false
	}
	return n, true
}

// ref returns the expanded size of a local reference's target, memoised.
func (d *schemaDoc) ref(ref string) (int, bool) {
	if ref != "#" && !strings.HasPrefix(ref, "#/") || strings.ContainsRune(ref, '%') {
		return 0, false
	}
	ptr := ref[1:]
	switch n, seen := d.memo[ptr]; {
	case seen && n < 0: // in progress (recursion) or unbounded
		return 0, false
	case seen:
		return n, true
	}
	target, ok := lookupPointer(d.doc, ptr)
	if !ok {
		return 0, false
	}
	d.memo[ptr] = -1
	n, ok := d.size(target, true, "", pinWorkBudget)
	if !ok {
		d.memo[ptr] = -2
		return 0, false
	}
	d.memo[ptr] = n
	return n, true
}

// plainSize counts the JSON values of v (strings weighted by length), or
// gives up above limit.
func plainSize(v any, limit int) (int, bool) {
	n := valueWeight(v)
	return n, n <= limit
}

// valueWeight is the size of a constant for Pin's work estimate: its JSON
// values, strings weighted by length.
func valueWeight(v any) int {
	switch v := v.(type) {
	case map[string]any:
		n := 1
		for k, e := range v {
			n += len(k)/8 + valueWeight(e)
		}
		return n
	case []any:
		n := 1
		for _, e := range v {
			n += valueWeight(e)
		}
		return n
	case string:
		return 1 + len(v)/8
	}
	return 1
}
