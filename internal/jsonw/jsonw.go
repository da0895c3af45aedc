// Package jsonw appends JSON values to byte slices without reflection: the
// primitives of the API's hand-written encoders (package api), shared with
// the store, which keeps each recipe's API object beside its row (see
// store.AppendRecipeJSON) and so must write exactly the same bytes.
package jsonw

import (
	"encoding/binary"
	"time"
	"unicode/utf8"
	"unsafe"
)

// TimeFormat is ISO 8601 with the real offset, to the second. Upstream's
// '%Y-%m-%dT%H:%m:%S+0000' put the month where the minutes belong.
const TimeFormat = "2006-01-02T15:04:05-07:00"

// AppendTime appends t in UTC as TimeFormat does, writing the digits
// directly: AppendFormat interprets its layout for every value, a tenth of
// the cost of a recipe dump.
func AppendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeFormat)
	}
	hour, min, sec := t.Clock()
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	b = append(b, byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T')
	b = append(b, byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+min/10), byte('0'+min%10), ':')
	return append(b, byte('0'+sec/10), byte('0'+sec%10), '+', '0', '0', ':', '0', '0')
}

const hexDigits = "0123456789abcdef"

// Quote appends s as a JSON string: UTF-8 kept as is (as upstream's
// renderer does), control characters, quotes and backslashes escaped,
// invalid bytes replaced, U+2028/U+2029 escaped for JavaScript consumers.
// Runs of plain ASCII are skipped eight bytes at a time (most of a recipe
// dump's text is), the rest byte by byte.
func Quote(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plain8(s[i:]) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plain8 reports whether the first eight bytes of s are ASCII needing no
// escape: none is a control character, '"', '\\' or above 0x7f. (The
// tests for "a byte below n" may also flag a byte after one that truly
// is; such a word is then read byte by byte, which is still right.)
func plain8(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s), 8))
	ctrl := (x - ones*0x20) & ^x
	q := x ^ (ones * '"')
	q = (q - ones) & ^q
	bs := x ^ (ones * '\\')
	bs = (bs - ones) & ^bs
	return (ctrl|q|bs|x)&highs == 0
}
