package composite_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestParseInterface(t *testing.T) {
	many := make([]string, composite.MaxFunctions+1)
	for i := range many {
		many[i] = fmt.Sprintf(`{"name":"f%d"}`, i)
	}
	big := `{"functions":[{"name":"f","description":"` + strings.Repeat("x", composite.MaxInterfaceSize) + `"}]}`
	tests := []struct {
		name    string
		in      string
		want    string // canonical bytes
		wantErr vmerr.Kind
		errHas  string
	}{
		{name: "minimal", in: `{"functions":[{"name":"greet"}]}`, want: `{"functions":[{"name":"greet"}]}`},
		{name: "schemas canonicalised",
			in:   `{ "functions": [ {"name":"greet", "description":"says hi <&>", "input": {"type":"object", "required":["name"], "properties":{"name":{"type":"string","maxLength":1e2}}}, "output": true} ] }`,
			want: `{"functions":[{"name":"greet","description":"says hi <&>","input":{"properties":{"name":{"maxLength":1e2,"type":"string"}},"required":["name"],"type":"object"},"output":true}]}`},
		{name: "local ref and defs", in: `{"functions":[{"name":"f","input":{"$defs":{"n":{"type":"integer"}},"$ref":"#/$defs/n"}}]}`,
			want: `{"functions":[{"name":"f","input":{"$defs":{"n":{"type":"integer"}},"$ref":"#/$defs/n"}}]}`},
		{name: "draft-07 by $schema", in: `{"functions":[{"name":"f","input":{"$schema":"http://json-schema.org/draft-07/schema#","type":"string"}}]}`,
			want: `{"functions":[{"name":"f","input":{"$schema":"http://json-schema.org/draft-07/schema#","type":"string"}}]}`},
		{name: "oversized", in: big, wantErr: vmerr.TooLarge},
		{name: "not json", in: `{"functions":`, wantErr: vmerr.Invalid},
		{name: "unknown field", in: `{"functions":[{"name":"f"}],"extra":1}`, wantErr: vmerr.Invalid, errHas: "unknown field"},
		{name: "unknown function field", in: `{"functions":[{"name":"f","inputs":{}}]}`, wantErr: vmerr.Invalid, errHas: "unknown field"},
		{name: "trailing data", in: `{"functions":[{"name":"f"}]} {}`, wantErr: vmerr.Invalid, errHas: "trailing"},
		{name: "no functions", in: `{"functions":[]}`, wantErr: vmerr.Invalid, errHas: "0 functions"},
		{name: "too many functions", in: `{"functions":[` + strings.Join(many, ",") + `]}`, wantErr: vmerr.Invalid, errHas: "257 functions"},
		{name: "empty name", in: `{"functions":[{"name":""}]}`, wantErr: vmerr.Invalid, errHas: "name is 0 bytes"},
		{name: "long name", in: `{"functions":[{"name":"` + strings.Repeat("a", 65) + `"}]}`, wantErr: vmerr.Invalid, errHas: "65 bytes"},
		{name: "duplicate name", in: `{"functions":[{"name":"f"},{"name":"f"}]}`, wantErr: vmerr.Invalid, errHas: "declared twice"},
		{name: "schema does not compile", in: `{"functions":[{"name":"f","input":{"type":"strung"}}]}`, wantErr: vmerr.Invalid, errHas: "does not compile"},
		{name: "bad regex", in: `{"functions":[{"name":"f","output":{"pattern":"("}}]}`, wantErr: vmerr.Invalid, errHas: "does not compile"},
		{name: "null schema", in: `{"functions":[{"name":"f","input":null}]}`, wantErr: vmerr.Invalid},
		{name: "remote ref refused", in: `{"functions":[{"name":"f","input":{"$ref":"https://example.com/s.json"}}]}`, wantErr: vmerr.Invalid, errHas: "remote references are not allowed"},
		{name: "relative ref under remote id refused", in: `{"functions":[{"name":"f","input":{"$id":"https://example.com/root.json","$ref":"other.json"}}]}`, wantErr: vmerr.Invalid, errHas: "remote references are not allowed"},
		{name: "unknown metaschema refused", in: `{"functions":[{"name":"f","input":{"$schema":"https://example.com/meta"}}]}`, wantErr: vmerr.Invalid},
		{name: "dangling local ref", in: `{"functions":[{"name":"f","input":{"$ref":"#/$defs/nope"}}]}`, wantErr: vmerr.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iface, canon, err := composite.ParseInterface([]byte(tc.in))
			if tc.wantErr != vmerr.OK {
				if err == nil || vmerr.KindOf(err) != tc.wantErr || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v (kind %v), want kind %v containing %q", err, vmerr.KindOf(err), tc.wantErr, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(canon) != tc.want {
				t.Fatalf("canonical\n got %s\nwant %s", canon, tc.want)
			}
			_, again, err := composite.ParseInterface(canon)
			if err != nil || !bytes.Equal(again, canon) {
				t.Fatalf("canonical does not re-parse to itself: %v %s", err, again)
			}
			if iface.Func(iface.Functions[0].Name) == nil || iface.Func("nope") != nil {
				t.Fatal("Func lookup")
			}
		})
	}
}

func TestCheckExports(t *testing.T) {
	iface := mustInterface(t, `{"functions":[{"name":"greet"},{"name":"wave"}]}`)
	tests := []struct {
		name    string
		in      []string
		wantErr string
	}{
		{name: "all exported", in: []string{"wave", "_start", "greet"}},
		{name: "one missing", in: []string{"greet"}, wantErr: `"wave"`},
		{name: "none", in: nil, wantErr: `"greet"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := iface.CheckExports(tc.in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if vmerr.KindOf(err) != vmerr.Invalid || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want Invalid naming %s", err, tc.wantErr)
			}
		})
	}
}

func TestValidateInput(t *testing.T) {
	iface := mustInterface(t, `{"functions":[
		{"name":"greet","input":{"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1}},"additionalProperties":false}},
		{"name":"any"},
		{"name":"ref","input":{"$defs":{"n":{"type":"integer","minimum":0}},"type":"array","items":{"$ref":"#/$defs/n"}}}]}`)
	tests := []struct {
		name    string
		fn, in  string
		wantErr string
	}{
		{name: "valid", fn: "greet", in: `{"name":"Ada"}`},
		{name: "missing required", fn: "greet", in: `{}`, wantErr: "name"},
		{name: "wrong type", fn: "greet", in: `{"name":3}`, wantErr: "does not match"},
		{name: "extra property", fn: "greet", in: `{"name":"a","x":1}`, wantErr: "does not match"},
		{name: "not json", fn: "greet", in: `{"name":`, wantErr: "not JSON"},
		{name: "no schema accepts anything", fn: "any", in: `not even json`},
		{name: "undeclared fn", fn: "nope", in: `{}`, wantErr: "not declared"},
		{name: "local ref valid", fn: "ref", in: `[0,1,2]`},
		{name: "local ref invalid", fn: "ref", in: `[0,-1]`, wantErr: "does not match"},
		{name: "big integer kept exact", fn: "ref", in: `[123456789012345678901234567890]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := iface.ValidateInput(tc.fn, []byte(tc.in))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if vmerr.KindOf(err) != vmerr.Invalid || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want Invalid containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseManifest(t *testing.T) {
	steps := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf(`{"id":"s%d","contract":"hello","fn":"f","input":{"pointer":"/input"}}`, i)
		}
		return `{"steps":[` + strings.Join(s, ",") + `]}`
	}
	nested := func(depth int) string {
		s := `{"pointer":"/input"}`
		for i := 0; i < depth; i++ {
			s = `{"object":{"a":` + s + `}}`
		}
		return `{"steps":[{"id":"a","contract":"hello","fn":"f","input":` + s + `}]}`
	}
	step := func(id, input string) string {
		return `{"id":"` + id + `","contract":"hello@^1","fn":"f","input":` + input + `}`
	}
	ptr := func(p string) string { return `{"pointer":"` + p + `"}` }
	man := func(steps ...string) string { return `{"steps":[` + strings.Join(steps, ",") + `]}` }
	tests := []struct {
		name      string
		in        string
		want      string // canonical
		wantOrder []int
		wantErr   vmerr.Kind
		errHas    string
	}{
		{name: "example",
			in: `{"steps":[{"id":"greet","contract":"hello@^1","fn":"greet","input":{"pointer":"/input"}},
			     {"id":"hash","contract":"sha256@~1.0","fn":"sum","input":{"object":{"salt":{"value":"x"},"data":{"pointer":"/steps/greet/message"}}}}],
			     "output":{"pointer":"/steps/hash"}}`,
			want:      `{"steps":[{"id":"greet","contract":"hello@^1","fn":"greet","input":{"pointer":"/input"}},{"id":"hash","contract":"sha256@~1.0","fn":"sum","input":{"object":{"data":{"pointer":"/steps/greet/message"},"salt":{"value":"x"}}}}],"output":{"pointer":"/steps/hash"}}`,
			wantOrder: []int{0, 1}},
		{name: "order follows dependencies, ties by manifest order",
			in:        man(step("c", ptr("/steps/b")), step("b", ptr("/steps/a")), step("a", ptr("/input")), step("d", ptr("/input"))),
			wantOrder: []int{2, 1, 0, 3}},
		{name: "diamond", in: man(step("d", `{"object":{"x":`+ptr("/steps/b")+`,"y":`+ptr("/steps/c")+`}}`), step("c", ptr("/steps/a")), step("b", ptr("/steps/a")), step("a", ptr("/input"))),
			wantOrder: []int{3, 1, 2, 0}},
		{name: "pinned version kept and value canonical", in: `{"steps":[{"id":"a","contract":"hello","fn":"f","version":"1.2.3","input":{"value":{ "b" : [1, 2.50], "a":null}}}]}`,
			want: `{"steps":[{"id":"a","contract":"hello","fn":"f","version":"1.2.3","input":{"value":{"a":null,"b":[1,2.50]}}}]}`, wantOrder: []int{0}},
		{name: "escaped pointer", in: man(step("a", ptr("/input/a~1b/c~0d/0"))), wantOrder: []int{0}},
		{name: "max steps", in: steps(composite.MaxSteps), wantOrder: seq(composite.MaxSteps)},
		{name: "max nesting", in: nested(composite.MaxObjectDepth), wantOrder: []int{0}},
		{name: "null value", in: man(step("a", `{"value":null}`)), want: `{"steps":[{"id":"a","contract":"hello@^1","fn":"f","input":{"value":null}}]}`, wantOrder: []int{0}},

		{name: "2-cycle", in: man(step("a", ptr("/steps/b")), step("b", ptr("/steps/a"))), wantErr: vmerr.Invalid, errHas: "cycle: a -> b -> a"},
		{name: "3-cycle", in: man(step("x", ptr("/input")), step("a", ptr("/steps/c/v")), step("b", ptr("/steps/a")), step("c", `{"object":{"k":`+ptr("/steps/b")+`}}`)),
			wantErr: vmerr.Invalid, errHas: "cycle: a -> c -> b -> a"},
		{name: "self reference", in: man(step("a", ptr("/steps/a/x"))), wantErr: vmerr.Invalid, errHas: "names the step itself"},
		{name: "missing step id", in: man(step("a", ptr("/steps/nope"))), wantErr: vmerr.Invalid, errHas: `step "nope", which does not exist`},
		{name: "output names missing step", in: `{"steps":[` + step("a", ptr("/input")) + `],"output":{"pointer":"/steps/b"}}`, wantErr: vmerr.Invalid, errHas: "output"},
		{name: "pointer without slash", in: man(step("a", ptr("input"))), wantErr: vmerr.Invalid, errHas: "must start with"},
		{name: "pointer to root", in: man(step("a", ptr(""))), wantErr: vmerr.Invalid, errHas: "must start with"},
		{name: "pointer to /steps", in: man(step("a", ptr("/steps"))), wantErr: vmerr.Invalid, errHas: "must start with"},
		{name: "pointer elsewhere", in: man(step("a", ptr("/inputs"))), wantErr: vmerr.Invalid, errHas: "must start with"},
		{name: "bad escape", in: man(step("a", ptr("/input/a~2"))), wantErr: vmerr.Invalid, errHas: "'~'"},
		{name: "bad ref", in: man(`{"id":"a","contract":"Hello@^1","fn":"f","input":{"pointer":"/input"}}`), wantErr: vmerr.Invalid, errHas: "contract"},
		{name: "bad range", in: man(`{"id":"a","contract":"hello@not a range","fn":"f","input":{"pointer":"/input"}}`), wantErr: vmerr.Invalid, errHas: "contract"},
		{name: "empty fn", in: man(`{"id":"a","contract":"hello","fn":"","input":{"pointer":"/input"}}`), wantErr: vmerr.Invalid, errHas: "fn is 0 bytes"},
		{name: "duplicate id", in: man(step("a", ptr("/input")), step("a", ptr("/input"))), wantErr: vmerr.Invalid, errHas: "used twice"},
		{name: "bad id", in: man(step("A", ptr("/input"))), wantErr: vmerr.Invalid, errHas: "lowercase"},
		{name: "bad id byte", in: man(step("a.b", ptr("/input"))), wantErr: vmerr.Invalid, errHas: "only a-z"},
		{name: "long id", in: man(step("a"+strings.Repeat("b", 32), ptr("/input"))), wantErr: vmerr.Invalid, errHas: "33 bytes"},
		{name: "no steps", in: `{"steps":[]}`, wantErr: vmerr.Invalid, errHas: "0 steps"},
		{name: "too many steps", in: steps(composite.MaxSteps + 1), wantErr: vmerr.Invalid, errHas: "33 steps"},
		{name: "oversized", in: `{"steps":[` + step("a", `{"value":"`+strings.Repeat("x", composite.MaxManifestSize)+`"}`) + `]}`, wantErr: vmerr.TooLarge},
		{name: "unknown field", in: `{"steps":[` + step("a", ptr("/input")) + `],"outputs":{}}`, wantErr: vmerr.Invalid, errHas: "unknown field"},
		{name: "unknown source field", in: man(step("a", `{"pointr":"/input"}`)), wantErr: vmerr.Invalid, errHas: "unknown field"},
		{name: "trailing data", in: man(step("a", ptr("/input"))) + "x", wantErr: vmerr.Invalid, errHas: "trailing"},
		{name: "two forms", in: man(step("a", `{"pointer":"/input","value":1}`)), wantErr: vmerr.Invalid, errHas: "exactly one"},
		{name: "no form", in: man(step("a", `{}`)), wantErr: vmerr.Invalid, errHas: "exactly one"},
		{name: "empty object", in: man(step("a", `{"object":{}}`)), wantErr: vmerr.Invalid, errHas: "at least one field"},
		{name: "nested too deep", in: nested(composite.MaxObjectDepth + 1), wantErr: vmerr.Invalid, errHas: "nested deeper"},
		{name: "bad field deep inside", in: man(step("a", `{"object":{"x":{"object":{"y":{"pointer":"/nope"}}}}}`)), wantErr: vmerr.Invalid, errHas: `field "x": field "y"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := composite.ParseManifest([]byte(tc.in))
			if tc.wantErr != vmerr.OK {
				if err == nil || vmerr.KindOf(err) != tc.wantErr || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v (kind %v), want kind %v containing %q", err, vmerr.KindOf(err), tc.wantErr, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			canon := m.Canonical()
			if tc.want != "" && string(canon) != tc.want {
				t.Fatalf("canonical\n got %s\nwant %s", canon, tc.want)
			}
			again, err := composite.ParseManifest(canon)
			if err != nil || !bytes.Equal(again.Canonical(), canon) {
				t.Fatalf("canonical does not re-parse to itself: %v", err)
			}
			if got := m.Order(); fmt.Sprint(got) != fmt.Sprint(tc.wantOrder) {
				t.Fatalf("order %v, want %v", got, tc.wantOrder)
			}
		})
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func mustInterface(t testing.TB, s string) *composite.Interface {
	t.Helper()
	i, _, err := composite.ParseInterface([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func mustManifest(t testing.TB, s string) *composite.Manifest {
	t.Helper()
	m, err := composite.ParseManifest([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
