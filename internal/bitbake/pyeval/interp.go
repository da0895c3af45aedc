// Package pyeval evaluates the subset of Python that BitBake metadata
// uses in ${@...} expressions, def helpers and anonymous python functions.
// It has its own tokenizer, parser and tree-walking evaluator; nothing is
// handed to a real interpreter and nothing can reach the host: the only
// world the code sees is the datastore behind the Host interface, plus
// pure library functions re-implemented in Go (bb.utils.contains,
// oe.utils.conditional, os.path.join...).
//
// Unsupported constructs do not abort evaluation: they produce Unknown
// values, and an Unsupported error is returned only where a decision or a
// side effect would depend on one. Every evaluation is bounded in steps,
// call depth and value sizes.
package pyeval

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"
)

// Host is the datastore the code runs against (the "d" object).
type Host interface {
	// GetVar returns a variable's value (expanded or not) and whether it
	// is set.
	GetVar(name string, expand bool) (string, bool)
	GetVarFlag(name, flag string, expand bool) (string, bool)
	// VarFlags returns the variable's public flags, unexpanded.
	VarFlags(name string) map[string]string
	SetVar(name, value string)
	SetVarFlag(name, flag, value string)
	AppendVar(name, value string)
	PrependVar(name, value string)
	AppendVarFlag(name, flag, value string)
	PrependVarFlag(name, flag, value string)
	DelVar(name string)
	DelVarFlag(name, flag string)
	RenameVar(from, to string)
	// Expand expands ${...} references in s.
	Expand(s string) (string, error)
	// Inherits reports whether the class is in the inherit cache.
	Inherits(class string) bool
	// CreateCopy returns a copy-on-write child datastore.
	CreateCopy() Host
	// Function returns the source of a python def defined in metadata.
	Function(name string) (src string, ok bool)
	// FileExists checks a path on the virtual filesystem of the layers.
	FileExists(path string) (exists, isDir bool)
	// SetFilter installs a variable filter expression (d.setVarFilter).
	SetFilter(name, expr string)
	// SetVarObject stores a non-string value (its string form is str).
	SetVarObject(name string, v any, str string)
	// ReadFile reads a file of the layers: inLayers is false for paths
	// outside every layer (the evaluator then knows nothing about them).
	ReadFile(path string) (data string, found, inLayers bool)
	// InLayers reports whether a path lies in one of the layers (whether
	// the evaluator can know if it exists).
	InLayers(path string) bool
	// Glob lists paths matching a pattern on the layers' file systems.
	Glob(pattern string) []string
	// VarObject returns a value stored with SetVarObject.
	VarObject(name string) (any, bool)
	// MarkDependency records a file the recipe depends on
	// (bb.parse.mark_dependency).
	MarkDependency(path string)
	// HasOverrides reports whether the variable has override variants.
	HasOverrides(name string) bool
	// PyModule returns the source of a python library module (e.g.
	// "oe.kernel") from the layers' addpylib directories.
	PyModule(name string) (src string, ok bool)
}

// Limits bound one evaluation.
type Limits struct {
	Steps    int // expression and statement evaluations
	Depth    int // nested calls
	MaxBytes int // size of any one string or collection result
	MaxAlloc int // total size of the strings and collections produced
}

// DefaultLimits are generous for real metadata and small for attacks.
var DefaultLimits = Limits{Steps: 1_000_000, Depth: 60, MaxBytes: 4 << 20, MaxAlloc: 64 << 20}

// Interp evaluates code against one Host. It is not safe for concurrent
// use; create one per datastore.
type Interp struct {
	Host   Host
	Limits Limits

	steps   int
	alloc   int
	depth   int
	inline  bool // inside an inline expression: unknown names fall back to getVar
	recover bool // anonymous function mode: skip failed statements
	// Failed collects what was not supported during the current run.
	Failed  []string
	yields  []*List
	globals map[string]Value // the metadata functions' globals without Shared
	shared  *Shared
	// filterLookup resolves filter functions while a filter runs.
	filterLookup func(name string) (module string, ok bool)
	// failures counts noteFailure calls (Failed is capped).
	failures int
	// modTrack records what the top level of the library module being
	// instantiated resolved (nil outside module instantiation).
	modTrack *modTrack
	// argStack holds the arguments of method calls in progress (pushArgs).
	argStack []Value
}

// Shared is state shared by the evaluators of one recipe: interpreted
// library modules and a total step budget across nested evaluations.
type Shared struct {
	libMods map[string]*libMod
	// Modules, when set, keeps library module instances for the next
	// recipes the same worker parses (see ModuleCache).
	Modules *ModuleCache
	// globals is the namespace of the metadata's functions (BitBake's
	// method pool): what their global statements bind.
	globals map[string]Value
	// Budget is the number of steps left for all evaluations sharing it.
	Budget int
	// Bytes is the allocation budget left (see Limits.MaxAlloc).
	Bytes int
}

// NewShared returns shared state with a total step budget.
func NewShared(budget int) *Shared {
	return &Shared{libMods: map[string]*libMod{}, Budget: budget, Bytes: 512 << 20}
}

// NewInterpShared returns an evaluator bound to h that shares module
// instances and the step budget with others.
func NewInterpShared(h Host, sh *Shared) *Interp {
	return &Interp{Host: h, Limits: DefaultLimits, shared: sh}
}

// NewInterp returns an evaluator bound to h.
func NewInterp(h Host) *Interp {
	return &Interp{Host: h, Limits: DefaultLimits}
}

// errBudget stops evaluation when a limit is exceeded; it is never
// swallowed by statement recovery.
type errBudget struct{ what string }

func (e *errBudget) Error() string { return "evaluation limit exceeded: " + e.what }

// IsBudget reports whether err is a limit violation.
func IsBudget(err error) bool {
	var b *errBudget
	return errors.As(err, &b)
}

func (in *Interp) step() error {
	in.steps++
	if in.steps > in.Limits.Steps {
		return &errBudget{"steps"}
	}
	if in.shared != nil {
		in.shared.Budget--
		if in.shared.Budget < 0 {
			return &errBudget{"total steps"}
		}
	}
	return nil
}

func (in *Interp) reset() {
	in.steps = 0
	in.alloc = 0
	in.depth = 0
	in.Failed = in.Failed[:0]
}

// cache is a concurrent parse cache bounded in entries: a long-running
// process parsing many layers must not grow without limit, so the cache
// is emptied when full.
type cache struct {
	m sync.Map
	n atomic.Int64
}

const maxCacheEntries = 50_000

func (c *cache) Load(k any) (any, bool) { return c.m.Load(k) }

func (c *cache) Store(k, v any) {
	if c.n.Add(1) > maxCacheEntries {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(k, v)
}

var (
	exprCache cache // code -> exprCacheEntry
	funcCache cache // source -> funcCacheEntry
)

type exprCacheEntry struct {
	e   expr
	err error
}

type funcCacheEntry struct {
	fn  *funcDef
	err error
}

func cachedExpr(code string) (expr, error) {
	if v, ok := exprCache.Load(code); ok {
		en := v.(exprCacheEntry)
		return en.e, en.err
	}
	e, err := parseExpression(code)
	exprCache.Store(code, exprCacheEntry{e, err})
	return e, err
}

type bodyKey struct {
	name, params string
	body         strKey
}

// strKey identifies a string by its memory: sources come from cached
// statements and library files, so the same text is the same string, and
// hashing long sources on every lookup is avoided.
type strKey struct {
	p *byte
	n int
}

func keyOf(s string) strKey { return strKey{unsafe.StringData(s), len(s)} }

var bodyCache cache // bodyKey -> funcCacheEntry

// cachedBody parses a function body (anonymous function, handler) as
// "def name<params>:" followed by body; nil for an empty body.
func cachedBody(name, params, body string) (*funcDef, error) {
	k := bodyKey{name, params, keyOf(body)}
	if v, ok := bodyCache.Load(k); ok {
		en := v.(funcCacheEntry)
		return en.fn, en.err
	}
	var fn *funcDef
	var err error
	if strings.TrimSpace(body) != "" {
		fn, err = cachedDef("def " + sanitizeName(name) + params + ":\n" + body + "\n")
	}
	bodyCache.Store(k, funcCacheEntry{fn, err})
	return fn, err
}

// cachedDef parses a def source (one "def name(...):" with its body).
func cachedDef(src string) (*funcDef, error) {
	if v, ok := funcCache.Load(keyOf(src)); ok {
		en := v.(funcCacheEntry)
		return en.fn, en.err
	}
	var fn *funcDef
	body, err := parseModule(src)
	if err == nil {
		for _, st := range body {
			if ds, ok := st.(*defStmt); ok {
				fn = ds.fn
				break
			}
		}
		if fn == nil {
			err = &SyntaxError{1, "no def found"}
		}
	}
	funcCache.Store(keyOf(src), funcCacheEntry{fn, err})
	return fn, err
}

// EvalInline evaluates the code of a ${@...} expression and returns
// str() of the result. An Unknown result is reported as *Unsupported.
func (in *Interp) EvalInline(code string) (string, error) {
	in.reset()
	e, err := cachedExpr(code)
	if err != nil {
		return "", err
	}
	saved := in.inline
	in.inline = true
	v, err := in.eval(e, &scope{})
	in.inline = saved
	if err != nil {
		return "", err
	}
	if u, ok := v.(*Unknown); ok {
		return "", &Unsupported{What: u.Why}
	}
	return strOf(v), nil
}

// EvalExpr evaluates an expression to a Value (used for filters).
func (in *Interp) EvalExpr(code string, locals map[string]Value) (Value, error) {
	in.reset()
	e, err := cachedExpr(code)
	if err != nil {
		return nil, err
	}
	sc := &scope{vars: locals}
	return in.eval(e, sc)
}

// RunFunction runs a python function body (an anonymous function or a
// task function body) with d bound, in recovery mode: statements that hit
// unsupported code are skipped and reported in Failed. A Python exception
// that escapes is returned (e.g. SkipRecipe).
func (in *Interp) RunFunction(name, body string) error {
	in.reset()
	fn, err := cachedBody(name, "(d)", body)
	if err != nil || fn == nil {
		return err
	}
	return in.runTop(fn, map[string]Value{"d": &DataRef{in.Host}})
}

// runTop runs a function body in recovery mode. At the top level of the
// body even Python exceptions other than SkipRecipe and bb.fatal only
// skip the statement: they usually come from library code this evaluator
// only approximates, and the statements after them still matter.
func (in *Interp) runTop(fd *funcDef, args map[string]Value) error {
	saved := in.recover
	in.recover = true
	defer func() { in.recover = saved }()
	sc := &scope{vars: args}
	for _, st := range fd.body {
		before := in.steps
		c, _, err := in.exec(st, sc)
		if hook := topStmtHook.Load(); hook != nil {
			(*hook)(fd.name, stmtLine(st), in.steps-before)
		}
		if err != nil {
			if IsBudget(err) {
				return err
			}
			bindUnknown(st, sc, err)
			var exc *Exception
			if errors.As(err, &exc) {
				if exc.Class.isSubclass(ExcSkipRecipe) || exc.Class.isSubclass(ExcFatal) {
					return err
				}
				in.noteFailure(fmt.Errorf("line %d: %w", stmtLine(st), err))
				continue
			}
			var u *Unsupported
			if errors.As(err, &u) {
				in.noteFailure(fmt.Errorf("line %d: %w", stmtLine(st), err))
				continue
			}
			return err
		}
		if c == ctrlReturn {
			return nil
		}
	}
	return nil
}

// CallNamed calls a metadata-defined function by name with string args
// and returns str() of the result (used by native emulations).
func (in *Interp) CallNamed(name string, args ...Value) (Value, error) {
	in.reset()
	src, ok := in.Host.Function(name)
	if !ok {
		return nil, unsupported("no function %s", name)
	}
	fn, err := cachedDef(src)
	if err != nil {
		return nil, err
	}
	return in.callFunction(&Function{def: fn}, args, nil)
}

func sanitizeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 || (b.String()[0] >= '0' && b.String()[0] <= '9') {
		return "_" + b.String()
	}
	return b.String()
}

func (in *Interp) noteFailure(err error) {
	in.failures++
	if len(in.Failed) < 50 {
		in.Failed = append(in.Failed, err.Error())
	}
}

// scope is a function's local namespace.
type scope struct {
	vars   map[string]Value
	parent *scope
	// declared holds the names a global ('g') or nonlocal ('n')
	// statement of this function declared.
	declared map[string]byte
	// module marks the top-level namespace of a library module: the
	// globals of the functions defined in it.
	module bool
}

// lookup finds a name along the enclosing scopes; a name declared global
// is looked up in the global namespace only.
func (in *Interp) lookupScoped(sc *scope, name string) (Value, bool) {
	for s := sc; s != nil; s = s.parent {
		switch s.declared[name] {
		case 'g':
			v, ok := in.globalNS(s, false)[name]
			return v, ok
		case 'n':
			continue
		}
		if v, ok := s.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

// globalNS returns the global namespace of the functions of scope sc:
// the library module's namespace they were defined in, or for functions
// of the metadata (and anonymous functions) BitBake's shared namespace,
// kept per recipe. With create unset it may return nil.
func (in *Interp) globalNS(sc *scope, create bool) map[string]Value {
	for s := sc; s != nil; s = s.parent {
		if s.module {
			return s.vars
		}
	}
	if in.shared != nil {
		if in.shared.globals == nil && create {
			in.shared.globals = map[string]Value{}
		}
		return in.shared.globals
	}
	if in.globals == nil && create {
		in.globals = map[string]Value{}
	}
	return in.globals
}

// bind assigns a name in scope sc, honouring global and nonlocal.
func (in *Interp) bind(sc *scope, name string, v Value) {
	switch sc.declared[name] {
	case 'g':
		in.globalNS(sc, true)[name] = v
		return
	case 'n':
		for s := sc.parent; s != nil && !s.module; s = s.parent {
			if _, ok := s.vars[name]; ok {
				s.vars[name] = v
				return
			}
		}
	}
	sc.set(name, v)
}

func (sc *scope) set(name string, v Value) {
	if sc.vars == nil {
		sc.vars = map[string]Value{}
	}
	sc.vars[name] = v
}

type ctrl uint8

const (
	ctrlNone ctrl = iota
	ctrlReturn
	ctrlBreak
	ctrlContinue
)

func (in *Interp) execBlock(body []stmt, sc *scope) (ctrl, Value, error) {
	for _, st := range body {
		c, v, err := in.exec(st, sc)
		if err != nil {
			var u *Unsupported
			if in.recover && errors.As(err, &u) {
				in.noteFailure(fmt.Errorf("line %d: %w", stmtLine(st), err))
				bindUnknown(st, sc, u)
				continue
			}
			return ctrlNone, nil, err
		}
		if c != ctrlNone {
			return c, v, nil
		}
	}
	return ctrlNone, nil, nil
}

func (in *Interp) exec(st stmt, sc *scope) (ctrl, Value, error) {
	if err := in.step(); err != nil {
		return ctrlNone, nil, err
	}
	switch s := st.(type) {
	case *exprStmt:
		_, err := in.eval(s.x, sc)
		return ctrlNone, nil, err
	case *assignStmt:
		v, err := in.eval(s.v, sc)
		if err != nil {
			return ctrlNone, nil, err
		}
		for _, t := range s.targets {
			if err := in.assign(t, v, sc); err != nil {
				return ctrlNone, nil, err
			}
		}
		return ctrlNone, nil, nil
	case *augAssignStmt:
		cur, err := in.eval(s.target, sc)
		if err != nil {
			return ctrlNone, nil, err
		}
		v, err := in.eval(s.v, sc)
		if err != nil {
			return ctrlNone, nil, err
		}
		var nv Value
		if l, ok := cur.(*List); ok && s.op == "+" {
			items, err := in.iterate(v)
			if err != nil {
				return ctrlNone, nil, err
			}
			l.items = append(l.items, items...)
			if err := in.checkItems(len(l.items), len(items)); err != nil {
				return ctrlNone, nil, err
			}
			nv = l
		} else {
			nv, err = in.binop(s.op, cur, v)
			if err != nil {
				return ctrlNone, nil, err
			}
		}
		return ctrlNone, nil, in.assign(s.target, nv, sc)
	case *ifStmt:
		cv, err := in.eval(s.cond, sc)
		if err != nil {
			return ctrlNone, nil, err
		}
		b, err := truth(cv)
		if err != nil {
			return ctrlNone, nil, err
		}
		if b {
			return in.execBlock(s.body, sc)
		}
		return in.execBlock(s.els, sc)
	case *forStmt:
		iv, err := in.eval(s.iter, sc)
		if err != nil {
			return ctrlNone, nil, err
		}
		items, err := in.iterate(iv)
		if err != nil {
			return ctrlNone, nil, err
		}
		for _, it := range items {
			if err := in.assign(s.target, it, sc); err != nil {
				return ctrlNone, nil, err
			}
			c, v, err := in.execBlock(s.body, sc)
			if err != nil {
				return ctrlNone, nil, err
			}
			if c == ctrlBreak {
				return ctrlNone, nil, nil
			}
			if c == ctrlReturn {
				return c, v, nil
			}
		}
		return in.execBlock(s.els, sc)
	case *whileStmt:
		for {
			cv, err := in.eval(s.cond, sc)
			if err != nil {
				return ctrlNone, nil, err
			}
			b, err := truth(cv)
			if err != nil {
				return ctrlNone, nil, err
			}
			if !b {
				break
			}
			c, v, err := in.execBlock(s.body, sc)
			if err != nil {
				return ctrlNone, nil, err
			}
			if c == ctrlBreak {
				return ctrlNone, nil, nil
			}
			if c == ctrlReturn {
				return c, v, nil
			}
		}
		return in.execBlock(s.els, sc)
	case *returnStmt:
		if s.v == nil {
			return ctrlReturn, None, nil
		}
		v, err := in.eval(s.v, sc)
		if err != nil {
			return ctrlNone, nil, err
		}
		return ctrlReturn, v, nil
	case *passStmt:
		return ctrlNone, nil, nil
	case *globalStmt:
		if sc.declared == nil {
			sc.declared = map[string]byte{}
		}
		kind := byte('g')
		if s.nonlocal {
			kind = 'n'
		}
		for _, n := range s.names {
			sc.declared[n] = kind
		}
		return ctrlNone, nil, nil
	case *breakStmt:
		return ctrlBreak, nil, nil
	case *continueStmt:
		return ctrlContinue, nil, nil
	case *raiseStmt:
		if s.v == nil {
			return ctrlNone, nil, newExc(excRuntimeError, "No active exception to reraise")
		}
		v, err := in.eval(s.v, sc)
		if err != nil {
			return ctrlNone, nil, err
		}
		switch x := v.(type) {
		case *Exception:
			return ctrlNone, nil, x
		case *ExcClass:
			return ctrlNone, nil, &Exception{Class: x}
		case *Unknown:
			return ctrlNone, nil, unsupported("raise of unknown value (%s)", x.Why)
		}
		return ctrlNone, nil, newExc(excTypeError, "exceptions must derive from BaseException")
	case *tryStmt:
		return in.execTry(s, sc)
	case *withStmt:
		return in.execWith(s, sc)
	case *importStmt:
		for _, n := range s.names {
			if n.attr == "*" {
				continue
			}
			var v Value = unknownf("module %s", n.module)
			if m := in.module(n.module); m != nil {
				v = m
			}
			if n.attr != "" {
				if sub := in.module(n.module + "." + n.attr); sub != nil {
					v = sub
				} else {
					v = in.getAttr(v, n.attr)
				}
			}
			sc.set(n.as, v)
		}
		return ctrlNone, nil, nil
	case *delStmt:
		for _, t := range s.targets {
			if err := in.del(t, sc); err != nil {
				return ctrlNone, nil, err
			}
		}
		return ctrlNone, nil, nil
	case *assertStmt:
		v, err := in.eval(s.cond, sc)
		if err != nil {
			return ctrlNone, nil, err
		}
		b, err := truth(v)
		if err != nil {
			return ctrlNone, nil, err
		}
		if !b {
			return ctrlNone, nil, &Exception{Class: excAssertion}
		}
		return ctrlNone, nil, nil
	case *defStmt:
		f, err := in.makeFunction(s.fn, sc)
		if err != nil {
			return ctrlNone, nil, err
		}
		sc.set(s.fn.name, f)
		return ctrlNone, nil, nil
	case *classStmt:
		return ctrlNone, nil, in.execClass(s, sc)
	case *unsupportedStmt:
		return ctrlNone, nil, unsupported("%s statement", s.what)
	}
	return ctrlNone, nil, unsupported("statement %T", st)
}

func (in *Interp) execTry(s *tryStmt, sc *scope) (c ctrl, v Value, err error) {
	c, v, err = in.execBlock(s.body, sc)
	if err != nil {
		var exc *Exception
		if errors.As(err, &exc) {
			for _, h := range s.handlers {
				match := h.types == nil
				if !match {
					tv, terr := in.eval(h.types, sc)
					if terr != nil {
						return ctrlNone, nil, terr
					}
					match = excMatches(exc, tv)
				}
				if match {
					if h.name != "" {
						sc.set(h.name, exc)
					}
					c, v, err = in.execBlock(h.body, sc)
					break
				}
			}
		}
	} else if s.els != nil && c == ctrlNone {
		c, v, err = in.execBlock(s.els, sc)
	}
	if s.finally != nil {
		fc, fv, ferr := in.execBlock(s.finally, sc)
		if ferr != nil {
			return ctrlNone, nil, ferr
		}
		if fc != ctrlNone {
			return fc, fv, nil
		}
	}
	return c, v, err
}

func excMatches(exc *Exception, t Value) bool {
	switch x := t.(type) {
	case *ExcClass:
		return exc.Class.isSubclass(x)
	case *Tuple:
		for _, it := range x.items {
			if excMatches(exc, it) {
				return true
			}
		}
	case *Unknown:
		// An exception class we do not model (e.g. a fetcher error):
		// match only our generic Exception subclasses conservatively.
		return false
	}
	return false
}

func (in *Interp) makeFunction(fd *funcDef, sc *scope) (*Function, error) {
	f := &Function{def: fd, closure: sc}
	for _, p := range fd.params {
		if p.def != nil {
			v, err := in.eval(p.def, sc)
			if err != nil {
				return nil, err
			}
			f.defaults = append(f.defaults, v)
		} else {
			f.defaults = append(f.defaults, nil)
		}
	}
	return f, nil
}

func (in *Interp) assign(t expr, v Value, sc *scope) error {
	switch x := t.(type) {
	case *nameExpr:
		in.bind(sc, x.name, v)
		return nil
	case *tupleExpr:
		return in.unpack(x.elts, v, sc)
	case *listExpr:
		return in.unpack(x.elts, v, sc)
	case *indexExpr:
		obj, err := in.eval(x.x, sc)
		if err != nil {
			return err
		}
		idx, err := in.eval(x.idx, sc)
		if err != nil {
			return err
		}
		return in.setItem(obj, idx, v)
	case *attrExpr:
		obj, err := in.eval(x.x, sc)
		if err != nil {
			return err
		}
		switch o := obj.(type) {
		case *Instance:
			o.Attrs[x.name] = v
			return nil
		case *Class:
			o.Attrs[x.name] = v
			return nil
		case *Object:
			o.Attrs[x.name] = v
			return nil
		case *Unknown:
			return unsupported("attribute assignment on unknown (%s)", o.Why)
		}
		return unsupported("attribute assignment .%s on %s", x.name, typeName(obj))
	case *starExpr:
		return in.assign(x.x, v, sc)
	}
	return unsupported("assignment to %T", t)
}

func (in *Interp) unpack(targets []expr, v Value, sc *scope) error {
	items, err := in.iterate(v)
	if err != nil {
		return err
	}
	star := -1
	for i, t := range targets {
		if _, ok := t.(*starExpr); ok {
			star = i
		}
	}
	if star < 0 {
		if len(items) != len(targets) {
			return newExc(excValueError, "expected %d values to unpack, got %d", len(targets), len(items))
		}
		for i, t := range targets {
			if err := in.assign(t, items[i], sc); err != nil {
				return err
			}
		}
		return nil
	}
	after := len(targets) - star - 1
	if len(items) < star+after {
		return newExc(excValueError, "not enough values to unpack")
	}
	for i := 0; i < star; i++ {
		if err := in.assign(targets[i], items[i], sc); err != nil {
			return err
		}
	}
	mid := append([]Value(nil), items[star:len(items)-after]...)
	if err := in.assign(targets[star], &List{items: mid}, sc); err != nil {
		return err
	}
	for i := 0; i < after; i++ {
		if err := in.assign(targets[star+1+i], items[len(items)-after+i], sc); err != nil {
			return err
		}
	}
	return nil
}

func (in *Interp) del(t expr, sc *scope) error {
	switch x := t.(type) {
	case *nameExpr:
		for s := sc; s != nil; s = s.parent {
			if _, ok := s.vars[x.name]; ok {
				delete(s.vars, x.name)
				return nil
			}
		}
		return newExc(excNameError, "name '%s' is not defined", x.name)
	case *indexExpr:
		obj, err := in.eval(x.x, sc)
		if err != nil {
			return err
		}
		idx, err := in.eval(x.idx, sc)
		if err != nil {
			return err
		}
		switch o := obj.(type) {
		case *Dict:
			ok, err := o.del(idx)
			if err != nil {
				return err
			}
			if !ok {
				return &Exception{Class: excKeyError, Args: []Value{idx}}
			}
			return nil
		case *List:
			i, ok := toInt(idx)
			if !ok {
				return unsupported("del with slice")
			}
			n := int64(len(o.items))
			if i < 0 {
				i += n
			}
			if i < 0 || i >= n {
				return newExc(excIndexError, "list assignment index out of range")
			}
			o.items = append(o.items[:i:i], o.items[i+1:]...)
			return nil
		}
		return unsupported("del on %s", typeName(obj))
	case *tupleExpr:
		for _, e := range x.elts {
			if err := in.del(e, sc); err != nil {
				return err
			}
		}
		return nil
	}
	return unsupported("del of %T", t)
}

func (in *Interp) setItem(obj, idx, v Value) error {
	switch o := obj.(type) {
	case *Dict:
		return o.set(idx, v)
	case *List:
		i, ok := toInt(idx)
		if !ok {
			if sl, isSlice := idx.(*sliceValue); isSlice {
				items, err := in.iterate(v)
				if err != nil {
					return err
				}
				lo, hi := sliceBounds(sl, len(o.items))
				if sl.step != nil {
					return unsupported("extended slice assignment")
				}
				if hi < lo {
					hi = lo
				}
				n := append([]Value(nil), o.items[:lo]...)
				n = append(n, items...)
				o.items = append(n, o.items[hi:]...)
				return nil
			}
			return newExc(excTypeError, "list indices must be integers")
		}
		n := int64(len(o.items))
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return newExc(excIndexError, "list assignment index out of range")
		}
		o.items[i] = v
		return nil
	case *Unknown:
		return unsupported("item assignment on unknown (%s)", o.Why)
	}
	return newExc(excTypeError, "'%s' object does not support item assignment", typeName(obj))
}

// iterate materialises an iterable.
func (in *Interp) iterate(v Value) ([]Value, error) {
	switch x := v.(type) {
	case *List:
		return append([]Value(nil), x.items...), nil
	case *Tuple:
		return x.items, nil
	case Str:
		// One element per character: refuse a string whose characters
		// would make a collection beyond the limit before building it.
		n := utf8.RuneCountInString(string(x))
		if err := in.checkItems(n, n); err != nil {
			return nil, err
		}
		out := make([]Value, 0, n)
		for _, r := range string(x) {
			out = append(out, Str(string(r)))
		}
		return out, nil
	case *Dict:
		return append([]Value(nil), x.keys...), nil
	case *Set:
		return append([]Value(nil), x.d.keys...), nil
	case *Unknown:
		return nil, unsupported("iteration over unknown value (%s)", x.Why)
	case *DataRef:
		keys, err := dataKeys(in, x.h, false)
		if err != nil {
			return nil, err
		}
		if l, ok := keys.(*List); ok {
			return l.items, nil
		}
		return nil, unsupported("iteration over the datastore")
	}
	return nil, newExc(excTypeError, "'%s' object is not iterable", typeName(v))
}

// itemCost is what one collection element counts for in the size
// limits.
const itemCost = 16

// checkItems bounds a collection of total elements that grew by added.
func (in *Interp) checkItems(total, added int) error {
	if total*itemCost > in.Limits.MaxBytes {
		return &errBudget{"collection size"}
	}
	return in.charge(added * itemCost)
}

// checkSize bounds one produced value and charges it to the evaluation's
// allocation budget (MaxAlloc bytes, shared across a recipe when shared).
func (in *Interp) checkSize(n int) error {
	if n > in.Limits.MaxBytes {
		return &errBudget{"value size"}
	}
	return in.charge(n)
}

func (in *Interp) charge(n int) error {
	in.alloc += n
	if in.alloc > in.Limits.MaxAlloc {
		return &errBudget{"allocation"}
	}
	if in.shared != nil {
		in.shared.Bytes -= n
		if in.shared.Bytes < 0 {
			return &errBudget{"total allocation"}
		}
	}
	return nil
}

// DataRef is the datastore object "d" seen from Python.
type DataRef struct{ h Host }

func (in *Interp) String() string { return fmt.Sprintf("Interp(steps=%d)", in.steps) }

var moduleCache cache // source -> moduleCacheEntry

type moduleCacheEntry struct {
	body []stmt
	err  error
}

// module resolves a dotted module name: built-in (Go) modules first, then
// library modules interpreted from the layers (oe.*).
func (in *Interp) module(name string) *Module {
	if m := modules[name]; m != nil {
		return m
	}
	return in.libModule(name)
}

func (in *Interp) libModule(name string) *Module {
	if in.shared == nil {
		in.shared = NewShared(1 << 62)
	}
	libMods := in.shared.libMods
	if e, ok := libMods[name]; ok {
		in.modTrack.use(e)
		if e == nil {
			return nil
		}
		return e.m
	}
	libMods[name] = nil // guards import cycles
	src, ok := in.Host.PyModule(name)
	if !ok {
		// Not found: a dependency of the modules that probed it.
		e := &libMod{name: name, share: true}
		libMods[name] = e
		in.modTrack.use(e)
		return nil
	}
	if e := in.shared.Modules.get(name, libMods, in.Host); e != nil {
		in.modTrack.use(e)
		return e.m
	}
	var body []stmt
	if v, ok := moduleCache.Load(keyOf(src)); ok {
		en := v.(moduleCacheEntry)
		body = en.body
		if en.err != nil {
			in.modTrack.use(nil)
			return nil
		}
	} else {
		b, err := parseModule(src)
		moduleCache.Store(keyOf(src), moduleCacheEntry{b, err})
		if err != nil {
			in.modTrack.use(nil)
			return nil
		}
		body = b
	}
	sc := &scope{vars: map[string]Value{}, module: true}
	savedRecover, savedInline := in.recover, in.inline
	in.recover, in.inline = true, false
	outer := in.modTrack
	tr := &modTrack{ok: in.shared.Modules != nil}
	in.modTrack = tr
	failures := in.failures
	// Top-level statements of a module: defs, imports, constants. Errors
	// only leave names unbound.
	for _, st := range body {
		if _, _, err := in.exec(st, sc); err != nil && IsBudget(err) {
			tr.ok = false
			break
		}
	}
	in.modTrack = outer
	in.recover, in.inline = savedRecover, savedInline
	m := &Module{Name: name, Attrs: sc.vars}
	e := &libMod{name: name, src: keyOf(src), m: m, deps: tr.deps}
	if tr.ok && in.failures == failures {
		e.snap, e.share = in.snapshot(m)
	}
	libMods[name] = e
	outer.use(e)
	in.shared.Modules.put(e)
	return m
}

// Object is a plain Python object with attributes (BitBake events).
type Object struct {
	Class *ExcClass
	Attrs map[string]Value
}

// Event classes of bb.event that metadata handlers test with isinstance.
var (
	evEvent       = &ExcClass{Name: "bb.event.Event"}
	evRecipeEvent = &ExcClass{Name: "bb.event.RecipeEvent", Parent: evEvent}
	eventClasses  = map[string]*ExcClass{}
)

func registerEvents() {
	for _, n := range []string{"RecipePreDeferredInherits", "RecipePreFinalise", "RecipePostKeyExpansion",
		"RecipeTaskPreProcess", "RecipeParsed"} {
		eventClasses[n] = &ExcClass{Name: "bb.event." + n, Parent: evRecipeEvent}
	}
	for _, n := range []string{"ConfigParsed", "MultiConfigParsed", "BuildStarted", "BuildCompleted", "ParseStarted",
		"ParseCompleted", "SanityCheck", "NetworkTest", "DepTreeGenerated", "TaskStarted", "TaskSucceeded",
		"TaskFailed", "BuildInit", "CookerExit", "ReachableStamps", "StaleSetSceneTasks", "HeartbeatEvent",
		"MonitorDiskEvent", "RecipeTaskPreProcess"} {
		if _, ok := eventClasses[n]; !ok {
			eventClasses[n] = &ExcClass{Name: "bb.event." + n, Parent: evEvent}
		}
	}
	attrs := map[string]Value{"Event": evEvent, "RecipeEvent": evRecipeEvent}
	for n, c := range eventClasses {
		attrs[n] = c
	}
	for _, n := range []string{"fire", "register", "remove"} {
		attrs[n] = fn(n, func(in *Interp, a []Value, kw map[string]Value) (Value, error) { return None, nil })
	}
	modules["bb.event"] = mod("bb.event", attrs)
	modules["bb"].Attrs["event"] = modules["bb.event"]
	modules["bb.build"] = mod("bb.build", map[string]Value{
		"FuncFailed": &ExcClass{Name: "FuncFailed", Parent: excException},
		"TaskBase":   evEvent,
	})
	modules["bb"].Attrs["build"] = modules["bb.build"]
}

// NewEvent returns a bb.event.<class> object with attributes.
func NewEvent(class string, attrs map[string]Value) *Object {
	c, ok := eventClasses[class]
	if !ok {
		c = &ExcClass{Name: "bb.event." + class, Parent: evEvent}
	}
	return &Object{Class: c, Attrs: attrs}
}

// RunHandler runs an event handler body with e and d bound, in recovery
// mode like RunFunction.
func (in *Interp) RunHandler(name, body string, event *Object) error {
	in.reset()
	fn, err := cachedBody(name, "(e, d)", body)
	if err != nil || fn == nil {
		return err
	}
	d := &DataRef{in.Host}
	if event.Attrs == nil {
		event.Attrs = map[string]Value{}
	}
	event.Attrs["data"] = d
	return in.runTop(fn, map[string]Value{"e": event, "d": d})
}

// EvalFilter applies a variable filter expression (bb.filter) to val:
// the expression sees "val", bb.filter's built-in procedures, and
// functions that lookup maps to a library module.
func (in *Interp) EvalFilter(expr, val string, lookup func(name string) (module string, ok bool)) (string, error) {
	in.reset()
	e, err := cachedExpr(expr)
	if err != nil {
		return "", err
	}
	saved := in.filterLookup
	in.filterLookup = lookup
	defer func() { in.filterLookup = saved }()
	v, err := in.eval(e, &scope{vars: map[string]Value{"val": Str(val)}})
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case *noneType:
		return "", nil
	case *Unknown:
		return "", &Unsupported{What: x.Why}
	}
	return strOf(v), nil
}

// filterProcs are bb.filter's own procedures.
var filterProcs = map[string]*Builtin{
	"suffix": fn("suffix", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		v, ok1 := argStr(a, 0)
		sfx, ok2 := argStr(a, 1)
		if !ok1 || !ok2 {
			return unknownf("suffix arguments"), nil
		}
		var out []string
		for _, w := range strings.Fields(v) {
			out = append(out, w+sfx)
		}
		return Str(strings.Join(out, " ")), nil
	}),
	"prefix": fn("prefix", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		v, ok1 := argStr(a, 0)
		pfx, ok2 := argStr(a, 1)
		if !ok1 || !ok2 {
			return unknownf("prefix arguments"), nil
		}
		var out []string
		for _, w := range strings.Fields(v) {
			out = append(out, pfx+w)
		}
		return Str(strings.Join(out, " ")), nil
	}),
	"sort": fn("sort", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		v, ok := argStr(a, 0)
		if !ok {
			return unknownf("sort arguments"), nil
		}
		w := strings.Fields(v)
		sortStrings(w)
		return Str(strings.Join(w, " ")), nil
	}),
	"remove": fn("remove", func(in *Interp, a []Value, kw map[string]Value) (Value, error) {
		v, ok := argStr(a, 0)
		if !ok || len(a) < 2 {
			return unknownf("remove arguments"), nil
		}
		sep, hasSep := argStr(a, 2)
		if s, ok := kw["sep"].(Str); ok {
			sep, hasSep = string(s), true
		}
		var rm map[string]bool
		if r, ok := a[1].(Str); ok {
			rm = map[string]bool{}
			for _, w := range pySplit(string(r), sep, hasSep && sep != "", -1, false) {
				rm[w] = true
			}
		} else {
			set, err := in.wordSet(a[1])
			if err != nil {
				return nil, err
			}
			rm = set
		}
		var out []string
		for _, w := range pySplit(v, sep, hasSep && sep != "", -1, false) {
			if !rm[w] {
				out = append(out, w)
			}
		}
		if !hasSep || sep == "" {
			return Str(strings.Join(out, " ")), nil
		}
		return Str(strings.Join(out, sep)), nil
	}),
}

// bindUnknown gives the names a failed assignment would have bound an
// Unknown value, so later statements see "unknown" rather than "unset".
func bindUnknown(st stmt, sc *scope, cause error) {
	as, ok := st.(*assignStmt)
	if !ok {
		return
	}
	for _, t := range as.targets {
		bindUnknownTarget(t, sc, cause)
	}
}

func bindUnknownTarget(t expr, sc *scope, cause error) {
	switch x := t.(type) {
	case *nameExpr:
		sc.set(x.name, unknownf("%v", cause))
	case *tupleExpr:
		for _, e := range x.elts {
			bindUnknownTarget(e, sc, cause)
		}
	case *listExpr:
		for _, e := range x.elts {
			bindUnknownTarget(e, sc, cause)
		}
	}
}

// stmtLine returns the source line of a statement (relative to the
// function body), or 0.
func stmtLine(st stmt) int {
	switch s := st.(type) {
	case *exprStmt:
		return s.line
	case *assignStmt:
		return s.line
	case *augAssignStmt:
		return s.line
	case *ifStmt:
		return s.line
	case *forStmt:
		return s.line
	case *whileStmt:
		return s.line
	case *returnStmt:
		return s.line
	case *raiseStmt:
		return s.line
	case *tryStmt:
		return s.line
	case *withStmt:
		return s.line
	case *importStmt:
		return s.line
	case *delStmt:
		return s.line
	case *assertStmt:
		return s.line
	case *defStmt:
		return s.line
	case *classStmt:
		return s.line
	}
	return 0
}

// Steps returns the evaluation steps of the last run.
func (in *Interp) Steps() int { return in.steps }

// topStmtHook, when set (profiling in tests), receives the steps spent in
// each top-level statement of anonymous functions and handlers. Parses run
// concurrently, so it is read atomically.
var topStmtHook atomic.Pointer[func(fn string, line, steps int)]

// SetTopStmtHook installs (or with nil removes) the profiling hook; it is
// called from every goroutine that evaluates, so it must be safe for that.
func SetTopStmtHook(f func(fn string, line, steps int)) {
	if f == nil {
		topStmtHook.Store(nil)
		return
	}
	topStmtHook.Store(&f)
}

// execWith supports context managers the evaluator knows: files opened
// from the layers (and objects defining __enter__/__exit__).
func (in *Interp) execWith(s *withStmt, sc *scope) (ctrl, Value, error) {
	var exits []Value
	for _, it := range s.items {
		v, err := in.eval(it.ctx, sc)
		if err != nil {
			return ctrlNone, nil, err
		}
		var entered Value
		switch x := v.(type) {
		case *fileObj:
			entered = x
		case *Instance:
			enter, err := in.instanceAttr(x, "__enter__")
			if err != nil {
				return ctrlNone, nil, err
			}
			if entered, err = in.call(enter, nil, nil); err != nil {
				return ctrlNone, nil, err
			}
			exit, err := in.instanceAttr(x, "__exit__")
			if err != nil {
				return ctrlNone, nil, err
			}
			exits = append(exits, exit)
		case *Unknown:
			return ctrlNone, nil, unsupported("with on unknown value (%s)", x.Why)
		default:
			return ctrlNone, nil, unsupported("with on %s", typeName(v))
		}
		if it.target != nil {
			if err := in.assign(it.target, entered, sc); err != nil {
				return ctrlNone, nil, err
			}
		}
	}
	c, v, err := in.execBlock(s.body, sc)
	for i := len(exits) - 1; i >= 0; i-- {
		if _, ok := exits[i].(*Unknown); ok {
			continue
		}
		if _, xerr := in.call(exits[i], []Value{None, None, None}, nil); xerr != nil && err == nil {
			err = xerr
		}
	}
	return c, v, err
}
