package composite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp/syntax"
	"strconv"
	"strings"
)

// Limits of the JSON inside interfaces (schemas) and manifests (constant
// values). They bound the CPU a Deploy costs every validator, so they are
// consensus rules: changing one changes which Deploy transactions are valid.
// A document over one of them is refused with kind vmerr.Limit before any
// schema is compiled.
const (
	MaxJSONDepth       = 32    // nesting of arrays and objects in one schema or value (a scalar is depth 0)
	MaxSchemaNodes     = 2048  // JSON values (objects, arrays, strings, numbers, booleans, nulls) in all schemas of one interface
	MaxValueNodes      = 4096  // JSON values in all constant values of one manifest
	MaxValueSources    = 256   // {"value": ...} sources in one manifest
	MaxPointerSources  = 512   // {"pointer": ...} sources in one manifest
	MaxNumberLen       = 40    // characters of a number literal
	MaxNumberExponent  = 308   // |exponent| of a number literal ("1e308" passes, "1e309" does not)
	MaxStringLen       = 4096  // bytes of a string or object key, as decoded
	MaxPatternInstSize = 2000  // instructions of one compiled "pattern" or "patternProperties" regular expression
	MaxPatternInsts    = 20000 // instructions of all such regular expressions of one interface
)

// pinWorkBudget bounds the estimated work of validating constant values in
// one Pin: each validation costs (expanded consumer schema) x (value size)
// units; one whose cost does not fit the remaining budget is not run (the
// rule cannot decide it: accepted). See docs/COMPOSITES.md, "Limits".
const pinWorkBudget = 1 << 16

// newSchemaBudget is the budget of all schemas of one interface.
func newSchemaBudget() *budget {
	return &budget{maxNodes: MaxSchemaNodes, what: "schema", limit: "MaxSchemaNodes", patterns: true}
}

// newValueBudget is the budget of all constant values of one manifest.
func newValueBudget() *budget {
	return &budget{maxNodes: MaxValueNodes, what: "value", limit: "MaxValueNodes"}
}

// budget counts what a walk of JSON documents has used so far.
type budget struct {
	nodes, maxNodes int
	what            string // "schema" or "value", for messages
	limit           string // the name of the node limit, for messages
	patterns        bool   // check "pattern" strings and "patternProperties" keys
	insts           int    // instructions of the regular expressions so far
}

// limitError is a budget violation; callers map it to vmerr.Limit.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

func overLimit(format string, args ...any) error {
	return &limitError{fmt.Sprintf(format, args...)}
}

// decodeBounded decodes exactly one JSON value from raw with numbers kept
// as json.Number literals and checks it against b (depth, nodes, number
// literals, string lengths, and regular expressions when b.patterns). A
// budget violation is a *limitError; malformed JSON or trailing data is a
// plain error.
func decodeBounded(raw []byte, b *budget) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	if err := b.walk(v, 0, ""); err != nil {
		return nil, err
	}
	return v, nil
}

// walk checks v, at nesting depth, against the budget; key is the object
// key v is the value of ("" otherwise).
func (b *budget) walk(v any, depth int, key string) error {
	b.nodes++
	if b.nodes > b.maxNodes {
		return overLimit("the %ss have more than %d JSON values together (%s)", b.what, b.maxNodes, b.limit)
	}
	switch v := v.(type) {
	case map[string]any:
		if depth+1 > MaxJSONDepth {
			return overLimit("a %s is nested deeper than %d (MaxJSONDepth)", b.what, MaxJSONDepth)
		}
		for _, k := range sortedKeys(v) {
			if len(k) > MaxStringLen {
				return overLimit("an object key is %d bytes; at most %d are allowed (MaxStringLen)", len(k), MaxStringLen)
			}
			if b.patterns && key == "patternProperties" {
				if err := b.checkPattern(k); err != nil {
					return err
				}
			}
			if err := b.walk(v[k], depth+1, k); err != nil {
				return err
			}
		}
	case []any:
		if depth+1 > MaxJSONDepth {
			return overLimit("a %s is nested deeper than %d (MaxJSONDepth)", b.what, MaxJSONDepth)
		}
		for _, e := range v {
			if err := b.walk(e, depth+1, ""); err != nil {
				return err
			}
		}
	case string:
		if len(v) > MaxStringLen {
			return overLimit("a string is %d bytes; at most %d are allowed (MaxStringLen)", len(v), MaxStringLen)
		}
		if b.patterns && key == "pattern" {
			return b.checkPattern(v)
		}
	case json.Number:
		return checkNumber(string(v))
	}
	return nil
}

// checkNumber bounds a number literal's length and exponent, reading only
// its text.
func checkNumber(lit string) error {
	if len(lit) > MaxNumberLen {
		return overLimit("number literal %.20s... is %d characters; at most %d are allowed (MaxNumberLen)", lit, len(lit), MaxNumberLen)
	}
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+"))
		if err != nil || e > MaxNumberExponent || e < -MaxNumberExponent {
			return overLimit("number literal %s has an exponent beyond ±%d (MaxNumberExponent)", lit, MaxNumberExponent)
		}
	}
	return nil
}

// checkPattern bounds the compiled size of a regular expression and of all
// of them. A string that is not a Go regular expression is left to the
// schema compiler (which refuses it where it is a pattern; elsewhere it is
// just a string).
func (b *budget) checkPattern(p string) error {
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return nil
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil
	}
	n := len(prog.Inst)
	if n > MaxPatternInstSize {
		return overLimit("regular expression %.40q compiles to %d instructions; at most %d are allowed (MaxPatternInstSize)", p, n, MaxPatternInstSize)
	}
	b.insts += n
	if b.insts > MaxPatternInsts {
		return overLimit("the regular expressions of this document compile to more than %d instructions (MaxPatternInsts)", MaxPatternInsts)
	}
	return nil
}

// isIntegerLiteral reports whether a JSON number literal has an integral
// value (1, 1.0, 1.5e1, 10e-1), reading only its text.
func isIntegerLiteral(lit string) bool {
	mant, exp := lit, 0
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+"))
		if err != nil {
			return false
		}
		mant, exp = lit[:i], e
	}
	mant = strings.TrimPrefix(mant, "-")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return true // zero
	}
	trimmed := strings.TrimRight(digits, "0")
	// value = digits * 10^(exp - len(frac)); trailing zeros raise the power.
	return exp-len(frac)+(len(digits)-len(trimmed)) >= 0
}
