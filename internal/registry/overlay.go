package registry

import (
	"bytes"
	"slices"
)

// MergeScan scans base over [start, end) with pending writes laid over
// it: keys are the pending keys (any order; MergeScan sorts a copy), value
// returns a pending key's value (nil = deleted). A pending key wins over
// base on equal keys; deleted keys never show.
func MergeScan(base Reader, start, end []byte, ascending bool, keys []string, value func(k string) []byte, f func(k, v []byte) bool) error {
	var pend []string
	for _, k := range keys {
		if k >= string(start) && (end == nil || k < string(end)) {
			pend = append(pend, k)
		}
	}
	slices.Sort(pend)
	if !ascending {
		slices.Reverse(pend)
	}
	first := func(x string, y []byte) bool { // x comes before y in scan order
		c := bytes.Compare([]byte(x), y)
		return (ascending && c < 0) || (!ascending && c > 0)
	}
	stopped := false
	emit := func(k string) bool {
		if v := value(k); v != nil && !f([]byte(k), v) {
			stopped = true
		}
		return !stopped
	}
	err := base.Scan(start, end, ascending, func(k, v []byte) bool {
		for len(pend) > 0 && first(pend[0], k) {
			if !emit(pend[0]) {
				return false
			}
			pend = pend[1:]
		}
		if len(pend) > 0 && pend[0] == string(k) {
			ok := emit(pend[0])
			pend = pend[1:]
			return ok
		}
		if !f(k, v) {
			stopped = true
		}
		return !stopped
	})
	if err != nil {
		return err
	}
	for _, k := range pend {
		if stopped || !emit(k) {
			break
		}
	}
	return nil
}

// Overlay is a Store of pending writes over a Reader: what a transaction
// would write, kept apart from the state it reads (a dry run, or a
// transaction applied all or nothing by writing Writes afterwards).
type Overlay struct {
	Base   Reader
	writes map[string][]byte // nil value: deleted
}

// Get reads key, pending writes first.
func (o *Overlay) Get(key []byte) ([]byte, error) {
	if v, ok := o.writes[string(key)]; ok {
		return v, nil
	}
	return o.Base.Get(key)
}

// Set records a pending write (nil deletes).
func (o *Overlay) Set(key, val []byte) error {
	if o.writes == nil {
		o.writes = map[string][]byte{}
	}
	o.writes[string(key)] = val
	return nil
}

// Scan merges the pending writes over Base.
func (o *Overlay) Scan(start, end []byte, ascending bool, f func(k, v []byte) bool) error {
	keys := make([]string, 0, len(o.writes))
	for k := range o.writes {
		keys = append(keys, k)
	}
	return MergeScan(o.Base, start, end, ascending, keys, func(k string) []byte { return o.writes[k] }, f)
}

// Writes returns the pending writes in key order (nil values delete).
func (o *Overlay) Writes() (keys [][]byte, values [][]byte) {
	ks := make([]string, 0, len(o.writes))
	for k := range o.writes {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		keys, values = append(keys, []byte(k)), append(values, o.writes[k])
	}
	return keys, values
}
