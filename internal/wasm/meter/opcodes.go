package meter

// Opcodes the rewrite needs by name.
const (
	opUnreachable  = 0x00
	opNop          = 0x01
	opBlock        = 0x02
	opLoop         = 0x03
	opIf           = 0x04
	opElse         = 0x05
	opEnd          = 0x0B
	opBr           = 0x0C
	opBrIf         = 0x0D
	opBrTable      = 0x0E
	opReturn       = 0x0F
	opCall         = 0x10
	opCallIndirect = 0x11
	opDrop         = 0x1A
	opSelect       = 0x1B
	opSelectT      = 0x1C
	opLocalGet     = 0x20
	opLocalSet     = 0x21
	opLocalTee     = 0x22
	opGlobalGet    = 0x23
	opGlobalSet    = 0x24
	opTableGet     = 0x25
	opTableSet     = 0x26
	opF32Store     = 0x38
	opF64Store     = 0x39
	opMemorySize   = 0x3F
	opMemoryGrow   = 0x40
	opI32Const     = 0x41
	opI64Const     = 0x42
	opF32Const     = 0x43
	opF64Const     = 0x44
	opI32GeU       = 0x4F
	opI32GtU       = 0x4B
	opI64LtS       = 0x53
	opF32Eq        = 0x5B
	opF64Eq        = 0x61
	opI32Add       = 0x6A
	opI32Sub       = 0x6B
	opI64Add       = 0x7C
	opI64Sub       = 0x7D
	opI64Mul       = 0x7E
	opI64ShrU      = 0x88
	opF32Copysign  = 0x98
	opF64Copysign  = 0xA6
	opI64ExtendU   = 0xAD
	opI32ReinterpF = 0xBC
	opI64ReinterpF = 0xBD
	opRefNull      = 0xD0
	opRefIsNull    = 0xD1
	opRefFunc      = 0xD2
	opPrefixMisc   = 0xFC
	opPrefixSIMD   = 0xFD
	opPrefixAtomic = 0xFE

	blockTypeEmpty = 0x40
)

// 0xFC sub-opcodes.
const (
	miscMemoryInit = 8
	miscDataDrop   = 9
	miscMemoryCopy = 10
	miscMemoryFill = 11
	miscTableInit  = 12
	miscElemDrop   = 13
	miscTableCopy  = 14
	miscTableGrow  = 15
	miscTableSize  = 16
	miscTableFill  = 17
)

// Canonical NaNs: positive, quiet, zero payload.
const (
	canonNaN32 = 0x7FC00000
	canonNaN64 = 0x7FF8000000000000
)
