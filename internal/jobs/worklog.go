package jobs

import (
	"strconv"
	"strings"
)

// workLogPrefix starts the log of a committed work-only transaction.
const workLogPrefix = "work: "

// WorkLog is the ABCI log of a committed work-only transaction (only
// Seal, Reveal and Result messages): which of its messages the market
// refused, by index, in increasing order — the same indexes as its
// "work_refused" events. A miner reads it from its submission's answer
// instead of reading the transaction back for the events. The log is not
// part of the block's results hash; it is still a function of the block
// alone.
func WorkLog(refused []int) string {
	if len(refused) == 0 {
		return workLogPrefix + "all applied"
	}
	b := []byte(workLogPrefix + "refused ")
	for i, n := range refused {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return string(b)
}

// ParseWorkLog parses a WorkLog: the refused indexes (nil for none) and
// ok. It accepts exactly what WorkLog writes (indexes in increasing
// order, decimal without leading zeros); ok is false for any other log (a node that does not write it, or a
// transaction that is not work-only); the caller then reads the events.
func ParseWorkLog(log string) (refused map[int]bool, ok bool) {
	rest, found := strings.CutPrefix(log, workLogPrefix)
	switch {
	case !found:
		return nil, false
	case rest == "all applied":
		return nil, true
	}
	list, found := strings.CutPrefix(rest, "refused ")
	if !found || list == "" {
		return nil, false
	}
	refused = map[int]bool{}
	last := -1
	for f := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n <= last || strconv.Itoa(n) != f {
			return nil, false // not canonical: what WorkLog writes only
		}
		refused[n], last = true, n
	}
	return refused, true
}
