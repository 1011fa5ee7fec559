package composite_test

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/contract"
)

// typicalInterface is the baseline of the limit benchmarks: a greeter
// interface as in docs/COMPOSITES.md.
const typicalInterface = `{"functions":[{"name":"greet","description":"Greets someone by name.",
	"input":{"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1}}},
	"output":{"type":"object","required":["greeting"],"properties":{"greeting":{"type":"string"}}}}]}`

// fn wraps one input schema in an interface document.
func fn(input string) string { return `{"functions":[{"name":"f","input":` + input + `}]}` }

// nest wraps leaf in n levels of open + ... + close.
func nest(open, leaf, closing string, n int) string {
	return strings.Repeat(open, n) + leaf + strings.Repeat(closing, n)
}

// list joins n items made by item(i) with commas.
func list(n int, item func(i int) string) string {
	s := make([]string, n)
	for i := range s {
		s[i] = item(i)
	}
	return strings.Join(s, ",")
}

// maxPattern returns a regular expression that compiles to exactly n
// instructions (n >= 1004).
func maxPattern(tb testing.TB, n int) string {
	tb.Helper()
	for k := 1000; k >= 0; k-- {
		p := "a{1000}b{" + fmt.Sprint(k) + "}"
		if patternInsts(tb, p) == n {
			return p
		}
	}
	tb.Fatalf("no pattern of %d instructions", n)
	return ""
}

// worstInterfaces are the most expensive accepted shapes of each limit.
func worstInterfaces(tb testing.TB) map[string]string {
	const n = composite.MaxSchemaNodes
	pattern := maxPattern(tb, composite.MaxPatternInstSize)
	return map[string]string{
		// 32 nested "not" (2 JSON values each), repeated to fill the node budget.
		// 32 nested containers ("anyOf" object and array, then 30 "not"),
		// repeated to fill the node budget.
		"depth-not": fn(`{"anyOf":[` + list((n-2)/(composite.MaxJSONDepth-1), func(int) string {
			return nest(`{"not":`, "true", "}", composite.MaxJSONDepth-2)
		}) + `]}`),
		"depth-allOf": fn(`{"anyOf":[` + list((n-2)/(composite.MaxJSONDepth-1), func(int) string {
			return nest(`{"allOf":[`, "true", "]}", (composite.MaxJSONDepth-2)/2)
		}) + `]}`),
		"nodes-properties": fn(`{"type":"object","properties":{` + list((n-3)/2, func(i int) string {
			return fmt.Sprintf(`"p%d":{"type":"integer"}`, i)
		}) + `}}`),
		"nodes-minimum": fn(`{"anyOf":[` + list((n-2)/2, func(i int) string {
			return `{"minimum":1e308}`
		}) + `]}`),
		"nodes-enum":   fn(`{"enum":[` + list(n-2, func(i int) string { return fmt.Sprint(i) }) + `]}`),
		"numbers-long": fn(`{"enum":[` + list(60<<10/41, func(i int) string { return "1." + strings.Repeat("0", 37) + fmt.Sprint(i%10) }) + `]}`),
		"patterns": fn(`{"anyOf":[` + list(composite.MaxPatternInsts/composite.MaxPatternInstSize, func(int) string {
			return `{"pattern":"` + pattern + `"}`
		}) + `]}`),
	}
}

func BenchmarkParseInterfaceLimits(b *testing.B) {
	b.Run("baseline-typical", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := composite.ParseInterface([]byte(typicalInterface)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for name, doc := range worstInterfaces(b) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := composite.ParseInterface([]byte(doc)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// worstPins are the most expensive accepted manifests for Pin: as many
// value sources as allowed, each checked against a large consumer schema.
func worstPins(tb testing.TB) map[string][2]string {
	big := worstInterfaces(tb)["nodes-properties"]
	fanout := fn(`{"$defs":{` + list(40, func(i int) string {
		return fmt.Sprintf(`"d%d":{"allOf":[{"$ref":"#/$defs/d%d"},{"$ref":"#/$defs/d%d"}]}`, i, i+1, i+1)
	}) + `,"d40":{"type":"integer"}},"$ref":"#/$defs/d0"}`)
	values := func(v string) string {
		return `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"object":{` + list(composite.MaxValueSources, func(i int) string {
			return fmt.Sprintf(`"p%d":{"value":%s}`, i, v)
		}) + `}}}]}`
	}
	steps := func(v string) string {
		return `{"steps":[` + list(composite.MaxSteps, func(i int) string {
			return fmt.Sprintf(`{"id":"s%d","contract":"c%d","fn":"f","input":{"object":{`, i, i) +
				list(composite.MaxValueSources/composite.MaxSteps, func(j int) string { return fmt.Sprintf(`"p%d":{"value":%s}`, j, v) }) + `}}}`
		}) + `]}`
	}
	fanout13 := fn(`{"$defs":{` + list(13, func(i int) string {
		return fmt.Sprintf(`"d%d":{"allOf":[{"$ref":"#/$defs/d%d"},{"$ref":"#/$defs/d%d"}]}`, i, i+1, i+1)
	}) + `,"d13":{"type":"integer"}},"$ref":"#/$defs/d0"}`)
	itemsAnyOf := fn(`{"type":"array","items":{"anyOf":[` + list(120, func(i int) string { return fmt.Sprintf(`{"minimum":%d}`, -i) }) + `]}}`)
	longStrings := `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"object":{` + list(15, func(i int) string {
		return fmt.Sprintf(`"p%d":{"value":"%s"}`, i, strings.Repeat("a", 300))
	}) + `}}}]}`
	return map[string][2]string{
		"values-fanout-fitting": {fanout13, `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"value":1}}]}`},
		"values-items-anyOf":    {itemsAnyOf, `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"value":[` + list(250, func(int) string { return "1" }) + `]}}]}`},
		"values-long-strings":   {worstInterfaces(tb)["patterns"], longStrings},
		"values-big-schema":     {big, values("7")},
		"values-32-contracts":   {big, steps("7")},
		"values-ref-fanout":     {fanout, `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"value":1}}]}`},
		"values-patterns":       {worstInterfaces(tb)["patterns"], values(`"` + strings.Repeat("a", 200) + `"`)},
	}
}

// pinLookup pins every contract to 1.0.0 with iface.
func pinLookup(iface *composite.Interface) func(contract.Ref) (composite.Pinned, error) {
	return func(contract.Ref) (composite.Pinned, error) {
		return composite.Pinned{Version: "1.0.0", Interface: iface}, nil
	}
}

// distinctLookup pins contract cN to a copy of iface that differs from the
// others (so Pin sees distinct schema documents).
func distinctLookup(tb testing.TB, schema string) func(contract.Ref) (composite.Pinned, error) {
	ifaces := map[string]*composite.Interface{}
	for i := range composite.MaxSteps {
		name := fmt.Sprintf("c%d", i)
		ifaces[name] = mustInterface(tb, fn(`{"$comment":"`+name+`","allOf":[`+schema+`]}`))
	}
	return func(ref contract.Ref) (composite.Pinned, error) {
		return composite.Pinned{Version: "1.0.0", Interface: ifaces[ref.Name]}, nil
	}
}

func BenchmarkPinLimits(b *testing.B) {
	b.Run("values-32-interfaces", func(b *testing.B) {
		props := `{"type":"object","properties":{` + list((composite.MaxSchemaNodes-8)/2, func(i int) string {
			return fmt.Sprintf(`"p%d":{"type":"integer"}`, i)
		}) + `}}`
		lookup := distinctLookup(b, props)
		doc := []byte(`{"steps":[` + list(composite.MaxSteps, func(i int) string {
			return fmt.Sprintf(`{"id":"s%d","contract":"c%d","fn":"f","input":{"object":{`, i, i) +
				list(composite.MaxValueSources/composite.MaxSteps, func(j int) string { return fmt.Sprintf(`"p%d":{"value":7}`, j) }) + `}}}`
		}) + `]}`)
		for b.Loop() {
			m, err := composite.ParseManifest(doc)
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Pin(nil, lookup); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-typical", func(b *testing.B) {
		iface := mustInterface(b, typicalInterface)
		doc := []byte(`{"steps":[{"id":"g","contract":"hello@^1","fn":"greet","input":{"object":{"name":{"value":"Ada"}}}}]}`)
		for b.Loop() {
			m, err := composite.ParseManifest(doc)
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Pin(nil, pinLookup(iface)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for name, in := range worstPins(b) {
		b.Run(name, func(b *testing.B) {
			iface := mustInterface(b, in[0])
			doc := []byte(in[1])
			for b.Loop() {
				m, err := composite.ParseManifest(doc)
				if err != nil {
					b.Fatal(err)
				}
				// values-patterns fails validation (each value is checked
				// against every branch); the others pin.
				if err := m.Pin(nil, pinLookup(iface)); err != nil && name != "values-patterns" && name != "values-long-strings" {
					b.Fatal(err)
				}
			}
		})
	}
}

// pointerPins are the most expensive accepted pointer-source manifests: as
// many pointers as fit in a manifest, each compared with a producer schema
// of maximal size.
func pointerPins(tb testing.TB, pointers int) map[string][2]string {
	enum := `{"enum":[` + list(composite.MaxSchemaNodes-8, func(i int) string { return fmt.Sprint(i) }) + `]}`
	names := list(composite.MaxSchemaNodes/2-8, func(i int) string { return fmt.Sprintf(`"r%d"`, i) })
	req := `{"type":"object","required":[` + names + `]}`
	man := func(field func(i int) string) string {
		return `{"steps":[{"id":"a","contract":"cc","fn":"f","input":{"value":1}},{"id":"b","contract":"cc","fn":"g","input":{"object":{` +
			list(pointers, field) + `}}}]}`
	}
	return map[string][2]string{
		"pointers-enum": {`{"functions":[{"name":"f","output":` + enum + `},{"name":"g","input":{"additionalProperties":{"type":"integer"}}}]}`,
			man(func(i int) string { return fmt.Sprintf(`"%d":{"pointer":"/steps/a"}`, i) })},
		"pointers-required": {`{"functions":[{"name":"f","output":` + req + `},{"name":"g","input":{"additionalProperties":` + req + `}}]}`,
			man(func(i int) string { return fmt.Sprintf(`"%d":{"pointer":"/steps/a"}`, i) })},
	}
}

func BenchmarkPinPointers(b *testing.B) {
	for name, in := range pointerPins(b, composite.MaxPointerSources-1) {
		b.Run(name, func(b *testing.B) {
			iface := mustInterface(b, in[0])
			doc := []byte(in[1])
			for b.Loop() {
				m, err := composite.ParseManifest(doc)
				if err != nil {
					b.Fatal(err)
				}
				if err := m.Pin(nil, pinLookup(iface)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// patternInsts is the instruction count composite bounds with
// MaxPatternInstSize.
func patternInsts(tb testing.TB, p string) int {
	tb.Helper()
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		tb.Fatal(err)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		tb.Fatal(err)
	}
	return len(prog.Inst)
}
