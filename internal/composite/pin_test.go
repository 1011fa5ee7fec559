package composite_test

import (
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// registry is a hand-written lookup: contract name -> what it pins to.
type registry map[string]composite.Pinned

func (r registry) lookup(ref contract.Ref) (composite.Pinned, error) {
	p, ok := r[ref.Name]
	if !ok {
		return composite.Pinned{}, vmerr.E("test.lookup", vmerr.NotFound, "no version of %s matches %s", ref.Name, ref)
	}
	return p, nil
}

func TestPin(t *testing.T) {
	reg := registry{
		"greeter": {Version: "1.2.0", Interface: mustInterface(t, `{"functions":[{"name":"greet",
			"input":{"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1}}},
			"output":{"type":"object","required":["greeting"],"properties":{"greeting":{"type":"string"},"count":{"type":"integer"},
			  "tags":{"type":"array","items":{"type":"string"}},"pair":{"type":"array","prefixItems":[{"type":"string"},{"type":"boolean"}]}}}}]}`)},
		"counter": {Version: "2.0.1", Interface: mustInterface(t, `{"functions":[{"name":"increment","input":{"type":"integer","minimum":0},"output":{"type":"integer"}},
			{"name":"add","input":{"type":"number"},"output":{"type":"number"}}]}`)},
		"strict": {Version: "0.1.0", Interface: mustInterface(t, `{"functions":[{"name":"take",
			"input":{"type":"object","required":["text","n"],"additionalProperties":false,
			  "properties":{"text":{"type":"string"},"n":{"$ref":"#/$defs/small"},"opt":{"type":["string","null"]}},
			  "$defs":{"small":{"type":"integer","maximum":10}}}}]}`)},
		"odd":    {Version: "1.0.0", Interface: mustInterface(t, `{"functions":[{"name":"f","input":{"type":"object","properties":{"a/b c%~é":{"type":"integer"}}}}]}`)},
		"loose":  {Version: "3.0.0"}, // no interface
		"nested": {Version: "1.0.0", Composite: true},
		"enum": {Version: "1.0.0", Interface: mustInterface(t, `{"functions":[{"name":"pick","output":{"enum":["a","b"]}},
			{"name":"either","output":{"anyOf":[{"type":"string"},{"type":"integer"}]}}]}`)},
	}
	self := mustInterface(t, `{"functions":[{"name":"run","input":{"type":"object","required":["who"],"properties":{"who":{"type":"string"},"n":{"type":"integer"},"f":{"type":"number"}}},
		"output":{"type":"object","required":["greeting"]}}]}`)
	man := func(steps ...string) string { return `{"steps":[` + strings.Join(steps, ",") + `]}` }
	tests := []struct {
		name    string
		in      string
		self    *composite.Interface
		want    []string // pinned versions
		wantErr vmerr.Kind
		errHas  string
	}{
		{name: "compatible pipeline",
			in: man(`{"id":"g","contract":"greeter@^1","fn":"greet","input":{"object":{"name":{"pointer":"/input/who"}}}}`,
				`{"id":"c","contract":"counter","fn":"increment","input":{"pointer":"/input/n"}}`,
				`{"id":"s","contract":"strict","fn":"take","input":{"object":{"text":{"pointer":"/steps/g/greeting"},"n":{"value":3},"opt":{"pointer":"/steps/g/tags/0"}}}}`),
			self: self, want: []string{"1.2.0", "2.0.1", "0.1.0"}},
		{name: "integer feeds number", in: man(`{"id":"c","contract":"counter","fn":"increment","input":{"value":1}}`,
			`{"id":"d","contract":"counter","fn":"add","input":{"pointer":"/steps/c"}}`), want: []string{"2.0.1", "2.0.1"}},
		{name: "no interfaces: anything goes", in: man(`{"id":"a","contract":"loose","fn":"whatever","input":{"pointer":"/input/x/y"}}`,
			`{"id":"b","contract":"loose","fn":"other","input":{"pointer":"/steps/a/1/z"}}`), want: []string{"3.0.0", "3.0.0"}},
		{name: "undeclared producer path is unknown", in: man(`{"id":"g","contract":"greeter","fn":"greet","input":{"value":{"name":"x"}}}`,
			`{"id":"c","contract":"counter","fn":"increment","input":{"pointer":"/steps/g/extra"}}`), want: []string{"1.2.0", "2.0.1"}},
		{name: "prefixItems", in: man(`{"id":"g","contract":"greeter","fn":"greet","input":{"value":{"name":"x"}}}`,
			`{"id":"s","contract":"strict","fn":"take","input":{"object":{"text":{"pointer":"/steps/g/pair/0"},"n":{"pointer":"/steps/g/count"}}}}`), want: []string{"1.2.0", "0.1.0"}},
		{name: "enum producer of strings", in: man(`{"id":"e","contract":"enum","fn":"pick","input":{"value":null}}`,
			`{"id":"s","contract":"strict","fn":"take","input":{"object":{"text":{"pointer":"/steps/e"},"n":{"value":1}}}}`), want: []string{"1.0.0", "0.1.0"}},
		{name: "anyOf producer is undecidable", in: man(`{"id":"e","contract":"enum","fn":"either","input":{"value":null}}`,
			`{"id":"s","contract":"strict","fn":"take","input":{"object":{"text":{"pointer":"/steps/e"},"n":{"value":1}}}}`), want: []string{"1.0.0", "0.1.0"}},

		{name: "missing step contract", in: man(`{"id":"g","contract":"nobody@^2","fn":"f","input":{"value":1}}`), wantErr: vmerr.NotFound, errHas: `step "g"`},
		{name: "undeclared fn", in: man(`{"id":"g","contract":"greeter","fn":"wave","input":{"value":1}}`), wantErr: vmerr.Invalid, errHas: `does not declare function "wave"`},
		{name: "nested composite", in: man(`{"id":"n","contract":"nested","fn":"run","input":{"value":1}}`), wantErr: vmerr.Invalid, errHas: "nested composites are not supported"},
		{name: "string into integer", in: man(`{"id":"g","contract":"greeter","fn":"greet","input":{"value":{"name":"x"}}}`,
			`{"id":"c","contract":"counter","fn":"increment","input":{"pointer":"/steps/g/greeting"}}`), wantErr: vmerr.Invalid, errHas: `step "c": input pointer "/steps/g/greeting": produces string but the consumer accepts integer`},
		{name: "number into integer", in: man(`{"id":"c","contract":"counter","fn":"add","input":{"value":1}}`,
			`{"id":"d","contract":"counter","fn":"increment","input":{"pointer":"/steps/c"}}`), wantErr: vmerr.Invalid, errHas: "produces number"},
		{name: "object into integer", in: man(`{"id":"g","contract":"greeter","fn":"greet","input":{"value":{"name":"x"}}}`,
			`{"id":"c","contract":"counter","fn":"increment","input":{"pointer":"/steps/g"}}`), wantErr: vmerr.Invalid, errHas: "produces object"},
		{name: "required property not guaranteed", in: man(`{"id":"c","contract":"counter","fn":"increment","input":{"value":1}}`,
			`{"id":"g","contract":"greeter","fn":"greet","input":{"pointer":"/input"}}`), self: self, wantErr: vmerr.Invalid, errHas: `requires property "name"`},
		{name: "object source misses required field", in: man(`{"id":"s","contract":"strict","fn":"take","input":{"object":{"text":{"value":"t"}}}}`),
			wantErr: vmerr.Invalid, errHas: `property "n" is required`},
		{name: "object source extra field refused", in: man(`{"id":"s","contract":"strict","fn":"take","input":{"object":{"text":{"value":"t"},"n":{"value":1},"zzz":{"value":1}}}}`),
			wantErr: vmerr.Invalid, errHas: `"zzz" is not allowed`},
		{name: "object where integer wanted", in: man(`{"id":"c","contract":"counter","fn":"increment","input":{"object":{"a":{"value":1}}}}`),
			wantErr: vmerr.Invalid, errHas: "wants integer, not an object"},
		{name: "constant fails schema", in: man(`{"id":"c","contract":"counter","fn":"increment","input":{"value":-1}}`),
			wantErr: vmerr.Invalid, errHas: "value -1 does not match"},
		{name: "constant fails referenced sub-schema", in: man(`{"id":"s","contract":"strict","fn":"take","input":{"object":{"text":{"value":"t"},"n":{"value":11}}}}`),
			wantErr: vmerr.Invalid, errHas: `field "n": value 11 does not match`},
		{name: "constant checked under an awkward property name", in: man(`{"id":"o","contract":"odd","fn":"f","input":{"object":{"a/b c%~é":{"value":"x"}}}}`),
			wantErr: vmerr.Invalid, errHas: `value "x" does not match`},
		{name: "awkward property name accepts a good constant", in: man(`{"id":"o","contract":"odd","fn":"f","input":{"object":{"a/b c%~é":{"value":7}}}}`), want: []string{"1.0.0"}},
		{name: "input sub-schema mismatch", in: man(`{"id":"s","contract":"strict","fn":"take","input":{"object":{"text":{"pointer":"/input/n"},"n":{"value":1}}}}`),
			self: self, wantErr: vmerr.Invalid, errHas: `field "text": pointer "/input/n": produces integer but the consumer accepts string`},
		{name: "pointer into a scalar", in: man(`{"id":"c","contract":"counter","fn":"increment","input":{"value":1}}`,
			`{"id":"l","contract":"loose","fn":"f","input":{"pointer":"/steps/c/x"}}`), wantErr: vmerr.Invalid, errHas: "cannot select inside"},
		{name: "composite output incompatible", in: man(`{"id":"c","contract":"counter","fn":"increment","input":{"value":1}}`),
			self: self, wantErr: vmerr.Invalid, errHas: "output pointer \"/steps/c\": produces integer"},
		{name: "self declares another function", in: man(`{"id":"c","contract":"counter","fn":"increment","input":{"value":1}}`),
			self: mustInterface(t, `{"functions":[{"name":"go"}]}`), wantErr: vmerr.Invalid, errHas: `exactly one function, "run"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustManifest(t, tc.in)
			err := m.Pin(tc.self, reg.lookup)
			if tc.wantErr != vmerr.OK {
				if err == nil || vmerr.KindOf(err) != tc.wantErr || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v (kind %v), want kind %v containing %q", err, vmerr.KindOf(err), tc.wantErr, tc.errHas)
				}
				for _, s := range m.Steps {
					if s.Version != "" {
						t.Fatalf("a failed Pin changed the manifest: step %s pinned to %s", s.ID, s.Version)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range m.Steps {
				if s.Version != tc.want[i] {
					t.Fatalf("step %s pinned to %q, want %q", s.ID, s.Version, tc.want[i])
				}
			}
			again := mustManifest(t, string(m.Canonical()))
			if again.Steps[0].Version != tc.want[0] {
				t.Fatal("pinned version lost in the canonical form")
			}
		})
	}
}
