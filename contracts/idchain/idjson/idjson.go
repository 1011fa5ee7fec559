// Package idjson encodes the IDChain's stored records (idchain.ID,
// idchain.Record) to JSON by hand, byte for byte as encoding/json does
// (idchain.ID.Encode and idchain.Record.Encode): same field order,
// omitempty rules, sorted map keys, HTML-safe string escaping, U+FFFD for
// invalid UTF-8 and base64 for bytes.
//
// It exists for the contract (contracts/idchain). A contract call starts
// from the snapshot taken after initialisation, so encoding/json's
// per-type reflection caches are empty on every call and one json.Marshal
// of an ID costs about 0.8 million gas; appending by hand costs a few
// thousand (docs/benchmarks-idchain-contract.md). Its tests check it
// against encoding/json, including a fuzz test.
package idjson

import (
	"encoding/base64"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/virtual-machine/vm/internal/idchain"
)

// AppendID appends the JSON of id, equal to id.Encode().
func AppendID(dst []byte, id *idchain.ID) []byte {
	dst = append(dst, `{"id":`...)
	dst = AppendString(dst, id.ID)
	dst = append(dst, `,"owner":`...)
	dst = AppendString(dst, id.Owner)
	dst = append(dst, `,"pubkey":`...)
	dst = AppendString(dst, id.PubKey)
	dst = append(dst, `,"controllers":`...)
	dst = appendStrings(dst, id.Controllers)
	dst = append(dst, `,"attrs":`...)
	dst = appendMap(dst, id.Attrs)
	dst = append(dst, `,"created":`...)
	dst = strconv.AppendInt(dst, id.Created, 10)
	dst = append(dst, `,"updated":`...)
	dst = strconv.AppendInt(dst, id.Updated, 10)
	return append(dst, '}')
}

// AppendRecord appends the JSON of r, equal to r.Encode().
func AppendRecord(dst []byte, r *idchain.Record) []byte {
	dst = append(dst, `{"key":`...)
	dst = AppendString(dst, r.Key)
	if r.Value != "" {
		dst = append(dst, `,"value":`...)
		dst = AppendString(dst, r.Value)
	}
	if r.Private {
		dst = append(dst, `,"private":true`...)
	}
	if len(r.Ciphertext) > 0 {
		dst = append(dst, `,"ciphertext":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, r.Ciphertext)
		dst = append(dst, '"')
	}
	if len(r.Readers) > 0 {
		dst = append(dst, `,"readers":`...)
		dst = appendStrings(dst, r.Readers)
	}
	dst = append(dst, `,"by":`...)
	dst = AppendString(dst, r.By)
	dst = append(dst, `,"updated":`...)
	dst = strconv.AppendInt(dst, r.Updated, 10)
	return append(dst, '}')
}

// AppendString appends s as a JSON string the way encoding/json does:
// '"', '\\', '<', '>', '&', U+2028, U+2029 and control characters
// escaped, invalid UTF-8 replaced by U+FFFD.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendStrings appends a JSON array of strings; nil is null.
func appendStrings(dst []byte, ss []string) []byte {
	if ss == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, s)
	}
	return append(dst, ']')
}

// appendMap appends a JSON object with m's keys in sorted order; nil is
// null.
func appendMap(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		dst = AppendString(dst, m[k])
	}
	return append(dst, '}')
}
