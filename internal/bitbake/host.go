package bitbake

import (
	"errors"
	"io/fs"
	"slices"
	"strings"

	"layerindex/internal/bitbake/data"
	"layerindex/internal/bitbake/pyeval"
)

// RecipeStepBudget bounds the Python evaluation steps spent on one
// recipe (all inline expressions, anonymous functions and handlers). The
// most demanding oe-core recipe needs about 130,000.
const RecipeStepBudget = 4_000_000

// pyState is the Python evaluation state of one evaluator.
type pyState struct {
	ev     *evaluator
	shared *pyeval.Shared
	// spare is an evaluator of inline expressions not in use.
	spare *pyeval.Interp
}

func newPyState(ev *evaluator) *pyState {
	return &pyState{ev: ev, shared: pyeval.NewShared(RecipeStepBudget)}
}

// pyHost exposes a datastore to the Python evaluator.
type pyHost struct {
	s  *data.Store
	ev *evaluator
}

var _ pyeval.Host = (*pyHost)(nil)

func (h *pyHost) GetVar(name string, expand bool) (string, bool) {
	if expand {
		return h.s.Get(name)
	}
	return h.s.GetUnexpanded(name)
}

func (h *pyHost) GetVarFlag(name, flag string, expand bool) (string, bool) {
	return h.s.GetFlag(name, flag, expand)
}

func (h *pyHost) VarFlags(name string) map[string]string      { return h.s.Flags(name) }
func (h *pyHost) SetVar(name, value string)                   { h.s.SetVar(name, value) }
func (h *pyHost) SetVarFlag(name, flag, value string)         { h.s.SetFlag(name, flag, value) }
func (h *pyHost) AppendVar(name, value string)                { h.s.AppendVar(name, value) }
func (h *pyHost) PrependVar(name, value string)               { h.s.PrependVar(name, value) }
func (h *pyHost) AppendVarFlag(name, flag, value string)      { h.s.AppendFlag(name, flag, value) }
func (h *pyHost) PrependVarFlag(name, flag, value string)     { h.s.PrependFlag(name, flag, value) }
func (h *pyHost) DelVar(name string)                          { h.s.DelVar(name) }
func (h *pyHost) DelVarFlag(name, flag string)                { h.s.DelFlag(name, flag) }
func (h *pyHost) RenameVar(from, to string)                   { h.s.RenameVar(from, to) }
func (h *pyHost) Expand(s string) (string, error)             { return h.s.Expand(s), nil }
func (h *pyHost) Inherits(class string) bool                  { return h.ev.inheritsClass(class) }
func (h *pyHost) Function(name string) (string, bool)         { return h.s.Def(name) }
func (h *pyHost) SetFilter(name, expr string)                 { h.s.SetFilter(name, expr) }
func (h *pyHost) SetVarObject(name string, v any, str string) { h.s.SetVarObject(name, v, str) }
func (h *pyHost) VarObject(name string) (any, bool)           { return h.s.GetObject(name) }
func (h *pyHost) InLayers(p string) bool                      { return h.ev.cfg.vfs.inMount(p) }
func (h *pyHost) ReadFile(p string) (string, bool, bool) {
	h.ev.markRead(cleanPath(p))
	if !h.ev.cfg.vfs.inMount(p) {
		return "", false, false
	}
	b, err := h.ev.cfg.vfs.readFile(p)
	if err != nil {
		return "", false, true
	}
	return string(b), true, true
}
func (h *pyHost) MarkDependency(p string)             { h.ev.markDependency(cleanPath(p)) }
func (h *pyHost) HasOverrides(name string) bool       { return h.s.HasOverrides(name) }
func (h *pyHost) PyModule(name string) (string, bool) { return h.ev.cfg.pyModule(h.ev.pylibs, name) }

func (h *pyHost) FileExists(p string) (bool, bool) {
	h.ev.markRead(cleanPath(p))
	return h.ev.cfg.vfs.stat(p)
}

// Glob expands a pattern over the layers; the directory it lists (up to
// the first wildcard) is recorded as read.
func (h *pyHost) Glob(pattern string) []string {
	dir := pattern
	if i := strings.IndexAny(dir, "*?["); i >= 0 {
		dir = dir[:i]
	}
	h.ev.markRead(cleanPath(dirName(dir+"x")) + "/")
	return h.ev.cfg.vfs.glob(pattern)
}

// Keys lists the datastore's variables (pyeval.KeyLister).
func (h *pyHost) Keys(local bool) []string {
	if local {
		return h.s.LocalKeys()
	}
	return h.s.Keys()
}

// ListDir is os.listdir over the layers (pyeval.DirLister).
func (h *pyHost) ListDir(p string) ([]string, bool, bool) {
	h.ev.markRead(cleanPath(p) + "/")
	v := h.ev.cfg.vfs
	if !v.inMount(p) {
		return nil, false, false
	}
	fsys, rel, ok := v.resolve(p)
	if !ok {
		return nil, false, true
	}
	entries, err := fs.ReadDir(fsys, rel)
	if err != nil {
		return nil, false, true
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, true, true
}

// ParseFile is bb.parse.handle(fn, d, True) from Python
// (pyeval.MetadataParser).
func (h *pyHost) ParseFile(p string) error {
	ev := h.evaluator()
	err := ev.handle(p, true)
	if err == errNotFound {
		return pyeval.ErrFileNotFound
	}
	return pyError(err)
}

// Inherit is bb.parse.BBHandler.inherit from Python
// (pyeval.MetadataParser).
func (h *pyHost) Inherit(classes, file string, line int) error {
	return pyError(h.evaluator().inherit(classes, file, line, false))
}

// evaluator returns the evaluator that parses into h's datastore: the
// recipe's own, or for a copy of it (d.createCopy()) a fork whose
// inherits, file dependencies and anonymous functions stay with the
// copy, as BitBake keeps them in variables of the datastore. The fork
// shares the recipe's step budget and include depth.
func (h *pyHost) evaluator() *evaluator {
	if h.s == h.ev.d {
		return h.ev
	}
	n := h.ev.fork(h.s, h.ev.classType)
	n.py = &pyState{ev: n, shared: h.ev.py.shared}
	n.depth = h.ev.depth
	if h.ev.filesRead == nil {
		h.ev.filesRead = new(int)
	}
	n.filesRead = h.ev.filesRead
	n.reads = h.ev.reads
	h.ev = n
	return n
}

// pyError turns a parse result into what Python sees: SkipRecipe for a
// skip, a ParseError otherwise.
func pyError(err error) error {
	var sk *errSkip
	if errors.As(err, &sk) {
		return &pyeval.Exception{Class: pyeval.ExcSkipRecipe, Args: []pyeval.Value{pyeval.Str(sk.msg)}}
	}
	return err
}

func (h *pyHost) CreateCopy() pyeval.Host {
	return &pyHost{s: h.s.Copy(), ev: h.ev}
}

// interp returns a Python evaluator for store s (which may be a copy of
// the evaluator's own store).
func (ps *pyState) interp(s *data.Store) *pyeval.Interp {
	return pyeval.NewInterpShared(&pyHost{s: s, ev: ps.ev}, ps.shared)
}

// inlineEval is the datastore's hook for ${@...}.
func inlineEval(code string, s *data.Store) (string, error) {
	ev, ok := s.Host.(*evaluator)
	if !ok {
		return "", errors.New("no evaluator bound to the datastore")
	}
	in := ev.py.inlineInterp(s)
	v, err := in.EvalInline(code)
	ev.py.spare = in
	return v, err
}

// inlineInterp returns an evaluator for an inline expression on store s:
// the one the previous expression on s used if no evaluation holds it
// (an inline expression evaluated while another runs gets a new one).
// EvalInline resets what one evaluation leaves behind.
func (ps *pyState) inlineInterp(s *data.Store) *pyeval.Interp {
	if in := ps.spare; in != nil && *in.Host.(*pyHost) == (pyHost{s: s, ev: ps.ev}) {
		ps.spare = nil
		return in
	}
	return ps.interp(s)
}

// filterEval applies a variable filter expression (d.setVarFilter) such
// as "native_filter(val, 'foo-native', 'foo', selfref=False)".
func filterEval(expr, value string, s *data.Store) (string, error) {
	ev, ok := s.Host.(*evaluator)
	if !ok {
		return value, errors.New("no evaluator bound to the datastore")
	}
	in := ev.py.interp(s)
	v, err := in.EvalFilter(expr, value, func(name string) (string, bool) { return ev.cfg.filterFunc(ev.pylibs, name) })
	if err != nil {
		return value, err
	}
	return v, nil
}

// pyModule finds the source of a library module among the addpylib
// directories, e.g. "oe.kernel" -> <core>/lib/oe/kernel.py.
func (c *Config) pyModule(libs []pylib, name string) (string, bool) {
	if v, ok := c.pyMods.Load(name); ok {
		if e := v.(*pyModEntry); slices.Equal(e.libs, libs) {
			return e.src, e.ok
		}
	}
	src, ok := c.findPyModule(libs, name)
	if c.pyModN.Add(1) <= maxPyModEntries {
		c.pyMods.Store(name, &pyModEntry{libs: libs, src: src, ok: ok})
	}
	return src, ok
}

// pyModEntry is a resolved library module name: which addpylib
// directories it was looked up in, and the source found.
type pyModEntry struct {
	libs []pylib
	src  string
	ok   bool
}

// maxPyModEntries bounds the names a configuration remembers.
const maxPyModEntries = 10_000

func (c *Config) findPyModule(libs []pylib, name string) (string, bool) {
	for _, l := range libs {
		if l.namespace != "" && name != l.namespace && !strings.HasPrefix(name, l.namespace+".") {
			continue
		}
		rel := strings.ReplaceAll(name, ".", "/")
		for _, cand := range []string{joinPath(l.dir, rel+".py"), joinPath(l.dir, rel+"/__init__.py")} {
			if src, err := c.readCached(cand); err == nil {
				return src, true
			}
		}
	}
	return "", false
}
