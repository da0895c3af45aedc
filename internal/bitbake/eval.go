package bitbake

import (
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"layerindex/internal/bitbake/data"
	"layerindex/internal/bitbake/syntax"
)

// MaxIncludeDepth bounds nested include/require/inherit (loops in hostile
// layers end here).
const MaxIncludeDepth = 48

// MaxFilesRead bounds the files one evaluation (a recipe, or the
// configuration) reads through include, require and inherit, counting
// every reading: depth alone does not bound the work, as files that
// include each other more than once make a tree of 2^MaxIncludeDepth
// readings (a.inc includes b.inc and the recipe, b.inc includes a.inc…),
// which BitBake would never finish either. Real recipes read a few hundred
// files at most.
const MaxFilesRead = 10_000

// MaxPathLen is the longest file name include, require and inherit look
// for (Linux's PATH_MAX): a longer one, which a self-referencing variable
// makes a megabyte long, is refused rather than probed and recorded as a
// dependency.
const MaxPathLen = 4096

// errLimit is a limit of the whole evaluation: unlike other include
// errors it ends the evaluation rather than being reported and skipped.
type errLimit struct{ msg string }

func (e *errLimit) Error() string { return e.msg }

// deferredInherit is an inherit_defer (or BB_DEFER_BBCLASSES) entry.
type deferredInherit struct {
	classes string
	file    string
	line    int
}

// anonFunc is an anonymous python function queued for finalisation.
type anonFunc struct {
	name string
	body string
	file string
	line int
}

// Diag is a problem met while parsing, with its position.
type Diag struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Msg  string `json:"msg"`
}

func (d Diag) String() string {
	if d.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", d.File, d.Line, d.Msg)
	}
	return fmt.Sprintf("%s: %s", d.File, d.Msg)
}

// evaluator runs statements against one datastore, tracking what BitBake
// keeps in internal variables (__inherit_cache, __BBANONFUNCS, ...).
type evaluator struct {
	cfg       *Config
	d         *data.Store
	classType string // "global" for configuration, "recipe" for recipes

	inherits  []string // __inherit_cache: class file paths
	deferred  []deferredInherit
	anon      []anonFunc
	handlers  []string
	depends   []string // __depends: files read or probed
	dependSet map[string]bool
	// reads are the paths Python read, tested or listed (nil for the
	// configuration): not BitBake's file dependencies, but what an
	// incremental update must also watch.
	reads  map[string]bool
	pylibs []pylib

	depth       int
	filesRead   *int   // readings by handle, shared with the forks of a recipe's copies (MaxFilesRead)
	baseFile    string // the file being parsed as base configuration
	diags       []Diag
	errors      int // parse errors BitBake would fail the recipe for
	py          *pyState
	failed      []string // python statements that could not be evaluated
	failedCount int
}

type pylib struct {
	dir       string
	namespace string
}

// fork copies the evaluator state for a child datastore (a recipe on top
// of the configuration).
func (ev *evaluator) fork(d *data.Store, classType string) *evaluator {
	n := &evaluator{
		cfg:       ev.cfg,
		d:         d,
		classType: classType,
		inherits:  clip(ev.inherits),
		deferred:  clip(ev.deferred),
		anon:      clip(ev.anon),
		handlers:  clip(ev.handlers),
		pylibs:    ev.pylibs,
		depends:   clip(ev.depends),
		dependSet: make(map[string]bool, len(ev.depends)),
	}
	for _, f := range ev.depends {
		n.dependSet[f] = true
	}
	n.py = newPyState(n)
	d.Host = n
	return n
}

// clip returns s with capacity equal to its length, so appends copy.
func clip[T any](s []T) []T { return s[:len(s):len(s)] }

func (ev *evaluator) diag(file string, line int, format string, args ...any) {
	if len(ev.diags) < 100 {
		ev.diags = append(ev.diags, Diag{File: ev.cfg.relName(file), Line: line, Msg: fmt.Sprintf(format, args...)})
	}
}

func (ev *evaluator) parseError(file string, line int, format string, args ...any) {
	ev.errors++
	ev.diag(file, line, format, args...)
}

func (ev *evaluator) markDependency(f string) {
	if len(f) > MaxPathLen {
		return
	}
	if ev.dependSet == nil {
		ev.dependSet = map[string]bool{}
	}
	if !ev.dependSet[f] {
		ev.dependSet[f] = true
		ev.depends = append(ev.depends, f)
	}
}

// markRead records a path Python read or tested; a directory it listed
// or globbed is recorded with a trailing "/".
func (ev *evaluator) markRead(p string) {
	if ev.reads != nil && len(ev.reads) < maxReads && len(p) <= MaxPathLen {
		ev.reads[p] = true
	}
}

// maxReads bounds the paths recorded for one recipe.
const maxReads = 10000

func (ev *evaluator) inheritsClass(class string) bool {
	needle := "/" + class + ".bbclass"
	for _, f := range ev.inherits {
		if strings.HasSuffix(f, needle) {
			return true
		}
	}
	return false
}

// errSkip is returned when evaluation raised SkipRecipe.
type errSkip struct{ msg string }

func (e *errSkip) Error() string { return "skipped: " + e.msg }

// handle parses and evaluates one file (bb.parse.handle with include set).
func (ev *evaluator) handle(fn string, include bool) error {
	ext := path.Ext(fn)
	var mode syntax.Mode
	switch ext {
	case ".conf":
		mode = syntax.ConfMode
	case ".bb", ".bbclass", ".inc", ".bbappend":
		mode = syntax.RecipeMode
	default:
		return fmt.Errorf("not a BitBake file: %s", fn)
	}
	if len(fn) > MaxPathLen {
		return fmt.Errorf("file name of %d bytes refused (the limit is %d)", len(fn), MaxPathLen)
	}
	abs := fn
	if !isAbs(fn) {
		bbpath, _ := ev.d.Get("BBPATH")
		found, tried := ev.cfg.vfs.which(bbpath, fn)
		for _, t := range tried {
			ev.markDependency(t)
		}
		if found == "" {
			return errNotFound
		}
		abs = found
	} else {
		abs = cleanPath(abs)
		ev.markDependency(abs)
	}
	if !ev.cfg.vfs.isFile(abs) {
		return errNotFound
	}
	if ev.filesRead == nil {
		ev.filesRead = new(int)
	}
	if *ev.filesRead++; *ev.filesRead > MaxFilesRead {
		return &errLimit{fmt.Sprintf("more than %d files read through include, require and inherit (at %s)", MaxFilesRead, ev.cfg.relName(abs))}
	}
	ev.depth++
	defer func() { ev.depth-- }()
	if ev.depth > MaxIncludeDepth {
		return fmt.Errorf("include/inherit nesting deeper than %d at %s", MaxIncludeDepth, ev.cfg.relName(abs))
	}
	f, err := ev.cfg.statements(abs, mode)
	if err != nil {
		return err
	}
	for _, dg := range f.Diags {
		ev.diag(abs, dg.Line, "%s", dg.Msg)
	}
	var oldfile string
	var hadOld bool
	if include {
		oldfile, hadOld = ev.d.Raw("FILE", false)
	}
	if mode == syntax.ConfMode {
		ev.d.SetVar("FILE", abs)
		err = ev.evalStatements(f.Stmts, abs)
		if hadOld && oldfile != "" {
			ev.d.SetVar("FILE", oldfile)
		}
		return err
	}
	isClass := ext == ".bbclass"
	if isClass && !ev.inheritedFile(fn) {
		ev.inherits = append(ev.inherits, fn)
	}
	if !isClass && abs != oldfile {
		ev.d.SetVar("FILE", abs)
	}
	err = ev.evalStatements(f.Stmts, abs)
	if !isClass && include && hadOld && oldfile != "" && abs != oldfile {
		ev.d.SetVar("FILE", oldfile)
	}
	return err
}

var errNotFound = fmt.Errorf("file not found")

func (ev *evaluator) inheritedFile(f string) bool {
	for _, x := range ev.inherits {
		if x == f {
			return true
		}
	}
	return false
}

func (ev *evaluator) evalStatements(stmts []syntax.Stmt, file string) error {
	for i := range stmts {
		if err := ev.exec(&stmts[i], file); err != nil {
			return err
		}
		if ev.d.Skipped {
			return &errSkip{ev.d.SkipReason}
		}
	}
	return nil
}

// exec evaluates one statement (the eval methods of BitBake's AST nodes).
func (ev *evaluator) exec(st *syntax.Stmt, file string) error {
	d := ev.d
	switch st.Kind {
	case syntax.Assign:
		ev.assign(st)
	case syntax.Export:
		d.SetFlag(st.Var, "export", "1")
	case syntax.Unset:
		d.DelVar(st.Var)
	case syntax.UnsetFlag:
		d.DelFlag(st.Var, st.Flag)
	case syntax.Include, syntax.Require:
		return ev.include(file, st.Line, d.Expand(st.Arg), st.Kind == syntax.Require)
	case syntax.IncludeAll:
		what := d.Expand(st.Arg)
		bbpath, _ := d.Get("BBPATH")
		for _, dir := range strings.Split(bbpath, ":") {
			if err := ev.include(file, st.Line, joinPath(dir, what), false); err != nil {
				return err
			}
		}
	case syntax.Inherit:
		return ev.inherit(st.Arg, file, st.Line, false)
	case syntax.InheritDefer:
		ev.deferred = append(ev.deferred, deferredInherit{classes: st.Arg, file: file, line: st.Line})
	case syntax.Func:
		ev.method(st, file)
	case syntax.PyDef:
		d.SetFlag(st.Var, "func", "1")
		d.SetFlag(st.Var, "python", "1")
		d.SetVarParsing(st.Var, st.Body)
		d.SetDef(st.Var, st.Body)
	case syntax.AddHandler:
		for _, h := range strings.Fields(st.Arg) {
			ev.handlers = append(ev.handlers, h)
			d.SetFlag(h, "handler", "1")
		}
	case syntax.AddPylib:
		// Honoured in files parsed as base configuration (bitbake.conf,
		// layer.conf), not in their includes, as BitBake does.
		parts := strings.Fields(st.Arg)
		if len(parts) >= 2 && file == ev.baseFile {
			ev.pylibs = append(ev.pylibs, pylib{dir: cleanPath(d.Expand(parts[0])), namespace: parts[1]})
		}
	case syntax.AddFragments:
		parts := strings.Fields(st.Arg)
		if len(parts) >= 2 {
			if v, _ := d.Get(parts[1]); strings.TrimSpace(v) != "" {
				ev.diag(file, st.Line, "addfragments with fragments enabled is not supported")
			}
		}
	case syntax.ExportFuncs, syntax.AddTask, syntax.DelTask:
		// Task wiring does not change the indexed variables.
	}
	return nil
}

// assign is ast.DataNode.eval.
func (ev *evaluator) assign(st *syntax.Stmt) {
	d := ev.d
	key := st.Var
	if st.Export {
		d.SetFlag(key, "export", "1")
	}
	cur := func() (string, bool) {
		if st.Flag != "" {
			v := d.Lookup(key)
			if v == nil {
				return "", false
			}
			return d.GetFlagNoDefault(key, st.Flag)
		}
		return d.Raw(key, true)
	}
	val := st.Value
	switch st.Op {
	case syntax.OpDefault:
		if c, ok := cur(); ok {
			val = c
			if st.Flag == "" {
				// Setting the variable to its own content changes nothing.
				return
			}
		}
	case syntax.OpImmediate:
		c := d.Copy()
		val = c.ExpandVar(st.Value, key+"[:=]")
		d.Stats.InlineOK += c.Stats.InlineOK
		d.Stats.InlineFailed += c.Stats.InlineFailed
		for _, f := range c.Stats.Failed {
			if len(d.Stats.Failed) < 40 {
				d.Stats.Failed = append(d.Stats.Failed, f)
			}
		}
		if c.Skipped && !d.Skipped {
			d.Skipped, d.SkipReason = true, c.SkipReason
		}
	case syntax.OpAppend:
		c, _ := cur()
		val = c + " " + st.Value
	case syntax.OpPrepend:
		c, _ := cur()
		val = st.Value + " " + c
	case syntax.OpPostDot:
		c, _ := cur()
		val = c + st.Value
	case syntax.OpPreDot:
		c, _ := cur()
		val = st.Value + c
	}
	switch {
	case st.Flag != "" && st.Op == syntax.OpWeakDefault:
		d.SetFlag(key, "_defaultval_flag_"+st.Flag, val)
	case st.Flag != "":
		d.SetFlag(key, st.Flag, val)
	case st.Op == syntax.OpWeakDefault:
		d.SetDefault(key, val)
	default:
		d.SetVarParsing(key, val)
	}
}

// include is ConfHandler.include for one or more files.
func (ev *evaluator) include(parent string, line int, files string, required bool) error {
	files = ev.d.Expand(files)
	for _, fn := range strings.Fields(files) {
		if fn == parent {
			continue
		}
		if len(fn) > MaxPathLen {
			ev.parseError(parent, line, "file name of %d bytes refused (the limit is %d)", len(fn), MaxPathLen)
			continue
		}
		if !isAbs(fn) {
			bbpath, _ := ev.d.Get("BBPATH")
			found, tried := ev.cfg.vfs.which(dirName(parent)+":"+bbpath, fn)
			for _, t := range tried {
				ev.markDependency(t)
			}
			if found != "" {
				fn = found
			}
		}
		err := ev.handle(fn, true)
		if err == errNotFound {
			if required {
				ev.parseError(parent, line, "could not include required file %s", fn)
			}
			continue
		}
		if err != nil {
			switch err.(type) {
			case *errSkip, *errLimit:
				return err
			}
			ev.parseError(parent, line, "%v", err)
		}
	}
	return nil
}

// inherit is BBHandler.inherit.
func (ev *evaluator) inherit(classes, file string, line int, deferred bool) error {
	d := ev.d
	for _, class := range strings.Fields(d.Expand(classes)) {
		if len(class) > MaxPathLen {
			ev.parseError(file, line, "class name of %d bytes refused (the limit is %d)", len(class), MaxPathLen)
			continue
		}
		if !deferred {
			defer_, _ := d.Get("BB_DEFER_BBCLASSES")
			if containsWord(defer_, class) {
				ev.deferred = append(ev.deferred, deferredInherit{classes: class, file: file, line: line})
				continue
			}
		}
		found := ""
		dirs := []string{"classes-" + ev.classType, "classes"}
		if ev.cfg.legacyClasses {
			dirs = dirs[1:]
		}
		for _, t := range dirs {
			f := class
			if !isAbs(f) && !strings.HasSuffix(f, ".bbclass") {
				f = t + "/" + class + ".bbclass"
			}
			if !isAbs(f) {
				bbpath, _ := d.Get("BBPATH")
				abs, tried := ev.cfg.vfs.which(bbpath, f)
				for _, tr := range tried {
					if tr != abs {
						ev.markDependency(tr)
					}
				}
				if abs != "" {
					f = abs
				}
			}
			if isAbs(f) && ev.cfg.vfs.isFile(f) {
				found = f
				break
			}
		}
		if found == "" {
			ev.parseError(file, line, "could not inherit class %s", class)
			continue
		}
		if ev.inheritedFile(found) {
			continue
		}
		ev.inherits = append(ev.inherits, found)
		if err := ev.handle(found, true); err != nil {
			switch err.(type) {
			case *errSkip, *errLimit:
				return err
			}
			ev.parseError(file, line, "inherit %s: %v", class, err)
		}
	}
	return nil
}

// method is ast.MethodNode.eval: functions become variables; anonymous
// python is queued.
func (ev *evaluator) method(st *syntax.Stmt, file string) {
	d := ev.d
	name := st.Var
	if name == "" || name == "__anonymous" {
		name = fmt.Sprintf("__anon_%d_%s", st.Line, anonFileName(file))
		ev.anon = append(ev.anon, anonFunc{name: name, body: st.Body, file: file, line: st.Line})
		d.SetVarParsing(name, st.Body)
		return
	}
	if _, ok := d.Raw(name, false); ok {
		d.DelFlag(name, "python")
		d.DelFlag(name, "fakeroot")
	}
	if st.Python {
		d.SetFlag(name, "python", "1")
	}
	if st.Fakeroot {
		d.SetFlag(name, "fakeroot", "1")
	}
	d.SetFlag(name, "func", "1")
	d.SetVarParsing(name, st.Body)
}

func anonFileName(f string) string {
	r := strings.NewReplacer("/", "_", ".", "_", "+", "_", "-", "_", "@", "_", "%", "_", "&", "_", "~", "_", "<", "_", ">", "_")
	return r.Replace(f)
}

// It looks for w with strings.Index and checks the characters around it
// rather than splitting list: event masks and class lists are tested for
// every handler and inherit of every recipe.
func containsWord(list, w string) bool {
	if w == "" || strings.IndexFunc(w, unicode.IsSpace) >= 0 {
		return false // strings.Fields yields neither
	}
	for i := 0; ; {
		j := strings.Index(list[i:], w)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(w)
		before, _ := utf8.DecodeLastRuneInString(list[:j])
		after, _ := utf8.DecodeRuneInString(list[end:])
		if (j == 0 || unicode.IsSpace(before)) && (end == len(list) || unicode.IsSpace(after)) {
			return true
		}
		i = j + 1
	}
}
