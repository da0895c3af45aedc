package bitbake

import (
	"errors"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"layerindex/internal/bitbake/pyeval"
)

// Recipe is what the index stores for one recipe, as BitBake would report
// it in layerindex-web's configuration.
type Recipe struct {
	// Path is the recipe file relative to the layer directory.
	Path string

	PN, PV, PR, PE string
	Summary        string
	Description    string
	Section        string
	License        string
	Homepage       string
	BugTracker     string
	Provides       string
	Depends        string
	BBClassExtend  string
	// SrcRev is SRCREV with BitBake's "INVALID" placeholder as "".
	SrcRev string
	SrcURI string

	// Sources are the SRC_URI entries that are not file://, cut at ";".
	Sources []string
	// Inherits are the classes inherited beyond the configuration's.
	Inherits []string
	// InheritsAll are all inherited classes, the configuration's included.
	InheritsAll []string
	// FileDeps are the files inside the layer BitBake read or probed for
	// the recipe (layer-relative), conf/layer.conf excluded.
	FileDeps []string
	// ReadDeps are further paths inside the layer that the recipe's
	// Python read, tested for or listed (a directory listed or globbed
	// ends with "/"), outside the recipe's own directory and not in
	// FileDeps: BitBake does not record them, but a change to them can
	// change the recipe.
	ReadDeps []string
	// ConfigOpts is the first non-empty of EXTRA_OEMESON, EXTRA_OECMAKE,
	// EXTRA_OESCONS and EXTRA_OECONF.
	ConfigOpts string
	// PackageConfig holds the PACKAGECONFIG flags, unexpanded, as
	// getVarFlags returns them (Record drops "doc", as layerindex does).
	PackageConfig map[string]string

	// Skipped is set when BitBake would skip the recipe in this
	// configuration; SkipReason is the SkipRecipe message.
	Skipped    bool
	SkipReason string

	// Vars holds the expanded values of the ground-truth variables (PN,
	// PV, ..., SRCREV, SRC_URI); a missing key means the variable is unset.
	Vars map[string]string

	// Diags are parse problems; Errors counts those BitBake would fail
	// the recipe for (missing required files, unknown classes).
	Diags  []Diag
	Errors int
	// PythonOK and PythonFailed count ${@...} evaluations; Failed lists
	// the python BitBake would run but this parser could not (inline
	// expressions and statements of anonymous functions and handlers).
	PythonOK     int
	PythonFailed int
	Failed       []string
	// PythonSteps counts the evaluation steps spent on the recipe.
	PythonSteps int
}

// Uncertain reports whether some Python could not be evaluated, so the
// recipe's values may differ from BitBake's.
func (r *Recipe) Uncertain() bool { return r.PythonFailed > 0 || len(r.Failed) > 0 || r.Errors > 0 }

// reportVars are the variables copied into Recipe.Vars.
var reportVars = []string{"PN", "PV", "PR", "PE", "BPN", "SUMMARY", "DESCRIPTION", "SECTION", "LICENSE", "HOMEPAGE",
	"BUGTRACKER", "PROVIDES", "DEPENDS", "BBCLASSEXTEND", "SRCREV", "SRC_URI"}

// TargetRoot is the virtual path of the target layer.
func (c *Config) TargetRoot() string {
	if c.target == nil {
		return c.core.root
	}
	return c.target.root
}

// ParseRecipe parses one recipe of the target layer (path relative to the
// layer directory). It never fails: problems are reported in the result.
func (c *Config) ParseRecipe(rel string) *Recipe {
	rel = path.Clean(strings.TrimPrefix(rel, "/"))
	abs := c.TargetRoot() + "/" + rel
	d := c.base.d.Child()
	ev := c.base.fork(d, "recipe")
	ev.reads = map[string]bool{}
	mods := c.takeModules()
	defer c.putModules(mods)
	ev.py.shared.Modules = mods
	r := &Recipe{Path: rel}
	if c.target == nil || c.target.collection == "core" {
		// bblayers.conf lists the core layer only, so only its recipes
		// get a layer name (FILE_LAYERNAME); other layers' stay unset.
		d.SetVar("FILE_LAYERNAME", "core")
	}
	parsed := false
	err := ev.handle(abs, false)
	var sk *errSkip
	switch {
	case errors.As(err, &sk):
		r.Skipped, r.SkipReason = true, sk.msg
	case err != nil:
		ev.parseError(abs, 0, "%v", err)
		var lim *errLimit
		if errors.As(err, &lim) && len(ev.diags) > 0 && ev.diags[len(ev.diags)-1].Msg != lim.msg {
			// The first diagnostics are kept (at most 100); the limit
			// that ended the parse is what explains them.
			ev.diags[len(ev.diags)-1] = Diag{File: ev.cfg.relName(abs), Msg: lim.msg}
		}
	default:
		parsed = true
	}
	if parsed {
		if msg, skipped := ev.finalize(abs); skipped {
			r.Skipped, r.SkipReason = true, msg
		}
	}
	d.SetVar("SRCPV", "X")
	ev.report(r)
	return r
}

// finalize is ast.finalize for the base variant (no bbappends): deferred
// inherits, event handlers, key expansion, anonymous functions, virtual
// provider mapping. It reports a SkipRecipe raised on the way.
func (ev *evaluator) finalize(fn string) (string, bool) {
	d := ev.d
	var inh []pyeval.Value
	for _, di := range ev.deferred {
		inh = append(inh, pyeval.Str(di.classes))
	}
	configHandlers := ev.cfg.base.handlers
	if msg, skip := ev.fire(configHandlers, "RecipePreDeferredInherits", fn, map[string]pyeval.Value{"inherits": pyeval.NewList(inh)}); skip {
		return msg, true
	}
	for len(ev.deferred) > 0 {
		di := ev.deferred[0]
		ev.deferred = ev.deferred[1:]
		if err := ev.inherit(di.classes, di.file, di.line, true); err != nil {
			var sk *errSkip
			if errors.As(err, &sk) {
				return sk.msg, true
			}
		}
	}
	if msg, skip := ev.fire(ev.handlers, "RecipePreFinalise", fn, nil); skip {
		return msg, true
	}
	d.ExpandKeys()
	if msg, skip := ev.fire(ev.handlers, "RecipePostKeyExpansion", fn, nil); skip {
		return msg, true
	}
	if msg, skip := ev.runAnon(); skip {
		return msg, true
	}
	if msg, skip := ev.fire(ev.handlers, "RecipeTaskPreProcess", fn, map[string]pyeval.Value{"tasklist": pyeval.NewList(nil)}); skip {
		return msg, true
	}
	ev.virtualProviders()
	if msg, skip := ev.fire(ev.handlers, "RecipeParsed", fn, nil); skip {
		return msg, true
	}
	return "", false
}

// skipOf extracts a SkipRecipe message from an evaluation error.
func skipOf(err error) (string, bool) {
	var exc *pyeval.Exception
	if errors.As(err, &exc) {
		return exc.SkipMessage()
	}
	return "", false
}

// fire runs the handlers registered for an event, in order.
func (ev *evaluator) fire(handlers []string, event, fn string, attrs map[string]pyeval.Value) (string, bool) {
	seen := map[string]bool{}
	for _, h := range handlers {
		if seen[h] {
			continue
		}
		seen[h] = true
		mask, _ := ev.d.GetFlag(h, "eventmask", true)
		if strings.TrimSpace(mask) != "" && !containsWord(mask, "bb.event."+event) && !containsWord(mask, "*") {
			continue
		}
		body, ok := ev.d.Raw(h, false)
		if !ok {
			continue
		}
		a := map[string]pyeval.Value{"fn": pyeval.Str(fn)}
		for k, v := range attrs {
			a[k] = v
		}
		in := ev.py.interp(ev.d)
		err := in.RunHandler(h, body, pyeval.NewEvent(event, a))
		ev.noteFailed(h, in.Failed)
		if err != nil {
			if msg, skip := skipOf(err); skip {
				return msg, true
			}
			ev.diag(fn, 0, "event handler %s: %v", h, err)
		}
		if ev.d.Skipped {
			return ev.d.SkipReason, true
		}
	}
	return "", false
}

// runAnon runs the anonymous python functions in parse order.
func (ev *evaluator) runAnon() (string, bool) {
	for _, a := range ev.anon {
		in := ev.py.interp(ev.d)
		t0 := time.Now()
		err := in.RunFunction(a.name, a.body)
		if timing := anonTiming.Load(); timing != nil {
			(*timing)(a.name, time.Since(t0), in.Steps())
		}
		ev.noteFailed(ev.cfg.relName(a.file)+":anonymous@"+strconv.Itoa(a.line), in.Failed)
		if err != nil {
			if msg, skip := skipOf(err); skip {
				return msg, true
			}
			ev.diag(a.file, a.line, "anonymous python: %v", err)
			if pyeval.IsBudget(err) {
				return "", false
			}
		}
		if ev.d.Skipped {
			return ev.d.SkipReason, true
		}
	}
	return "", false
}

func (ev *evaluator) noteFailed(where string, failed []string) {
	for _, f := range failed {
		if len(ev.failed) < 40 {
			ev.failed = append(ev.failed, where+": "+f)
		}
		ev.failedCount++
	}
}

// virtualProviders is ast.handleVirtRecipeProviders: DEPENDS entries
// listed in BB_RECIPE_VIRTUAL_PROVIDERS become their preferred provider.
func (ev *evaluator) virtualProviders() {
	d := ev.d
	deps := strings.Fields(d.GetString("DEPENDS"))
	virt := d.GetString("BB_RECIPE_VIRTUAL_PROVIDERS")
	out := make([]string, 0, len(deps))
	for _, dep := range deps {
		if containsWord(virt, dep) {
			if p := d.GetString("PREFERRED_PROVIDER_" + dep); p != "" {
				dep = p
			} else {
				ev.diag(d.GetString("FILE"), 0, "recipe virtual provider PREFERRED_PROVIDER_%s not set", dep)
			}
		}
		out = append(out, dep)
	}
	d.SetVar("DEPENDS", strings.Join(out, " "))
}

// report fills r from the finished datastore.
func (ev *evaluator) report(r *Recipe) {
	d := ev.d
	r.Vars = map[string]string{}
	for _, v := range append(reportVars, ev.cfg.opts.ExtraVars...) {
		if val, ok := d.Get(v); ok {
			r.Vars[v] = val
		}
	}
	g := func(v string) string { return r.Vars[v] }
	r.PN, r.PV, r.PR, r.PE = g("PN"), g("PV"), g("PR"), g("PE")
	r.Summary, r.Description, r.Section, r.License = g("SUMMARY"), g("DESCRIPTION"), g("SECTION"), g("LICENSE")
	r.Homepage, r.BugTracker = g("HOMEPAGE"), g("BUGTRACKER")
	r.Provides, r.Depends, r.BBClassExtend = g("PROVIDES"), g("DEPENDS"), g("BBCLASSEXTEND")
	r.SrcURI = g("SRC_URI")
	r.SrcRev = g("SRCREV")
	if r.SrcRev == "INVALID" {
		r.SrcRev = ""
	}
	for _, u := range strings.Fields(r.SrcURI) {
		if strings.HasPrefix(u, "file://") {
			continue
		}
		if i := strings.IndexByte(u, ';'); i >= 0 {
			u = u[:i]
		}
		r.Sources = append(r.Sources, u)
	}
	inh, all := map[string]bool{}, map[string]bool{}
	for _, f := range ev.inherits {
		name := strings.TrimSuffix(baseName(f), ".bbclass")
		all[name] = true
		if !ev.cfg.globalInh[f] {
			inh[name] = true
		}
	}
	for k := range inh {
		r.Inherits = append(r.Inherits, k)
	}
	for k := range all {
		r.InheritsAll = append(r.InheritsAll, k)
	}
	sort.Strings(r.Inherits)
	sort.Strings(r.InheritsAll)
	// layerindex keeps the __depends entries that start with the layer's
	// directory, as paths relative to it (os.path.relpath, so normalized:
	// "a/b/../c.inc" is "a/c.inc").
	root := ev.cfg.TargetRoot() + "/"
	fd := map[string]bool{}
	for _, f := range ev.depends {
		if strings.HasPrefix(f, root) && !strings.HasSuffix(f, "/conf/layer.conf") {
			fd[path.Clean(f[len(root):])] = true
		}
	}
	for k := range fd {
		r.FileDeps = append(r.FileDeps, k)
	}
	sort.Strings(r.FileDeps)
	own := path.Dir(r.Path) + "/"
	for f := range ev.reads {
		if !strings.HasPrefix(f, root) {
			continue
		}
		rel := f[len(root):]
		dir := strings.HasSuffix(rel, "/")
		rel = path.Clean(rel)
		if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		if dir {
			rel += "/"
		}
		if fd[rel] || (own != "./" && strings.HasPrefix(rel, own)) {
			continue
		}
		r.ReadDeps = append(r.ReadDeps, rel)
	}
	sort.Strings(r.ReadDeps)
	for _, v := range []string{"EXTRA_OEMESON", "EXTRA_OECMAKE", "EXTRA_OESCONS", "EXTRA_OECONF"} {
		if val := d.GetString(v); val != "" {
			r.ConfigOpts = val
			break
		}
	}
	r.PackageConfig = d.Flags("PACKAGECONFIG")
	r.Diags = ev.diags
	r.Errors = ev.errors
	st := d.Stats
	r.PythonOK, r.PythonFailed = st.InlineOK, st.InlineFailed+ev.failedCount
	r.PythonSteps = RecipeStepBudget - ev.py.shared.Budget
	r.Failed = append(append(r.Failed, st.Failed...), ev.failed...)
	for _, e := range st.Errors {
		r.Diags = append(r.Diags, Diag{File: r.Path, Msg: e})
	}
}

// Record returns the recipe with the ground-truth keys (path, PN, ...,
// sources, inherits, filedeps, skipped, configopts, packageconfig); unset
// variables are nil.
func (r *Recipe) Record() map[string]any {
	rec := map[string]any{"path": r.Path}
	for _, v := range reportVars {
		if val, ok := r.Vars[v]; ok {
			rec[v] = val
		} else {
			rec[v] = nil
		}
	}
	rec["sources"] = nonNil(r.Sources)
	rec["inherits"] = strings.Join(r.Inherits, " ")
	rec["inherits_all"] = strings.Join(r.InheritsAll, " ")
	rec["filedeps"] = nonNil(r.FileDeps)
	if r.Skipped {
		rec["skipped"] = r.SkipReason
	} else {
		rec["skipped"] = nil
	}
	rec["configopts"] = r.ConfigOpts
	pc := map[string]string{}
	for k, v := range r.PackageConfig {
		if k != "doc" {
			pc[k] = v
		}
	}
	rec["packageconfig"] = pc
	return rec
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// anonTiming, when set (in tests), receives each anonymous function's run
// time and step count; recipes parse concurrently, so it is read
// atomically.
var anonTiming atomic.Pointer[func(name string, d time.Duration, steps int)]
