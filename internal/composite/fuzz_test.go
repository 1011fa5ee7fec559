package composite_test

import (
	"bytes"
	"testing"

	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func FuzzParseManifest(f *testing.F) {
	for _, s := range []string{
		`{"steps":[{"id":"greet","contract":"hello@^1","fn":"greet","input":{"pointer":"/input"}},{"id":"hash","contract":"sha256@~1.0","fn":"sum","input":{"object":{"data":{"pointer":"/steps/greet/message"},"salt":{"value":"x"}}}}],"output":{"pointer":"/steps/hash"}}`,
		`{"steps":[{"id":"a","contract":"hello","fn":"f","version":"1.0.0","input":{"value":{"b":[1,2.5e3],"a":"\u003c"}}}]}`,
		`{"steps":[{"id":"a","contract":"x1","fn":"f","input":{"pointer":"/steps/b"}},{"id":"b","contract":"x1","fn":"f","input":{"pointer":"/steps/a"}}]}`,
		`{"steps":[{"id":"a","contract":"hello","fn":"f","input":{"pointer":"/input/~0~1/0"}}],"output":{"object":{"k":{"pointer":"/steps/a"}}}}`,
		`{"steps":[]}`, `null`, `[]`, `{"steps":[{}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := composite.ParseManifest(b)
		if err != nil {
			if k := vmerr.KindOf(err); k != vmerr.Invalid && k != vmerr.TooLarge && k != vmerr.Limit {
				t.Fatalf("kind %v: %v", k, err)
			}
			return
		}
		canon := m.Canonical()
		again, err := composite.ParseManifest(canon)
		if err != nil {
			t.Fatalf("canonical %s does not re-parse: %v", canon, err)
		}
		if !bytes.Equal(again.Canonical(), canon) {
			t.Fatalf("canonical not stable:\n%s\n%s", canon, again.Canonical())
		}
		if o := m.Order(); len(o) != len(m.Steps) {
			t.Fatalf("order %v has %d entries, want %d", o, len(o), len(m.Steps))
		}
	})
}

func FuzzParseInterface(f *testing.F) {
	for _, s := range []string{
		`{"functions":[{"name":"greet","input":{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}},"output":true}]}`,
		`{"functions":[{"name":"f","input":{"$defs":{"n":{"type":"integer"}},"$ref":"#/$defs/n"}}]}`,
		`{"functions":[{"name":"f","input":{"$ref":"https://example.com/x"}}]}`,
		`{"functions":[{"name":"f","output":{"pattern":"^a+$","enum":["a",1,null]}}]}`,
		`{"functions":[{"name":"f","input":{"minimum":1e999,"multipleOf":0.5e-3}}]}`,
		`{"functions":[{"name":"f","input":{"patternProperties":{"^(a{30}){30}$":{"pattern":"b{1000}"}}}}]}`,
		`{"functions":[]}`, `{}`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		iface, canon, err := composite.ParseInterface(b)
		if err != nil {
			if k := vmerr.KindOf(err); k != vmerr.Invalid && k != vmerr.TooLarge && k != vmerr.Limit {
				t.Fatalf("kind %v: %v", k, err)
			}
			return
		}
		_, again, err := composite.ParseInterface(canon)
		if err != nil {
			t.Fatalf("canonical %s does not re-parse: %v", canon, err)
		}
		if !bytes.Equal(again, canon) {
			t.Fatalf("canonical not stable:\n%s\n%s", canon, again)
		}
		for _, fn := range iface.Functions {
			_ = iface.ValidateInput(fn.Name, b) // must not panic
		}
	})
}

// FuzzPin runs the compatibility rule over arbitrary interfaces and
// manifests: it must never panic, fail only with Invalid, and pin every
// step when it succeeds.
func FuzzPin(f *testing.F) {
	f.Add(`{"functions":[{"name":"f","input":{"type":"object","required":["a"],"properties":{"a":{"$ref":"#/$defs/x"}},"$defs":{"x":{"type":"integer"}}},"output":{"type":"array","prefixItems":[{"const":1}],"items":{"enum":["a",null]}}},{"name":"run","input":{"type":"object","properties":{"q":{"type":"string"}}}}]}`,
		`{"steps":[{"id":"a","contract":"c1","fn":"f","input":{"object":{"a":{"pointer":"/input/q"}}}},{"id":"b","contract":"c1","fn":"f","input":{"object":{"a":{"pointer":"/steps/a/0"},"b":{"value":[1]}}}}],"output":{"pointer":"/steps/b/3/x"}}`)
	f.Add(`{"functions":[{"name":"f","output":{"type":"integer"}},{"name":"run","output":{"additionalProperties":false,"type":"object"}}]}`,
		`{"steps":[{"id":"a","contract":"c1","fn":"f","input":{"value":{}}}],"output":{"object":{"x":{"pointer":"/steps/a/y"}}}}`)
	f.Fuzz(func(t *testing.T, ifaceDoc, manifestDoc string) {
		iface, _, err := composite.ParseInterface([]byte(ifaceDoc))
		if err != nil {
			return
		}
		m, err := composite.ParseManifest([]byte(manifestDoc))
		if err != nil {
			return
		}
		var self *composite.Interface
		if run := iface.Func(composite.RunFn); run != nil {
			self = &composite.Interface{Functions: []composite.Function{*run}}
		}
		lookup := func(contract.Ref) (composite.Pinned, error) {
			return composite.Pinned{Version: "1.0.0", Interface: iface}, nil
		}
		err = m.Pin(self, lookup)
		if err != nil {
			if vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("kind %v: %v", vmerr.KindOf(err), err)
			}
			return
		}
		for _, s := range m.Steps {
			if s.Version != "1.0.0" {
				t.Fatalf("step %s not pinned", s.ID)
			}
		}
	})
}
