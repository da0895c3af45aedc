package pyeval

import "sync"

// Library modules (oe.*, from the layers' addpylib directories) are
// interpreted from source. BitBake imports each once per process; this
// evaluator instantiates them per recipe (Shared.libMods), as an instance
// holds state that recipe code can change. Running a module's top level
// is much of a recipe's Python work (oe.spdx_license, imported by every
// recipe, builds a score of classes), so a ModuleCache lets the recipes
// that one worker parses, one after the other, reuse an instance as long
// as no recipe can tell it from a fresh one:
//   - its top level read nothing of the recipe (no "d", no function of
//     the metadata), touched no file of the layers (a fresh run would
//     record the read), hit no limit and noted no unsupported statement
//     (a fresh run would note it again): running it again would give the
//     same instance and have no effect;
//   - every value it holds is of a type whose whole state this evaluator
//     can see (snapshot): scalars, tuples, lists, dicts, sets, functions
//     with their defaults and enclosing scopes, classes, instances,
//     exceptions, regular expressions, built-in functions of the built-in
//     modules, built-in modules and other shared library modules;
//   - before each reuse, the contents of every mutable container it holds
//     (its namespace, class attributes, lists, dicts...) are compared with
//     the snapshot taken right after it was instantiated: a recipe that
//     changed any of them (a global statement, a class attribute, an entry
//     added to a module-level dict) keeps its changed instance, the next
//     recipe gets a fresh one;
//   - every library module its top level resolved still resolves to the
//     same source, and the shared modules it uses are still the cached,
//     unchanged instances (checked with its own snapshot) and are the ones
//     the recipe sees.
// What a reuse does not repeat is the step count of the top level, which
// is charged to the recipe's step budget when the module is instantiated.

// ModuleCache holds library module instances shared by the recipes that
// one worker parses, one recipe at a time; it is not safe for concurrent
// use.
type ModuleCache struct {
	mods map[string]*libMod
}

// NewModuleCache returns an empty cache.
func NewModuleCache() *ModuleCache { return &ModuleCache{mods: map[string]*libMod{}} }

// libMod is an instantiated library module (m is nil for a name that
// resolved to no source).
type libMod struct {
	name string
	src  strKey
	m    *Module
	// deps are the library modules its top level used, directly or
	// through the modules it imported.
	deps  []*libMod
	share bool
	snap  []snapItem
}

// modTrack collects what a module top level being run used.
type modTrack struct {
	deps []*libMod
	ok   bool
}

// use records that the top level being tracked uses module e (nil: a
// module being instantiated, an import cycle, or one that failed).
func (t *modTrack) use(e *libMod) {
	if t == nil {
		return
	}
	if e == nil || !e.share {
		t.ok = false
		return
	}
	t.deps = append(t.deps, e)
	t.deps = append(t.deps, e.deps...)
}

// recipeIO is called where evaluation reads the recipe or the layers: a
// module top level that does is not shared.
func (in *Interp) recipeIO() {
	if in.modTrack != nil {
		in.modTrack.ok = false
	}
}

// get returns the cached instance of module name if it may be reused by
// the recipe whose modules are libMods, and installs it and the modules it
// uses there.
func (c *ModuleCache) get(name string, libMods map[string]*libMod, h Host) *libMod {
	if c == nil {
		return nil
	}
	e := c.mods[name]
	if e == nil {
		return nil
	}
	if !c.valid(e, h) {
		delete(c.mods, name)
		return nil
	}
	for _, d := range e.deps {
		if cur, ok := libMods[d.name]; ok && cur != d {
			return nil // the recipe already has another instance
		}
	}
	for _, d := range e.deps {
		libMods[d.name] = d
	}
	libMods[name] = e
	return e
}

// valid reports whether e and the modules it uses resolve to the same
// sources, are the cached instances, and are unchanged.
func (c *ModuleCache) valid(e *libMod, h Host) bool {
	for i, d := range append([]*libMod{e}, e.deps...) {
		src, ok := h.PyModule(d.name)
		if ok != (d.m != nil) || ok && keyOf(src) != d.src {
			return false
		}
		if d.m == nil {
			continue
		}
		if i > 0 && c.mods[d.name] != d {
			return false
		}
		if !unchanged(d.snap) {
			return false
		}
	}
	return true
}

func (c *ModuleCache) put(e *libMod) {
	if c != nil && e.share {
		c.mods[e.name] = e
	}
}

// snapItem is the content of one mutable container when it was taken.
type snapItem struct {
	attrs map[string]Value // a namespace or attribute map
	keys  []string
	list  *[]Value // a list, dict or argument slice
	vals  []Value
}

func unchanged(snap []snapItem) bool {
	for _, it := range snap {
		if it.attrs != nil {
			if len(it.attrs) != len(it.keys) {
				return false
			}
			for i, k := range it.keys {
				if v, ok := it.attrs[k]; !ok || v != it.vals[i] {
					return false
				}
			}
			continue
		}
		l := *it.list
		if len(l) != len(it.vals) {
			return false
		}
		for i, v := range l {
			if v != it.vals[i] {
				return false
			}
		}
	}
	return true
}

// snapshot records the contents of every mutable container module m
// holds; ok is false if m holds a value whose state is not all visible.
func (in *Interp) snapshot(m *Module) ([]snapItem, bool) {
	w := &snapWalk{in: in, self: m, seen: map[any]bool{}}
	w.attrs(m.Attrs)
	return w.snap, w.ok()
}

type snapWalk struct {
	in   *Interp
	self *Module
	seen map[any]bool
	snap []snapItem
	bad  bool
}

func (w *snapWalk) ok() bool { return !w.bad }

func (w *snapWalk) attrs(m map[string]Value) {
	if m == nil {
		return
	}
	it := snapItem{attrs: m, keys: make([]string, 0, len(m)), vals: make([]Value, 0, len(m))}
	for k, v := range m {
		it.keys = append(it.keys, k)
		it.vals = append(it.vals, v)
	}
	w.snap = append(w.snap, it)
	for _, v := range it.vals {
		w.value(v)
	}
}

func (w *snapWalk) list(l *[]Value) {
	w.snap = append(w.snap, snapItem{list: l, vals: append([]Value(nil), (*l)...)})
	for _, v := range *l {
		w.value(v)
	}
}

func (w *snapWalk) scope(sc *scope) {
	for ; sc != nil; sc = sc.parent {
		if w.seen[sc] {
			return
		}
		w.seen[sc] = true
		w.attrs(sc.vars)
	}
}

func (w *snapWalk) value(v Value) {
	if w.bad {
		return
	}
	switch x := v.(type) {
	case *noneType, Bool, Int, Float, Str, *Unknown, *regexObj, *matchObj:
		return
	case *Builtin:
		if !staticBuiltin(x) {
			w.bad = true
		}
		return
	case *Module:
		if modules[x.Name] == x || x == w.self {
			return
		}
		if e := w.in.shared.libMods[x.Name]; e == nil || e.m != x || !e.share {
			w.bad = true
		}
		return
	}
	if w.seen[v] {
		return
	}
	w.seen[v] = true
	switch x := v.(type) {
	case *Tuple:
		for _, it := range x.items {
			w.value(it)
		}
	case *List:
		w.list(&x.items)
	case *Dict:
		w.list(&x.keys)
		w.list(&x.vals)
	case *Set:
		w.value(x.d)
	case *Function:
		for _, d := range x.defaults {
			if d != nil {
				w.value(d)
			}
		}
		w.scope(x.closure)
	case *Class:
		for _, b := range x.Bases {
			w.value(b)
		}
		w.attrs(x.Attrs)
	case *Instance:
		w.value(x.Class)
		w.attrs(x.Attrs)
	case *ExcClass:
		if x.Parent != nil {
			w.value(x.Parent)
		}
	case *Exception:
		w.value(x.Class)
		w.list(&x.Args)
	case *boundFunc:
		w.value(x.self)
		w.value(x.fn)
	case *boundMethod:
		w.value(x.self)
	default:
		w.bad = true
	}
}

var (
	staticOnce     sync.Once
	staticBuiltins map[*Builtin]bool
)

// staticBuiltin reports whether b is one of the built-in functions or
// an attribute of a built-in module (state-free), not one made for a
// value at run time (a method bound to an object).
func staticBuiltin(b *Builtin) bool {
	staticOnce.Do(func() {
		staticBuiltins = map[*Builtin]bool{}
		for _, v := range builtins {
			if x, ok := v.(*Builtin); ok {
				staticBuiltins[x] = true
			}
		}
		for _, m := range modules {
			for _, v := range m.Attrs {
				if x, ok := v.(*Builtin); ok {
					staticBuiltins[x] = true
				}
			}
		}
	})
	return staticBuiltins[b]
}
