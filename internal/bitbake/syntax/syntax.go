// Package syntax turns BitBake metadata files (.bb, .bbappend, .bbclass,
// .inc, .conf) into a typed list of statements, the way BitBake's
// BBHandler and ConfHandler feeders do. It only reads text: nothing is
// evaluated here, so the statement list of a file can be cached and shared
// between recipes and goroutines.
//
// The line grammar is BitBake's (lib/bb/parse/parse_py/BBHandler.py and
// ConfHandler.py), re-implemented by hand because Go's regexp lacks the
// look-aheads and back-references BitBake's regexes rely on. Lines BitBake
// would reject become diagnostics and parsing goes on.
package syntax

import (
	"fmt"
	"strings"
)

// Kind is the kind of a statement.
type Kind uint8

// Statement kinds, one per BitBake AST node that matters for evaluation.
const (
	Assign       Kind = iota + 1 // VAR op "value", VAR[flag] op "value"
	Export                       // export VAR
	Unset                        // unset VAR
	UnsetFlag                    // unset VAR[flag]
	Include                      // include FILES (missing files ignored)
	Require                      // require FILES (missing files are errors)
	IncludeAll                   // include_all FILE (from every BBPATH entry)
	Inherit                      // inherit CLASSES
	InheritDefer                 // inherit_defer CLASSES
	Func                         // shell or python task function: name() { ... }
	PyDef                        // python def name(...): block
	ExportFuncs                  // EXPORT_FUNCTIONS names
	AddTask                      // addtask ...
	DelTask                      // deltask ...
	AddHandler                   // addhandler names
	AddPylib                     // addpylib dir namespace
	AddFragments                 // addfragments ...
)

var kindNames = [...]string{"?", "assign", "export", "unset", "unsetflag", "include", "require",
	"include_all", "inherit", "inherit_defer", "func", "def", "EXPORT_FUNCTIONS", "addtask",
	"deltask", "addhandler", "addpylib", "addfragments"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Op is an assignment operator.
type Op uint8

// Assignment operators (ast.DataNode).
const (
	OpSet         Op = iota // =
	OpImmediate             // :=
	OpWeakDefault           // ??=
	OpDefault               // ?=
	OpAppend                // +=
	OpPrepend               // =+
	OpPostDot               // .=
	OpPreDot                // =.
)

var opNames = [...]string{"=", ":=", "??=", "?=", "+=", "=+", ".=", "=."}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "?"
}

// Stmt is one logical statement. Which fields are used depends on Kind:
// Assign uses Var, Flag, Op, Value and Export; Export/Unset use Var;
// UnsetFlag uses Var and Flag; Include, Require, IncludeAll, Inherit,
// InheritDefer, ExportFuncs, AddTask, DelTask, AddHandler and AddPylib use
// Arg; Func uses Var (the function name, "" for anonymous python), Python,
// Fakeroot and Body; PyDef uses Var (the def name) and Body (the whole def).
type Stmt struct {
	Kind     Kind
	Op       Op
	Export   bool
	Python   bool
	Fakeroot bool
	Line     int // line of the statement's first physical line (1-based)
	Var      string
	Flag     string
	Value    string
	Arg      string
	Body     string
}

// Diag is a problem found while reading a file.
type Diag struct {
	File string
	Line int
	Msg  string
}

func (d Diag) String() string { return fmt.Sprintf("%s:%d: %s", d.File, d.Line, d.Msg) }

// File is the parsed form of one metadata file.
type File struct {
	Name  string
	Stmts []Stmt
	Diags []Diag
}

// Mode selects the feeder: ConfMode is ConfHandler (.conf files: no
// functions, no inherit), RecipeMode is BBHandler (.bb, .bbappend,
// .bbclass, .inc).
type Mode uint8

// Feeder modes.
const (
	RecipeMode Mode = iota
	ConfMode
)

// ModeFor returns the feeder BitBake uses for a file name: ConfHandler for
// names ending in ".conf", BBHandler otherwise.
func ModeFor(name string) Mode {
	if strings.HasSuffix(name, ".conf") {
		return ConfMode
	}
	return RecipeMode
}

// MaxLogicalLine bounds the length of one logical line (after joining
// continuations). Longer lines are reported and dropped; real metadata
// stays far below this.
const MaxLogicalLine = 1 << 20

// Parse reads src as file name in the given mode. It never fails: lines
// that BitBake would reject are reported in File.Diags.
func Parse(name string, src []byte, mode Mode) *File {
	p := &parser{f: &File{Name: name}}
	lines := splitLines(string(src))
	if mode == ConfMode {
		p.conf(lines)
	} else {
		p.recipe(lines)
	}
	return p.f
}

type parser struct {
	f *File
}

func (p *parser) diag(line int, format string, args ...any) {
	if len(p.f.Diags) >= 200 {
		return
	}
	p.f.Diags = append(p.f.Diags, Diag{File: p.f.Name, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// splitLines splits like Python's readline loop: on "\n" only, keeping
// "\r" to be removed by rstrip.
func splitLines(s string) []string {
	lines := strings.Split(s, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	return lines
}

// rstrip removes trailing whitespace like Python's str.rstrip().
func rstrip(s string) string {
	return strings.TrimRightFunc(s, isPySpace)
}

func isPySpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0:
		return true
	}
	return r > 0xff && (r == 0x1680 || (r >= 0x2000 && r <= 0x200a) || r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000)
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// conf implements ConfHandler.handle's line loop and feeder.
func (p *parser) conf(lines []string) {
	for i := 0; i < len(lines); i++ {
		start := i + 1
		s := lines[i]
		if strings.TrimSpace(s) == "" {
			continue
		}
		s = rstrip(s)
		for strings.HasSuffix(s, "\\") {
			if i+1 >= len(lines) {
				// Python appends the empty string read at EOF and loops
				// forever on "\"; BitBake itself hangs here. Stop.
				s = s[:len(s)-1]
				p.diag(start, "line continuation at end of file")
				break
			}
			i++
			s2 := rstrip(lines[i])
			if s[0] == '#' && (s2 == "" || s2[0] != '#') {
				p.diag(start, "confusing multiline, partially commented expression")
			}
			s = s[:len(s)-1] + s2
			if len(s) > MaxLogicalLine {
				break
			}
		}
		if s == "" || s[0] == '#' {
			continue
		}
		if len(s) > MaxLogicalLine {
			p.diag(start, "logical line too long (%d bytes)", len(s))
			continue
		}
		p.confFeed(start, s, true)
	}
}

// confFeed is ConfHandler.feeder. conffile is false when called from the
// BBHandler feeder (addpylib is then not recognised).
func (p *parser) confFeed(line int, s string, conffile bool) {
	if a, ok := matchAssign(s); ok {
		if a.Var == "" {
			p.diag(line, "empty variable name in assignment: %q", clip(s))
			return
		}
		a.Line = line
		p.f.Stmts = append(p.f.Stmts, a)
		return
	}
	if arg, ok := keywordArg(s, "include"); ok {
		p.add(Stmt{Kind: Include, Line: line, Arg: arg})
		return
	}
	if arg, ok := keywordArg(s, "require"); ok {
		p.add(Stmt{Kind: Require, Line: line, Arg: arg})
		return
	}
	if arg, ok := keywordArg(s, "include_all"); ok {
		p.add(Stmt{Kind: IncludeAll, Line: line, Arg: arg})
		return
	}
	if name, ok := matchNameStmt(s, "export"); ok {
		p.add(Stmt{Kind: Export, Line: line, Var: name})
		return
	}
	if name, ok := matchNameStmt(s, "unset"); ok {
		p.add(Stmt{Kind: Unset, Line: line, Var: name})
		return
	}
	if name, flag, ok := matchUnsetFlag(s); ok {
		p.add(Stmt{Kind: UnsetFlag, Line: line, Var: name, Flag: flag})
		return
	}
	if arg, ok := keywordArg(s, "addpylib"); ok && conffile && len(strings.Fields(arg)) >= 2 {
		p.add(Stmt{Kind: AddPylib, Line: line, Arg: arg})
		return
	}
	if arg, ok := keywordArg(s, "addfragments"); ok && len(strings.Fields(arg)) >= 4 {
		p.add(Stmt{Kind: AddFragments, Line: line, Arg: arg})
		return
	}
	p.diag(line, "unparsed line: %q", clip(s))
}

func (p *parser) add(s Stmt) { p.f.Stmts = append(p.f.Stmts, s) }

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// keywordArg matches `kw\s+(.+)` at the start of s.
func keywordArg(s, kw string) (string, bool) {
	if !strings.HasPrefix(s, kw) {
		return "", false
	}
	rest := s[len(kw):]
	i := 0
	for i < len(rest) && isSpaceByte(rest[i]) {
		i++
	}
	if i == 0 || i >= len(rest) {
		return "", false
	}
	return rest[i:], true
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '+' || c == '.' || c == '$' || c == '{' || c == '}' || c == '/' || c == '~'
}

// matchNameStmt matches `kw\s+([a-zA-Z0-9\-_+.${}/~]+)$`.
func matchNameStmt(s, kw string) (string, bool) {
	arg, ok := keywordArg(s, kw)
	if !ok || arg == "" {
		return "", false
	}
	for i := 0; i < len(arg); i++ {
		if !isNameChar(arg[i]) {
			return "", false
		}
	}
	return arg, true
}

// matchUnsetFlag matches
// `unset\s+([a-zA-Z0-9\-_+.${}/~]+)\[([a-zA-Z0-9\-_+.][a-zA-Z0-9\-_+.@]+)\]$`.
func matchUnsetFlag(s string) (string, string, bool) {
	arg, ok := keywordArg(s, "unset")
	if !ok {
		return "", "", false
	}
	i := 0
	for i < len(arg) && isNameChar(arg[i]) {
		i++
	}
	if i == 0 || i >= len(arg) || arg[i] != '[' || !strings.HasSuffix(arg, "]") {
		return "", "", false
	}
	flag := arg[i+1 : len(arg)-1]
	if len(flag) < 2 || !isFlagStart(flag[0]) {
		return "", "", false
	}
	for j := 1; j < len(flag); j++ {
		if !isFlagStart(flag[j]) && flag[j] != '@' {
			return "", "", false
		}
	}
	return arg[:i], flag, true
}

func isFlagStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '+' || c == '.'
}

func isVarChar(c byte) bool { return isNameChar(c) || c == ':' }

// matchAssign emulates ConfHandler's __config_regexp__ including its lazy
// variable name, optional flag, operator alternation order, the two
// negative look-aheads and the quote back-reference.
func matchAssign(s string) (Stmt, bool) {
	if strings.HasPrefix(s, "export") {
		i := len("export")
		j := i
		for j < len(s) && isSpaceByte(s[j]) {
			j++
		}
		if j > i {
			// (export\s+)? is greedy; \s+ could give back blanks, but the
			// variable cannot start with a blank, so only j matters.
			if st, ok := assignFrom(s, j); ok {
				st.Export = true
				return st, true
			}
		}
	}
	return assignFrom(s, 0)
}

var assignOps = []struct {
	tok string
	op  Op
}{
	{":=", OpImmediate}, {"??=", OpWeakDefault}, {"?=", OpDefault}, {"+=", OpAppend},
	{"=+", OpPrepend}, {"=.", OpPreDot}, {".=", OpPostDot}, {"=", OpSet},
}

func assignFrom(s string, start int) (Stmt, bool) {
	for end := start; ; end++ {
		if st, ok := assignAfterVar(s, start, end); ok {
			return st, true
		}
		if end >= len(s) || !isVarChar(s[end]) {
			return Stmt{}, false
		}
	}
}

func assignAfterVar(s string, start, end int) (Stmt, bool) {
	// Optional [flag] group, tried first (greedy ?).
	if end < len(s) && s[end] == '[' {
		j := end + 1
		if j < len(s) && isFlagStart(s[j]) {
			j++
			for j < len(s) && (isFlagStart(s[j]) || s[j] == '@' || s[j] == '/') {
				j++
			}
			if j < len(s) && s[j] == ']' {
				if st, ok := assignOp(s, j+1); ok {
					st.Var = s[start:end]
					st.Flag = s[end+1 : j]
					return st, true
				}
			}
		}
	}
	st, ok := assignOp(s, end)
	if ok {
		st.Var = s[start:end]
	}
	return st, ok
}

func assignOp(s string, p int) (Stmt, bool) {
	for p < len(s) && isSpaceByte(s[p]) {
		p++
	}
	for _, o := range assignOps {
		if !strings.HasPrefix(s[p:], o.tok) {
			continue
		}
		q := p + len(o.tok)
		for q < len(s) && isSpaceByte(s[q]) {
			q++
		}
		if q >= len(s) {
			continue
		}
		apo := s[q]
		if apo != '\'' && apo != '"' {
			continue
		}
		rest := s[q:]
		if strings.Count(rest, string(apo)) == 3 && rest[len(rest)-1] == apo {
			// (?!'[^']*'[^']*'$) / (?!"[^"]*"[^"]*"$)
			continue
		}
		if len(rest) < 2 || rest[len(rest)-1] != apo {
			continue
		}
		if strings.ContainsAny(rest, "\n") {
			continue
		}
		return Stmt{Kind: Assign, Op: o.op, Value: rest[1 : len(rest)-1]}, true
	}
	return Stmt{}, false
}

// recipe implements BBHandler's line loop and feeder.
func (p *parser) recipe(lines []string) {
	var (
		inFunc    bool
		fn        Stmt
		body      []string
		inPython  bool
		def       Stmt
		residue   []string
		resStart  int
		resLength int
	)
	flushDef := func() {
		def.Body = strings.Join(body, "\n")
		p.add(def)
		body = nil
		inPython = false
	}
	for i, raw := range lines {
		lineno := i + 1
		s := rstrip(raw)
		if inFunc {
			if s == "}" {
				fn.Body = strings.Join(body, "\n")
				p.add(fn)
				inFunc = false
				body = nil
			} else {
				body = append(body, s)
			}
			continue
		}
		if inPython {
			if s == "" || s[0] == '#' || isSpaceByte(s[0]) || startsWithPySpace(s) {
				body = append(body, s)
				continue
			}
			flushDef()
		}
		if s != "" && s[0] == '#' && len(residue) > 0 && residue[0] != "" && residue[0][0] != '#' {
			p.diag(lineno, "comment in the middle of a multiline expression")
		}
		if len(residue) > 0 && residue[0] != "" && residue[0][0] == '#' && (s == "" || s[0] != '#') {
			p.diag(resStart, "confusing multiline partially commented expression")
		}
		if s != "" && s[len(s)-1] == '\\' {
			if len(residue) == 0 {
				resStart = lineno
			}
			resLength += len(s)
			if resLength > MaxLogicalLine {
				p.diag(resStart, "logical line too long")
				residue, resLength = nil, 0
				continue
			}
			residue = append(residue, s[:len(s)-1])
			continue
		}
		start := lineno
		if len(residue) > 0 {
			start = resStart
			residue = append(residue, s)
			s = strings.Join(residue, "")
			residue, resLength = nil, 0
		}
		if s == "" || s[0] == '#' {
			continue
		}
		if st, ok := matchFuncStart(s); ok {
			st.Line = start
			fn = st
			inFunc = true
			body = nil
			continue
		}
		if name, ok := matchDef(s); ok {
			def = Stmt{Kind: PyDef, Line: start, Var: name, Python: true}
			body = []string{s}
			inPython = true
			continue
		}
		if arg, ok := keywordArg(s, "EXPORT_FUNCTIONS"); ok {
			p.add(Stmt{Kind: ExportFuncs, Line: start, Arg: arg})
			continue
		}
		if arg, ok := keywordArg(s, "addtask"); ok && arg[0] != '#' && arg[0] != '\n' {
			p.add(Stmt{Kind: AddTask, Line: start, Arg: arg})
			continue
		}
		if arg, ok := keywordArg(s, "deltask"); ok && arg[0] != '#' && arg[0] != '\n' {
			p.add(Stmt{Kind: DelTask, Line: start, Arg: arg})
			continue
		}
		if arg, ok := keywordArg(s, "addhandler"); ok {
			p.add(Stmt{Kind: AddHandler, Line: start, Arg: arg})
			continue
		}
		if arg, ok := keywordArg(s, "inherit"); ok {
			p.add(Stmt{Kind: Inherit, Line: start, Arg: arg})
			continue
		}
		if arg, ok := keywordArg(s, "inherit_defer"); ok {
			p.add(Stmt{Kind: InheritDefer, Line: start, Arg: arg})
			continue
		}
		p.confFeed(start, s, false)
	}
	if inPython {
		flushDef()
	}
	if len(residue) > 0 {
		p.diag(resStart, "unparsed lines at end of file (unfinished continuation)")
	}
	if inFunc {
		p.diag(fn.Line, "function %q is never closed", fn.Var)
	}
}

func startsWithPySpace(s string) bool {
	for _, r := range s {
		return isPySpace(r)
	}
	return false
}

// matchDef matches `def\s+(\w+).*:`.
func matchDef(s string) (string, bool) {
	if !strings.HasPrefix(s, "def") {
		return "", false
	}
	i := 3
	j := i
	for j < len(s) && isSpaceByte(s[j]) {
		j++
	}
	if j == i {
		return "", false
	}
	k := j
	for k < len(s) && isWordByte(s[k]) {
		k++
	}
	if k == j || !strings.Contains(s[k:], ":") {
		return "", false
	}
	return s[j:k], true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

// matchFuncStart emulates
// (((?P<py>python(?=(\s|\()))|(?P<fr>fakeroot(?=\s)))\s*)*(?P<func>[\w\.\-\+\{\}\$:]+)?\s*\(\s*\)\s*{$
func matchFuncStart(s string) (Stmt, bool) {
	if !strings.HasSuffix(s, "{") {
		return Stmt{}, false
	}
	st := Stmt{Kind: Func}
	p := 0
	for {
		if strings.HasPrefix(s[p:], "python") && p+6 < len(s) && (isSpaceByte(s[p+6]) || s[p+6] == '(') {
			st.Python = true
			p += 6
		} else if strings.HasPrefix(s[p:], "fakeroot") && p+8 < len(s) && isSpaceByte(s[p+8]) {
			st.Fakeroot = true
			p += 8
		} else {
			break
		}
		for p < len(s) && isSpaceByte(s[p]) {
			p++
		}
	}
	q := p
	for q < len(s) && (isWordByte(s[q]) || strings.IndexByte(".-+{}$:", s[q]) >= 0) {
		q++
	}
	name := s[p:q]
	if !tailParens(s[q:]) {
		// The greedy prefix loop may have eaten a "python"/"fakeroot"
		// that BitBake's backtracking would hand to the name group; that
		// can only matter if the rest then matches, which it did not.
		return Stmt{}, false
	}
	st.Var = name
	return st, true
}

// tailParens matches \s*\(\s*\)\s*{$
func tailParens(s string) bool {
	i := 0
	skip := func() {
		for i < len(s) && isSpaceByte(s[i]) {
			i++
		}
	}
	skip()
	if i >= len(s) || s[i] != '(' {
		return false
	}
	i++
	skip()
	if i >= len(s) || s[i] != ')' {
		return false
	}
	i++
	skip()
	return i == len(s)-1 && s[i] == '{'
}
