package idjson_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/virtual-machine/vm/contracts/idchain/idjson"
	"github.com/virtual-machine/vm/internal/idchain"
)

const canonical = `{"id":"alice","owner":"o","pubkey":"p","controllers":["c1","c2"],"attrs":{"a":"x","b":"y"},"created":1,"updated":-2}`

func TestParseID(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		wantOK bool
	}{
		{"canonical", canonical, true},
		{"empty lists", `{"id":"a","owner":"","pubkey":"","controllers":[],"attrs":{},"created":0,"updated":0}`, true},
		{"escapes", `{"id":"a\"\\\n\u003c\u2028\u0000","owner":"","pubkey":"","controllers":["\t"],"attrs":{"\u0026":"\r"},"created":0,"updated":0}`, true},
		{"utf8", `{"id":"héllo 🙂","owner":"","pubkey":"","controllers":[],"attrs":{},"created":0,"updated":0}`, true},
		{"space", `{"id": "alice","owner":"o","pubkey":"p","controllers":[],"attrs":{},"created":1,"updated":2}`, false},
		{"field order", `{"owner":"o","id":"alice","pubkey":"p","controllers":[],"attrs":{},"created":1,"updated":2}`, false},
		{"null controllers", `{"id":"a","owner":"","pubkey":"","controllers":null,"attrs":{},"created":0,"updated":0}`, false},
		{"unsorted attrs", `{"id":"a","owner":"","pubkey":"","controllers":[],"attrs":{"b":"1","a":"2"},"created":0,"updated":0}`, false},
		{"unknown field", `{"id":"a","owner":"","pubkey":"","controllers":[],"attrs":{},"created":0,"updated":0,"x":1}`, false},
		{"trailing", canonical + " ", false},
		{"truncated", canonical[:len(canonical)-1], false},
		{"non-canonical escape", `{"id":"\u0061","owner":"","pubkey":"","controllers":[],"attrs":{},"created":0,"updated":0}`, false},
		{"escaped replacement character", `{"id":"\ufffd","owner":"","pubkey":"","controllers":[],"attrs":{},"created":0,"updated":0}`, false},
		{"slash escape", `{"id":"\/","owner":"","pubkey":"","controllers":[],"attrs":{},"created":0,"updated":0}`, false},
		{"surrogate pair", `{"id":"\ud83d\ude42","owner":"","pubkey":"","controllers":[],"attrs":{},"created":0,"updated":0}`, false},
		{"raw invalid utf8", "{\"id\":\"\xff\",\"owner\":\"\",\"pubkey\":\"\",\"controllers\":[],\"attrs\":{},\"created\":0,\"updated\":0}", false},
		{"leading zero", `{"id":"a","owner":"","pubkey":"","controllers":[],"attrs":{},"created":01,"updated":0}`, false},
		{"plus sign", `{"id":"a","owner":"","pubkey":"","controllers":[],"attrs":{},"created":+1,"updated":0}`, false},
		{"float", `{"id":"a","owner":"","pubkey":"","controllers":[],"attrs":{},"created":1.0,"updated":0}`, false},
		{"int overflow", `{"id":"a","owner":"","pubkey":"","controllers":[],"attrs":{},"created":9223372036854775808,"updated":0}`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := idjson.ParseID([]byte(tt.in))
			if ok != tt.wantOK {
				t.Fatalf("ParseID(%s) ok = %v, want %v", tt.in, ok, tt.wantOK)
			}
			if !ok {
				return
			}
			var want idchain.ID
			if err := json.Unmarshal([]byte(tt.in), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, &want) {
				t.Fatalf("ParseID = %+v, encoding/json gives %+v", got, want)
			}
		})
	}
}

// FuzzParseID: whatever ParseID accepts, encoding/json decodes to the
// same ID (strictly: no unknown fields).
func FuzzParseID(f *testing.F) {
	f.Add([]byte(canonical))
	f.Add([]byte(`{"id":"a\u2028","owner":"","pubkey":"","controllers":[],"attrs":{},"created":0,"updated":0}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := idjson.ParseID(b)
		if !ok {
			return
		}
		var want idchain.ID
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.DisallowUnknownFields()
		if err := d.Decode(&want); err != nil {
			t.Fatalf("ParseID accepted %q, encoding/json refuses it: %v", b, err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("ParseID(%q) = %+v, encoding/json gives %+v", b, got, want)
		}
	})
}

// FuzzRoundTrip: ParseID reads back every ID AppendID writes whose
// strings are valid UTF-8 and whose lists are non-nil (what the contract
// stores).
func FuzzRoundTrip(f *testing.F) {
	f.Add("alice", "o\x00<>&", "p\u2028", "c1|c2", "k=v|a=b", int64(3))
	f.Add("", "", "", "", "", int64(-1))
	f.Fuzz(func(t *testing.T, name, owner, pub, list, attrs string, n int64) {
		ctl := []string{}
		if list != "" {
			ctl = strings.Split(list, "|")
		}
		m := map[string]string{}
		if attrs != "" {
			for _, kv := range strings.Split(attrs, "|") {
				k, v, _ := strings.Cut(kv, "=")
				m[k] = v
			}
		}
		id := &idchain.ID{ID: name, Owner: owner, PubKey: pub, Controllers: ctl, Attrs: m, Created: n, Updated: -n}
		got, ok := idjson.ParseID(idjson.AppendID(nil, id))
		valid := true
		for _, s := range []string{name, owner, pub, list, attrs} {
			valid = valid && utf8.ValidString(s)
		}
		if ok != valid {
			t.Fatalf("ParseID(AppendID(%+v)) ok = %v, want %v", id, ok, valid)
		}
		if ok && !reflect.DeepEqual(got, id) {
			t.Fatalf("round trip: %+v, want %+v", got, id)
		}
	})
}

func TestParseCreateInput(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		wantOK bool
	}{
		{"canonical", `{"name":"ada","pubkey":"ab"}`, true},
		{"with attrs", `{"name":"ada","pubkey":"ab","attrs":{"a":"1","b":"2"}}`, true},
		{"escapes", `{"name":"a\"\u003c","pubkey":"\u2028"}`, true},
		{"empty attrs", `{"name":"ada","pubkey":"ab","attrs":{}}`, false},
		{"unsorted attrs", `{"name":"ada","pubkey":"ab","attrs":{"b":"1","a":"2"}}`, false},
		{"duplicate attr", `{"name":"ada","pubkey":"ab","attrs":{"a":"1","a":"2"}}`, false},
		{"field order", `{"pubkey":"ab","name":"ada"}`, false},
		{"space", `{"name": "ada","pubkey":"ab"}`, false},
		{"unknown field", `{"name":"ada","pubkey":"ab","x":1}`, false},
		{"no pubkey", `{"name":"ada"}`, false},
		{"upper-case key", `{"NAME":"ada","pubkey":"ab"}`, false},
		{"trailing", `{"name":"ada","pubkey":"ab"} `, false},
		{"null attrs", `{"name":"ada","pubkey":"ab","attrs":null}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := idjson.ParseCreateInput([]byte(tc.in))
			if ok != tc.wantOK {
				t.Fatalf("ok %v, want %v (%+v)", ok, tc.wantOK, got)
			}
			if !ok {
				return
			}
			var want idchain.CreateInput
			if err := idchain.DecodeInput([]byte(tc.in), &want); err != nil || !reflect.DeepEqual(got, &want) {
				t.Fatalf("fast path %+v, DecodeInput %+v, %v", got, want, err)
			}
		})
	}
}

// FuzzParseCreateInput: whatever the fast path accepts, the contract's
// strict decoder decodes to the same input, so the fast path changes no
// result.
func FuzzParseCreateInput(f *testing.F) {
	f.Add([]byte(`{"name":"ada","pubkey":"ab","attrs":{"a":"1"}}`))
	f.Add([]byte(`{"name":"a\u2028","pubkey":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := idjson.ParseCreateInput(b)
		if !ok {
			return
		}
		var want idchain.CreateInput
		if err := idchain.DecodeInput(b, &want); err != nil {
			t.Fatalf("fast path accepted %q, DecodeInput refuses it: %v", b, err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("fast path %+v, DecodeInput %+v", got, want)
		}
	})
}
