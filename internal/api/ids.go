package api

import (
	"context"
	"net/http"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// The IDChain routes read the system contract idchain's namespace through
// the Backend's Data and DataRange, so they answer from state, free, with
// the same Locations (namespace "data") as GET /v1/state.

// MaxRecordLimit is the largest ?limit= of GET /v1/ids/{id}/records.
const MaxRecordLimit = 1000

// getID is GET /v1/ids/{id}?height=H&prove=true|false: the ID's record,
// 404 when no such ID exists.
func (s *Server) getID(w http.ResponseWriter, r *http.Request) error {
	const op = "api.id"
	name, err := idParam(op, r)
	if err != nil {
		return err
	}
	height, prove, err := heightProve(op, r)
	if err != nil {
		return err
	}
	out, err := loadID(r.Context(), s.b, name, height, prove)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// loadID reads ID name from b at height, or, for height 0, at the height
// at which its current record was written (writtenAt), so the location of
// an ID stays the same until the ID changes. Errors: NotFound for an ID
// that does not exist, Internal for a stored record that does not decode,
// and b's.
func loadID(ctx context.Context, b MarketBackend, name string, height int64, prove bool) (apitype.ID, error) {
	const op = "api.id"
	var rec *idchain.ID
	e, err := stableEntry(ctx, b, idchain.IDKey(name), height, prove, func(v []byte) (int64, error) {
		var err error
		if rec, err = idchain.DecodeID(v); err != nil {
			return 0, vmerr.Wrap(op, vmerr.Internal, err)
		}
		return rec.Updated, nil
	})
	if err != nil {
		return apitype.ID{}, err
	}
	if !e.Found {
		return apitype.ID{}, vmerr.E(op, vmerr.NotFound, "id %q does not exist at height %d", name, e.Height)
	}
	return apitype.ID{ID: rec.ID, Owner: rec.Owner, PubKey: rec.PubKey, Controllers: nonNil(rec.Controllers),
		Attrs: rec.Attrs, Created: rec.Created, Updated: rec.Updated, Version: e.Version, Height: e.Height,
		Location: e.Location}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// stableEntry reads key of the IDChain's namespace at height or, for
// height 0, at the height at which its current value was first committed
// (writtenAt), so its location stays the same until the value changes.
// decode decodes a present value (once: the value is the same at both
// heights) and returns the height of the request that wrote it. An absent
// key is an entry with Found false.
func stableEntry(ctx context.Context, b MarketBackend, key []byte, height int64, prove bool, decode func([]byte) (int64, error)) (apitype.DataEntry, error) {
	e, err := b.Data(ctx, idchain.Contract, key, height, prove && height != 0)
	if err != nil || !e.Found {
		return e, err
	}
	updated, err := decode(e.Value)
	if err != nil || height != 0 {
		return e, err
	}
	return writtenAt(ctx, b, key, e, updated, prove)
}

// writtenAt returns latest's entry at the first height at which it held
// latest's version, searching from after height from (the height of the
// request that wrote it: its result settles in a later block) to
// latest.Height. Every write has a new version, so the entry holds it on
// exactly one range of heights ending at latest.
func writtenAt(ctx context.Context, b MarketBackend, key []byte, latest apitype.DataEntry, from int64, prove bool) (apitype.DataEntry, error) {
	lo, hi := max(from+1, 1), latest.Height // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		e, err := b.Data(ctx, idchain.Contract, key, mid, false)
		if err != nil {
			return apitype.DataEntry{}, err
		}
		if e.Found && e.Version == latest.Version {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return b.Data(ctx, idchain.Contract, key, hi, prove)
}

// getIDRecord is GET /v1/ids/{id}/records/{key}?height=H&prove=: one
// record, 404 when absent; without a height, at the height at which it
// was written, like an ID.
func (s *Server) getIDRecord(w http.ResponseWriter, r *http.Request) error {
	const op = "api.id_record"
	name, err := idParam(op, r)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	if err := idchain.ValidKey(key); err != nil {
		return vmerr.Wrap(op, vmerr.Invalid, err)
	}
	height, prove, err := heightProve(op, r)
	if err != nil {
		return err
	}
	var rec *idchain.Record
	e, err := stableEntry(r.Context(), s.b, idchain.RecordKey(name, key), height, prove, func(v []byte) (int64, error) {
		var err error
		if rec, err = decodeRecord(v); err != nil {
			return 0, err
		}
		return rec.Updated, nil
	})
	if err != nil {
		return err
	}
	if !e.Found {
		return vmerr.E(op, vmerr.NotFound, "id %q has no record %q at height %d", name, key, e.Height)
	}
	writeJSON(w, http.StatusOK, idRecordOf(name, rec, e))
	return nil
}

func decodeRecord(v []byte) (*idchain.Record, error) {
	rec, err := idchain.DecodeRecord(v)
	if err != nil {
		return nil, vmerr.Wrap("api.id_record", vmerr.Internal, err)
	}
	return rec, nil
}

// idRecord decodes entry e of ID name's records.
func idRecord(name string, e apitype.DataEntry) (apitype.IDRecord, error) {
	rec, err := decodeRecord(e.Value)
	if err != nil {
		return apitype.IDRecord{}, err
	}
	return idRecordOf(name, rec, e), nil
}

// idRecordOf is the answer for rec, stored as entry e.
func idRecordOf(name string, rec *idchain.Record, e apitype.DataEntry) apitype.IDRecord {
	return apitype.IDRecord{ID: name, Key: rec.Key, Value: rec.Value, Private: rec.Private, Ciphertext: rec.Ciphertext,
		Readers: rec.Readers, By: rec.By, Updated: rec.Updated, Version: e.Version, Height: e.Height, Location: e.Location}
}

// listIDRecords is GET /v1/ids/{id}/records?after=KEY&limit=N&height=H:
// the ID's records in key order strictly after `after`, each with its
// Location; limit is 1..1000 (default 100). An unknown ID answers 404.
func (s *Server) listIDRecords(w http.ResponseWriter, r *http.Request) error {
	const op = "api.id_records"
	name, err := idParam(op, r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	start, end := idchain.RecordRange(name)
	if after := q.Get("after"); after != "" {
		if err := idchain.ValidKey(after); err != nil {
			return vmerr.Wrap(op, vmerr.Invalid, err)
		}
		start = append(idchain.RecordKey(name, after), 0)
	}
	limit, err := limitParam(op, q, MaxRecordLimit)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = 100
	}
	height, err := heightParam(op, q)
	if err != nil {
		return err
	}
	e, err := s.b.Data(r.Context(), idchain.Contract, idchain.IDKey(name), height, false)
	if err != nil {
		return err
	}
	if !e.Found {
		return vmerr.E(op, vmerr.NotFound, "id %q does not exist at height %d", name, e.Height)
	}
	rg, err := s.b.DataRange(r.Context(), idchain.Contract, start, end, limit, e.Height)
	if err != nil {
		return err
	}
	out := apitype.IDRecordList{ID: name, Records: make([]apitype.IDRecord, 0, len(rg.Entries)), Height: rg.Height}
	for _, e := range rg.Entries {
		rec, err := idRecord(name, e)
		if err != nil {
			return err
		}
		out.Records = append(out.Records, rec)
	}
	if len(out.Records) == limit {
		out.Next = out.Records[len(out.Records)-1].Key
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getDID is GET /v1/ids/{id}/did.json: the ID's DID document (DIDDocument).
func (s *Server) getDID(w http.ResponseWriter, r *http.Request) error {
	const op = "api.did"
	name, err := idParam(op, r)
	if err != nil {
		return err
	}
	height, err := heightParam(op, r.URL.Query())
	if err != nil {
		return err
	}
	id, err := loadID(r.Context(), s.b, name, height, false)
	if err != nil {
		return err
	}
	doc, err := DIDDocument(id)
	if err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}
	w.Header().Set("Content-Type", "application/did+json")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(doc)
	return err
}

// idParam reads {id}: a valid ID name.
func idParam(op string, r *http.Request) (string, error) {
	name := r.PathValue("id")
	if err := idchain.ValidName(name); err != nil {
		return "", vmerr.Wrap(op, vmerr.Invalid, err)
	}
	return name, nil
}
