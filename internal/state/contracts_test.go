package state_test

import (
	"bytes"
	"testing"

	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
)

func TestRecordHashIgnoresYank(t *testing.T) {
	v := &statepb.Version{Name: "hello", Version: "1.0.0", Seq: 1}
	h := state.RecordHash(v)
	v.Yanked = true
	if state.RecordHash(v) != h || !v.Yanked {
		t.Fatal("yanking changed the record hash or the record")
	}
	v.Seq = 2
	if state.RecordHash(v) == h {
		t.Fatal("an immutable field did not change the hash")
	}
}

func TestKeysDoNotInterleave(t *testing.T) {
	// "a" and "a-b" share a name prefix; their version ranges must not.
	a, ab := state.VersionPrefix("a"), state.VersionPrefix("a-b")
	if bytes.HasPrefix(ab, a) || bytes.HasPrefix(a, ab) {
		t.Fatalf("version prefixes %x and %x overlap", a, ab)
	}
	if !bytes.HasPrefix(state.VersionKey("a", []byte{1}), a) || !bytes.HasPrefix(state.TagKey("t", "a"), state.TagPrefix("t")) {
		t.Fatal("keys lack their prefix")
	}
}

// FuzzDecodeList: never panics; a decoded list re-encodes to bytes that
// decode to the same items (the input may use non-minimal uvarints).
func FuzzDecodeList(f *testing.F) {
	f.Add(state.EncodeList([][]byte{[]byte("a"), {}, []byte("bcd")}))
	f.Add([]byte{0x80})
	f.Add([]byte{5, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := state.DecodeList(b)
		if err != nil {
			return
		}
		again, err := state.DecodeList(state.EncodeList(items))
		if err != nil || len(again) != len(items) {
			t.Fatalf("re-encoding changed the list: %v", err)
		}
		for i := range items {
			if !bytes.Equal(again[i], items[i]) {
				t.Fatalf("item %d changed", i)
			}
		}
	})
}

// FuzzDecodeRecords: stored records never panic the decoders.
func FuzzDecodeRecords(f *testing.F) {
	f.Add(state.EncodeRecord(&statepb.Version{Name: "hello", Version: "1.0.0", Tags: []string{"x"}}))
	f.Add(state.EncodeRecord(&statepb.Version{Version: "2.0.0-rc.1", Interface: make([]byte, 300), Yanked: true}))
	f.Add(state.EncodeRecord(&statepb.Contract{Name: "hello", Owner: make([]byte, 20)}))
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := state.DecodeVersion(b); err == nil {
			_ = state.VersionView(v, nil, 1)
			_ = state.RecordHash(v)
			ver, yanked, err := state.VersionHead(b)
			if err != nil || ver != v.Version || yanked != v.Yanked {
				t.Fatalf("VersionHead = %q %v %v, record %q %v", ver, yanked, err, v.Version, v.Yanked)
			}
		}
		if c, err := state.DecodeContract(b); err == nil {
			_ = state.ContractView(c, 1)
		}
	})
}
