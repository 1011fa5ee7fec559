package idjson

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/virtual-machine/vm/internal/idchain"
)

// ParseID decodes b if it is exactly the canonical encoding of an ID
// (AppendID's output, equal to idchain.ID.Encode): it parses b and
// accepts the result only if encoding it again gives b, byte for byte,
// so an accepted ID is what encoding/json would decode from b. It
// reports false for anything else; decode those with idchain.DecodeID.
// It does not apply the content rules (idchain.CheckID does).
func ParseID(b []byte) (*idchain.ID, bool) {
	p := parser{b: b, ok: true}
	id := &idchain.ID{}
	p.lit(`{"id":`)
	id.ID = p.str()
	p.lit(`,"owner":`)
	id.Owner = p.str()
	p.lit(`,"pubkey":`)
	id.PubKey = p.str()
	p.lit(`,"controllers":`)
	id.Controllers = p.strs()
	p.lit(`,"attrs":`)
	id.Attrs = p.strMap()
	p.lit(`,"created":`)
	id.Created = p.int()
	p.lit(`,"updated":`)
	id.Updated = p.int()
	p.lit(`}`)
	if !p.ok || p.i != len(b) || !bytes.Equal(AppendID(make([]byte, 0, len(b)), id), b) {
		return nil, false
	}
	return id, true
}

// parser reads the canonical JSON subset AppendID writes. Once ok is
// false every method is a no-op; ParseID's round trip catches anything it
// reads differently from encoding/json.
type parser struct {
	b  []byte
	i  int
	ok bool
}

func (p *parser) fail() { p.ok = false }

// lit consumes s.
func (p *parser) lit(s string) {
	if p.ok && bytes.HasPrefix(p.b[p.i:], []byte(s)) {
		p.i += len(s)
		return
	}
	p.fail()
}

// str consumes a JSON string with the escapes encoding/json writes.
func (p *parser) str() string {
	if !p.ok || p.i >= len(p.b) || p.b[p.i] != '"' {
		p.fail()
		return ""
	}
	p.i++
	start, esc := p.i, false
	var out []byte
	for p.ok && p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if esc {
				return string(append(out, s...))
			}
			return string(s)
		case c < 0x20:
			p.fail()
		case c != '\\':
			p.i++
			continue
		}
		if !p.ok || p.i+1 >= len(p.b) {
			break
		}
		out, esc = append(out, p.b[start:p.i]...), true
		e := p.b[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if p.i+4 > len(p.b) {
				p.fail()
				break
			}
			r, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 16)
			if err != nil {
				p.fail()
				break
			}
			out = utf8.AppendRune(out, rune(r)) // a surrogate becomes U+FFFD: the round trip refuses it
			p.i += 4
		default:
			p.fail()
		}
		start = p.i
	}
	p.fail()
	return ""
}

// strs consumes a JSON array of strings ("[]" gives an empty, non-nil
// slice).
func (p *parser) strs() []string {
	p.lit("[")
	ss := []string{}
	if p.ok && p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return ss
	}
	for p.ok {
		ss = append(ss, p.str())
		if p.ok && p.i < len(p.b) && p.b[p.i] == ',' {
			p.i++
			continue
		}
		p.lit("]")
		break
	}
	return ss
}

// strMap consumes a JSON object of strings ("{}" gives an empty, non-nil
// map).
func (p *parser) strMap() map[string]string {
	p.lit("{")
	m := map[string]string{}
	if p.ok && p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m
	}
	for p.ok {
		k := p.str()
		p.lit(":")
		m[k] = p.str()
		if p.ok && p.i < len(p.b) && p.b[p.i] == ',' {
			p.i++
			continue
		}
		p.lit("}")
		break
	}
	return m
}

// int consumes a decimal integer.
func (p *parser) int() int64 {
	if !p.ok {
		return 0
	}
	j := p.i
	if j < len(p.b) && p.b[j] == '-' {
		j++
	}
	for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
		j++
	}
	n, err := strconv.ParseInt(string(p.b[p.i:j]), 10, 64)
	if err != nil {
		p.fail()
		return 0
	}
	p.i = j
	return n
}

// ParseCreateInput decodes b if it is exactly what encoding/json writes
// for an idchain.CreateInput (`{"name":…,"pubkey":…}`, with `,"attrs":{…}`
// when there are attributes), checked by encoding the result again, so
// an accepted input is what idchain.DecodeInput would give. It reports
// false for anything else; decode those with idchain.DecodeInput. The
// contract's create takes this path first: decoding with encoding/json
// was most of a create's gas.
func ParseCreateInput(b []byte) (*idchain.CreateInput, bool) {
	p := parser{b: b, ok: true}
	in := &idchain.CreateInput{}
	p.lit(`{"name":`)
	in.Name = p.str()
	p.lit(`,"pubkey":`)
	in.PubKey = p.str()
	if p.ok && bytes.HasPrefix(b[p.i:], []byte(`,"attrs":`)) {
		p.lit(`,"attrs":`)
		in.Attrs = p.strMap()
	}
	p.lit(`}`)
	if !p.ok || p.i != len(b) || !bytes.Equal(AppendCreateInput(make([]byte, 0, len(b)), in), b) {
		return nil, false
	}
	return in, true
}

// AppendCreateInput appends in as encoding/json writes it.
func AppendCreateInput(dst []byte, in *idchain.CreateInput) []byte {
	dst = append(dst, `{"name":`...)
	dst = AppendString(dst, in.Name)
	dst = append(dst, `,"pubkey":`...)
	dst = AppendString(dst, in.PubKey)
	if len(in.Attrs) > 0 {
		dst = append(dst, `,"attrs":`...)
		dst = appendMap(dst, in.Attrs)
	}
	return append(dst, '}')
}
