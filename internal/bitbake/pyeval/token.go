package pyeval

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tNewline
	tIndent
	tDedent
	tName
	tNumber
	tString
	tOp
)

type token struct {
	kind tokKind
	val  string // name, operator, number text, or decoded string value
	// For strings: prefix flags.
	fstr  bool
	bytes bool
	line  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "EOF"
	case tNewline:
		return "NEWLINE"
	case tIndent:
		return "INDENT"
	case tDedent:
		return "DEDENT"
	case tString:
		return fmt.Sprintf("%q", t.val)
	}
	return t.val
}

// SyntaxError reports source the parser does not accept (either invalid
// Python or Python outside the supported subset).
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// UnterminatedString reports Python's "unterminated string literal", an
// error BitBake tolerates in ${@...} (the expression is left as is).
func (e *SyntaxError) UnterminatedString() bool {
	return strings.HasPrefix(e.Msg, "unterminated string")
}

// maxSource bounds the code accepted by the tokenizer.
const maxSource = 1 << 20

// tokenize splits Python source into tokens with INDENT/DEDENT handling.
// With exprMode the whole input is one logical line (inline expressions).
func tokenize(src string, exprMode bool) ([]token, error) {
	if len(src) > maxSource {
		return nil, &SyntaxError{1, "source too long"}
	}
	var toks []token
	indents := []int{0}
	depth := 0 // bracket nesting
	line := 1
	i := 0
	atLineStart := !exprMode
	for i < len(src) {
		if atLineStart {
			// Measure indentation; skip blank and comment-only lines.
			col := 0
			j := i
			for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\f') {
				if src[j] == '\t' {
					col = (col/8 + 1) * 8
				} else if src[j] == ' ' {
					col++
				}
				j++
			}
			if j >= len(src) {
				i = j
				break
			}
			if src[j] == '\n' || src[j] == '#' || src[j] == '\r' {
				for j < len(src) && src[j] != '\n' {
					j++
				}
				if j < len(src) {
					j++
					line++
				}
				i = j
				continue
			}
			if src[j] == '\\' && j+1 < len(src) && src[j+1] == '\n' {
				// A continuation on a blank line: treat as whitespace.
				i = j + 2
				line++
				continue
			}
			cur := indents[len(indents)-1]
			if col > cur {
				indents = append(indents, col)
				toks = append(toks, token{kind: tIndent, line: line})
			} else {
				for col < indents[len(indents)-1] {
					indents = indents[:len(indents)-1]
					toks = append(toks, token{kind: tDedent, line: line})
				}
				if col != indents[len(indents)-1] {
					return nil, &SyntaxError{line, "unindent does not match any outer indentation level"}
				}
			}
			i = j
			atLineStart = false
		}
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
			if depth > 0 || exprMode {
				continue
			}
			toks = append(toks, token{kind: tNewline, line: line - 1})
			atLineStart = true
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '\\' && i+1 < len(src) && (src[i+1] == '\n' || src[i+1] == '\r'):
			i += 2
			if src[i-1] == '\r' && i < len(src) && src[i] == '\n' {
				i++
			}
			line++
			continue
		}
		// Strings (with optional prefixes).
		if s, n, ok, err := scanString(src[i:], line); ok || err != nil {
			if err != nil {
				return nil, err
			}
			line += strings.Count(src[i:i+n], "\n")
			toks = append(toks, s)
			i += n
			continue
		}
		if isIdentStart(src, i) {
			j := i
			for j < len(src) {
				r, sz := utf8.DecodeRuneInString(src[j:])
				if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
					j += sz
					continue
				}
				break
			}
			toks = append(toks, token{kind: tName, val: src[i:j], line: line})
			i = j
			continue
		}
		if c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9' {
			j := i
			for j < len(src) {
				d := src[j]
				if d >= '0' && d <= '9' || d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z' || d == '_' || d == '.' {
					j++
					continue
				}
				if (d == '+' || d == '-') && j > i && (src[j-1] == 'e' || src[j-1] == 'E') && !strings.HasPrefix(strings.ToLower(src[i:j]), "0x") {
					j++
					continue
				}
				break
			}
			toks = append(toks, token{kind: tNumber, val: src[i:j], line: line})
			i = j
			continue
		}
		// Operators, longest first.
		op := ""
		for _, o := range operators {
			if strings.HasPrefix(src[i:], o) {
				op = o
				break
			}
		}
		if op == "" {
			return nil, &SyntaxError{line, fmt.Sprintf("unexpected character %q", c)}
		}
		switch op {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			if depth > 0 {
				depth--
			}
		}
		toks = append(toks, token{kind: tOp, val: op, line: line})
		i += len(op)
	}
	if !exprMode {
		if n := len(toks); n > 0 && toks[n-1].kind != tNewline && toks[n-1].kind != tDedent {
			toks = append(toks, token{kind: tNewline, line: line})
		}
		for len(indents) > 1 {
			indents = indents[:len(indents)-1]
			toks = append(toks, token{kind: tDedent, line: line})
		}
	}
	toks = append(toks, token{kind: tEOF, line: line})
	return toks, nil
}

var operators = []string{
	"**=", "//=", ">>=", "<<=", "...",
	"**", "//", ">>", "<<", "<=", ">=", "==", "!=", "->", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", ":=",
	"+", "-", "*", "/", "%", "@", "&", "|", "^", "~", "<", ">", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "=",
}

func isIdentStart(src string, i int) bool {
	r, _ := utf8.DecodeRuneInString(src[i:])
	return r == '_' || unicode.IsLetter(r)
}

// scanString recognises a string literal with optional prefix at the start
// of s. It returns the token, the number of bytes consumed, and ok.
func scanString(s string, line int) (token, int, bool, error) {
	p := 0
	var raw, fstr, bytes bool
	for p < len(s) && p < 3 {
		switch s[p] {
		case 'r', 'R':
			raw = true
		case 'f', 'F':
			fstr = true
		case 'b', 'B':
			bytes = true
		case 'u', 'U':
		default:
			goto done
		}
		p++
	}
done:
	if p >= len(s) || (s[p] != '\'' && s[p] != '"') {
		return token{}, 0, false, nil
	}
	q := s[p]
	triple := strings.HasPrefix(s[p:], strings.Repeat(string(q), 3))
	start := p + 1
	if triple {
		start = p + 3
	}
	var b strings.Builder
	i := start
	for {
		if i >= len(s) {
			return token{}, 0, false, &SyntaxError{line, "unterminated string literal"}
		}
		c := s[i]
		if triple {
			if strings.HasPrefix(s[i:], strings.Repeat(string(q), 3)) {
				i += 3
				break
			}
		} else if c == q {
			i++
			break
		} else if c == '\n' {
			return token{}, 0, false, &SyntaxError{line, "unterminated string literal"}
		}
		if c == '\\' && i+1 < len(s) {
			if raw {
				b.WriteByte('\\')
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
			n := unescape(&b, s[i:])
			i += n
			continue
		}
		b.WriteByte(c)
		i++
	}
	return token{kind: tString, val: b.String(), fstr: fstr, bytes: bytes, line: line}, i, true, nil
}

// unescape decodes one backslash escape at the start of s into b and
// returns its length.
func unescape(b *strings.Builder, s string) int {
	c := s[1]
	switch c {
	case '\n':
		return 2
	case '\\', '\'', '"':
		b.WriteByte(c)
	case 'n':
		b.WriteByte('\n')
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case 'a':
		b.WriteByte('\a')
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'v':
		b.WriteByte('\v')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		n, j := 0, 1
		for j < len(s) && j < 4 && s[j] >= '0' && s[j] <= '7' {
			n = n*8 + int(s[j]-'0')
			j++
		}
		b.WriteRune(rune(n))
		return j
	case 'x':
		if len(s) >= 4 {
			var n int
			if _, err := fmt.Sscanf(s[2:4], "%02x", &n); err == nil {
				b.WriteRune(rune(n))
				return 4
			}
		}
		b.WriteString(s[:2])
	case 'u', 'U':
		w := 4
		if c == 'U' {
			w = 8
		}
		if len(s) >= 2+w {
			var n int
			if _, err := fmt.Sscanf(s[2:2+w], "%x", &n); err == nil && utf8.ValidRune(rune(n)) {
				b.WriteRune(rune(n))
				return 2 + w
			}
		}
		b.WriteString(s[:2])
	default:
		// Unknown escapes are kept verbatim, as Python does.
		b.WriteString(s[:2])
	}
	return 2
}
