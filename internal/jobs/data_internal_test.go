package jobs

import (
	"bytes"
	"testing"

	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/registry"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/wasm"
)

// empty is a Reader with nothing in it.
type empty struct{}

func (empty) Get([]byte) ([]byte, error)                              { return nil, nil }
func (empty) Scan([]byte, []byte, bool, func(k, v []byte) bool) error { return nil }

// TestWriteVersions: every applied write gets a version never given
// before, even a key deleted and written again with the same value, so a
// memo or read set that names a version names one value.
func TestWriteVersions(t *testing.T) {
	s := &registry.Overlay{Base: empty{}}
	st := DataState{R: s, Name: "c"}
	seen := map[uint64]bool{}
	steps := [][]wasm.Write{
		{{Contract: "c", Key: []byte("a"), Value: []byte("1")}, {Contract: "c", Key: []byte("b"), Value: []byte("2")}},
		{{Contract: "c", Key: []byte("a"), Delete: true}},
		{{Contract: "c", Key: []byte("a"), Value: []byte("1")}},
		{{Contract: "c", Key: []byte("a"), Value: []byte("1")}},
	}
	for i, ws := range steps {
		if err := applyWrites(s, ws); err != nil {
			t.Fatal(err)
		}
		v, ver, found, err := st.Get([]byte("a"))
		if err != nil {
			t.Fatal(err)
		}
		if ws[0].Delete {
			if found {
				t.Fatalf("step %d: deleted key found", i)
			}
			continue
		}
		if !found || !bytes.Equal(v, []byte("1")) || ver == 0 || seen[ver] {
			t.Fatalf("step %d: %q version %d (found %v), versions so far %v", i, v, ver, found, seen)
		}
		seen[ver] = true
	}
	es, err := st.Range(nil, nil, 10)
	if err != nil || len(es) != 2 || string(es[0].Key) != "a" || string(es[1].Key) != "b" {
		t.Fatalf("range %+v %v", es, err)
	}
	if i, err := stale(s, []wasm.Read{{Contract: "c", Key: []byte("b"), Found: true, Version: es[1].Version}, {Contract: "c", Key: []byte("z")}}); err != nil || i != -1 {
		t.Fatalf("current reads stale at %d (%v)", i, err)
	}
	if i, _ := stale(s, []wasm.Read{{Contract: "c", Key: []byte("a"), Found: true, Version: es[1].Version}}); i != 0 {
		t.Fatal("a read of another version is current")
	}
}

// TestNextDue: the deadline index looks at a request exactly when its
// phase can change without a message.
func TestNextDue(t *testing.T) {
	j := func(closed int64, commits int) *market.Job {
		cs := make([]market.Commit, commits)
		for i := range cs {
			cs[i].Height = 101 + int64(i) // the window opens with the first seal, at 101
		}
		return &market.Job{Replicas: 3, Quorum: 2, Start: 100, Deadline: 200, CommitWindow: 5, RevealWindow: 5,
			ClosedAt: closed, Commits: cs}
	}
	for _, tt := range []struct {
		name string
		job  *market.Job
		want int64
	}{
		{"nobody sealed: the deadline", j(0, 0), 201},
		{"open, short of quorum: commit window end", j(0, 1), 107},
		{"open, quorum sealed: reveal window end after the commit window", j(0, 2), 112},
		{"closed by the k-th seal", j(102, 3), 108},
		{"deadline first", &market.Job{Replicas: 1, Quorum: 1, Start: 100, Deadline: 103, CommitWindow: 5, RevealWindow: 5}, 104},
	} {
		if got := nextDue(tt.job); got != tt.want {
			t.Errorf("%s: due %d, want %d", tt.name, got, tt.want)
		}
		for h := tt.job.Start; h < nextDue(tt.job); h++ { // nothing changes before it
			if ph := tt.job.Phase(h); ph != market.PhaseCommit && ph != market.PhaseReveal {
				t.Errorf("%s: phase %s at %d, before the due height", tt.name, ph, h)
			}
		}
	}
}

// TestSaveIndexes: an open request is in the deadline index at its due
// height; a closed one is not.
func TestSaveIndexes(t *testing.T) {
	s := &registry.Overlay{Base: empty{}}
	id := [32]byte{7}
	m := &statepb.Request{Id: id[:], Requester: make([]byte, 20), Replicas: 1, Quorum: 1, Start: 10, Deadline: 30,
		CommitWindow: 5, RevealWindow: 5, Status: StatusOpen}
	if err := save(s, m); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(state.DueKey(31, id)); v == nil || m.Due != 31 { // nobody sealed: its deadline
		t.Fatalf("due %d, index %x", m.Due, v)
	}
	m.Status = StatusSettled
	if err := save(s, m); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(state.DueKey(31, id)); v != nil {
		t.Fatal("closed request still indexed")
	}
}
