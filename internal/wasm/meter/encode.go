package meter

import "github.com/virtual-machine/vm/internal/leb128"

func appendULEB(b []byte, v uint64) []byte { return leb128.AppendUnsigned(b, v) }

func appendSLEB(b []byte, v int64) []byte { return leb128.AppendSigned(b, v) }

func appendName(b []byte, s string) []byte {
	b = appendULEB(b, uint64(len(s)))
	return append(b, s...)
}

func appendSection(b []byte, id byte, payload []byte) []byte {
	b = append(b, id)
	b = appendULEB(b, uint64(len(payload)))
	return append(b, payload...)
}

func appendLimits(b []byte, l limits) []byte {
	if l.hasMax {
		b = append(b, 0x01)
		b = appendULEB(b, uint64(l.min))
		return appendULEB(b, uint64(l.max))
	}
	b = append(b, 0x00)
	return appendULEB(b, uint64(l.min))
}

func appendFuncType(b []byte, t funcType) []byte {
	b = append(b, 0x60)
	b = appendULEB(b, uint64(len(t.params)))
	b = append(b, valBytes(t.params)...)
	b = appendULEB(b, uint64(len(t.results)))
	return append(b, valBytes(t.results)...)
}
