package idjson_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/contracts/idchain/idjson"
	"github.com/virtual-machine/vm/internal/idchain"
)

func TestAppendString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "alice", `"alice"`},
		{"empty", "", `""`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"html", "<a href=x>&amp;</a>", `"\u003ca href=x\u003e\u0026amp;\u003c/a\u003e"`},
		{"controls", "\b\f\n\r\t\x00\x1f\x7f", `"\b\f\n\r\t\u0000\u001f` + "\x7f" + `"`},
		{"utf8", "héllo ✓ 🙂", `"héllo ✓ 🙂"`},
		{"invalid utf8", "a\xffb\xc3", `"a\ufffdb\ufffd"`},
		{"line separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(idjson.AppendString(nil, tt.in))
			if got != tt.want {
				t.Fatalf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
			}
			if want, _ := json.Marshal(tt.in); got != string(want) {
				t.Fatalf("AppendString(%q) = %s, encoding/json gives %s", tt.in, got, want)
			}
		})
	}
}

func TestAppendID(t *testing.T) {
	tests := []struct {
		name string
		in   *idchain.ID
	}{
		{"zero", &idchain.ID{}},
		{"empty lists", &idchain.ID{ID: "alice", Owner: strings.Repeat("a", 40), PubKey: strings.Repeat("b", 64), Controllers: []string{}, Attrs: map[string]string{}, Created: 1, Updated: 2}},
		{"full", &idchain.ID{ID: "bob", Owner: "o", PubKey: "p", Controllers: []string{"c1", "c2"},
			Attrs: map[string]string{"z": "last", "a": "<first>", "m": "mid\n", "A": "upper"}, Created: -5, Updated: 1 << 62}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := idjson.AppendID([]byte("prefix"), tt.in)
			if want := append([]byte("prefix"), tt.in.Encode()...); !bytes.Equal(got, want) {
				t.Fatalf("AppendID\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestAppendRecord(t *testing.T) {
	tests := []struct {
		name string
		in   *idchain.Record
	}{
		{"zero", &idchain.Record{}},
		{"public", &idchain.Record{Key: "email", Value: "a@b.c", By: "x", Updated: 9}},
		{"private", &idchain.Record{Key: "k", Private: true, Ciphertext: []byte{0, 1, 2, 0xff, 0xfe}, Readers: []string{"bob", "carol"}, By: "x", Updated: 1}},
		{"empty slices are omitted", &idchain.Record{Key: "k", Ciphertext: []byte{}, Readers: []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := idjson.AppendRecord(nil, tt.in)
			if want := tt.in.Encode(); !bytes.Equal(got, want) {
				t.Fatalf("AppendRecord\n got %s\nwant %s", got, want)
			}
		})
	}
}

// FuzzAppend checks AppendID and AppendRecord against encoding/json on
// arbitrary strings (sep splits a string into list elements and map
// entries).
func FuzzAppend(f *testing.F) {
	f.Add("alice", "o\x00<>&", "p\u2028", "c1|c2", "k=v|a=\xff", int64(3), []byte{1, 2}, true)
	f.Add("", "", "", "", "", int64(-1), []byte(nil), false)
	f.Fuzz(func(t *testing.T, name, owner, pub, list, attrs string, n int64, ct []byte, private bool) {
		var ctl []string
		if list != "" {
			ctl = strings.Split(list, "|")
		}
		var m map[string]string
		if attrs != "" {
			m = map[string]string{}
			for _, kv := range strings.Split(attrs, "|") {
				k, v, _ := strings.Cut(kv, "=")
				m[k] = v
			}
		}
		id := &idchain.ID{ID: name, Owner: owner, PubKey: pub, Controllers: ctl, Attrs: m, Created: n, Updated: -n}
		if got, want := idjson.AppendID(nil, id), id.Encode(); !bytes.Equal(got, want) {
			t.Fatalf("AppendID\n got %s\nwant %s", got, want)
		}
		r := &idchain.Record{Key: name, Value: owner, Private: private, Ciphertext: ct, Readers: ctl, By: pub, Updated: n}
		if got, want := idjson.AppendRecord(nil, r), r.Encode(); !bytes.Equal(got, want) {
			t.Fatalf("AppendRecord\n got %s\nwant %s", got, want)
		}
	})
}

// BenchmarkAppendID against json.Marshal (warm caches: on the host the
// gap is far smaller than in a contract, where the caches start cold).
func BenchmarkAppendID(b *testing.B) {
	id := &idchain.ID{ID: "alice", Owner: strings.Repeat("a", 40), PubKey: strings.Repeat("b", 64),
		Controllers: []string{strings.Repeat("c", 40)}, Attrs: map[string]string{"site": "https://alice.example"}, Created: 1, Updated: 2}
	b.Run("idjson", func(b *testing.B) {
		buf := make([]byte, 0, 512)
		for i := 0; i < b.N; i++ {
			buf = idjson.AppendID(buf[:0], id)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = id.Encode()
		}
	})
}
