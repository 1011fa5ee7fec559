package system_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/wasm"
)

// step is one call of a scenario: fn(in) by caller at height. A step
// either succeeds with output want (compared as JSON) and events
// wantEvents, or is refused with an abort whose message contains
// wantErr. memo marks a success that must not read its context.
type step struct {
	name       string
	fn         string
	caller     string
	in         any // encoded as JSON; a string is sent as is
	want       any
	wantEvents []string // "topic data"
	wantErr    string
	memo       bool
}

func input(t *testing.T, in any) []byte {
	t.Helper()
	if s, ok := in.(string); ok {
		return []byte(s)
	}
	return mustJSON(t, in)
}

// runSteps runs steps in order over st, applying the writes of each
// successful step at its height (height = base + index), and checks each.
func runSteps(t *testing.T, st *wasm.MemState, base int64, steps []step) {
	t.Helper()
	for i, s := range steps {
		h := base + int64(i)
		t.Run(s.name, func(t *testing.T) {
			before := snapshot(t, st)
			res := shared.call(t, st, s.fn, s.caller, h, input(t, s.in))
			if s.wantErr != "" {
				if res.Status != wasm.StatusAbort || !strings.Contains(res.Error, s.wantErr) {
					t.Fatalf("got %s %q, want abort containing %q", res.Status, res.Error, s.wantErr)
				}
				if len(res.WriteSet) != 0 || len(res.Events) != 0 || len(res.Output) != 0 {
					t.Fatalf("a refusal wrote something: %s", res)
				}
				return
			}
			if res.Status != wasm.StatusOK {
				t.Fatalf("got %s %q, want ok", res.Status, res.Error)
			}
			if want := mustJSON(t, s.want); !sameJSON(res.Output, want) {
				t.Fatalf("output\n got %s\nwant %s", res.Output, want)
			}
			var evs []string
			for _, e := range res.Events {
				evs = append(evs, e.Topic+" "+string(e.Data))
			}
			if strings.Join(evs, "\n") != strings.Join(s.wantEvents, "\n") {
				t.Fatalf("events %q, want %q", evs, s.wantEvents)
			}
			if s.memo && (res.Context || len(res.WriteSet) != 0) {
				t.Fatalf("memoizable answer read its context (%v) or wrote (%d writes)", res.Context, len(res.WriteSet))
			}
			if !s.memo && !res.Context {
				t.Fatal("a state change did not read its context")
			}
			st.Apply(idchain.Contract, res.WriteSet, uint64(h))
			checkStored(t, st)
			if s.memo && snapshot(t, st) != before {
				t.Fatal("state changed")
			}
		})
	}
}

// snapshot is the whole namespace as one string, to compare states.
func snapshot(t *testing.T, st *wasm.MemState) string {
	t.Helper()
	es, err := st.Range(nil, nil, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range es {
		b.WriteString(string(e.Key) + "=" + string(e.Value) + "\n")
	}
	return b.String()
}

// checkStored checks every stored entry decodes with the rules of
// internal/idchain: IDs under id/, records under rec/<id>/ of an
// existing ID, nothing else.
func checkStored(t testing.TB, st *wasm.MemState) {
	t.Helper()
	es, err := st.Range(nil, nil, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		k := string(e.Key)
		switch {
		case strings.HasPrefix(k, "id/"):
			id, err := idchain.DecodeID(e.Value)
			if err != nil || "id/"+id.ID != k || id.Controllers == nil || id.Attrs == nil {
				t.Fatalf("stored %s = %s: %v", k, e.Value, err)
			}
		case strings.HasPrefix(k, "rec/"):
			name, key, ok := strings.Cut(strings.TrimPrefix(k, "rec/"), "/")
			r, err := idchain.DecodeRecord(e.Value)
			if !ok || err != nil || r.Key != key {
				t.Fatalf("stored %s = %s: %v", k, e.Value, err)
			}
			if _, _, found, _ := st.Get(idchain.IDKey(name)); !found {
				t.Fatalf("record %s of missing id %s", k, name)
			}
		default:
			t.Fatalf("stored key %q outside id/ and rec/", k)
		}
	}
}

// TestIDChain is the contract's scenario: every function, its successes
// and each of its refusals, through the metered runtime.
func TestIDChain(t *testing.T) {
	const base = 100
	alice, alice2, bob, carol := newAccount(t, 1), newAccount(t, 2), newAccount(t, 3), newAccount(t, 4)
	h := func(i int) int64 { return base + int64(i) } // the height of step i
	idRec := func(name string, owner account, ctl []string, attrs map[string]string, created, updated int64) *idchain.ID {
		if ctl == nil {
			ctl = []string{}
		}
		if attrs == nil {
			attrs = map[string]string{}
		}
		return &idchain.ID{ID: name, Owner: owner.addr, PubKey: owner.pub, Controllers: ctl, Attrs: attrs, Created: created, Updated: updated}
	}
	manyAttrs := map[string]string{}
	for i := 0; i <= idchain.MaxAttrs; i++ {
		manyAttrs["k"+strconv.Itoa(i)] = "v"
	}
	nineCtl := []string{}
	for i := 0; i < idchain.MaxControllers; i++ {
		nineCtl = append(nineCtl, newAccount(t, byte(50+i)).addr)
	}
	sealed := []byte("age-encryption.org/v1 (test ciphertext)")
	email := idchain.Record{Key: "email", Value: "alice@example.org"}
	secret := idchain.Record{Key: "secret", Private: true, Ciphertext: sealed, Readers: []string{"bob"}}
	aliceAttrs := map[string]string{"site": "https://alice.example"}

	// Steps run in this order; the comment number is the step index i,
	// whose height is h(i).
	steps := []step{
		/* 0 */ {name: "create alice", fn: "create", caller: alice.addr,
			in:         idchain.CreateInput{Name: "alice", PubKey: alice.pub, Attrs: aliceAttrs},
			want:       idchain.CreateOutput{Created: true, ID: idRec("alice", alice, nil, aliceAttrs, h(0), h(0))},
			wantEvents: []string{"id_created alice"}},
		/* 1 */ {name: "create alice again by another account", fn: "create", caller: bob.addr,
			in:   idchain.CreateInput{Name: "alice", PubKey: bob.pub},
			want: idchain.CreateOutput{Created: false, ID: idRec("alice", alice, nil, aliceAttrs, h(0), h(0))}, memo: true},
		/* 2 */ {name: "create alice again by a contract", fn: "create", caller: "hello",
			in:   idchain.CreateInput{Name: "alice", PubKey: alice.pub},
			want: idchain.CreateOutput{Created: false, ID: idRec("alice", alice, nil, aliceAttrs, h(0), h(0))}, memo: true},
		/* 3 */ {name: "create by a contract caller", fn: "create", caller: "hello",
			in: idchain.CreateInput{Name: "bob", PubKey: bob.pub}, wantErr: "create bob: only an account can create an ID"},
		/* 4 */ {name: "create by an ID-named caller", fn: "create", caller: "alice",
			in: idchain.CreateInput{Name: "bob", PubKey: bob.pub}, wantErr: "only an account can create an ID"},
		/* 5 */ {name: "create with upper-case address caller", fn: "create", caller: strings.ToUpper(bob.addr),
			in: idchain.CreateInput{Name: "bob", PubKey: bob.pub}, wantErr: "only an account can create an ID"},
		/* 6 */ {name: "pubkey is not the caller's", fn: "create", caller: alice.addr,
			in: idchain.CreateInput{Name: "bob", PubKey: bob.pub}, wantErr: "create bob: public key " + bob.pub + " has address " + bob.addr + ", not the caller's " + alice.addr},
		/* 7 */ {name: "bad pubkey", fn: "create", caller: bob.addr,
			in: idchain.CreateInput{Name: "bob", PubKey: "abcd"}, wantErr: "create bob: public key"},
		/* 8 */ {name: "name too short", fn: "create", caller: bob.addr,
			in: idchain.CreateInput{Name: "bo", PubKey: bob.pub}, wantErr: `create: id "bo": a name has 3 to 32 characters`},
		/* 9 */ {name: "name too long", fn: "create", caller: bob.addr,
			in: idchain.CreateInput{Name: strings.Repeat("b", 33), PubKey: bob.pub}, wantErr: "a name has 3 to 32 characters"},
		/* 10 */ {name: "upper-case name", fn: "create", caller: bob.addr,
			in: idchain.CreateInput{Name: "Bob", PubKey: bob.pub}, wantErr: "only a-z, 0-9 and '-' are allowed"},
		/* 11 */ {name: "name starts with a digit", fn: "create", caller: bob.addr,
			in: idchain.CreateInput{Name: "1bob", PubKey: bob.pub}, wantErr: "a name starts with a letter"},
		/* 12 */ {name: "name ends with dash", fn: "create", caller: bob.addr,
			in: idchain.CreateInput{Name: "bob-", PubKey: bob.pub}, wantErr: "does not end with '-'"},
		/* 13 */ {name: "name with double dash", fn: "create", caller: bob.addr,
			in: idchain.CreateInput{Name: "xn--bob", PubKey: bob.pub}, wantErr: `has no "--"`},
		/* 14 */ {name: "reserved name", fn: "create", caller: bob.addr,
			in: idchain.CreateInput{Name: "root", PubKey: bob.pub}, wantErr: `create: id "root" is reserved`},
		/* 15 */ {name: "reserved name idchain", fn: "create", caller: bob.addr,
			in: idchain.CreateInput{Name: "idchain", PubKey: bob.pub}, wantErr: "is reserved"},
		/* 16 */ {name: "too many attrs", fn: "create", caller: bob.addr,
			in: idchain.CreateInput{Name: "bob", PubKey: bob.pub, Attrs: manyAttrs}, wantErr: "create bob: 33 attributes: at most 32"},
		/* 17 */ {name: "attr too large", fn: "create", caller: bob.addr,
			in:      idchain.CreateInput{Name: "bob", PubKey: bob.pub, Attrs: map[string]string{"bio": strings.Repeat("x", idchain.MaxAttrValue+1)}},
			wantErr: "create bob: attribute bio: 1025 bytes, at most 1024"},
		/* 18 */ {name: "attr bad key", fn: "create", caller: bob.addr,
			in: idchain.CreateInput{Name: "bob", PubKey: bob.pub, Attrs: map[string]string{"a b": "x"}}, wantErr: "create bob: attribute: key"},
		/* 19 */ {name: "unknown input field", fn: "create", caller: bob.addr,
			in: `{"name":"bob","pubkey":"` + bob.pub + `","owner":"x"}`, wantErr: `create: input: json: unknown field "owner"`},
		/* 20 */ {name: "trailing input", fn: "create", caller: bob.addr,
			in: `{"name":"bob","pubkey":"` + bob.pub + `"} {}`, wantErr: "create: input: trailing data"},
		/* 21 */ {name: "not JSON", fn: "create", caller: bob.addr, in: `bob`, wantErr: "create: input:"},
		/* 22 */ {name: "create bob", fn: "create", caller: bob.addr,
			in:         idchain.CreateInput{Name: "bob", PubKey: bob.pub},
			want:       idchain.CreateOutput{Created: true, ID: idRec("bob", bob, nil, nil, h(22), h(22))},
			wantEvents: []string{"id_created bob"}},
		/* 23 */ {name: "create carol", fn: "create", caller: carol.addr,
			in:         idchain.CreateInput{Name: "carol", PubKey: carol.pub},
			want:       idchain.CreateOutput{Created: true, ID: idRec("carol", carol, nil, nil, h(23), h(23))},
			wantEvents: []string{"id_created carol"}},

		// set
		/* 24 */ {name: "set public", fn: "set", caller: alice.addr,
			in:         idchain.SetInput{Name: "alice", Record: email},
			want:       idchain.RecordOutput{ID: "alice", Record: &idchain.Record{Key: "email", Value: email.Value, By: alice.addr, Updated: h(24)}},
			wantEvents: []string{"record_set alice/email"}},
		/* 25 */ {name: "set private", fn: "set", caller: alice.addr,
			in:         idchain.SetInput{Name: "alice", Record: secret},
			want:       idchain.RecordOutput{ID: "alice", Record: &idchain.Record{Key: "secret", Private: true, Ciphertext: sealed, Readers: []string{"bob"}, By: alice.addr, Updated: h(25)}},
			wantEvents: []string{"record_set alice/secret"}},
		/* 26 */ {name: "set private to an unknown reader", fn: "set", caller: alice.addr,
			in:      idchain.SetInput{Name: "alice", Record: idchain.Record{Key: "s2", Private: true, Ciphertext: sealed, Readers: []string{"bob", "nobody"}}},
			wantErr: "set alice: record s2: reader nobody is not an existing ID"},
		/* 27 */ {name: "set private without readers", fn: "set", caller: alice.addr,
			in:      idchain.SetInput{Name: "alice", Record: idchain.Record{Key: "s2", Private: true, Ciphertext: sealed}},
			wantErr: "set alice: record s2: a private record has 1 to 16 readers"},
		/* 28 */ {name: "set public with readers", fn: "set", caller: alice.addr,
			in:      idchain.SetInput{Name: "alice", Record: idchain.Record{Key: "s2", Value: "v", Readers: []string{"bob"}}},
			wantErr: "ciphertext and readers are for private records"},
		/* 29 */ {name: "set value too large", fn: "set", caller: alice.addr,
			in:      idchain.SetInput{Name: "alice", Record: idchain.Record{Key: "big", Value: strings.Repeat("x", idchain.MaxValue+1)}},
			wantErr: "set alice: record big: value of 16385 bytes, at most 16384"},
		/* 30 */ {name: "set bad key", fn: "set", caller: alice.addr,
			in: idchain.SetInput{Name: "alice", Record: idchain.Record{Key: "a b", Value: "v"}}, wantErr: `set alice: key "a b"`},
		/* 31 */ {name: "set by non-owner", fn: "set", caller: bob.addr,
			in: idchain.SetInput{Name: "alice", Record: email}, wantErr: `set alice: caller "` + bob.addr + `" is neither the owner nor a controller`},
		/* 32 */ {name: "set by a contract", fn: "set", caller: "hello",
			in: idchain.SetInput{Name: "alice", Record: email}, wantErr: "is neither the owner nor a controller"},
		/* 33 */ {name: "set on missing id", fn: "set", caller: alice.addr,
			in: idchain.SetInput{Name: "zed", Record: email}, wantErr: "set: id zed does not exist"},

		// controllers
		/* 34 */ {name: "controllers by non-owner", fn: "controllers", caller: bob.addr,
			in: idchain.ControllersInput{Name: "alice", Add: []string{bob.addr}}, wantErr: "controllers alice: only the owner may do this"},
		/* 35 */ {name: "add controller bob", fn: "controllers", caller: alice.addr,
			in:         idchain.ControllersInput{Name: "alice", Add: []string{bob.addr}},
			want:       idchain.IDOutput{ID: idRec("alice", alice, []string{bob.addr}, aliceAttrs, h(0), h(35))},
			wantEvents: []string{"controllers_changed alice"}},
		/* 36 */ {name: "set by controller", fn: "set", caller: bob.addr,
			in:         idchain.SetInput{Name: "alice", Record: idchain.Record{Key: "note", Value: "from bob", By: alice.addr, Updated: 7}},
			want:       idchain.RecordOutput{ID: "alice", Record: &idchain.Record{Key: "note", Value: "from bob", By: bob.addr, Updated: h(36)}},
			wantEvents: []string{"record_set alice/note"}},
		/* 37 */ {name: "owner as controller", fn: "controllers", caller: alice.addr,
			in: idchain.ControllersInput{Name: "alice", Add: []string{alice.addr}}, wantErr: "controllers alice: the owner " + alice.addr + " cannot be its own controller"},
		/* 38 */ {name: "controller twice", fn: "controllers", caller: alice.addr,
			in: idchain.ControllersInput{Name: "alice", Add: []string{bob.addr}}, wantErr: "controllers alice: controller " + bob.addr + " listed twice"},
		/* 39 */ {name: "too many controllers", fn: "controllers", caller: alice.addr,
			in: idchain.ControllersInput{Name: "alice", Add: nineCtl}, wantErr: "controllers alice: 9 controllers: at most 8"},
		/* 40 */ {name: "controller not an address", fn: "controllers", caller: alice.addr,
			in: idchain.ControllersInput{Name: "alice", Add: []string{"hello"}}, wantErr: `controllers alice: controller: address "hello"`},
		/* 41 */ {name: "remove absent controller", fn: "controllers", caller: alice.addr,
			in: idchain.ControllersInput{Name: "alice", Remove: []string{carol.addr}}, wantErr: `controllers alice: "` + carol.addr + `" is not a controller`},
		/* 42 */ {name: "nothing to change", fn: "controllers", caller: alice.addr,
			in: idchain.ControllersInput{Name: "alice"}, wantErr: "controllers alice: nothing to add or remove"},
		/* 43 */ {name: "controllers by controller", fn: "controllers", caller: bob.addr,
			in: idchain.ControllersInput{Name: "alice", Add: []string{carol.addr}}, wantErr: "only the owner may do this"},

		// attrs
		/* 44 */ {name: "attrs by controller", fn: "attrs", caller: bob.addr,
			in:         idchain.AttrsInput{Name: "alice", Set: map[string]string{"lang": "en"}, Remove: []string{"site"}},
			want:       idchain.IDOutput{ID: idRec("alice", alice, []string{bob.addr}, map[string]string{"lang": "en"}, h(0), h(44))},
			wantEvents: []string{"attrs_changed alice"}},
		/* 45 */ {name: "attrs remove absent", fn: "attrs", caller: alice.addr,
			in: idchain.AttrsInput{Name: "alice", Remove: []string{"site"}}, wantErr: `attrs alice: attribute "site" does not exist`},
		/* 46 */ {name: "attrs too many", fn: "attrs", caller: alice.addr,
			in: idchain.AttrsInput{Name: "alice", Set: manyAttrs}, wantErr: "attrs alice: 34 attributes: at most 32"},
		/* 47 */ {name: "attrs too large", fn: "attrs", caller: alice.addr,
			in:      idchain.AttrsInput{Name: "alice", Set: map[string]string{"bio": strings.Repeat("x", idchain.MaxAttrValue+1)}},
			wantErr: "attrs alice: attribute bio: 1025 bytes"},
		/* 48 */ {name: "attrs by stranger", fn: "attrs", caller: carol.addr,
			in: idchain.AttrsInput{Name: "alice", Set: map[string]string{"x": "y"}}, wantErr: "attrs alice: caller"},
		/* 49 */ {name: "attrs nothing", fn: "attrs", caller: alice.addr,
			in: idchain.AttrsInput{Name: "alice"}, wantErr: "attrs alice: nothing to set or remove"},

		// rm
		/* 50 */ {name: "rm by stranger", fn: "rm", caller: carol.addr,
			in: idchain.RemoveInput{Name: "alice", Key: "email"}, wantErr: "rm alice: caller"},
		/* 51 */ {name: "rm", fn: "rm", caller: alice.addr,
			in:         idchain.RemoveInput{Name: "alice", Key: "email"},
			want:       idchain.RecordOutput{ID: "alice"},
			wantEvents: []string{"record_removed alice/email"}},
		/* 52 */ {name: "rm missing", fn: "rm", caller: alice.addr,
			in: idchain.RemoveInput{Name: "alice", Key: "email"}, wantErr: "rm alice: record email does not exist"},
		/* 53 */ {name: "rm by controller", fn: "rm", caller: bob.addr,
			in:         idchain.RemoveInput{Name: "alice", Key: "note"},
			want:       idchain.RecordOutput{ID: "alice"},
			wantEvents: []string{"record_removed alice/note"}},
		/* 54 */ {name: "rm bad key", fn: "rm", caller: alice.addr,
			in: idchain.RemoveInput{Name: "alice", Key: ""}, wantErr: "rm alice: key"},

		// rotate
		/* 55 */ {name: "rotate by controller", fn: "rotate", caller: bob.addr,
			in: idchain.RotateInput{Name: "alice", PubKey: alice2.pub}, wantErr: "rotate alice: only the owner may do this"},
		/* 56 */ {name: "rotate to a controller", fn: "rotate", caller: alice.addr,
			in: idchain.RotateInput{Name: "alice", PubKey: bob.pub}, wantErr: "rotate alice: the new owner " + bob.addr + " is a controller"},
		/* 57 */ {name: "rotate to the same key", fn: "rotate", caller: alice.addr,
			in: idchain.RotateInput{Name: "alice", PubKey: alice.pub}, wantErr: "is already the owner's"},
		/* 58 */ {name: "rotate bad key", fn: "rotate", caller: alice.addr,
			in: idchain.RotateInput{Name: "alice", PubKey: "zz"}, wantErr: "rotate alice: public key"},
		/* 59 */ {name: "rotate", fn: "rotate", caller: alice.addr,
			in:         idchain.RotateInput{Name: "alice", PubKey: alice2.pub},
			want:       idchain.IDOutput{ID: idRec("alice", alice2, []string{bob.addr}, map[string]string{"lang": "en"}, h(0), h(59))},
			wantEvents: []string{"id_rotated alice"}},
		/* 60 */ {name: "old key refused for set", fn: "set", caller: alice.addr,
			in: idchain.SetInput{Name: "alice", Record: email}, wantErr: "set alice: caller"},
		/* 61 */ {name: "old key refused for rotate", fn: "rotate", caller: alice.addr,
			in: idchain.RotateInput{Name: "alice", PubKey: alice.pub}, wantErr: "rotate alice: only the owner may do this"},
		/* 62 */ {name: "old key refused for controllers", fn: "controllers", caller: alice.addr,
			in: idchain.ControllersInput{Name: "alice", Remove: []string{bob.addr}}, wantErr: "only the owner may do this"},
		/* 63 */ {name: "new key allowed", fn: "set", caller: alice2.addr,
			in:         idchain.SetInput{Name: "alice", Record: email},
			want:       idchain.RecordOutput{ID: "alice", Record: &idchain.Record{Key: "email", Value: email.Value, By: alice2.addr, Updated: h(63)}},
			wantEvents: []string{"record_set alice/email"}},
		/* 64 */ {name: "remove controller", fn: "controllers", caller: alice2.addr,
			in:         idchain.ControllersInput{Name: "alice", Remove: []string{bob.addr}},
			want:       idchain.IDOutput{ID: idRec("alice", alice2, nil, map[string]string{"lang": "en"}, h(0), h(64))},
			wantEvents: []string{"controllers_changed alice"}},
		/* 65 */ {name: "removed controller refused", fn: "set", caller: bob.addr,
			in: idchain.SetInput{Name: "alice", Record: email}, wantErr: "set alice: caller"},
		/* 66 */ {name: "fill controllers", fn: "controllers", caller: alice2.addr,
			in:         idchain.ControllersInput{Name: "alice", Add: nineCtl[:idchain.MaxControllers]},
			want:       idchain.IDOutput{ID: idRec("alice", alice2, nineCtl[:idchain.MaxControllers], map[string]string{"lang": "en"}, h(0), h(66))},
			wantEvents: []string{"controllers_changed alice"}},
		/* 67 */ {name: "one controller too many", fn: "controllers", caller: alice2.addr,
			in: idchain.ControllersInput{Name: "alice", Add: []string{bob.addr}}, wantErr: "9 controllers: at most 8"},
		/* 68 */ {name: "swap a controller at the limit", fn: "controllers", caller: alice2.addr,
			in:         idchain.ControllersInput{Name: "alice", Remove: []string{nineCtl[0]}, Add: []string{bob.addr}},
			want:       idchain.IDOutput{ID: idRec("alice", alice2, append(append([]string{}, nineCtl[1:]...), bob.addr), map[string]string{"lang": "en"}, h(0), h(68))},
			wantEvents: []string{"controllers_changed alice"}},
		/* 69 */ {name: "create alice after all changes", fn: "create", caller: carol.addr,
			in:   idchain.CreateInput{Name: "alice", PubKey: carol.pub},
			want: idchain.CreateOutput{Created: false, ID: idRec("alice", alice2, append(append([]string{}, nineCtl[1:]...), bob.addr), map[string]string{"lang": "en"}, h(0), h(68))}, memo: true},
		/* 70 */ {name: "unknown function input", fn: "rm", caller: alice2.addr,
			in: `{"name":"alice","key":"email","extra":1}`, wantErr: `rm: input: json: unknown field "extra"`},
	}
	st := &wasm.MemState{}
	runSteps(t, st, base, steps)

	// The final state: alice with its new key, bob, carol; alice's email
	// (by the new key) and secret records.
	var keys []string
	es, _ := st.Range(nil, nil, 100)
	for _, e := range es {
		keys = append(keys, string(e.Key))
	}
	if got, want := strings.Join(keys, " "), "id/alice id/bob id/carol rec/alice/email rec/alice/secret"; got != want {
		t.Fatalf("keys %q, want %q", got, want)
	}
	v, _, _, _ := st.Get([]byte("rec/alice/secret"))
	var sec idchain.Record
	if err := json.Unmarshal(v, &sec); err != nil || string(sec.Ciphertext) != string(sealed) || sec.By != alice.addr {
		t.Fatalf("stored secret %s: %v", v, err)
	}
}

// TestStoredForms: the contract reads IDs it did not write in canonical
// form (non-canonical JSON goes through idchain.DecodeID) and refuses a
// stored record that breaks the rules, naming it.
func TestStoredForms(t *testing.T) {
	alice := newAccount(t, 1)
	canonical := (&idchain.ID{ID: "alice", Owner: alice.addr, PubKey: alice.pub, Controllers: []string{}, Attrs: map[string]string{}, Created: 1, Updated: 1}).Encode()
	tests := []struct {
		name    string
		stored  string
		wantErr string
	}{
		{"canonical", string(canonical), ""},
		{"spaced and reordered", `{ "owner": "` + alice.addr + `", "id": "alice", "pubkey": "` + alice.pub + `",
			"attrs": {}, "controllers": null, "updated": 1, "created": 1 }`, ""},
		{"owner is not the key's", strings.Replace(string(canonical), alice.addr, strings.Repeat("0", 40), 1), "attrs alice: stored id record: owner 0000"},
		{"canonical but bad name", strings.Replace(string(canonical), `"id":"alice"`, `"id":"Alice"`, 1), `attrs alice: stored id record: id "Alice"`},
		{"not JSON", `{"id":`, "attrs alice: stored id record:"},
		{"record of another id", strings.Replace(string(canonical), `"id":"alice"`, `"id":"bob"`, 1), "attrs alice: stored id record names id bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &wasm.MemState{}
			st.Set(idchain.IDKey("alice"), []byte(tt.stored), 1)
			res := shared.call(t, st, idchain.FnAttrs, alice.addr, 5, []byte(`{"name":"alice","set":{"k":"v"}}`))
			if tt.wantErr != "" {
				if res.Status != wasm.StatusAbort || !strings.Contains(res.Error, tt.wantErr) || len(res.WriteSet) != 0 {
					t.Fatalf("got %s, want abort containing %q", res, tt.wantErr)
				}
				return
			}
			want := (&idchain.ID{ID: "alice", Owner: alice.addr, PubKey: alice.pub, Controllers: []string{}, Attrs: map[string]string{"k": "v"}, Created: 1, Updated: 5}).Encode()
			if res.Status != wasm.StatusOK || len(res.WriteSet) != 1 || string(res.WriteSet[0].Value) != string(want) {
				t.Fatalf("got %s, want the canonical record %s", res, want)
			}
		})
	}
}
