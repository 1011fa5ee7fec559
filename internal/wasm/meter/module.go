package meter

import (
	"bytes"
	"strings"
)

// Section ids.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

// Export kinds.
const (
	extFunc   = 0
	extTable  = 1
	extMemory = 2
	extGlobal = 3
)

// sectionOrder gives each known non-custom section its required position.
var sectionOrder = [...]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5,
	secGlobal: 6, secExport: 7, secStart: 8, secElement: 9, secDataCount: 10,
	secCode: 11, secData: 12,
}

var wasmHeader = []byte{0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00}

type funcType struct {
	params, results []ValType
}

func (t funcType) equal(o funcType) bool {
	return string(valBytes(t.params)) == string(valBytes(o.params)) &&
		string(valBytes(t.results)) == string(valBytes(o.results))
}

func valBytes(v []ValType) []byte {
	b := make([]byte, len(v))
	for i, t := range v {
		b[i] = byte(t)
	}
	return b
}

type importFunc struct {
	module, name string
	typ          uint32
}

type table struct {
	ref ValType
	lim limits
}

type global struct {
	typ  ValType
	mut  bool
	init []byte // constant expression including its end
}

type export struct {
	name string
	kind byte
	idx  uint32
}

type localGroup struct {
	n   uint32
	typ ValType
}

type code struct {
	locals  []localGroup
	nLocals uint64
	body    []byte // instructions, ending with the function's end
	base    int    // offset of body[0] in the original module
}

// module is the decoded original. Element, data and data-count sections
// are carried as raw payloads: the rewrite never renumbers functions,
// tables, memories or data, so they stay valid unchanged.
type module struct {
	types      []funcType
	imports    []importFunc
	funcs      []uint32 // type index of each defined function
	tables     []table
	mems       []limits
	globals    []global
	exports    []export
	start      uint32
	hasStart   bool
	elem       []byte
	hasElem    bool
	dataCount  []byte
	hasDCount  bool
	nDataCount uint32
	codes      []code
	data       []byte
	hasData    bool
}

func (m *module) funcType(idx uint32) funcType {
	if idx < uint32(len(m.imports)) {
		return m.types[m.imports[idx].typ]
	}
	return m.types[m.funcs[idx-uint32(len(m.imports))]]
}

// decode parses the module's sections, enforcing cfg's structural limits and
// import policy and refusing unsupported proposals. It leaves full
// validation to wazero.
func decode(orig []byte, cfg *Config) (*module, error) {
	if len(orig) < 8 || !bytes.Equal(orig[:4], wasmHeader[:4]) {
		return nil, errorf("decode", KindInvalid, 0, "missing \\0asm magic")
	}
	if !bytes.Equal(orig[4:8], wasmHeader[4:]) {
		return nil, errorf("decode", KindUnsupported, 4, "binary version %x (only 1 is supported; components are not)", orig[4:8])
	}
	m := &module{}
	top := &reader{b: orig, pos: 8}
	last := 0
	for !top.eof() {
		id, err := top.byte()
		if err != nil {
			return nil, err
		}
		size, err := top.u32()
		if err != nil {
			return nil, err
		}
		payloadOff := top.off()
		payload, err := top.bytes(size)
		if err != nil {
			return nil, err
		}
		r := &reader{b: payload, base: payloadOff}
		if id == secCustom {
			if _, err := r.name(); err != nil {
				return nil, err
			}
			continue // custom sections are dropped
		}
		if id == secTag {
			return nil, errorf("decode", KindUnsupported, payloadOff-2, "tag section (exception handling)")
		}
		if int(id) >= len(sectionOrder) || sectionOrder[id] == 0 {
			return nil, errorf("decode", KindInvalid, payloadOff-2, "unknown section id %d", id)
		}
		if sectionOrder[id] <= last {
			return nil, errorf("decode", KindInvalid, payloadOff-2, "section %d out of order or repeated", id)
		}
		last = sectionOrder[id]
		if err := m.section(id, r, cfg); err != nil {
			return nil, err
		}
		if !r.eof() {
			return nil, r.invalid("section %d has %d trailing bytes", id, len(r.b)-r.pos)
		}
	}
	if m.hasStart {
		if uint64(m.start) >= uint64(len(m.imports)+len(m.funcs)) {
			return nil, errorf("decode", KindInvalid, -1, "start function %d out of range", m.start)
		}
		if t := m.funcType(m.start); len(t.params)+len(t.results) != 0 {
			return nil, errorf("decode", KindInvalid, -1, "start function %d is not nullary", m.start)
		}
	}
	if len(m.codes) != len(m.funcs) {
		return nil, errorf("decode", KindInvalid, len(orig), "function and code section lengths differ")
	}
	if m.hasDCount && !m.hasData && m.nDataCount != 0 {
		return nil, errorf("decode", KindInvalid, len(orig), "data count %d without a data section", m.nDataCount)
	}
	return m, nil
}

func (m *module) section(id byte, r *reader, cfg *Config) error {
	switch id {
	case secType:
		return m.typeSection(r)
	case secImport:
		return m.importSection(r, cfg)
	case secFunction:
		n, err := r.count(1)
		if err != nil {
			return err
		}
		if uint64(n)+uint64(len(m.imports)) > uint64(cfg.MaxFunctions) {
			return errorf("decode", KindLimit, r.off(), "%d functions, limit %d", uint64(n)+uint64(len(m.imports)), cfg.MaxFunctions)
		}
		m.funcs = make([]uint32, n)
		for i := range m.funcs {
			if m.funcs[i], err = r.u32(); err != nil {
				return err
			}
			if m.funcs[i] >= uint32(len(m.types)) {
				return r.invalid("type index %d out of range", m.funcs[i])
			}
		}
	case secTable:
		n, err := r.count(3)
		if err != nil {
			return err
		}
		for i := uint32(0); i < n; i++ {
			var t table
			if t.ref, err = r.refType(); err != nil {
				return err
			}
			at := r.off()
			if t.lim, err = r.limits(); err != nil {
				return err
			}
			if t.lim.hasMax && t.lim.max < t.lim.min {
				return errorf("decode", KindInvalid, at, "table %d maximum below minimum", i)
			}
			if t.lim.min > cfg.MaxTableSize || t.lim.hasMax && t.lim.max > cfg.MaxTableSize {
				return errorf("decode", KindLimit, at, "table %d size %d..%d above limit %d", i, t.lim.min, t.lim.max, cfg.MaxTableSize)
			}
			m.tables = append(m.tables, t)
		}
	case secMemory:
		n, err := r.count(2)
		if err != nil {
			return err
		}
		if n > 1 {
			return r.unsupported("%d memories (multi-memory)", n)
		}
		for i := uint32(0); i < n; i++ {
			at := r.off()
			l, err := r.limits()
			if err != nil {
				return err
			}
			if l.min > 65536 || l.hasMax && (l.max > 65536 || l.max < l.min) {
				return errorf("decode", KindInvalid, at, "memory limits %d..%d invalid", l.min, l.max)
			}
			if l.min > cfg.MaxMemoryPages || l.hasMax && l.max > cfg.MaxMemoryPages {
				return errorf("decode", KindLimit, at, "memory %d..%d pages above limit %d", l.min, l.max, cfg.MaxMemoryPages)
			}
			m.mems = append(m.mems, l)
		}
	case secGlobal:
		n, err := r.count(3)
		if err != nil {
			return err
		}
		if n > cfg.MaxGlobals {
			return errorf("decode", KindLimit, r.off(), "%d globals, limit %d", n, cfg.MaxGlobals)
		}
		for i := uint32(0); i < n; i++ {
			var g global
			if g.typ, err = r.valType(); err != nil {
				return err
			}
			mut, err := r.byte()
			if err != nil {
				return err
			}
			if mut > 1 {
				return r.invalid("bad mutability %#x", mut)
			}
			g.mut = mut == 1
			if g.init, err = r.constExpr(); err != nil {
				return err
			}
			m.globals = append(m.globals, g)
		}
	case secExport:
		n, err := r.count(3)
		if err != nil {
			return err
		}
		for i := uint32(0); i < n; i++ {
			at := r.off()
			var e export
			if e.name, err = r.name(); err != nil {
				return err
			}
			if strings.HasPrefix(e.name, "vm_") {
				return errorf("decode", KindInvalid, at, "export %q uses the reserved vm_ prefix", e.name)
			}
			if e.kind, err = r.byte(); err != nil {
				return err
			}
			if e.kind > extGlobal {
				if e.kind == 4 {
					return r.unsupported("tag export (exception handling)")
				}
				return r.invalid("bad export kind %#x", e.kind)
			}
			if e.idx, err = r.u32(); err != nil {
				return err
			}
			m.exports = append(m.exports, e)
		}
	case secStart:
		var err error
		if m.start, err = r.u32(); err != nil {
			return err
		}
		m.hasStart = true
	// Element, data count and data sections are kept raw; their vector
	// lengths are checked against the payload so that wazero never
	// allocates for a count the bytes cannot hold.
	case secElement:
		if _, err := r.count(2); err != nil {
			return err
		}
		m.elem, m.hasElem = r.b, true
		r.pos = len(r.b)
	case secDataCount:
		n, err := r.u32()
		if err != nil {
			return err
		}
		m.dataCount, m.hasDCount, m.nDataCount = r.b, true, n
	case secData:
		n, err := r.count(2)
		if err != nil {
			return err
		}
		if m.hasDCount && n != m.nDataCount {
			return r.invalid("data count %d but %d data segments", m.nDataCount, n)
		}
		m.data, m.hasData = r.b, true
		r.pos = len(r.b)
	case secCode:
		return m.codeSection(r, cfg)
	}
	return nil
}

func (m *module) typeSection(r *reader) error {
	n, err := r.count(3)
	if err != nil {
		return err
	}
	m.types = make([]funcType, 0, n)
	for i := uint32(0); i < n; i++ {
		form, err := r.byte()
		if err != nil {
			return err
		}
		if form != 0x60 {
			if form == 0x4E || form == 0x4F || form == 0x50 || form == 0x5E || form == 0x5F {
				return r.unsupported("GC type form %#x", form)
			}
			return r.invalid("bad type form %#x", form)
		}
		var t funcType
		for _, dst := range []*[]ValType{&t.params, &t.results} {
			k, err := r.count(1)
			if err != nil {
				return err
			}
			*dst = make([]ValType, k)
			for j := range *dst {
				if (*dst)[j], err = r.valType(); err != nil {
					return err
				}
			}
		}
		m.types = append(m.types, t)
	}
	return nil
}

func (m *module) importSection(r *reader, cfg *Config) error {
	n, err := r.count(4)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		at := r.off()
		var imp importFunc
		if imp.module, err = r.name(); err != nil {
			return err
		}
		if imp.name, err = r.name(); err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		deny := func(format string, args ...any) error {
			return errorf("decode", KindImport, at, "import %q.%q: "+format, append([]any{imp.module, imp.name}, args...)...)
		}
		switch kind {
		case extFunc:
		case extTable:
			return deny("table imports are not allowed")
		case extMemory:
			return deny("memory imports are not allowed")
		case extGlobal:
			return deny("global imports are not allowed")
		case 4:
			return deny("tag imports are not allowed")
		default:
			return r.invalid("bad import kind %#x", kind)
		}
		if imp.typ, err = r.u32(); err != nil {
			return err
		}
		if imp.typ >= uint32(len(m.types)) {
			return r.invalid("type index %d out of range", imp.typ)
		}
		if uint32(len(m.imports)) >= cfg.MaxFunctions {
			return errorf("decode", KindLimit, at, "more than %d functions", cfg.MaxFunctions)
		}
		t := m.types[imp.typ]
		for _, v := range append(append([]ValType(nil), t.params...), t.results...) {
			if v.isFloat() {
				return deny("float parameters and results are not allowed at the host boundary")
			}
		}
		if cfg.AllowImport == nil {
			return deny("no imports are allowed")
		}
		if err := cfg.AllowImport(imp.module, imp.name, t.params, t.results); err != nil {
			e := deny("refused")
			e.(*Error).Err = err
			return e
		}
		m.imports = append(m.imports, imp)
	}
	return nil
}

func (m *module) codeSection(r *reader, cfg *Config) error {
	n, err := r.count(2)
	if err != nil {
		return err
	}
	if int(n) != len(m.funcs) {
		return r.invalid("%d code entries for %d functions", n, len(m.funcs))
	}
	m.codes = make([]code, n)
	for i := range m.codes {
		at := r.off()
		size, err := r.u32()
		if err != nil {
			return err
		}
		if size > cfg.MaxFunctionSize {
			return errorf("decode", KindLimit, at, "function %d body is %d bytes, limit %d", i, size, cfg.MaxFunctionSize)
		}
		bodyOff := r.off()
		b, err := r.bytes(size)
		if err != nil {
			return err
		}
		br := &reader{b: b, base: bodyOff}
		groups, err := br.count(2)
		if err != nil {
			return err
		}
		c := &m.codes[i]
		c.nLocals = uint64(len(m.types[m.funcs[i]].params))
		for g := uint32(0); g < groups; g++ {
			var lg localGroup
			if lg.n, err = br.u32(); err != nil {
				return err
			}
			if lg.typ, err = br.valType(); err != nil {
				return err
			}
			c.nLocals += uint64(lg.n)
			if c.nLocals > uint64(cfg.MaxLocals) {
				return errorf("decode", KindLimit, at, "function %d has more than %d locals", i, cfg.MaxLocals)
			}
			c.locals = append(c.locals, lg)
		}
		c.body = b[br.pos:]
		c.base = bodyOff + br.pos
	}
	return nil
}
