package composite

import (
	"fmt"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/wasm"
)

// TestOverlayState checks Get and Range of the overlay a step sees: the
// composite's earlier writes over the base State, deletes hiding base
// entries, limits applied after merging. It is white-box because the
// runtime's example contracts never call state_range.
func TestOverlayState(t *testing.T) {
	base := &wasm.MemState{}
	for _, k := range []string{"a", "c", "e", "g", "i"} {
		base.Set([]byte(k), []byte("base-"+k), 5)
	}
	ov := overlay{}
	ov.apply([]wasm.Write{
		{Contract: "c", Key: []byte("b"), Value: []byte("new-b")},
		{Contract: "c", Key: []byte("c"), Delete: true},
		{Contract: "c", Key: []byte("e"), Value: []byte("new-e")},
		{Contract: "c", Key: []byte("g"), Delete: true},
		{Contract: "c", Key: []byte("z"), Delete: true}, // delete of an absent key
		{Contract: "other", Key: []byte("a"), Value: []byte("elsewhere")},
	})
	st := ov.state("c", base)
	tests := []struct {
		name       string
		start, end string
		limit      int
		want       string
	}{
		{name: "all", limit: 100, want: "a=base-a b=new-b e=new-e i=base-i"},
		{name: "limit counts merged entries", limit: 2, want: "a=base-a b=new-b"},
		{name: "deletes do not eat the limit", start: "c", limit: 2, want: "e=new-e i=base-i"},
		{name: "bounded", start: "b", end: "i", limit: 100, want: "b=new-b e=new-e"},
		{name: "only deleted keys", start: "f", end: "h", limit: 5, want: ""},
		{name: "zero limit", limit: 0, want: ""},
		{name: "tail", start: "h", limit: 100, want: "i=base-i"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var end []byte
			if tc.end != "" {
				end = []byte(tc.end)
			}
			es, err := st.Range([]byte(tc.start), end, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, fmt.Sprintf("%s=%s", e.Key, e.Value))
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Fatalf("got %q, want %q", s, tc.want)
			}
		})
	}
	gets := []struct {
		key, want string
		found     bool
	}{{"a", "base-a", true}, {"b", "new-b", true}, {"c", "", false}, {"e", "new-e", true}, {"q", "", false}}
	for _, g := range gets {
		v, _, found, err := st.Get([]byte(g.key))
		if err != nil || found != g.found || string(v) != g.want {
			t.Errorf("Get(%s) = %q %v %v, want %q %v", g.key, v, found, err, g.want, g.found)
		}
	}
	if v, _, found, _ := ov.state("other", nil).Get([]byte("a")); !found || string(v) != "elsewhere" {
		t.Errorf("other namespace: %q %v", v, found)
	}
	if es, _ := ov.state("empty", nil).Range(nil, nil, 10); len(es) != 0 {
		t.Errorf("empty namespace ranged %v", es)
	}
}
