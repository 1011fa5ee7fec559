package client

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// ID reads ID name at height (0 = latest): GET /v1/ids/{id}. The answer is
// verified (VerifyID) against its Location, so a node cannot invent or
// alter it. Errors: Invalid for a bad name, NotFound for an ID that does
// not exist (the node's word: absence is not proved here), Unauthorized
// when the answer does not verify.
func (c *Client) ID(ctx context.Context, name string, height int64) (apitype.ID, error) {
	const op = "client.id"
	if err := idchain.ValidName(name); err != nil {
		return apitype.ID{}, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	var out apitype.ID
	if err := c.do(ctx, c.timeout, op, http.MethodGet, heightPath("/v1/ids/"+name, height), nil, &out); err != nil {
		return apitype.ID{}, err
	}
	if err := VerifyID(&out, name); err != nil {
		return apitype.ID{}, err
	}
	return out, nil
}

// VerifyID checks that id is ID name as its Location proves it: the
// location's key is the ID's key in the IDChain's namespace, its proof
// verifies against its app hash, and every field of id is what the proved
// value holds. Errors: Invalid for a missing location, Unauthorized for
// any mismatch.
func VerifyID(id *apitype.ID, name string) error {
	const op = "client.verify_id"
	val, version, err := provedData(op, id.Location, idchain.IDKey(name))
	if err != nil {
		return err
	}
	rec, err := idchain.DecodeID(val)
	if err != nil {
		return vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	want := apitype.ID{ID: rec.ID, Owner: rec.Owner, PubKey: rec.PubKey, Controllers: rec.Controllers, Attrs: rec.Attrs,
		Created: rec.Created, Updated: rec.Updated, Version: version, Height: id.Location.Height}
	if rec.ID != name || !sameID(id, &want) {
		return vmerr.E(op, vmerr.Unauthorized, "id %s: the answer differs from its proved record", name)
	}
	return nil
}

func sameID(a, b *apitype.ID) bool {
	return a.ID == b.ID && a.Owner == b.Owner && a.PubKey == b.PubKey && slices.Equal(a.Controllers, b.Controllers) &&
		maps.Equal(a.Attrs, b.Attrs) && a.Created == b.Created && a.Updated == b.Updated && a.Version == b.Version &&
		a.Height == b.Height
}

// IDRecord reads record key of ID name at height (0 = latest): GET
// /v1/ids/{id}/records/{key}, verified (VerifyIDRecord). Errors: Invalid,
// NotFound (the node's word), Unauthorized.
func (c *Client) IDRecord(ctx context.Context, name, key string, height int64) (apitype.IDRecord, error) {
	const op = "client.id_record"
	if err := idchain.ValidName(name); err != nil {
		return apitype.IDRecord{}, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	if err := idchain.ValidKey(key); err != nil {
		return apitype.IDRecord{}, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	var out apitype.IDRecord
	path := heightPath("/v1/ids/"+name+"/records/"+url.PathEscape(key), height)
	if err := c.do(ctx, c.timeout, op, http.MethodGet, path, nil, &out); err != nil {
		return apitype.IDRecord{}, err
	}
	if err := VerifyIDRecord(&out, name, key); err != nil {
		return apitype.IDRecord{}, err
	}
	return out, nil
}

// IDRecords lists up to limit (0 = 100) records of ID name in key order
// after the key after, at height (0 = latest): GET /v1/ids/{id}/records.
// Every record is verified and the keys must ascend past after; a node
// can still omit records (no completeness proof).
func (c *Client) IDRecords(ctx context.Context, name, after string, limit int, height int64) (apitype.IDRecordList, error) {
	const op = "client.id_records"
	if err := idchain.ValidName(name); err != nil {
		return apitype.IDRecordList{}, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	v := url.Values{}
	if after != "" {
		v.Set("after", after)
	}
	if limit != 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if height != 0 {
		v.Set("height", strconv.FormatInt(height, 10))
	}
	path := "/v1/ids/" + name + "/records"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var out apitype.IDRecordList
	if err := c.do(ctx, c.timeout, op, http.MethodGet, path, nil, &out); err != nil {
		return apitype.IDRecordList{}, err
	}
	prev := after
	for i := range out.Records {
		r := &out.Records[i]
		if prev != "" && r.Key <= prev {
			return apitype.IDRecordList{}, vmerr.E(op, vmerr.Unauthorized, "records out of order at %q", r.Key)
		}
		if err := VerifyIDRecord(r, name, r.Key); err != nil {
			return apitype.IDRecordList{}, err
		}
		prev = r.Key
	}
	return out, nil
}

// VerifyIDRecord checks r against its Location like VerifyID.
func VerifyIDRecord(r *apitype.IDRecord, name, key string) error {
	const op = "client.verify_id_record"
	val, version, err := provedData(op, r.Location, idchain.RecordKey(name, key))
	if err != nil {
		return err
	}
	rec, err := idchain.DecodeRecord(val)
	if err != nil {
		return vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	ok := r.ID == name && r.Key == key && rec.Key == key && r.Value == rec.Value && r.Private == rec.Private &&
		bytes.Equal(r.Ciphertext, rec.Ciphertext) && slices.Equal(r.Readers, rec.Readers) && r.By == rec.By &&
		r.Updated == rec.Updated && r.Version == version && r.Height == r.Location.Height
	if !ok {
		return vmerr.E(op, vmerr.Unauthorized, "record %s/%s: the answer differs from its proved record", name, key)
	}
	return nil
}

// provedData checks loc proves key of the IDChain's namespace present and
// returns the stored value and its data version.
func provedData(op string, loc *apitype.Location, key []byte) ([]byte, uint64, error) {
	raw, err := provedValue(op, loc, state.DataKey(idchain.Contract, key))
	if err != nil {
		return nil, 0, err
	}
	version, val, err := state.DecodeData(raw)
	if err != nil {
		return nil, 0, vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	return val, version, nil
}
