package meter

// MaxUncountedHeight bounds the call chains of functions that skip depth
// accounting (see "Function prologue and epilogue" in doc.go): a function
// is uncounted only if its longest chain of calls, itself included, has at
// most this many frames.
const MaxUncountedHeight = 8

// funcInfo is what the pre-scan of one function body found.
type funcInfo struct {
	early  bool     // a return, or a branch to the function's label
	opaque bool     // a call_indirect, a call of an import, or undecodable code
	calls  []uint32 // defined-function indices called directly
}

// scanFunc pre-scans defined function i. Decoding errors make it opaque
// and early (the most conservative answer); the rewrite reports them.
func (w *rewriter) scanFunc(i int) funcInfo {
	c := &w.m.codes[i]
	nImp := uint32(len(w.m.imports))
	var fi funcInfo
	r := &reader{b: c.body, base: c.base}
	depth := uint32(0)
	for !r.eof() {
		in, err := r.instr()
		if err != nil {
			return funcInfo{early: true, opaque: true}
		}
		switch in.op {
		case opBlock, opLoop, opIf:
			depth++
		case opEnd:
			depth--
		case opReturn:
			fi.early = true
		case opBr, opBrIf, opBrTable:
			// imm is the deepest label; the function label is the deepest.
			fi.early = fi.early || in.imm == depth
		case opCall:
			if in.imm < nImp {
				fi.opaque = true
			} else {
				fi.calls = append(fi.calls, in.imm-nImp)
			}
		case opCallIndirect:
			fi.opaque = true
		}
	}
	return fi
}

// uncounted decides which defined functions skip depth accounting: those
// whose height is at most MaxUncountedHeight, where a function that is
// opaque or part of a call cycle has infinite height and any other has
// 1 + the largest height of its direct callees (1 with none). So an
// uncounted function calls only uncounted functions, never an import or
// through a table, and can never be re-entered while it is active.
func uncounted(infos []funcInfo) []bool {
	const visiting = -1
	inf := MaxUncountedHeight + 1
	h := make([]int, len(infos)) // 0 unknown, visiting, else the height (capped at inf)
	var height func(f uint32) int
	height = func(f uint32) int {
		switch h[f] {
		case visiting:
			return inf // a cycle
		case 0:
		default:
			return h[f]
		}
		if infos[f].opaque {
			h[f] = inf
			return inf
		}
		h[f] = visiting
		best := 1
		for _, c := range infos[f].calls {
			if int(c) >= len(infos) {
				best = inf
				break
			}
			if ch := height(c) + 1; ch > best {
				best = min(ch, inf)
			}
			if best >= inf {
				break
			}
		}
		h[f] = best
		return best
	}
	out := make([]bool, len(infos))
	for f := range infos {
		out[f] = height(uint32(f)) <= MaxUncountedHeight
	}
	return out
}
