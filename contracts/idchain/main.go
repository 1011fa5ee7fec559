//go:build wasip1

// Command idchain is the IDChain system contract, the registry of global
// IDs (docs/ABI.md §6, internal/idchain). Every function reads a JSON
// input decoded strictly with idchain.DecodeInput (create first tries
// idjson.ParseCreateInput, which accepts only inputs DecodeInput decodes
// to the same value, and is much cheaper) and writes a JSON
// output; every refusal is an abort whose message names the function, the
// ID and the rule, and writes nothing (the runtime discards the writes of
// an aborted call, and each function checks everything before its first
// write anyway).
//
//   - create (CreateInput → CreateOutput): creates an ID bound to the
//     calling account. If the ID exists the answer is the existing record
//     (Created false), computed without reading the caller or the height,
//     so that answer can be memoized.
//   - set (SetInput → RecordOutput): writes a record of an ID's "my
//     chain" (owner or controller); a private record's readers must be IDs.
//   - rm (RemoveInput → RecordOutput): removes a record (owner or
//     controller).
//   - rotate (RotateInput → IDOutput): moves an ID to a new key (owner).
//   - controllers (ControllersInput → IDOutput): adds and removes
//     controller addresses (owner).
//   - attrs (AttrsInput → IDOutput): sets and removes attributes (owner or
//     controller).
//
// The contract does not use fmt (messages are concatenated) and does not
// encode with encoding/json: every call starts from the initialised
// snapshot, where encoding/json's reflection caches are empty, so one
// json.Marshal of an ID costs ~0.8 M gas; idjson appends the same bytes
// by hand (docs/benchmarks-idchain-contract.md).
package main

import (
	"slices"

	"github.com/virtual-machine/vm/contracts/idchain/idjson"
	"github.com/virtual-machine/vm/internal/idchain"
	sdk "github.com/virtual-machine/vm/sdk/go"
)

// Event topics.
const (
	topicCreated     = "id_created"          // data: name
	topicRecordSet   = "record_set"          // data: name/key
	topicRecordRm    = "record_removed"      // data: name/key
	topicRotated     = "id_rotated"          // data: name
	topicControllers = "controllers_changed" // data: name
	topicAttrs       = "attrs_changed"       // data: name
)

//go:wasmexport create
func create() {
	const fn = idchain.FnCreate
	var in idchain.CreateInput
	if fast, ok := idjson.ParseCreateInput(sdk.Input()); ok {
		in = *fast
	} else {
		decode(fn, &in)
	}
	checkName(fn, in.Name)
	pub, err := idchain.ParsePubKey(in.PubKey)
	if err != nil {
		refuse(fn, in.Name, err.Error())
	}
	if err := idchain.CheckAttrs(in.Attrs); err != nil {
		refuse(fn, in.Name, err.Error())
	}
	// An existing ID is answered from state alone: no caller, no height,
	// so the result carries no context flag and may become a memo.
	if raw, ok := sdk.Get(idchain.IDKey(in.Name)); ok {
		sdk.Output(createOutput(false, raw))
		return
	}
	caller := sdk.Caller()
	if idchain.ValidAddress(caller) != nil {
		refuse(fn, in.Name, "only an account can create an ID (caller "+quote(caller)+" is not an account address)")
	}
	if addr := idchain.Address(pub); addr != caller {
		refuse(fn, in.Name, "public key "+in.PubKey+" has address "+addr+", not the caller's "+caller)
	}
	attrs := in.Attrs
	if attrs == nil {
		attrs = map[string]string{}
	}
	h := sdk.Height()
	id := &idchain.ID{
		ID: in.Name, Owner: caller, PubKey: in.PubKey,
		Controllers: []string{}, Attrs: attrs, Created: h, Updated: h,
	}
	enc := idjson.AppendID(nil, id)
	sdk.Set(idchain.IDKey(in.Name), enc)
	sdk.Event(topicCreated, []byte(in.Name))
	sdk.Output(createOutput(true, enc))
}

//go:wasmexport set
func set() {
	const fn = idchain.FnSet
	var in idchain.SetInput
	decode(fn, &in)
	checkName(fn, in.Name)
	rec := in.Record
	if err := idchain.CheckRecord(&rec); err != nil {
		refuse(fn, in.Name, err.Error())
	}
	id := load(fn, in.Name)
	caller := mayWrite(fn, id)
	if rec.Private {
		for _, r := range rec.Readers {
			if _, ok := sdk.Get(idchain.IDKey(r)); !ok {
				refuse(fn, in.Name, "record "+rec.Key+": reader "+r+" is not an existing ID")
			}
		}
	}
	rec.By, rec.Updated = caller, sdk.Height()
	enc := idjson.AppendRecord(nil, &rec)
	sdk.Set(idchain.RecordKey(in.Name, rec.Key), enc)
	sdk.Event(topicRecordSet, []byte(in.Name+"/"+rec.Key))
	sdk.Output(recordOutput(in.Name, enc))
}

//go:wasmexport rm
func rm() {
	const fn = idchain.FnRemove
	var in idchain.RemoveInput
	decode(fn, &in)
	checkName(fn, in.Name)
	if err := idchain.ValidKey(in.Key); err != nil {
		refuse(fn, in.Name, err.Error())
	}
	id := load(fn, in.Name)
	mayWrite(fn, id)
	key := idchain.RecordKey(in.Name, in.Key)
	if _, ok := sdk.Get(key); !ok {
		refuse(fn, in.Name, "record "+in.Key+" does not exist")
	}
	sdk.Delete(key)
	sdk.Event(topicRecordRm, []byte(in.Name+"/"+in.Key))
	sdk.Output(recordOutput(in.Name, nil))
}

//go:wasmexport rotate
func rotate() {
	const fn = idchain.FnRotate
	var in idchain.RotateInput
	decode(fn, &in)
	checkName(fn, in.Name)
	pub, err := idchain.ParsePubKey(in.PubKey)
	if err != nil {
		refuse(fn, in.Name, err.Error())
	}
	id := load(fn, in.Name)
	ownerOnly(fn, id)
	owner := idchain.Address(pub)
	switch {
	case owner == id.Owner:
		refuse(fn, in.Name, "public key "+in.PubKey+" is already the owner's")
	case slices.Contains(id.Controllers, owner):
		refuse(fn, in.Name, "the new owner "+owner+" is a controller; remove it first (the owner cannot be its own controller)")
	}
	id.Owner, id.PubKey, id.Updated = owner, in.PubKey, sdk.Height()
	saveID(id)
	sdk.Event(topicRotated, []byte(in.Name))
}

//go:wasmexport controllers
func controllers() {
	const fn = idchain.FnControllers
	var in idchain.ControllersInput
	decode(fn, &in)
	checkName(fn, in.Name)
	if len(in.Add) == 0 && len(in.Remove) == 0 {
		refuse(fn, in.Name, "nothing to add or remove")
	}
	id := load(fn, in.Name)
	ownerOnly(fn, id)
	cs := id.Controllers
	for _, c := range in.Remove {
		i := slices.Index(cs, c)
		if i < 0 {
			refuse(fn, in.Name, quote(c)+" is not a controller")
		}
		cs = slices.Delete(cs, i, i+1)
	}
	for _, c := range in.Add {
		if c == id.Owner {
			refuse(fn, in.Name, "the owner "+c+" cannot be its own controller")
		}
		cs = append(cs, c)
	}
	if err := idchain.CheckControllers(cs); err != nil {
		refuse(fn, in.Name, err.Error())
	}
	id.Controllers, id.Updated = cs, sdk.Height()
	saveID(id)
	sdk.Event(topicControllers, []byte(in.Name))
}

//go:wasmexport attrs
func attrs() {
	const fn = idchain.FnAttrs
	var in idchain.AttrsInput
	decode(fn, &in)
	checkName(fn, in.Name)
	if len(in.Set) == 0 && len(in.Remove) == 0 {
		refuse(fn, in.Name, "nothing to set or remove")
	}
	id := load(fn, in.Name)
	mayWrite(fn, id)
	for _, k := range in.Remove {
		if _, ok := id.Attrs[k]; !ok {
			refuse(fn, in.Name, "attribute "+quote(k)+" does not exist")
		}
		delete(id.Attrs, k)
	}
	for k, v := range in.Set {
		id.Attrs[k] = v
	}
	if err := idchain.CheckAttrs(id.Attrs); err != nil {
		refuse(fn, in.Name, err.Error())
	}
	id.Updated = sdk.Height()
	saveID(id)
	sdk.Event(topicAttrs, []byte(in.Name))
}

// decode reads the input strictly into v or aborts.
func decode(fn string, v any) {
	if err := idchain.DecodeInput(sdk.Input(), v); err != nil {
		sdk.Abort(fn + ": " + err.Error())
	}
}

// checkName aborts unless name is a valid ID name (the message of
// idchain.ValidName names the ID and the rule).
func checkName(fn, name string) {
	if err := idchain.ValidName(name); err != nil {
		sdk.Abort(fn + ": " + err.Error())
	}
}

// load returns the stored ID name or aborts when it does not exist. The
// contract stores IDs in canonical form, which idjson.ParseID reads for a
// fraction of idchain.DecodeID's gas (same result, same checks); anything
// else goes through DecodeID.
func load(fn, name string) *idchain.ID {
	b, ok := sdk.Get(idchain.IDKey(name))
	if !ok {
		sdk.Abort(fn + ": id " + name + " does not exist")
	}
	id, ok := idjson.ParseID(b)
	var err error
	if ok {
		err = idchain.CheckID(id)
	} else {
		id, err = idchain.DecodeID(b)
	}
	if err != nil {
		refuse(fn, name, "stored id record: "+err.Error())
	}
	if id.ID != name { // saveID writes to IDKey(id.ID)
		refuse(fn, name, "stored id record names id "+id.ID)
	}
	if id.Controllers == nil { // written as [], never null
		id.Controllers = []string{}
	}
	if id.Attrs == nil { // written as {}, never null
		id.Attrs = map[string]string{}
	}
	return id
}

// mayWrite returns the caller if it is id's owner or one of its
// controllers, else aborts.
func mayWrite(fn string, id *idchain.ID) string {
	c := sdk.Caller()
	if c != id.Owner && !slices.Contains(id.Controllers, c) {
		refuse(fn, id.ID, "caller "+quote(c)+" is neither the owner nor a controller")
	}
	return c
}

// ownerOnly aborts unless the caller is id's owner.
func ownerOnly(fn string, id *idchain.ID) {
	if c := sdk.Caller(); c != id.Owner {
		refuse(fn, id.ID, "only the owner may do this; caller "+quote(c)+" is not the owner")
	}
}

// refuse aborts fn on ID name with msg.
func refuse(fn, name, msg string) { sdk.Abort(fn + " " + name + ": " + msg) }

// quote makes an untrusted string safe to embed in a message: printable
// ASCII is kept, anything else becomes '?', and it is cut at 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return `"` + string(b) + `"`
}

// createOutput is the JSON of idchain.CreateOutput{Created: created, ID:
// the ID whose stored JSON is enc}: the stored record is the ID's
// canonical JSON (idchain.ID.Encode), so it is spliced, not re-encoded.
func createOutput(created bool, enc []byte) []byte {
	out := make([]byte, 0, len(enc)+32)
	if created {
		out = append(out, `{"created":true,"id":`...)
	} else {
		out = append(out, `{"created":false,"id":`...)
	}
	out = append(out, enc...)
	return append(out, '}')
}

// recordOutput is the JSON of idchain.RecordOutput{ID: name, Record:
// the record whose stored JSON is enc (none if enc is nil)}.
func recordOutput(name string, enc []byte) []byte {
	out := make([]byte, 0, len(enc)+len(name)+24)
	out = append(out, `{"id":`...)
	out = idjson.AppendString(out, name)
	if enc != nil {
		out = append(out, `,"record":`...)
		out = append(out, enc...)
	}
	return append(out, '}')
}

// saveID stores id and outputs idchain.IDOutput{ID: id}.
func saveID(id *idchain.ID) {
	enc := idjson.AppendID(nil, id)
	sdk.Set(idchain.IDKey(id.ID), enc)
	out := make([]byte, 0, len(enc)+8)
	out = append(out, `{"id":`...)
	out = append(out, enc...)
	sdk.Output(append(out, '}'))
}

func main() {}
