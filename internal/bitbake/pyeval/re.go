package pyeval

import (
	"regexp"
	"strings"
)

// regexObj is a compiled pattern (re.compile).
type regexObj struct {
	pat   string
	flags int64
}

// matchObj is a successful match.
type matchObj struct {
	s   string
	idx []int
	re  *regexp.Regexp
}

func (m *matchObj) group(g Value) (Value, error) {
	n := 0
	switch x := g.(type) {
	case Int, Bool:
		i, _ := toInt(x)
		n = int(i)
	case Str:
		n = m.re.SubexpIndex(string(x))
		if n < 0 {
			return nil, newExc(excIndexError, "no such group")
		}
	default:
		return nil, newExc(excIndexError, "no such group")
	}
	if n < 0 || 2*n+1 >= len(m.idx) {
		return nil, newExc(excIndexError, "no such group")
	}
	if m.idx[2*n] < 0 {
		return None, nil
	}
	return Str(m.s[m.idx[2*n]:m.idx[2*n+1]]), nil
}

func (m *matchObj) method(name string, a []Value) (Value, error) {
	switch name {
	case "group":
		if len(a) == 0 {
			return m.group(Int(0))
		}
		if len(a) == 1 {
			return m.group(a[0])
		}
		out := make([]Value, len(a))
		for i, g := range a {
			v, err := m.group(g)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return &Tuple{items: out}, nil
	case "groups":
		n := len(m.idx)/2 - 1
		out := make([]Value, n)
		for i := 1; i <= n; i++ {
			v, _ := m.group(Int(i))
			out[i-1] = v
		}
		return &Tuple{items: out}, nil
	case "groupdict":
		d := NewDict()
		for i, name := range m.re.SubexpNames() {
			if name != "" {
				v, _ := m.group(Int(i))
				d.SetStr(name, v)
			}
		}
		return d, nil
	case "start", "end", "span":
		g := 0
		if len(a) > 0 {
			if i, ok := toInt(a[0]); ok {
				g = int(i)
			}
		}
		if 2*g+1 >= len(m.idx) {
			return nil, newExc(excIndexError, "no such group")
		}
		// Go reports byte offsets, Python code point offsets.
		start, end := codePointOffset(m.s, m.idx[2*g]), codePointOffset(m.s, m.idx[2*g+1])
		switch name {
		case "start":
			return Int(start), nil
		case "end":
			return Int(end), nil
		}
		return NewTuple(Int(start), Int(end)), nil
	}
	return unknownf("match.%s", name), nil
}

func registerRe(reg func(*Module) *Module) {
	call := func(name string) *Builtin {
		return fn(name, func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
			if u := firstUnknown(a); u != nil {
				return u, nil
			}
			if name == "compile" {
				p, ok := argStr(a, 0)
				if !ok {
					return unknownf("re.compile argument"), nil
				}
				flags, _ := toInt(kwOr(a, 1, kw, "flags", Int(0)))
				return &regexObj{pat: p, flags: flags}, nil
			}
			if name == "escape" {
				p, ok := argStr(a, 0)
				if !ok {
					return unknownf("re.escape argument"), nil
				}
				return Str(pyEscape(p)), nil
			}
			if len(a) < 1 {
				return nil, argErr(name, 2, len(a))
			}
			var ro *regexObj
			switch p := a[0].(type) {
			case Str:
				ro = &regexObj{pat: string(p)}
			case *regexObj:
				ro = p
			default:
				return unknownf("re.%s pattern", name), nil
			}
			flagPos := map[string]int{"match": 2, "search": 2, "fullmatch": 2, "findall": 2, "split": 3, "sub": 4, "subn": 4}[name]
			if f, ok := toInt(kwOr(a, flagPos, kw, "flags", Int(0))); ok && f != 0 {
				ro = &regexObj{pat: ro.pat, flags: ro.flags | f}
			}
			return in.regexMethod(ro, name, a[1:], kw)
		})
	}
	attrs := map[string]Value{
		"IGNORECASE": Int(2), "I": Int(2), "MULTILINE": Int(8), "M": Int(8), "DOTALL": Int(16), "S": Int(16),
		"VERBOSE": Int(64), "X": Int(64), "ASCII": Int(256), "A": Int(256),
	}
	for _, n := range []string{"match", "search", "fullmatch", "sub", "subn", "split", "findall", "compile", "escape"} {
		attrs[n] = call(n)
	}
	attrs["error"] = &ExcClass{Name: "re.error", Parent: excException}
	reg(mod("re", attrs))
}

func pyEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (in *Interp) regexMethod(ro *regexObj, name string, a []Value, kw map[string]Value) (Value, error) {
	if ro.flags&64 != 0 {
		return unknownf("re.VERBOSE"), nil
	}
	anchored := name == "match" || name == "fullmatch"
	pat := ro.pat
	if name == "match" || name == "search" || name == "fullmatch" {
		if m, ok, handled := in.leadingLookahead(ro, name, a); handled {
			if !ok {
				return unknownf("regular expression %q not supported", ro.pat), nil
			}
			return m, nil
		}
	}
	if name == "fullmatch" {
		pat = "(?:" + pat + `)\z`
	}
	re, err := compilePy(pat, ro.flags, anchored)
	if err != nil {
		return unknownf("regular expression %q not supported by RE2", ro.pat), nil
	}
	switch name {
	case "match", "search", "fullmatch":
		s, ok := argStr(a, 0)
		if !ok {
			return nil, newExc(excTypeError, "expected string")
		}
		idx := re.FindStringSubmatchIndex(s)
		if idx == nil {
			return None, nil
		}
		return &matchObj{s: s, idx: idx, re: re}, nil
	case "findall":
		s, ok := argStr(a, 0)
		if !ok {
			return nil, newExc(excTypeError, "expected string")
		}
		var out []Value
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			switch len(m) {
			case 1:
				out = append(out, Str(m[0]))
			case 2:
				out = append(out, Str(m[1]))
			default:
				t := make([]Value, len(m)-1)
				for i, g := range m[1:] {
					t[i] = Str(g)
				}
				out = append(out, &Tuple{items: t})
			}
		}
		return &List{items: out}, nil
	case "split":
		s, ok := argStr(a, 0)
		if !ok {
			return nil, newExc(excTypeError, "expected string")
		}
		maxs, _ := toInt(kwOr(a, 1, kw, "maxsplit", Int(0)))
		var out []Value
		last := 0
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			if maxs > 0 && int64(len(out)) >= maxs {
				break
			}
			if m[1] == m[0] && m[0] == last && m[0] == 0 {
				continue
			}
			out = append(out, Str(s[last:m[0]]))
			for g := 1; 2*g+1 < len(m); g++ {
				if m[2*g] < 0 {
					out = append(out, None)
				} else {
					out = append(out, Str(s[m[2*g]:m[2*g+1]]))
				}
			}
			last = m[1]
		}
		out = append(out, Str(s[last:]))
		return &List{items: out}, nil
	case "sub", "subn":
		if len(a) < 2 {
			return nil, argErr(name, 3, len(a)+1)
		}
		s, ok := argStr(a, 1)
		if !ok {
			return nil, newExc(excTypeError, "expected string")
		}
		count, _ := toInt(kwOr(a, 2, kw, "count", Int(0)))
		var b strings.Builder
		last, n := 0, 0
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			if count > 0 && int64(n) >= count {
				break
			}
			b.WriteString(s[last:m[0]])
			switch r := a[0].(type) {
			case Str:
				b.WriteString(expandPyRepl(string(r), s, m, re))
			default:
				v, err := in.call(r, []Value{&matchObj{s: s, idx: m, re: re}}, nil)
				if err != nil {
					return nil, err
				}
				if u, isU := v.(*Unknown); isU {
					return u, nil
				}
				b.WriteString(strOf(v))
			}
			last = m[1]
			n++
			if err := in.checkSize(b.Len()); err != nil {
				return nil, err
			}
		}
		b.WriteString(s[last:])
		if name == "subn" {
			return NewTuple(Str(b.String()), Int(n)), nil
		}
		return Str(b.String()), nil
	}
	return unknownf("re.%s", name), nil
}

// expandPyRepl expands \1, \g<1>, \g<name> and escapes in a Python
// replacement string.
func expandPyRepl(repl, s string, m []int, re *regexp.Regexp) string {
	var b strings.Builder
	group := func(n int) {
		if n >= 0 && 2*n+1 < len(m) && m[2*n] >= 0 {
			b.WriteString(s[m[2*n]:m[2*n+1]])
		}
	}
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '\\' || i+1 >= len(repl) {
			b.WriteByte(c)
			continue
		}
		d := repl[i+1]
		switch {
		case d >= '0' && d <= '9':
			n := int(d - '0')
			i++
			if i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9' {
				n = n*10 + int(repl[i+1]-'0')
				i++
			}
			group(n)
		case d == 'g' && i+2 < len(repl) && repl[i+2] == '<':
			j := strings.IndexByte(repl[i+3:], '>')
			if j < 0 {
				b.WriteString(repl[i:])
				return b.String()
			}
			name := repl[i+3 : i+3+j]
			n := 0
			if allDigits(name) {
				for _, ch := range name {
					n = n*10 + int(ch-'0')
				}
			} else {
				n = re.SubexpIndex(name)
			}
			group(n)
			i += 3 + j
		case d == 'n':
			b.WriteByte('\n')
			i++
		case d == 't':
			b.WriteByte('\t')
			i++
		case d == '\\':
			b.WriteByte('\\')
			i++
		default:
			b.WriteByte('\\')
		}
	}
	return b.String()
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// leadingLookahead evaluates patterns that start with look-aheads at the
// anchor, "^(?!X)R" or "(?=X)R" with re.match, which RE2 cannot compile:
// the look-aheads are matched separately at position 0, then R. handled
// is false when the pattern has no such prefix.
func (in *Interp) leadingLookahead(ro *regexObj, name string, a []Value) (Value, bool, bool) {
	p := ro.pat
	anchored := name != "search"
	if strings.HasPrefix(p, "^") {
		p = p[1:]
		anchored = true
	}
	if !anchored || !strings.HasPrefix(p, "(?=") && !strings.HasPrefix(p, "(?!") {
		return nil, false, false
	}
	s, ok := argStr(a, 0)
	if !ok {
		return nil, false, true
	}
	for strings.HasPrefix(p, "(?=") || strings.HasPrefix(p, "(?!") {
		neg := p[2] == '!'
		end := closingParen(p)
		if end < 0 {
			return nil, false, true
		}
		inner := p[3:end]
		p = p[end+1:]
		re, err := compilePy(inner, ro.flags, true)
		if err != nil {
			return nil, false, true
		}
		if (re.FindStringIndex(s) != nil) == neg {
			return None, true, true
		}
	}
	rest := &regexObj{pat: p, flags: ro.flags}
	if name == "search" {
		name = "match"
	}
	if strings.Contains(p, "(?=") || strings.Contains(p, "(?!") || strings.Contains(p, "(?<") && !strings.Contains(p, "(?P<") {
		return nil, false, true
	}
	v, err := in.regexMethod(rest, name, a, nil)
	if err != nil {
		return nil, false, true
	}
	if _, unknown := v.(*Unknown); unknown {
		return nil, false, true
	}
	return v, true, true
}

// closingParen returns the index of the parenthesis closing p[0].
func closingParen(p string) int {
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '[':
			for i++; i < len(p) && p[i] != ']'; i++ {
				if p[i] == '\\' {
					i++
				}
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
