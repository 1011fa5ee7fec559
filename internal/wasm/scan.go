package wasm

// instanceStateOutsideSnapshot reports whether the code of bin contains an
// instruction that changes instance state a snapshot does not capture:
// table.set, table.grow, table.fill, table.copy, table.init (table 0's
// contents) and data.drop, elem.drop (dropped segments). Modules with any of
// them are never snapshotted nor reused: every call initialises from
// scratch, which is always correct. It decodes instruction immediates only
// (wazero has validated the module); anything unexpected reports true.
func instanceStateOutsideSnapshot(bin []byte) bool {
	if len(bin) < 8 {
		return true
	}
	p := bin[8:]
	for len(p) > 0 {
		id := p[0]
		r := reader{b: p[1:]}
		size := r.uleb()
		if r.bad || size > uint64(len(r.b)) {
			return true
		}
		body := r.b[:size]
		p = r.b[size:]
		if id == 10 {
			return codeHasStateOps(body)
		}
	}
	return false
}

func codeHasStateOps(sec []byte) bool {
	r := reader{b: sec}
	n := r.uleb()
	for i := uint64(0); i < n && !r.bad; i++ {
		size := r.uleb()
		if r.bad || size > uint64(len(r.b)) {
			return true
		}
		f := reader{b: r.b[:size]}
		r.b = r.b[size:]
		for groups := f.uleb(); groups > 0 && !f.bad; groups-- {
			f.uleb()
			f.byte1()
		}
		for len(f.b) > 0 && !f.bad {
			if stateOp(&f) {
				return true
			}
		}
		if f.bad {
			return true
		}
	}
	return r.bad
}

// stateOp decodes one instruction and reports whether it is a state op.
func stateOp(f *reader) bool {
	op := f.byte1()
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04: // block type
		if len(f.b) > 0 && (f.b[0] == 0x40 || f.b[0] >= 0x6F) {
			f.byte1()
		} else {
			f.uleb() // s33 type index: same byte length as a uleb
		}
	case op == 0x0C || op == 0x0D || op == 0x10 || (op >= 0x20 && op <= 0x25) || op == 0xD2:
		f.uleb()
	case op == 0x0E:
		for n := f.uleb() + 1; n > 0 && !f.bad; n-- {
			f.uleb()
		}
	case op == 0x11:
		f.uleb()
		f.uleb()
	case op == 0x1C:
		for n := f.uleb(); n > 0 && !f.bad; n-- {
			f.byte1()
		}
	case op == 0x26: // table.set
		return true
	case op >= 0x28 && op <= 0x3E:
		f.uleb()
		f.uleb()
	case op == 0x3F || op == 0x40 || op == 0xD0:
		f.byte1()
	case op == 0x41 || op == 0x42:
		f.uleb()
	case op == 0x43:
		f.skip(4)
	case op == 0x44:
		f.skip(8)
	case op == 0xFC:
		switch sub := f.uleb(); sub {
		case 9, 12, 13, 14, 15, 17: // data.drop, table.init, elem.drop, table.copy/grow/fill
			return true
		case 8:
			f.uleb()
			f.byte1()
		case 10:
			f.byte1()
			f.byte1()
		case 11:
			f.byte1()
		case 16:
			f.uleb()
		}
	case op >= 0xFD: // SIMD, threads: refused by the meter; be conservative
		f.bad = true
	}
	return false
}

// reader decodes LEB128 and bytes; the first overrun sets bad.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) byte1() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) skip(n int) {
	if len(r.b) < n {
		r.bad = true
		r.b = nil
		return
	}
	r.b = r.b[n:]
}

// uleb reads an unsigned (or, for its length, signed) LEB128 of up to 10 bytes.
func (r *reader) uleb() uint64 {
	var v uint64
	for shift := 0; shift < 70; shift += 7 {
		c := r.byte1()
		if r.bad {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.bad = true
	return 0
}
