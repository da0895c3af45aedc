package bitbake

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing/fstest"

	"layerindex/internal/bitbake/data"
	"layerindex/internal/bitbake/pyeval"
	"layerindex/internal/bitbake/syntax"
)

// LayerindexLocalConf is the conf/local.conf layerindex-web parses every
// recipe with (MACHINE qemux86, no DISTRO, host tools made non-fatal).
const LayerindexLocalConf = `MACHINE = "qemux86"
DISTRO = ""
HOSTTOOLS_NONFATAL := "${@d.getVar('HOSTTOOLS', True) or ''} ${@d.getVar('HOSTTOOLS_NONFATAL', True) or ''}"
HOSTTOOLS = "gcc"
`

// Virtual roots of the build directory and the core repository.
const (
	TopDir   = "<TOPDIR>"
	CoreBase = "<COREBASE>"
	LayerDir = "<LAYERDIR>"
)

// Layer is one layer directory: the directory holding conf/layer.conf.
type Layer struct {
	// Name is the directory's base name ("meta", "meta-oe"); it names the
	// layer's virtual path.
	Name string
	// FS holds the layer's files.
	FS fs.FS
}

// Options tune the configuration.
type Options struct {
	// OldSyntax selects BitBake <= 1.50 override syntax (VAR_append,
	// VAR_override); the default is the ":" syntax of BitBake >= 1.52.
	OldSyntax bool
	// LocalConf replaces LayerindexLocalConf.
	LocalConf string
	// Jobs bounds ParseLayer's parallelism (default GOMAXPROCS).
	Jobs int
	// ExtraVars are further variables to report in Recipe.Vars.
	ExtraVars []string
}

// Config is a parsed configuration: the core layer's bitbake.conf and
// everything it includes, the INHERIT classes, layerindex's blanking of
// SUMMARY/DESCRIPTION/HOMEPAGE/LICENSE, and the layer.conf files of the
// target layer and its dependencies. It is immutable once built and safe
// for concurrent ParseRecipe calls.
type Config struct {
	opts  Options
	vfs   *vfs
	stmts *sync.Map // virtual path -> *stmtEntry
	files *sync.Map // virtual path -> []byte (library sources)

	base      *evaluator // frozen configuration state
	globalInh map[string]bool

	core          mountedLayer
	legacyClasses bool
	target        *mountedLayer
	deps          []mountedLayer
	Diags         []Diag
	filterIdx     map[string]string
	filterOnce    sync.Once

	// modFree holds the library module caches of the workers not parsing
	// a recipe right now: each recipe takes one, so that the instances a
	// cache holds are used by one recipe at a time (pyeval.ModuleCache).
	modMu   sync.Mutex
	modFree []*pyeval.ModuleCache
	// pyMods remembers library module lookups (name -> *pyModEntry):
	// every recipe resolves the same names, and a module cache checks
	// its modules' sources before each reuse.
	pyMods sync.Map
	pyModN atomic.Int64
}

// takeModules returns a module cache for one recipe's parse.
func (c *Config) takeModules() *pyeval.ModuleCache {
	c.modMu.Lock()
	defer c.modMu.Unlock()
	if n := len(c.modFree); n > 0 {
		m := c.modFree[n-1]
		c.modFree = c.modFree[:n-1]
		return m
	}
	return pyeval.NewModuleCache()
}

// putModules gives back a cache taken with takeModules.
func (c *Config) putModules(m *pyeval.ModuleCache) {
	c.modMu.Lock()
	c.modFree = append(c.modFree, m)
	c.modMu.Unlock()
}

type mountedLayer struct {
	Layer
	root       string
	collection string
}

type stmtEntry struct {
	once sync.Once
	file *syntax.File
	err  error
}

// statements returns the parsed statements of a file (cached).
func (c *Config) statements(p string, mode syntax.Mode) (*syntax.File, error) {
	v, _ := c.stmts.LoadOrStore(p, &stmtEntry{})
	e := v.(*stmtEntry)
	e.once.Do(func() {
		b, err := c.vfs.readFile(p)
		if err != nil {
			e.err = err
			return
		}
		e.file = syntax.Parse(c.relName(p), b, mode)
	})
	return e.file, e.err
}

// readCached reads a library file once per configuration.
func (c *Config) readCached(p string) (string, error) {
	if v, ok := c.files.Load(p); ok {
		if s, ok := v.(string); ok {
			return s, nil
		}
		return "", fs.ErrNotExist
	}
	b, err := c.vfs.readFile(p)
	if err != nil {
		c.files.Store(p, false)
		return "", err
	}
	s := string(b)
	c.files.Store(p, s)
	return s, nil
}

// relName shortens a virtual path for messages: paths inside the target
// layer become relative to it.
func (c *Config) relName(p string) string {
	if c.target != nil && strings.HasPrefix(p, c.target.root+"/") {
		return p[len(c.target.root)+1:]
	}
	return p
}

// NewBase parses the base configuration from the core layer (the layer
// whose collection is "core" and that holds conf/bitbake.conf), as
// layerindex-web does: bblayers.conf with only the core layer, its
// layer.conf, conf/bitbake.conf with everything it includes, the base and
// INHERIT classes, then SUMMARY, DESCRIPTION, HOMEPAGE and LICENSE
// blanked.
func NewBase(core Layer, opts Options) (*Config, error) {
	if core.Name == "" {
		core.Name = "meta"
	}
	local := opts.LocalConf
	if local == "" {
		local = LayerindexLocalConf
	}
	c := &Config{opts: opts, vfs: newVFS(), stmts: &sync.Map{}, files: &sync.Map{}}
	c.core = mountedLayer{Layer: core, root: CoreBase + "/" + core.Name}
	c.vfs.add(c.core.root, core.FS)
	bblayers := fmt.Sprintf("LCONF_VERSION = \"7\"\nBBPATH = \"${TOPDIR}\"\nBBFILES ?= \"\"\nCOREBASE = %q\nBBLAYERS = %q\n", CoreBase, c.core.root)
	c.vfs.add(TopDir, fstest.MapFS{
		"conf/local.conf":    {Data: []byte(local)},
		"conf/bblayers.conf": {Data: []byte(bblayers)},
	})
	if e, _ := c.vfs.stat(c.core.root + "/conf/bitbake.conf"); !e {
		return nil, errors.New("core layer has no conf/bitbake.conf")
	}

	root := data.New()
	if opts.OldSyntax {
		root = data.NewOld()
	}
	if e, _ := c.vfs.stat(c.core.root + "/classes-recipe"); !e {
		if e, _ := c.vfs.stat(c.core.root + "/classes-global"); !e {
			// BitBake before 2.2 (kirkstone and older) looks for classes
			// in classes/ only.
			c.legacyClasses = true
		}
	}
	root.Inline = inlineEval
	root.Filter = filterEval
	ev := &evaluator{cfg: c, d: root, classType: "global", dependSet: map[string]bool{}}
	ev.py = newPyState(ev)
	root.Host = ev
	root.SetVar("BB_CURRENT_MC", "")
	root.SetVar("TOPDIR", TopDir)
	root.SetVar("DISABLE_SANITY_CHECKS", "1")
	if err := ev.handle(TopDir+"/conf/bblayers.conf", true); err != nil {
		return nil, fmt.Errorf("bblayers.conf: %w", err)
	}

	// cookerdata: a copy of the data gets the layers' layer.conf files.
	d := root.Child()
	ev.d = d
	d.Host = ev
	compat := map[string][]string{}
	var coreNames []string
	haveSeries := false
	bblayersVal, _ := d.Get("BBLAYERS")
	for _, layer := range strings.Fields(bblayersVal) {
		layer = strings.TrimRight(layer, "/")
		d.SetVar("LAYERDIR", layer)
		d.SetVar("LAYERDIR_RE", reEscape(layer))
		ev.baseFile = layer + "/conf/layer.conf"
		if err := ev.handle(layer+"/conf/layer.conf", true); err != nil {
			return nil, fmt.Errorf("%s/conf/layer.conf: %w", layer, err)
		}
		d.ExpandVarref("LAYERDIR")
		d.ExpandVarref("LAYERDIR_RE")
		for _, col := range strings.Fields(d.GetString("BBFILE_COLLECTIONS")) {
			if v := d.GetString("LAYERSERIES_COMPAT_" + col); v != "" {
				compat[col] = strings.Fields(v)
				d.DelVar("LAYERSERIES_COMPAT_" + col)
			}
		}
		if !haveSeries {
			coreNames = strings.Fields(d.GetString("LAYERSERIES_CORENAMES"))
			if len(coreNames) > 0 {
				haveSeries = true
				d.DelVar("LAYERSERIES_CORENAMES")
			}
		}
	}
	d.DelVar("LAYERDIR_RE")
	d.DelVar("LAYERDIR")
	for col, v := range compat {
		d.SetVar("LAYERSERIES_COMPAT_"+col, strings.Join(sortedUnique(v), " "))
	}
	collections := strings.Fields(d.GetString("BBFILE_COLLECTIONS"))
	for _, entry := range strings.Fields(d.GetString("BBFILES_DYNAMIC")) {
		l, f, ok := strings.Cut(entry, ":")
		if !ok || l == "" {
			continue
		}
		invert := l[0] == '!'
		if invert {
			l = l[1:]
		}
		if containsWord(strings.Join(collections, " "), l) != invert {
			d.AppendVar("BBFILES", " "+f)
		}
	}
	d.SetVar("LAYERSERIES_CORENAMES", strings.Join(sortedUnique(coreNames), " "))
	if _, ok := d.Get("BB_CACHEDIR"); !ok {
		d.SetVar("BB_CACHEDIR", "${TOPDIR}/cache")
	}
	for _, col := range collections {
		if col == "core" {
			c.core.collection = col
		}
	}

	ev.baseFile = c.core.root + "/conf/bitbake.conf"
	if err := ev.handle("conf/bitbake.conf", true); err != nil {
		return nil, fmt.Errorf("conf/bitbake.conf: %w", err)
	}
	classes := append([]string{"base"}, strings.Fields(d.GetString("INHERIT"))...)
	for _, cl := range classes {
		if err := ev.inherit(cl, "configuration INHERITs", 0, true); err != nil {
			return nil, fmt.Errorf("INHERIT %s: %w", cl, err)
		}
	}
	if msg, _ := ev.fire(ev.handlers, "ConfigParsed", "", nil); msg != "" {
		ev.diag("conf/bitbake.conf", 0, "ConfigParsed handler skipped the configuration: %s", msg)
	}
	ev.baseFile = ""
	ev.addBBPathLibs()
	// The configuration's own file dependencies are not the recipes'.
	ev.depends, ev.dependSet = nil, map[string]bool{}
	ev.classType = "recipe"
	for _, v := range []string{"SUMMARY", "DESCRIPTION", "HOMEPAGE", "LICENSE"} {
		d.SetVar(v, "")
	}
	c.base = ev
	c.Diags = append(c.Diags, ev.diags...)
	ev.diags = nil
	c.globalInh = map[string]bool{}
	for _, f := range ev.inherits {
		c.globalInh[f] = true
	}
	d.Freeze()
	return c, nil
}

// WithLayer returns the configuration for parsing target's recipes: the
// layer.conf files of target and then of the dependency layers (in the
// order given; the core layer is skipped, its layer.conf is already
// parsed) are parsed on top of the base configuration, as layerindex-web's
// setup_layer does. target may be the core layer itself.
func (c *Config) WithLayer(target Layer, deps ...Layer) (*Config, error) {
	n := &Config{opts: c.opts, vfs: newVFS(), stmts: c.stmts, files: c.files, core: c.core, globalInh: c.globalInh, legacyClasses: c.legacyClasses}
	n.vfs.mounts = append(n.vfs.mounts, c.vfs.mounts...)
	used := map[string]bool{c.core.Name: true}
	mountOf := func(l Layer) mountedLayer {
		name := l.Name
		if name == "" {
			name = "layer"
		}
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("%s-%d", l.Name, i)
		}
		used[name] = true
		m := mountedLayer{Layer: l, root: LayerDir + "/" + name}
		n.vfs.add(m.root, l.FS)
		return m
	}
	isCore := func(l Layer) bool { return sameFS(l.FS, c.core.FS) }
	if isCore(target) {
		t := c.core
		n.target = &t
	} else {
		t := mountOf(target)
		n.target = &t
	}
	for _, dep := range deps {
		if isCore(dep) {
			continue
		}
		n.deps = append(n.deps, mountOf(dep))
	}
	d := c.base.d.Child()
	ev := c.base.fork(d, "recipe")
	ev.cfg = n
	n.base = ev
	if !isCore(target) {
		// setup_layer parses the target's layer.conf first, then its
		// dependencies': with the usual BBPATH .= ":${LAYERDIR}", BitBake
		// searches the target layer before them, and the paths it probes
		// there and does not find are file dependencies of the recipe.
		order := append([]mountedLayer{*n.target}, n.deps...)
		for _, l := range order {
			d.SetVar("LAYERDIR", l.root)
			ev.baseFile = l.root + "/conf/layer.conf"
			if err := ev.handle(l.root+"/conf/layer.conf", true); err != nil {
				if l.root == n.target.root {
					return nil, fmt.Errorf("%s: conf/layer.conf: %w", l.Name, err)
				}
				ev.diag(l.root+"/conf/layer.conf", 0, "cannot parse dependency layer.conf: %v", err)
			}
			d.ExpandVarref("LAYERDIR")
		}
		d.DelVar("LAYERDIR")
		ev.baseFile = ""
		ev.addBBPathLibs()
	}
	n.target.collection = n.collectionOf(*n.target)
	n.Diags = append(append([]Diag(nil), c.Diags...), ev.diags...)
	ev.diags = nil
	// BitBake renames the base configuration's __depends to
	// __base_depends, but the files the layer.conf files read on the copy
	// (and the paths probed for them) stay in __depends, so they are file
	// dependencies of every recipe; fork passes them on.
	d.Freeze()
	return n, nil
}

// collectionOf finds the collection whose BBFILE_PATTERN matches the
// layer's root.
func (c *Config) collectionOf(l mountedLayer) string {
	if sameFS(l.FS, c.core.FS) {
		return "core"
	}
	d := c.base.d
	best, bestLen := "", 0
	for _, col := range strings.Fields(d.GetString("BBFILE_COLLECTIONS")) {
		pat := d.GetString("BBFILE_PATTERN_" + col)
		p := strings.TrimPrefix(pat, "^")
		if p != "" && strings.HasPrefix(l.root+"/", p) && len(pat) > bestLen {
			best, bestLen = col, len(pat)
		}
	}
	return best
}

// NewConfig builds the configuration for parsing target's recipes. The
// core layer is found among target and deps (its collection is "core"
// and it holds conf/bitbake.conf).
func NewConfig(target Layer, deps []Layer, opts Options) (*Config, error) {
	all := append([]Layer{target}, deps...)
	var core *Layer
	for i := range all {
		if IsCoreLayer(all[i].FS) {
			core = &all[i]
			break
		}
	}
	if core == nil {
		return nil, errors.New("no core layer (conf/bitbake.conf with collection \"core\") among the layers")
	}
	base, err := NewBase(*core, opts)
	if err != nil {
		return nil, err
	}
	return base.WithLayer(target, deps...)
}

// IsCoreLayer reports whether fsys is a core layer: it has
// conf/bitbake.conf and its layer.conf declares the "core" collection.
func IsCoreLayer(fsys fs.FS) bool {
	if _, err := fs.Stat(fsys, "conf/bitbake.conf"); err != nil {
		return false
	}
	f, err := ReadLayerFacts(fsys)
	if err != nil {
		return false
	}
	for _, c := range f.Collections {
		if c == "core" {
			return true
		}
	}
	return false
}

// addBBPathLibs adds the lib/ directory of every BBPATH entry to the
// python module search path, as older OE-Core (oe_import) put them on
// sys.path; addpylib directories keep precedence.
func (ev *evaluator) addBBPathLibs() {
	have := map[string]bool{}
	for _, l := range ev.pylibs {
		if l.namespace == "" {
			have[l.dir] = true
		}
	}
	libs := clip(ev.pylibs)
	for _, dir := range strings.Split(ev.d.GetString("BBPATH"), ":") {
		if dir == "" || !isAbs(dir) {
			continue
		}
		lib := cleanPath(dir + "/lib")
		if have[lib] {
			continue
		}
		if e, isDir := ev.cfg.vfs.stat(lib); e && isDir {
			have[lib] = true
			libs = append(libs, pylib{dir: lib})
		}
	}
	ev.pylibs = libs
}

// DetectOldSyntax reports whether a core layer uses BitBake <= 1.50
// override syntax (VAR_append) rather than VAR:append, judging from the
// assignments in its conf/bitbake.conf and base class.
func DetectOldSyntax(core fs.FS) bool {
	old, nw := 0, 0
	for _, p := range []string{"conf/bitbake.conf", "classes/base.bbclass", "classes-global/base.bbclass"} {
		b, err := fs.ReadFile(core, p)
		if err != nil {
			continue
		}
		f := syntax.Parse(p, b, syntax.ModeFor(p))
		for _, st := range f.Stmts {
			if st.Kind != syntax.Assign {
				continue
			}
			for _, kw := range []string{"append", "prepend", "remove"} {
				if strings.Contains(st.Var, ":"+kw) {
					nw++
				}
				if strings.Contains(st.Var, "_"+kw) {
					old++
				}
			}
		}
	}
	return old > nw
}

// sameFS reports whether two fs.FS values are the same file system
// (fs.FS values may be uncomparable maps).
func sameFS(a, b fs.FS) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if !va.IsValid() || !vb.IsValid() || va.Type() != vb.Type() {
		return false
	}
	switch va.Kind() {
	case reflect.Map, reflect.Pointer, reflect.Slice, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return va.Pointer() == vb.Pointer()
	}
	if va.Type().Comparable() {
		return va.Equal(vb)
	}
	return false
}

func sortedUnique(v []string) []string {
	m := map[string]bool{}
	var out []string
	for _, x := range v {
		if !m[x] {
			m[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// reEscape is Python's re.escape (3.7+).
func reEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("()[]{}?*+-|^$\\.&~# \t\n\r\v\f", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// filterFunc finds the library module defining a filter function
// (functions decorated with @bb.filter.filter_proc()).
func (c *Config) filterFunc(libs []pylib, name string) (string, bool) {
	c.filterOnce.Do(func() {
		c.filterIdx = map[string]string{}
		for _, l := range libs {
			dir := joinPath(l.dir, strings.ReplaceAll(l.namespace, ".", "/"))
			fsys, rel, ok := c.vfs.resolve(dir)
			if !ok {
				continue
			}
			_ = fs.WalkDir(fsys, rel, func(p string, de fs.DirEntry, err error) error {
				if err != nil || de.IsDir() || !strings.HasSuffix(p, ".py") {
					return nil
				}
				sub := strings.TrimPrefix(strings.TrimPrefix(p, rel), "/")
				src, err := c.readCached(dir + "/" + sub)
				if err != nil {
					return nil
				}
				mod := strings.ReplaceAll(strings.TrimSuffix(sub, ".py"), "/", ".")
				if l.namespace != "" {
					mod = l.namespace + "." + mod
				}
				mod = strings.TrimSuffix(mod, ".__init__")
				lines := strings.Split(src, "\n")
				for i := 1; i < len(lines); i++ {
					if strings.HasPrefix(lines[i], "def ") && strings.HasPrefix(lines[i-1], "@bb.filter.filter_proc") {
						fn := strings.TrimPrefix(lines[i], "def ")
						if j := strings.IndexByte(fn, '('); j > 0 {
							if _, dup := c.filterIdx[strings.TrimSpace(fn[:j])]; !dup {
								c.filterIdx[strings.TrimSpace(fn[:j])] = mod
							}
						}
					}
				}
				return nil
			})
		}
	})
	m, ok := c.filterIdx[name]
	return m, ok
}
