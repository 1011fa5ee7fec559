package composite_test

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TestInterfaceLimits checks every JSON limit of interface schemas just
// under (accepted) and just over (refused as vmerr.Limit naming the limit).
func TestInterfaceLimits(t *testing.T) {
	const d, n = composite.MaxJSONDepth, composite.MaxSchemaNodes
	enum := func(k int) string { return `{"enum":[` + list(k, func(i int) string { return fmt.Sprint(i) }) + `]}` }
	pattern := func(insts int) string { return maxPattern(t, insts) }
	patterns := func(k int) string {
		p := pattern(composite.MaxPatternInstSize)
		return `{"anyOf":[` + list(k, func(int) string { return `{"pattern":"` + p + `"}` }) + `]}`
	}
	tests := []struct {
		name    string
		in      string
		wantErr vmerr.Kind // vmerr.OK: accepted
		errHas  string
	}{
		{name: "depth at limit", in: fn(nest(`{"not":`, "true", "}", d))},
		{name: "depth over limit", in: fn(nest(`{"not":`, "true", "}", d+1)), wantErr: vmerr.Limit, errHas: "MaxJSONDepth"},
		{name: "array depth over limit", in: fn(`{"const":` + nest("[", "1", "]", d) + `}`), wantErr: vmerr.Limit, errHas: "MaxJSONDepth"},
		{name: "nodes at limit", in: fn(enum(n - 2))},
		{name: "nodes over limit", in: fn(enum(n - 1)), wantErr: vmerr.Limit, errHas: "MaxSchemaNodes"},
		{name: "nodes summed over schemas", in: `{"functions":[{"name":"f","input":` + enum(n/2-2) + `,"output":` + enum(n/2) + `}]}`,
			wantErr: vmerr.Limit, errHas: "MaxSchemaNodes"},
		{name: "nodes summed over functions", in: `{"functions":[{"name":"f","input":` + enum(n/2-2) + `},{"name":"g","input":` + enum(n/2-2) + `}]}`},
		{name: "nodes summed over functions, over", in: `{"functions":[{"name":"f","input":` + enum(n/2-2) + `},{"name":"g","input":` + enum(n/2-1) + `}]}`,
			wantErr: vmerr.Limit, errHas: "MaxSchemaNodes"},
		{name: "number literal at length limit", in: fn(`{"minimum":1` + strings.Repeat("0", composite.MaxNumberLen-1) + `}`)},
		{name: "number literal over length limit", in: fn(`{"minimum":1` + strings.Repeat("0", composite.MaxNumberLen) + `}`), wantErr: vmerr.Limit, errHas: "MaxNumberLen"},
		{name: "exponent at limit", in: fn(`{"minimum":1e308,"maximum":1E+308,"multipleOf":1e-308}`)},
		{name: "exponent over limit", in: fn(`{"minimum":1e309}`), wantErr: vmerr.Limit, errHas: "MaxNumberExponent"},
		{name: "negative exponent over limit", in: fn(`{"multipleOf":1e-309}`), wantErr: vmerr.Limit, errHas: "MaxNumberExponent"},
		{name: "exponent with zeros", in: fn(`{"minimum":1e0000000000000000000000000000000001}`)},
		{name: "string at limit", in: fn(`{"description":"` + strings.Repeat("x", composite.MaxStringLen) + `"}`)},
		{name: "string over limit", in: fn(`{"description":"` + strings.Repeat("x", composite.MaxStringLen+1) + `"}`), wantErr: vmerr.Limit, errHas: "MaxStringLen"},
		{name: "escaped string counts decoded bytes", in: fn(`{"description":"` + strings.Repeat(`\u0078`, composite.MaxStringLen) + `"}`)},
		{name: "key over limit", in: fn(`{"properties":{"` + strings.Repeat("k", composite.MaxStringLen+1) + `":true}}`), wantErr: vmerr.Limit, errHas: "MaxStringLen"},
		{name: "pattern at limit", in: fn(`{"pattern":"` + pattern(composite.MaxPatternInstSize) + `"}`)},
		{name: "pattern over limit", in: fn(`{"pattern":"` + pattern(composite.MaxPatternInstSize+1) + `"}`), wantErr: vmerr.Limit, errHas: "MaxPatternInstSize"},
		{name: "patternProperties key over limit", in: fn(`{"patternProperties":{"` + pattern(composite.MaxPatternInstSize+1) + `":true}}`), wantErr: vmerr.Limit, errHas: "MaxPatternInstSize"},
		{name: "patterns at total limit", in: fn(patterns(composite.MaxPatternInsts / composite.MaxPatternInstSize))},
		{name: "patterns over total limit", in: fn(patterns(composite.MaxPatternInsts/composite.MaxPatternInstSize + 1)), wantErr: vmerr.Limit, errHas: "MaxPatternInsts"},
		{name: "a big regex as a plain string is fine", in: fn(`{"const":"` + pattern(composite.MaxPatternInstSize+1) + `"}`)},
		{name: "malformed JSON is still invalid", in: `{"functions":[{"name":"f","input":{"a":}}]}`, wantErr: vmerr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.in) > composite.MaxInterfaceSize {
				t.Fatalf("test input is %d bytes, over MaxInterfaceSize", len(tt.in))
			}
			_, _, err := composite.ParseInterface([]byte(tt.in))
			checkKind(t, err, tt.wantErr, tt.errHas)
		})
	}
}

// TestManifestLimits checks the limits of constant values just under and
// just over.
func TestManifestLimits(t *testing.T) {
	const d, n = composite.MaxJSONDepth, composite.MaxValueNodes
	one := func(v string) string {
		return `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"value":` + v + `}}]}`
	}
	sources := func(k int) string {
		return `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"object":{` +
			list(k, func(i int) string { return fmt.Sprintf(`"p%d":{"value":%d}`, i, i) }) + `}}}]}`
	}
	pointers := func(k int) string {
		return `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"object":{` +
			list(k, func(i int) string { return fmt.Sprintf(`"p%d":{"pointer":"/input/%d"}`, i, i) }) + `}}}]}`
	}
	split := func(a, b int) string { // two values, in a step and in the output
		return `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"value":[` + list(a, func(int) string { return "0" }) +
			`]}}],"output":{"value":[` + list(b, func(int) string { return "0" }) + `]}}`
	}
	tests := []struct {
		name    string
		in      string
		wantErr vmerr.Kind
		errHas  string
	}{
		{name: "depth at limit", in: one(nest("[", "1", "]", d))},
		{name: "depth over limit", in: one(nest("[", "1", "]", d+1)), wantErr: vmerr.Limit, errHas: "MaxJSONDepth"},
		{name: "nodes at limit", in: one(`[` + list(n-1, func(int) string { return "0" }) + `]`)},
		{name: "nodes over limit", in: one(`[` + list(n, func(int) string { return "0" }) + `]`), wantErr: vmerr.Limit, errHas: "MaxValueNodes"},
		{name: "nodes summed over values", in: split(n/2-1, n/2-1)},
		{name: "nodes summed over values, over", in: split(n/2-1, n/2), wantErr: vmerr.Limit, errHas: "MaxValueNodes"},
		{name: "value sources at limit", in: sources(composite.MaxValueSources)},
		{name: "value sources over limit", in: sources(composite.MaxValueSources + 1), wantErr: vmerr.Limit, errHas: "MaxValueSources"},
		{name: "pointer sources at limit", in: pointers(composite.MaxPointerSources)},
		{name: "pointer sources over limit", in: pointers(composite.MaxPointerSources + 1), wantErr: vmerr.Limit, errHas: "MaxPointerSources"},
		{name: "number at length limit", in: one("-" + strings.Repeat("9", composite.MaxNumberLen-1))},
		{name: "number over length limit", in: one(strings.Repeat("9", composite.MaxNumberLen+1)), wantErr: vmerr.Limit, errHas: "MaxNumberLen"},
		{name: "exponent over limit", in: one(`{"x":1e1000000}`), wantErr: vmerr.Limit, errHas: "MaxNumberExponent"},
		{name: "string over limit", in: one(`"` + strings.Repeat("s", composite.MaxStringLen+1) + `"`), wantErr: vmerr.Limit, errHas: "MaxStringLen"},
		{name: "malformed value is still invalid", in: one(`{"a" 1}`), wantErr: vmerr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := composite.ParseManifest([]byte(tt.in))
			checkKind(t, err, tt.wantErr, tt.errHas)
		})
	}
}

// TestAdversarialShapes are the shapes a review measured at minutes of CPU
// per Deploy before the limits existed; they are now refused up front.
func TestAdversarialShapes(t *testing.T) {
	tests := []struct {
		name    string
		iface   string
		man     string
		wantErr vmerr.Kind
	}{
		{name: "not nested 6000 deep", iface: fn(nest(`{"not":`, "{}", "}", 6000)), wantErr: vmerr.Limit},
		{name: "allOf nested 4000 deep", iface: fn(nest(`{"allOf":[`, "{}", "]}", 4000)), wantErr: vmerr.Limit},
		{name: "400 huge minimums", iface: fn(`{"anyOf":[` + list(400, func(int) string { return `{"minimum":1e1000000}` }) + `]}`), wantErr: vmerr.Limit},
		{name: "huge const integer", iface: fn(`{"const":` + strings.Repeat("7", 60000) + `}`), wantErr: vmerr.Limit},
		{name: "huge value integer", man: `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"value":` + strings.Repeat("7", 60000) + `}}]}`, wantErr: vmerr.Limit},
		{name: "thousands of value sources", man: `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"object":{` +
			list(3500, func(i int) string { return fmt.Sprintf(`"%d":{"value":1}`, i) }) + `}}}]}`, wantErr: vmerr.Limit},
		{name: "thousands of pointer sources", man: `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"object":{` +
			list(2100, func(i int) string { return fmt.Sprintf(`"%d":{"pointer":"/input"}`, i) }) + `}}}]}`, wantErr: vmerr.Limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.iface != "" {
				_, _, err = composite.ParseInterface([]byte(tt.iface))
			} else {
				_, err = composite.ParseManifest([]byte(tt.man))
			}
			checkKind(t, err, tt.wantErr, "")
		})
	}
}

// TestPinRefFanout: a consumer schema whose "$ref"s double at every level
// takes 2^levels steps to validate; Pin does not run such a check (the
// rule cannot decide it cheaply: accepted), while a small fan-out is still
// validated.
func TestPinRefFanout(t *testing.T) {
	fanout := func(levels int) string {
		return fn(`{"$defs":{` + list(levels, func(i int) string {
			return fmt.Sprintf(`"d%d":{"allOf":[{"$ref":"#/$defs/d%d"},{"$ref":"#/$defs/d%d"}]}`, i, i+1, i+1)
		}) + fmt.Sprintf(`,"d%d":{"type":"integer"}},"$ref":"#/$defs/d0"}`, levels))
	}
	recursive := fn(`{"$defs":{"d":{"allOf":[{"properties":{"a":{"$ref":"#/$defs/d"}}},{"properties":{"a":{"$ref":"#/$defs/d"}}}]}},"$ref":"#/$defs/d"}`)
	value := func(v string) string {
		return `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"value":` + v + `}}]}`
	}
	tests := []struct {
		name, iface, man string
		wantErr          vmerr.Kind
	}{
		{name: "small fan-out is validated", iface: fanout(3), man: value(`"x"`), wantErr: vmerr.Invalid},
		{name: "small fan-out accepts", iface: fanout(3), man: value("1")},
		{name: "60 levels are not validated", iface: fanout(60), man: value(`"x"`)},
		{name: "recursive fan-out is not validated", iface: recursive, man: value(nest(`{"a":`, "1", "}", 30))},
		{name: "local ref is validated", iface: fn(`{"$defs":{"small":{"type":"integer","maximum":10}},"$ref":"#/$defs/small"}`), man: value("11"), wantErr: vmerr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustManifest(t, tt.man)
			err := m.Pin(nil, pinLookup(mustInterface(t, tt.iface)))
			checkKind(t, err, tt.wantErr, "")
		})
	}
}

// TestWorstAcceptedIsBounded parses and pins every worst accepted shape of
// the benchmarks under a generous 2 s each: it only catches blow-ups (the
// real figures are in docs/benchmarks-composite-limits.md).
func TestWorstAcceptedIsBounded(t *testing.T) {
	const ceiling = 2 * time.Second
	for name, doc := range worstInterfaces(t) {
		start := time.Now()
		if _, _, err := composite.ParseInterface([]byte(doc)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := time.Since(start); d > ceiling {
			t.Errorf("ParseInterface %s took %v", name, d)
		}
	}
	pins := worstPins(t)
	maps.Copy(pins, pointerPins(t, composite.MaxPointerSources-1))
	for name, in := range pins {
		iface := mustInterface(t, in[0])
		start := time.Now()
		m := mustManifest(t, in[1])
		err := m.Pin(nil, pinLookup(iface))
		if d := time.Since(start); d > ceiling {
			t.Errorf("ParseManifest+Pin %s took %v (err %v)", name, d, err)
		}
	}
}

// checkKind fails unless err has kind want (vmerr.OK: no error) and its
// message contains has.
func checkKind(t *testing.T, err error, want vmerr.Kind, has string) {
	t.Helper()
	if want == vmerr.OK {
		if err != nil {
			t.Fatalf("unexpected error: %.300v", err)
		}
		return
	}
	var e *vmerr.Error
	if !errors.As(err, &e) || vmerr.KindOf(err) != want {
		t.Fatalf("got %.300v (kind %v), want kind %v", err, vmerr.KindOf(err), want)
	}
	if !strings.Contains(err.Error(), has) {
		t.Fatalf("error %.300q does not mention %q", err, has)
	}
}
