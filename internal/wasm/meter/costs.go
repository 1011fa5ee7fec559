package meter

// CostTable holds the static gas cost of every instruction. The cost of a
// metered block is the sum of the costs of the original instructions in it;
// code inserted by the rewrite is never charged.
type CostTable struct {
	// Op is indexed by single-byte opcode (0x00..0xD2). Entries for opcodes
	// the meter refuses are ignored.
	Op [256]uint32
	// Misc is indexed by the sub-opcode of the 0xFC prefix (0..17).
	Misc [18]uint32
	// FuncEntry is charged once on entry to every defined function, in the
	// function's first block, on top of the call instruction's own cost.
	FuncEntry uint32
}

// DefaultCosts returns the network's cost table:
//
//	0  nop, block, loop, else, end (structure only)
//	1  everything else not listed: constants, locals, drop, select,
//	   integer and float add/sub/mul, bit ops, comparisons, conversions,
//	   if, br, br_if, return, unreachable, ref.*, memory.size, table.size,
//	   data.drop, elem.drop, the saturating truncations
//	2  br_table, global.get/set, table.get/set, every load and store
//	4  integer div/rem, f32/f64 div and sqrt, memory.copy/fill/init,
//	   table.copy/fill/init (plus their per-byte/per-element charge)
//	5  call (plus FuncEntry 2 in the callee)
//	8  call_indirect (plus FuncEntry 2 in the callee)
//	10 table.grow (plus per element)
//	50 memory.grow (plus MemoryGrowCostPerPage per page requested)
func DefaultCosts() CostTable {
	var t CostTable
	for op := 0x00; op <= 0xD2; op++ {
		t.Op[op] = 1
	}
	for _, op := range []byte{opNop, opBlock, opLoop, opElse, opEnd} {
		t.Op[op] = 0
	}
	t.Op[opBrTable] = 2
	t.Op[opGlobalGet], t.Op[opGlobalSet] = 2, 2
	t.Op[opTableGet], t.Op[opTableSet] = 2, 2
	for op := 0x28; op <= 0x3E; op++ { // loads and stores
		t.Op[op] = 2
	}
	for _, op := range []byte{0x6D, 0x6E, 0x6F, 0x70, 0x7F, 0x80, 0x81, 0x82, 0x91, 0x95, 0x9F, 0xA3} {
		t.Op[op] = 4 // i32/i64 div_s div_u rem_s rem_u, f32/f64 sqrt and div
	}
	t.Op[opCall] = 5
	t.Op[opCallIndirect] = 8
	t.Op[opMemoryGrow] = 50
	for i := range t.Misc {
		t.Misc[i] = 1
	}
	for _, sub := range []uint32{miscMemoryInit, miscMemoryCopy, miscMemoryFill, miscTableInit, miscTableCopy, miscTableFill} {
		t.Misc[sub] = 4
	}
	t.Misc[miscTableGrow] = 10
	t.FuncEntry = 2
	return t
}

func (t *CostTable) validate() error {
	for op, c := range t.Op {
		if c > maxUnitCost {
			return errorf("config", KindConfig, -1, "cost of opcode %#x is above 2^24", op)
		}
	}
	for sub, c := range t.Misc {
		if c > maxUnitCost {
			return errorf("config", KindConfig, -1, "cost of 0xfc %d is above 2^24", sub)
		}
	}
	for _, op := range []byte{opBr, opBrIf, opBrTable} {
		if t.Op[op] == 0 {
			return errorf("config", KindConfig, -1, "cost of branch opcode %#x must be at least 1", op)
		}
	}
	if t.FuncEntry == 0 || t.FuncEntry > maxUnitCost {
		return errorf("config", KindConfig, -1, "FuncEntry %d not in [1, 2^24]", t.FuncEntry)
	}
	return nil
}
