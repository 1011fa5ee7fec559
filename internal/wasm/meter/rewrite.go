package meter

import "strconv"

// Names the rewrite exports. Original modules may not export any name with
// the vm_ prefix.
const (
	ExportGas    = "vm_gas"    // mutable i64: gas left
	ExportStatus = "vm_status" // mutable i32: StatusOK, StatusOutOfGas, StatusCallDepth
	ExportDepth  = "vm_depth"  // mutable i32: current call depth
	ExportStart  = "vm_start"  // the original start function, if any
	ExportMemory = "vm_memory" // memory 0, if any
	ExportTable  = "vm_table"  // table 0, if any
	// ExportGlobalPrefix + decimal index names each defined mutable global
	// of the original, for example "vm_g3".
	ExportGlobalPrefix = "vm_g"
)

// Values of vm_status.
const (
	StatusOK        = 0
	StatusOutOfGas  = 1
	StatusCallDepth = 2
)

type rewriter struct {
	cfg                *Config
	m                  *module
	gas, status, depth uint32 // indices of the appended globals
	extraTypes         []funcType
	infos              []funcInfo // pre-scan of each defined function
	uncounted          []bool     // defined functions without depth accounting
}

func newRewriter(m *module, cfg *Config) *rewriter {
	n := uint32(len(m.globals)) // global imports are refused, so no offset
	return &rewriter{cfg: cfg, m: m, gas: n, status: n + 1, depth: n + 2}
}

// encode assembles the metered module.
func (w *rewriter) encode() ([]byte, error) {
	m, cfg := w.m, w.cfg
	// Code first: it may append block types to the type section.
	var codeSec []byte
	w.infos = make([]funcInfo, len(m.codes))
	for i := range m.codes {
		w.infos[i] = w.scanFunc(i)
	}
	w.uncounted = uncounted(w.infos)
	if len(m.codes) > 0 {
		codeSec = appendULEB(nil, uint64(len(m.codes)))
		for i := range m.codes {
			body, err := w.function(i)
			if err != nil {
				return nil, err
			}
			codeSec = appendULEB(codeSec, uint64(len(body)))
			codeSec = append(codeSec, body...)
		}
	}

	out := append([]byte(nil), wasmHeader...)
	if types := append(append([]funcType(nil), m.types...), w.extraTypes...); len(types) > 0 {
		p := appendULEB(nil, uint64(len(types)))
		for _, t := range types {
			p = appendFuncType(p, t)
		}
		out = appendSection(out, secType, p)
	}
	if len(m.imports) > 0 {
		p := appendULEB(nil, uint64(len(m.imports)))
		for _, imp := range m.imports {
			p = appendName(p, imp.module)
			p = appendName(p, imp.name)
			p = append(p, extFunc)
			p = appendULEB(p, uint64(imp.typ))
		}
		out = appendSection(out, secImport, p)
	}
	if len(m.funcs) > 0 {
		p := appendULEB(nil, uint64(len(m.funcs)))
		for _, t := range m.funcs {
			p = appendULEB(p, uint64(t))
		}
		out = appendSection(out, secFunction, p)
	}
	if len(m.tables) > 0 {
		p := appendULEB(nil, uint64(len(m.tables)))
		for _, t := range m.tables {
			l := t.lim
			if !l.hasMax {
				l.hasMax, l.max = true, max(cfg.MaxTableSize, l.min)
			}
			p = append(p, byte(t.ref))
			p = appendLimits(p, l)
		}
		out = appendSection(out, secTable, p)
	}
	if len(m.mems) > 0 {
		l := m.mems[0]
		if !l.hasMax {
			l.hasMax, l.max = true, max(cfg.MaxMemoryPages, l.min)
		}
		out = appendSection(out, secMemory, appendLimits([]byte{1}, l))
	}
	{
		p := appendULEB(nil, uint64(len(m.globals)+3))
		for _, g := range m.globals {
			p = append(p, byte(g.typ), boolByte(g.mut))
			p = append(p, g.init...)
		}
		p = append(p, byte(I64), 1, opI64Const, 0, opEnd) // vm_gas
		p = append(p, byte(I32), 1, opI32Const, 0, opEnd) // vm_status
		p = append(p, byte(I32), 1, opI32Const, 0, opEnd) // vm_depth
		out = appendSection(out, secGlobal, p)
	}
	{
		exps := append([]export(nil), m.exports...)
		exps = append(exps,
			export{ExportGas, extGlobal, w.gas},
			export{ExportStatus, extGlobal, w.status},
			export{ExportDepth, extGlobal, w.depth})
		if m.hasStart {
			exps = append(exps, export{ExportStart, extFunc, m.start})
		}
		if len(m.mems) > 0 {
			exps = append(exps, export{ExportMemory, extMemory, 0})
		}
		if len(m.tables) > 0 {
			exps = append(exps, export{ExportTable, extTable, 0})
		}
		for i, g := range m.globals {
			if g.mut {
				exps = append(exps, export{globalExportName(uint32(i)), extGlobal, uint32(i)})
			}
		}
		p := appendULEB(nil, uint64(len(exps)))
		for _, e := range exps {
			p = appendName(p, e.name)
			p = append(p, e.kind)
			p = appendULEB(p, uint64(e.idx))
		}
		out = appendSection(out, secExport, p)
	}
	if m.hasElem {
		out = appendSection(out, secElement, m.elem)
	}
	if m.hasDCount {
		out = appendSection(out, secDataCount, m.dataCount)
	}
	if codeSec != nil {
		out = appendSection(out, secCode, codeSec)
	}
	if m.hasData {
		out = appendSection(out, secData, m.data)
	}
	return out, nil
}

func globalExportName(idx uint32) string {
	return ExportGlobalPrefix + strconv.FormatUint(uint64(idx), 10)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// blockType returns the block type encoding for [] -> results, appending a
// function type when more than one result needs a type index.
func (w *rewriter) blockType(results []ValType) []byte {
	switch len(results) {
	case 0:
		return []byte{blockTypeEmpty}
	case 1:
		return []byte{byte(results[0])}
	}
	want := funcType{params: []ValType{}, results: results}
	for i, t := range w.m.types {
		if t.equal(want) {
			return appendSLEB(nil, int64(i))
		}
	}
	for i, t := range w.extraTypes {
		if t.equal(want) {
			return appendSLEB(nil, int64(len(w.m.types)+i))
		}
	}
	w.extraTypes = append(w.extraTypes, want)
	return appendSLEB(nil, int64(len(w.m.types)+len(w.extraTypes)-1))
}

func (w *rewriter) cost(in instr) uint64 {
	if in.op == opPrefixMisc {
		if in.sub < uint32(len(w.cfg.Costs.Misc)) {
			return uint64(w.cfg.Costs.Misc[in.sub])
		}
		return 0
	}
	return uint64(w.cfg.Costs.Op[in.op])
}

// fn holds the per-function state of the rewrite.
type fn struct {
	w      *rewriter
	tmpG   uint32 // i64 scratch for the gas counter
	tmpT   uint32 // i32: vm_depth at entry (restored by the epilogue)
	tmpN   uint32 // i32 scratch for dynamic lengths
	tmpF32 uint32
	tmpF64 uint32
	spill  uint32 // first of len(results) spill locals
	used   uint32 // number of new locals that must be declared

	counted bool // the function keeps vm_depth (see uncounted)
	wrapped bool // the body is wrapped in a block (it has early exits)
}

func (f *fn) use(idx uint32) uint32 {
	if n := idx - f.tmpG + 1; n > f.used {
		f.used = n
	}
	return idx
}

// trap appends "if; i32.const code; global.set vm_status; unreachable; end".
func (f *fn) trap(b []byte, status int64) []byte {
	b = append(b, opIf, blockTypeEmpty, opI32Const)
	b = appendSLEB(b, status)
	b = append(b, opGlobalSet)
	b = appendULEB(b, uint64(f.w.status))
	return append(b, opUnreachable, opEnd)
}

// charge appends the static charge of one metered block.
func (f *fn) charge(b []byte, cost uint64) []byte {
	b = append(b, opGlobalGet)
	b = appendULEB(b, uint64(f.w.gas))
	b = append(b, opI64Const)
	b = appendSLEB(b, int64(cost))
	b = append(b, opI64Sub)
	return f.store(b)
}

// store appends "local.tee g; global.set vm_gas; local.get g; i64.const 0;
// i64.lt_s; if <out of gas> end" for a new counter value on the stack.
func (f *fn) store(b []byte) []byte {
	b = append(b, opLocalTee)
	b = appendULEB(b, uint64(f.use(f.tmpG)))
	b = append(b, opGlobalSet)
	b = appendULEB(b, uint64(f.w.gas))
	b = append(b, opLocalGet)
	b = appendULEB(b, uint64(f.tmpG))
	b = append(b, opI64Const, 0, opI64LtS)
	return f.trap(b, StatusOutOfGas)
}

// entryCharge appends the charge of the entry block merged with the depth
// check, one branch for both: the depth before entry is in $t, and
// (gas - cost) | i64(MaxCallDepth - 1 - $t) is negative iff either failed;
// the trap block then stores status 2 if the depth failed, else 1.
func (f *fn) entryCharge(b []byte, cost uint64) []byte {
	w := f.w
	b = append(b, opGlobalGet)
	b = appendULEB(b, uint64(w.gas))
	b = append(b, opI64Const)
	b = appendSLEB(b, int64(cost))
	b = append(b, opI64Sub, opLocalTee)
	b = appendULEB(b, uint64(f.use(f.tmpG)))
	b = append(b, opGlobalSet)
	b = appendULEB(b, uint64(w.gas))
	b = append(b, opLocalGet)
	b = appendULEB(b, uint64(f.tmpG))
	b = append(b, opI32Const)
	b = appendSLEB(b, int64(int32(w.cfg.MaxCallDepth-1)))
	b = append(b, opLocalGet)
	b = appendULEB(b, uint64(f.tmpT))
	b = append(b, opI32Sub, 0xAC /* i64.extend_i32_s */, 0x84 /* i64.or */, opI64Const, 0, opI64LtS)
	b = append(b, opIf, blockTypeEmpty, opI32Const, StatusCallDepth, opI32Const, StatusOutOfGas, opLocalGet)
	b = appendULEB(b, uint64(f.tmpT))
	b = append(b, opI32Const)
	b = appendSLEB(b, int64(int32(w.cfg.MaxCallDepth)))
	b = append(b, 0x4F /* i32.ge_u */, opSelect, opGlobalSet)
	b = appendULEB(b, uint64(w.status))
	return append(b, opUnreachable, opEnd)
}

// dynCharge appends the charge of perUnit times the i32 length on top of
// the stack, leaving the stack unchanged.
func (f *fn) dynCharge(b []byte, perUnit uint64) []byte {
	if perUnit == 0 {
		return b
	}
	b = append(b, opLocalTee)
	b = appendULEB(b, uint64(f.use(f.tmpN)))
	b = append(b, opGlobalGet)
	b = appendULEB(b, uint64(f.w.gas))
	b = append(b, opLocalGet)
	b = appendULEB(b, uint64(f.tmpN))
	b = append(b, opI64ExtendU, opI64Const)
	b = appendSLEB(b, int64(perUnit))
	b = append(b, opI64Mul, opI64Sub)
	return f.store(b)
}

// canon replaces the float of type t on top of the stack by the canonical
// NaN if it is a NaN: local.set x; local.get x; local.get x; fN.ne;
// if; fN.const canonical; local.set x; end; local.get x. (A branch
// measured faster than select in wazero's compiler.)
func (f *fn) canon(b []byte, t ValType) []byte {
	tmp, ne, cst := f.tmpF32, byte(0x5C), []byte{opF32Const}
	cst = appendU32(cst, canonNaN32)
	if t == F64 {
		tmp, ne, cst = f.tmpF64, 0x62, appendU64([]byte{opF64Const}, canonNaN64)
	}
	f.use(tmp)
	b = append(b, opLocalSet)
	b = appendULEB(b, uint64(tmp))
	b = append(b, opLocalGet)
	b = appendULEB(b, uint64(tmp))
	b = append(b, opLocalGet)
	b = appendULEB(b, uint64(tmp))
	b = append(b, ne, opIf, blockTypeEmpty)
	b = append(b, cst...)
	b = append(b, opLocalSet)
	b = appendULEB(b, uint64(tmp))
	b = append(b, opEnd, opLocalGet)
	return appendULEB(b, uint64(tmp))
}

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func appendU64(b []byte, v uint64) []byte {
	return appendU32(appendU32(b, uint32(v)), uint32(v>>32))
}

// function rewrites the body of defined function i. See doc.go for the
// scheme.
func (w *rewriter) function(i int) ([]byte, error) {
	c := &w.m.codes[i]
	ft := w.m.types[w.m.funcs[i]]
	base := uint32(c.nLocals)
	f := &fn{w: w, tmpG: base, tmpT: base + 1, tmpN: base + 2, tmpF32: base + 3, tmpF64: base + 4, spill: base + 5,
		counted: !w.uncounted[i], wrapped: w.infos[i].early}

	// Prologue: $t = depth; depth = $t + 1; the depth check is merged
	// into the entry block's charge (see entryCharge).
	var body []byte
	if f.counted {
		body = append(body, opGlobalGet)
		body = appendULEB(body, uint64(w.depth))
		body = append(body, opLocalTee)
		body = appendULEB(body, uint64(f.use(f.tmpT)))
		body = append(body, opI32Const, 1, opI32Add, opGlobalSet)
		body = appendULEB(body, uint64(w.depth))
	}
	// The wrapper block, only for a function with early exits: branches
	// to the function label and rewritten returns land after it, where the
	// epilogue runs.
	if f.wrapped {
		body = append(body, opBlock)
		body = append(body, w.blockType(ft.results)...)
	}
	first := true

	var (
		seg      []byte
		segCost  = uint64(w.cfg.Costs.FuncEntry)
		segForce = true  // function entry and loop headers always charge
		dead     = false // the current block is unreachable: no charge
		folding  = false // inside a folded if (see foldedIf)
		segBrIf  = false // the current metered block contains a br_if
		frames   []frame
	)
	flush := func() {
		if first {
			if f.counted {
				body = f.entryCharge(body, segCost)
			} else {
				body = f.charge(body, segCost)
			}
			first = false
		} else if !dead && (segCost > 0 || segForce) {
			body = f.charge(body, segCost)
		}
		body = append(body, seg...)
		seg, segCost, segForce, segBrIf = seg[:0], 0, false, false
	}
	r := &reader{b: c.body, base: c.base}
	for {
		in, err := r.instr()
		if err != nil {
			return nil, err
		}
		if err := w.check(in, c, len(frames)); err != nil {
			return nil, err
		}
		raw := c.body[in.start:in.end]
		if !folding {
			segCost += w.cost(in)
		}
		switch in.op {
		case opBlock:
			seg = append(seg, raw...)
			frames = append(frames, frame{kind: opBlock, dead: dead})
		case opLoop:
			seg = append(seg, raw...)
			flush()
			frames = append(frames, frame{kind: opLoop, dead: dead})
			segForce = true
		case opIf:
			seg = append(seg, raw...)
			if cost, ok := w.foldedIf(c.body, in.end); ok {
				segCost += cost
				folding = true
				frames = append(frames, frame{kind: opIf, dead: dead, folded: true})
				break
			}
			flush()
			frames = append(frames, frame{kind: opIf, dead: dead})
		case opElse:
			if len(frames) == 0 {
				return nil, errorf("validate", KindInvalid, c.base+in.start, "else outside if")
			}
			if frames[len(frames)-1].folded {
				seg = append(seg, raw...)
				break
			}
			flush()
			body = append(body, raw...)
			dead = frames[len(frames)-1].dead
		case opEnd:
			if n := len(frames); n > 0 && (frames[n-1].folded ||
				!segBrIf && (frames[n-1].kind == opLoop || frames[n-1].kind == opBlock && !frames[n-1].targeted)) {
				// Not a join point (the end of a loop, or of a block no
				// branch targets) and the current metered block has no
				// br_if: it simply continues past this end.
				seg = append(seg, raw...)
				frames = frames[:n-1]
				folding = false
				break
			}
			flush()
			if len(frames) == 0 {
				if !r.eof() {
					return nil, errorf("validate", KindInvalid, r.off(), "code after function end")
				}
				return f.finish(body, c, ft), nil
			}
			body = append(body, raw...)
			dead = frames[len(frames)-1].dead
			frames = frames[:len(frames)-1]
		case opBr, opBrTable, opUnreachable:
			markTargets(frames, in, raw)
			seg = append(seg, raw...)
			flush()
			dead = true
		case opBrIf:
			markTargets(frames, in, raw)
			seg = append(seg, raw...)
			segBrIf = true
		case opReturn:
			seg = append(seg, opBr)
			seg = appendULEB(seg, uint64(len(frames)))
			flush()
			dead = true
		case opMemoryGrow:
			seg = f.dynCharge(seg, w.cfg.MemoryGrowCostPerPage)
			seg = append(seg, raw...)
		case opPrefixMisc:
			switch in.sub {
			case miscMemoryInit, miscMemoryCopy, miscMemoryFill:
				seg = f.dynCharge(seg, w.cfg.BulkCostPerByte)
			case miscTableInit, miscTableCopy, miscTableFill, miscTableGrow:
				seg = f.dynCharge(seg, w.cfg.TableCostPerElem)
			}
			seg = append(seg, raw...)
		case opF32Store, opI32ReinterpF, opF32Copysign:
			seg = f.canon(seg, F32)
			seg = append(seg, raw...)
		case opF64Store, opI64ReinterpF, opF64Copysign:
			seg = f.canon(seg, F64)
			seg = append(seg, raw...)
		case opGlobalSet:
			if w.m.globals[in.imm].typ.isFloat() {
				seg = f.canon(seg, w.m.globals[in.imm].typ)
			}
			seg = append(seg, raw...)
		default:
			seg = append(seg, raw...)
		}
	}
}

// frame is an open block, loop or if of the original code.
type frame struct {
	kind     byte // opBlock, opLoop or opIf
	dead     bool // its entry was unreachable
	folded   bool // an if charged as part of the enclosing block
	targeted bool // a branch targets its label
}

// markTargets records which open frames a br, br_if or br_table targets.
// Labels were range-checked by check.
func markTargets(frames []frame, in instr, raw []byte) {
	mark := func(l uint32) {
		if int(l) < len(frames) {
			frames[len(frames)-1-int(l)].targeted = true
		}
	}
	if in.op != opBrTable {
		if in.op != opUnreachable {
			mark(in.imm)
		}
		return
	}
	r := &reader{b: raw, pos: 1}
	n, _ := r.u32()
	for i := uint32(0); i <= n; i++ {
		l, _ := r.u32()
		mark(l)
	}
}

// foldedIf decides whether the if whose arms start at pos is folded: both
// arms are straight-line code (no block, loop, if, branch, return or
// unreachable). A folded if is charged in the enclosing block as
// max(then + cost(else), else-arm) + cost(end), so it splits nothing.
func (w *rewriter) foldedIf(body []byte, pos int) (uint64, bool) {
	r := &reader{b: body, pos: pos}
	var arm, then uint64
	hasElse := false
	for {
		in, err := r.instr()
		if err != nil {
			return 0, false
		}
		switch in.op {
		case opBlock, opLoop, opIf, opBr, opBrIf, opBrTable, opReturn, opUnreachable:
			return 0, false
		case opElse:
			if hasElse {
				return 0, false
			}
			hasElse, then, arm = true, arm+w.cost(in), 0
		case opEnd:
			if !hasElse {
				then, arm = arm, 0
			}
			return max(then, arm) + w.cost(in), true
		default:
			arm += w.cost(in)
		}
	}
}

// check refuses index immediates the original cannot use but the metered
// module could (new locals, globals, types and the wrapper's label), so
// that the metered module validating implies the original does.
func (w *rewriter) check(in instr, c *code, depth int) error {
	var what string
	switch {
	case in.op >= opLocalGet && in.op <= opLocalTee && uint64(in.imm) >= c.nLocals:
		what = "local"
	case (in.op == opGlobalGet || in.op == opGlobalSet) && in.imm >= uint32(len(w.m.globals)):
		what = "global"
	case in.op == opCallIndirect && in.imm >= uint32(len(w.m.types)):
		what = "type"
	case in.typeIdx >= int64(len(w.m.types)):
		what = "block type"
	case (in.op == opBr || in.op == opBrIf || in.op == opBrTable) && in.imm > uint32(depth):
		what = "label"
	default:
		return nil
	}
	return errorf("validate", KindInvalid, c.base+in.start, "%s index out of range", what)
}

// finish closes the wrapper block, appends the epilogue (depth - 1, result
// canonicalisation), the function end, and prefixes the local declarations.
func (f *fn) finish(body []byte, c *code, ft funcType) []byte {
	w := f.w
	if f.wrapped {
		body = append(body, opEnd)
	}
	if f.counted {
		body = append(body, opLocalGet)
		body = appendULEB(body, uint64(f.tmpT))
		body = append(body, opGlobalSet)
		body = appendULEB(body, uint64(w.depth))
	}
	hasFloat := false
	for _, t := range ft.results {
		hasFloat = hasFloat || t.isFloat()
	}
	switch {
	case !hasFloat:
	case len(ft.results) == 1:
		body = f.canon(body, ft.results[0])
	default:
		for k := len(ft.results) - 1; k >= 0; k-- {
			body = append(body, opLocalSet)
			body = appendULEB(body, uint64(f.use(f.spill+uint32(k))))
		}
		for k, t := range ft.results {
			body = append(body, opLocalGet)
			body = appendULEB(body, uint64(f.spill+uint32(k)))
			if t.isFloat() {
				body = f.canon(body, t)
			}
		}
	}
	body = append(body, opEnd)

	newTypes := []ValType{I64, I32, I32, F32, F64}
	if f.used > 5 {
		newTypes = append(newTypes, ft.results...)
	}
	newTypes = newTypes[:f.used]
	decl := appendULEB(nil, uint64(len(c.locals)+len(newTypes)))
	for _, g := range c.locals {
		decl = appendULEB(decl, uint64(g.n))
		decl = append(decl, byte(g.typ))
	}
	for _, t := range newTypes {
		decl = append(decl, 1, byte(t))
	}
	return append(decl, body...)
}
