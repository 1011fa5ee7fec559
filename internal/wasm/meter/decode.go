package meter

import (
	"unicode/utf8"
)

// reader decodes the binary format. Every method returns an *Error with the
// absolute offset on failure and never panics on any input.
type reader struct {
	b    []byte
	pos  int
	base int // offset of b[0] in the original module
}

func (r *reader) off() int { return r.base + r.pos }

func (r *reader) invalid(format string, args ...any) *Error {
	return errorf("decode", KindInvalid, r.off(), format, args...)
}

func (r *reader) unsupported(format string, args ...any) *Error {
	return errorf("decode", KindUnsupported, r.off(), format, args...)
}

func (r *reader) eof() bool { return r.pos >= len(r.b) }

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, r.invalid("unexpected end")
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(len(r.b)-r.pos) {
		return nil, r.invalid("length %d beyond end", n)
	}
	s := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return s, nil
}

// uleb reads an unsigned LEB128 of at most bits bits.
func (r *reader) uleb(bits uint) (uint64, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift+7 > bits { // the last byte the type allows
			if c&0x80 != 0 {
				return 0, r.invalid("integer representation too long")
			}
			if uint64(c)>>(bits-shift) != 0 {
				return 0, r.invalid("integer too large")
			}
		}
		v |= uint64(c&0x7F) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

// sleb skips a signed LEB128 of at most bits bits (the value is not needed).
func (r *reader) sleb(bits uint) error {
	maxBytes := int((bits + 6) / 7)
	for i := 0; ; i++ {
		if i >= maxBytes {
			return r.invalid("integer representation too long")
		}
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
}

func (r *reader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

// count reads a vector length and refuses lengths that cannot fit in the
// remaining bytes at minSize bytes per element.
func (r *reader) count(minSize int) (uint32, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(minSize) > uint64(len(r.b)-r.pos) {
		return 0, r.invalid("vector length %d beyond end", n)
	}
	return n, nil
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", r.invalid("name is not UTF-8")
	}
	return string(b), nil
}

func (r *reader) valType() (ValType, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch ValType(c) {
	case I32, I64, F32, F64, FuncRef, ExternRef:
		return ValType(c), nil
	case 0x7B:
		r.pos--
		return 0, r.unsupported("v128 value type (SIMD)")
	case 0x6E, 0x6D, 0x6C, 0x6B, 0x6A, 0x69, 0x64, 0x63, 0x71, 0x72, 0x73, 0x74, 0x78, 0x77:
		r.pos--
		return 0, r.unsupported("GC or typed reference type %#x", c)
	}
	r.pos--
	return 0, r.invalid("bad value type %#x", c)
}

func (r *reader) refType() (ValType, error) {
	t, err := r.valType()
	if err != nil {
		return 0, err
	}
	if t != FuncRef && t != ExternRef {
		return 0, r.invalid("%v is not a reference type", t)
	}
	return t, nil
}

type limits struct {
	min, max uint32
	hasMax   bool
}

func (r *reader) limits() (limits, error) {
	flag, err := r.byte()
	if err != nil {
		return limits{}, err
	}
	switch flag {
	case 0x00, 0x01:
	case 0x02, 0x03:
		return limits{}, r.unsupported("shared memory or table (threads)")
	case 0x04, 0x05, 0x06, 0x07:
		return limits{}, r.unsupported("64-bit memory or table (memory64)")
	default:
		return limits{}, r.invalid("bad limits flag %#x", flag)
	}
	var l limits
	if l.min, err = r.u32(); err != nil {
		return l, err
	}
	if flag == 0x01 {
		l.hasMax = true
		if l.max, err = r.u32(); err != nil {
			return l, err
		}
	}
	return l, nil
}

// instr is one decoded instruction: raw bytes b[start:end].
type instr struct {
	op         byte
	sub        uint32 // 0xFC sub-opcode
	imm        uint32 // label (deepest for br_table), function, local, global or type index
	typeIdx    int64  // block type index, -1 for an empty or value block type
	start, end int
}

// instr decodes the instruction at r.pos, refusing unsupported proposals.
func (r *reader) instr() (instr, error) {
	in := instr{start: r.pos, typeIdx: -1}
	op, err := r.byte()
	if err != nil {
		return in, err
	}
	in.op = op
	switch {
	case op == opUnreachable, op == opNop, op == opElse, op == opEnd, op == opReturn,
		op == opDrop, op == opSelect, op >= 0x45 && op <= 0xC4, op == opRefIsNull:
		// no immediates
	case op == opBlock, op == opLoop, op == opIf:
		in.typeIdx, err = r.blockType()
	case op == opBr, op == opBrIf, op == opCall, op >= opLocalGet && op <= opTableSet, op == opRefFunc:
		in.imm, err = r.u32()
	case op == opBrTable:
		var n uint32
		if n, err = r.count(1); err != nil {
			return in, err
		}
		for i := uint32(0); i <= n && err == nil; i++ {
			var l uint32
			l, err = r.u32()
			in.imm = max(in.imm, l) // the deepest label, for the label check
		}
	case op == opCallIndirect:
		if in.imm, err = r.u32(); err == nil {
			_, err = r.u32()
		}
	case op == opSelectT:
		var n uint32
		if n, err = r.count(1); err != nil {
			return in, err
		}
		for i := uint32(0); i < n && err == nil; i++ {
			_, err = r.valType()
		}
	case op >= 0x28 && op <= 0x3E:
		var align uint32
		if align, err = r.u32(); err != nil {
			return in, err
		}
		if align&0x40 != 0 {
			return in, r.unsupported("memory index in memarg (multi-memory)")
		}
		_, err = r.u32()
	case op == opMemorySize, op == opMemoryGrow:
		err = r.memIndex()
	case op == opI32Const:
		err = r.sleb(32)
	case op == opI64Const:
		err = r.sleb(64)
	case op == opF32Const:
		_, err = r.bytes(4)
	case op == opF64Const:
		_, err = r.bytes(8)
	case op == opRefNull:
		_, err = r.refType()
	case op == opPrefixMisc:
		err = r.misc(&in)
	case op == opPrefixSIMD:
		return in, errorf("decode", KindUnsupported, r.off()-1, "SIMD instruction (0xfd prefix)")
	case op == opPrefixAtomic:
		return in, errorf("decode", KindUnsupported, r.off()-1, "atomic instruction (0xfe prefix, threads)")
	case op == 0x12, op == 0x13, op == 0x15:
		return in, errorf("decode", KindUnsupported, r.off()-1, "tail call opcode %#x", op)
	case op >= 0x06 && op <= 0x0A, op == 0x18, op == 0x19, op == 0x1F:
		return in, errorf("decode", KindUnsupported, r.off()-1, "exception-handling opcode %#x", op)
	case op == 0x14, op >= 0xD3 && op <= 0xD6, op == 0xFB:
		return in, errorf("decode", KindUnsupported, r.off()-1, "typed function reference or GC opcode %#x", op)
	default:
		return in, errorf("decode", KindInvalid, r.off()-1, "unknown opcode %#x", op)
	}
	in.end = r.pos
	return in, err
}

func (r *reader) memIndex() error {
	idx, err := r.u32()
	if err != nil {
		return err
	}
	if idx != 0 {
		return r.unsupported("memory index %d (multi-memory)", idx)
	}
	return nil
}

// blockType reads a block type and returns its type index, or -1 for the
// empty type or a single value type.
func (r *reader) blockType() (int64, error) {
	c, err := r.byte()
	if err != nil {
		return -1, err
	}
	if c == blockTypeEmpty {
		return -1, nil
	}
	if c&0xC0 == 0x40 { // one-byte negative s33: a value type
		r.pos--
		_, err = r.valType()
		return -1, err
	}
	r.pos--
	// A type index: a non-negative s33.
	var v int64
	for shift := uint(0); ; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return -1, err
		}
		if shift >= 35 {
			return -1, r.invalid("block type too long")
		}
		v |= int64(c&0x7F) << shift
		if c&0x80 == 0 {
			if c&0x40 != 0 {
				return -1, r.invalid("negative block type index")
			}
			return v, nil
		}
	}
}

func (r *reader) misc(in *instr) error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	in.sub = sub
	switch sub {
	case 0, 1, 2, 3, 4, 5, 6, 7:
		return nil
	case miscMemoryInit:
		if _, err = r.u32(); err != nil {
			return err
		}
		return r.memIndex()
	case miscDataDrop, miscElemDrop, miscTableGrow, miscTableSize, miscTableFill:
		_, err = r.u32()
		return err
	case miscMemoryCopy:
		if err = r.memIndex(); err != nil {
			return err
		}
		return r.memIndex()
	case miscMemoryFill:
		return r.memIndex()
	case miscTableInit, miscTableCopy:
		if _, err = r.u32(); err != nil {
			return err
		}
		_, err = r.u32()
		return err
	}
	return r.unsupported("0xfc sub-opcode %d", sub)
}

// constExpr reads a constant expression up to and including its end.
func (r *reader) constExpr() ([]byte, error) {
	start := r.pos
	depth := 0
	for {
		in, err := r.instr()
		if err != nil {
			return nil, err
		}
		switch in.op {
		case opBlock, opLoop, opIf:
			depth++
		case opEnd:
			if depth == 0 {
				return r.b[start:r.pos], nil
			}
			depth--
		}
	}
}
