package api

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// quoteByByte is quote without the eight-byte skipping: the definition
// the fast path must match.
func quoteByByte(s string) string {
	b := []byte{'"'}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, `\n`...)
			case c == '\r':
				b = append(b, `\r`...)
			case c == '\t':
				b = append(b, `\t`...)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028':
			b = append(b, `\u2028`...)
		case r == '\u2029':
			b = append(b, `\u2029`...)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(append(b, '"'))
}

func TestQuoteSpecialBytesAnywhere(t *testing.T) {
	specials := []string{"\x00", "\x1f", "\n", "\"", "\\", "\x7f", "\x80", "\xff", "é", "\u2028", "\u2029", "\U0001F600", " ", "~"}
	for _, sp := range specials {
		for pre := 0; pre <= 17; pre++ {
			for post := 0; post <= 9; post++ {
				s := strings.Repeat("a", pre) + sp + strings.Repeat("z", post)
				if got, want := string(buf(nil).quote(s)), quoteByByte(s); got != want {
					t.Fatalf("quote(%q) = %s, want %s", s, got, want)
				}
			}
		}
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "plain ascii text of some length", "tab\there \"quoted\" back\\slash", "caf\xc3\xa9 \xe2\x80\xa8 \xff\xfe", "\x00\x01\x1f\x20\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(buf(nil).quote(s)), quoteByByte(s); got != want {
			t.Fatalf("quote(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendTimeAsAppendFormat(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 12, 5, 3, 4, 5, 999999999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(999, 10, 31, 23, 59, 59, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 12, 30, 0, 0, time.FixedZone("x", -7*3600)),
		{},
	}
	for i := 0; i < 2000; i++ {
		times = append(times, time.Unix(int64(i)*987654321, int64(i)*7919).In(time.FixedZone("y", (i%27-13)*1800)))
	}
	for _, tm := range times {
		if got, want := string(appendTime(nil, tm)), tm.UTC().Format(timeFormat); got != want {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}
