package jobs_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/virtual-machine/vm/internal/jobs"
)

func TestWorkLog(t *testing.T) {
	tests := []struct {
		name    string
		in      []int
		want    string
		refused map[int]bool
	}{
		{"none", nil, "work: all applied", nil},
		{"one", []int{0}, "work: refused 0", map[int]bool{0: true}},
		{"some", []int{1, 4, 17}, "work: refused 1,4,17", map[int]bool{1: true, 4: true, 17: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := jobs.WorkLog(tt.in)
			if got != tt.want {
				t.Fatalf("WorkLog(%v) = %q, want %q", tt.in, got, tt.want)
			}
			refused, ok := jobs.ParseWorkLog(got)
			if !ok || !maps.Equal(refused, tt.refused) {
				t.Fatalf("ParseWorkLog(%q) = %v, %v; want %v, true", got, refused, ok, tt.refused)
			}
		})
	}
}

func TestParseWorkLogRejects(t *testing.T) {
	for _, in := range []string{"", "all applied", "work: ", "work: refused ", "work: refused 1,", "work: refused -1",
		"work: refused 01", "work: refused x", "work: refused 1,,2", "work: refused 3,1", "work: refused 2,2", "nonce 3 for x, expected 2", "work: all applied "} {
		if refused, ok := jobs.ParseWorkLog(in); ok {
			t.Errorf("ParseWorkLog(%q) = %v, true; want false", in, refused)
		}
	}
}

// FuzzParseWorkLog: whatever parses is exactly what WorkLog writes for
// its indexes.
func FuzzParseWorkLog(f *testing.F) {
	f.Add("work: all applied")
	f.Add("work: refused 0,3")
	f.Add("work: refused 99999999999999999999")
	f.Fuzz(func(t *testing.T, in string) {
		refused, ok := jobs.ParseWorkLog(in)
		if !ok {
			return
		}
		var idx []int
		for i := range refused {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		if got := jobs.WorkLog(idx); got != in {
			t.Fatalf("ParseWorkLog(%q) = %v, which WorkLog writes as %q", in, refused, got)
		}
	})
}
