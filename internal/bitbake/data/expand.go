package data

import (
	"errors"
	"strings"
)

// Expand expands ${VAR} references and ${@...} expressions in str
// (d.expand).
func (s *Store) Expand(str string) string { return s.expand(str, "") }

// ExpandVar is Expand for the value of variable varname (a reference to
// varname itself is left alone and reported, as BitBake refuses it).
func (s *Store) ExpandVar(str, varname string) string { return s.expand(str, varname) }

// maxPyExpr bounds the length of one ${@...} expression, and
// maxPyPerPass the expressions evaluated in one expansion pass.
const (
	maxPyExpr    = 1 << 16
	maxPyPerPass = 4096
)

func (s *Store) expand(str, varname string) string {
	if !strings.Contains(str, "${") {
		return str
	}
	x := s.expState()
	x.depth++
	defer func() { x.depth-- }()
	if x.depth > s.Limits.Depth {
		s.Stats.errorf("expansion too deep at " + clip(varname))
		return str
	}
	if *s.work < 0 {
		return str
	}
	for round := 0; round < s.Limits.Rounds && strings.Contains(str, "${"); round++ {
		old := str
		str = s.subVars(str, varname)
		if len(str) > s.Limits.MaxBytes {
			s.Stats.errorf("expansion of " + clip(varname) + " too large")
			return old
		}
		if strings.Contains(str, "${@") {
			if py, ok := s.subPython(str, varname); ok {
				str = py
			}
		}
		if str == old {
			break
		}
		if len(str) > s.Limits.MaxBytes {
			s.Stats.errorf("expansion of " + clip(varname) + " too large")
			return old
		}
		if *s.work -= len(str); *s.work < 0 {
			s.Stats.errorf("expansion work limit reached at " + clip(varname))
			return old
		}
	}
	return str
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func isRefChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '+' || c == '.' || c == '/' || c == '~' || c == ':'
}

// refAt reports a ${NAME} reference at str[i:] and its end.
func refAt(str string, i int) (string, int, bool) {
	if i+2 >= len(str) || str[i] != '$' || str[i+1] != '{' {
		return "", 0, false
	}
	j := i + 2
	for j < len(str) && isRefChar(str[j]) {
		j++
	}
	if j == i+2 || j >= len(str) || str[j] != '}' {
		return "", 0, false
	}
	return str[i+2 : j], j + 1, true
}

// hasRef reports whether str contains a ${NAME} reference.
func hasRef(str string) bool {
	for i := strings.Index(str, "${"); i >= 0; {
		if _, _, ok := refAt(str, i); ok {
			return true
		}
		j := strings.Index(str[i+1:], "${")
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// subVars replaces every ${NAME} whose variable is set, in one pass.
// The substitutions are collected first and the result built once (a
// value that is a single reference is the referenced value itself).
func (s *Store) subVars(str, varname string) string {
	type sub struct {
		i, end int
		v      string
	}
	var buf [8]sub
	subs := buf[:0]
	last, n := 0, 0 // end of the last substitution and the length built up to it
	for i := strings.Index(str, "${"); i >= 0; {
		name, end, ok := refAt(str, i)
		next := i + 1
		if ok {
			next = end
			if name == varname && varname != "" {
				s.Stats.errorf("variable " + clip(varname) + " references itself")
			} else if v, set := s.getVar(name, true, false); set {
				subs = append(subs, sub{i, end, v})
				n += i - last + len(v)
				last = end
				if n > s.Limits.MaxBytes {
					break
				}
			}
		}
		j := strings.Index(str[next:], "${")
		if j < 0 {
			break
		}
		i = next + j
	}
	switch {
	case len(subs) == 0:
		return str
	case len(subs) == 1 && subs[0].i == 0 && subs[0].end == len(str):
		return subs[0].v
	}
	var b strings.Builder
	b.Grow(n + len(str) - last)
	last = 0
	for _, x := range subs {
		b.WriteString(str[last:x.i])
		b.WriteString(x.v)
		last = x.end
	}
	b.WriteString(str[last:])
	return b.String()
}

// pyMatchEnd finds the end of a ${@...} expression starting at str[i:]
// with the semantics of BitBake's regex \${@(?:{.*?}|.)+?} (lazy, with
// one level of braces tried first), or -1.
func pyMatchEnd(str string, i int) int {
	return pyMatchEndNew(str, i)
}

// pyMatchEndOld is BitBake <= 1.50's \${@.+?}: up to the first "}".
func pyMatchEndOld(str string, i int) int {
	j := strings.IndexByte(str[i+3:], '}')
	if j <= 0 || strings.IndexByte(str[i+3:i+3+j], '\n') >= 0 {
		return -1
	}
	return i + 3 + j + 1
}

func pyMatchEndNew(str string, i int) int {
	start := i + 3
	// Fast path: without "{" before the first "}" (after at least one
	// character) the lazy match simply ends there.
	if j := strings.IndexAny(str[start:], "{}\n"); j > 0 && str[start+j] == '}' {
		return start + j + 1
	}
	limit := len(str)
	if limit-start > maxPyExpr {
		limit = start + maxPyExpr
	}
	failed := map[int]bool{}
	budget := 1 << 18
	// items tries to match the rest of the repetition from pos, having
	// matched at least `have` items, and returns the end of the match.
	var items func(pos int, have bool) int
	items = func(pos int, have bool) int {
		if budget--; budget < 0 {
			return -1
		}
		if have && failed[pos] {
			return -1
		}
		if have && pos < limit && str[pos] == '}' {
			return pos + 1
		}
		if pos < limit && str[pos] == '{' {
			for j := pos + 1; j < limit && str[j] != '\n'; j++ {
				if str[j] == '}' {
					if r := items(j+1, true); r >= 0 {
						return r
					}
				}
			}
		}
		if pos < limit && str[pos] != '\n' {
			if r := items(pos+1, true); r >= 0 {
				return r
			}
		}
		if have {
			failed[pos] = true
		}
		return -1
	}
	return items(start, false)
}

// unterminated is implemented by evaluator errors for Python's
// "unterminated string literal" SyntaxError, which BitBake tolerates.
type unterminated interface{ UnterminatedString() bool }

// skipper is implemented by evaluator errors that skip the recipe.
type skipper interface{ SkipMessage() (string, bool) }

// subPython evaluates every ${@...} that contains no ${VAR} reference.
// ok is false when an expression has an unterminated string literal; the
// whole pass is then discarded, as BitBake does.
func (s *Store) subPython(str, varname string) (string, bool) {
	var b strings.Builder
	last := 0
	changed := false
	match := pyMatchEnd
	if s.old {
		match = pyMatchEndOld
	}
	count := 0
	for i := strings.Index(str, "${@"); i >= 0; {
		if count++; count > maxPyPerPass {
			s.Stats.errorf("too many ${@...} expressions in one value")
			break
		}
		end := match(str, i)
		next := i + 1
		if end > 0 {
			next = end
			code := str[i+3 : end-1]
			if !hasRef(code) {
				val, err := s.evalInline(code)
				if err != nil {
					var u unterminated
					if errors.As(err, &u) && u.UnterminatedString() {
						return str, false
					}
				}
				b.WriteString(str[last:i])
				b.WriteString(val)
				last = end
				changed = true
				if b.Len() > s.Limits.MaxBytes {
					break
				}
			}
		}
		j := strings.Index(str[next:], "${@")
		if j < 0 {
			break
		}
		i = next + j
	}
	if !changed {
		return str, true
	}
	b.WriteString(str[last:])
	return b.String(), true
}

// SkipReason is set when inline code raised SkipRecipe.
func (s *Store) evalInline(code string) (string, error) {
	if s.Inline == nil {
		s.Stats.fail(code, errors.New("no evaluator"))
		return "", nil
	}
	val, err := s.Inline(code, s)
	if err != nil {
		var sk skipper
		if errors.As(err, &sk) {
			if msg, ok := sk.SkipMessage(); ok && s.SkipReason == "" {
				s.SkipReason = msg
				s.Skipped = true
			}
		}
		var u unterminated
		if errors.As(err, &u) && u.UnterminatedString() {
			return "", err
		}
		s.Stats.fail(code, err)
		return "", nil
	}
	s.Stats.InlineOK++
	return val, nil
}
